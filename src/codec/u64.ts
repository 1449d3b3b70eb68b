import Long from 'long';
import { DecodeError } from './errors.js';

/** protobufjs hands 64-bit fields out as Long (or number when they fit); the protocol code works in bigint. */
export type U64Like = Long | number | bigint | null | undefined;

export const U64_MAX = (1n << 64n) - 1n;

/** The largest height, nonce or time the protocol carries (docs/protocol.md section 2): a JS number stays exact. */
export const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function toBig(v: U64Like): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/**
 * Encodes a u64 field. A value the field cannot carry is refused with the code a decoder gives the same value,
 * so whatever built it (an API request, a config value) gets the protocol's verdict rather than a RangeError.
 */
export function toLong(v: bigint | number, what = 'value'): Long {
  if (typeof v === 'number') {
    checkSafe(v, what);
    return Long.fromNumber(v, true);
  }
  checkU64(v, what);
  return new Long(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, true);
}

/** What `toLong` refuses in a number: anything but an integer in [0, 2^53 - 1]. */
export function checkSafe(v: number, what = 'value'): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new DecodeError('DECODE_MALFORMED', `${what} ${v} is not an integer in [0, 2^53 - 1]`);
}

/** What `toLong` refuses in a bigint: anything outside [0, 2^64 - 1]. */
export function checkU64(v: bigint, what = 'value'): void {
  if (v < 0n || v > U64_MAX)
    throw new DecodeError('DECODE_MALFORMED', `${what} ${v} does not fit in 64 unsigned bits`);
}

/**
 * Heights, nonces, times and expiries are read as JS numbers, so the protocol limits them to 2^53 - 1; a value
 * past it is malformed content like any other (DECODE_MALFORMED), never a RangeError.
 */
export function toSafeNumber(v: U64Like, what = 'value'): number {
  const b = toBig(v);
  if (b > SAFE_MAX) throw new DecodeError('DECODE_MALFORMED', `${what} ${b} exceeds 2^53 - 1`);
  return Number(b);
}
