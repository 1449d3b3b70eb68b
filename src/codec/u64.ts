import Long from 'long';

/** protobufjs hands 64-bit fields out as Long (or number when they fit); the protocol code works in bigint. */
export type U64Like = Long | number | bigint | null | undefined;

export const U64_MAX = (1n << 64n) - 1n;

export function toBig(v: U64Like): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

export function toLong(v: bigint | number): Long {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`value ${v} is not a non-negative safe integer`);
    return Long.fromNumber(v, true);
  }
  if (v < 0n || v > U64_MAX) throw new RangeError(`value ${v} does not fit in 64 unsigned bits`);
  return new Long(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, true);
}

/** Heights, nonces and times: numbers that must stay exact in a JS number. */
export function toSafeNumber(v: U64Like): number {
  const b = toBig(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`value ${b} exceeds 2^53-1`);
  return Number(b);
}
