/**
 * Bytes as the protocol handles them: hex in and out, equality and order. Pure (no Buffer), so the core runs in a
 * browser wallet; the one hex encoder and the one hex parser of the project. Hex goes through @noble/hashes, which
 * uses the engine's native Uint8Array hex methods where they exist.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

const HEX = /^[0-9a-fA-F]*$/;

/** Lowercase hex, no prefix. */
export function toHex(b: Uint8Array): string {
  return bytesToHex(b);
}

/**
 * Parses hex with an optional `0x` prefix.
 * @throws TypeError naming `what` on odd length or a non-hex character.
 */
export function fromHex(s: string, what = 'hex'): Uint8Array {
  const clean = s.startsWith('0x') ? s.slice(2) : s;
  if (clean.length % 2 !== 0 || !HEX.test(clean)) {
    throw new TypeError(`${what}: not a hex string: ${JSON.stringify(s.slice(0, 80))}`);
  }
  return hexToBytes(clean);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic order (a shorter prefix first): the order of Rust's `Ord for [u8]` and of Buffer.compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
