// Byte helpers for the sortition library, on the codec's (no Buffer, so the library runs unchanged in a browser
// wallet): the codec's hex parser with the library's error code, big- and little-endian integers. Hex out and
// byte order are the codec's own (src/codec/bytes.ts).

import { fromHex } from '../codec/bytes.js';
import { SortitionError } from './errors.js';

/** Parses hex with an optional 0x prefix. Throws INVALID_ARGUMENT on odd length or non-hex characters. */
export function hexToBytes(hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch {
    throw new SortitionError('INVALID_ARGUMENT', `not an even-length hex string: ${JSON.stringify(hex)}`);
  }
}

/** Big-endian unsigned integer, as `BigInt::from_bytes_be` and Solidity's `uint256(bytes32)` read bytes. */
export function bytesToBigIntBE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** `n` as `len` big-endian bytes; `n` must fit. */
export function bigIntToBytesBE(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = n;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n || n < 0n) throw new SortitionError('INVALID_ARGUMENT', `${n} does not fit in ${len} bytes`);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** `n` as `len` little-endian bytes (Rust `to_le_bytes`); `n` must be a non-negative integer that fits. */
export function uintToBytesLE(n: bigint, len: number): Uint8Array {
  return bigIntToBytesBE(n, len).reverse();
}
