/**
 * Tagged SHA-256 (FIPS 180-4). Every hashed structure gets its own domain tag, so bytes that are valid as one
 * structure can never be passed off as another (a leaf as a node, a header as a transaction). A tag is the ASCII
 * string `sortition/1/<name>` followed by one zero byte: tags are prefix-free.
 *
 * The core hashes with @noble/hashes, which runs anywhere (a wallet, a browser). A node process installs a native
 * SHA-256 with `setSha256` (src/runtime/native-crypto.ts): judging a block is hundreds of hashes, and the native
 * ones cost about half as much. Any correct SHA-256 gives the same bytes, so the choice never changes a verdict.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { cryptoStats } from './stats.js';

export const HASH_BYTES = 32;

function tag(name: string): Uint8Array {
  return new TextEncoder().encode(`sortition/1/${name}\0`);
}

export const TAGS = {
  genesis: tag('genesis'),
  leaf: tag('leaf'),
  node: tag('node'),
  empty: tag('empty'),
  header: tag('header'),
  tx: tag('tx'),
  txNode: tag('txnode'),
  txEmpty: tag('txempty'),
  multiproof: tag('multiproof'),
  action: tag('action'),
  beacon: tag('beacon'),
  beaconSig: tag('beacon-sig'),
  evidence: tag('evidence'),
  lottery: tag('lottery'),
  evmAnchor: tag('evm-anchor'),
  payout: tag('payout'),
  register: tag('register'),
} as const;

export type TagName = keyof typeof TAGS;

/** A SHA-256 implementation: the 32-byte digest of `data`, in a fresh array the caller may keep. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let impl: Sha256 = nobleSha256;

/** Installs a SHA-256 implementation (e.g. libsodium's in a Node process); null restores the pure default. */
export function setSha256(fn: Sha256 | null): void {
  impl = fn ?? nobleSha256;
}

/** SHA-256 through the installed implementation. `data` may be reused by the caller once this returns. */
export function sha256(data: Uint8Array): Uint8Array {
  return impl(data);
}

/** Reused for every tagged hash: hashing is synchronous, and a fresh zeroed array per call cost more than the copy. */
let scratch = new Uint8Array(4096);

export function taggedHash(name: TagName, ...parts: Uint8Array[]): Uint8Array {
  const t = TAGS[name];
  let len = t.length;
  for (const p of parts) len += p.length;
  if (len > scratch.length) scratch = new Uint8Array(Math.max(len, 2 * scratch.length));
  scratch.set(t, 0);
  let off = t.length;
  for (const p of parts) {
    scratch.set(p, off);
    off += p.length;
  }
  cryptoStats.hashes++;
  cryptoStats.hashedBytes += len;
  return impl(scratch.subarray(0, len));
}

// Hex lives in the codec; re-exported here, where most callers have always found it.
export { toHex, fromHex } from '../codec/bytes.js';
