// Byte helpers for the sortition library. Kept local (no Buffer) so the library runs unchanged in a browser
// wallet; only what the reference encodings need: hex, byte order comparison, little-endian integers.

import { SortitionError } from './errors.js';

const HEX_RE = /^(?:0x)?((?:[0-9a-fA-F]{2})*)$/;

/** Parses hex with an optional 0x prefix. Throws INVALID_ARGUMENT on odd length or non-hex characters. */
export function hexToBytes(hex: string): Uint8Array {
  const m = HEX_RE.exec(hex);
  if (m === null)
    throw new SortitionError('INVALID_ARGUMENT', `not an even-length hex string: ${JSON.stringify(hex)}`);
  const body = m[1];
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex without prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Lexicographic byte order, the order of Rust's `Ord for [u8; N]` that the Dusk provisioner map uses. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
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
