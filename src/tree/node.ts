/**
 * Digests of the probability-space tree (docs/protocol.md, "Tree").
 *
 * The tree is a crit-bit trie keyed by each contract's start, read as 64 big-endian bits. An inner node
 * commits to its crit bit and to both children with their ranges (smallest start, largest end below each):
 *   node = H("node", crit:u8 || lmin || lmax || rmin || rmax || left || right), bounds as u64be
 * Every inner node keeps lmax <= rmin, so one root-to-leaf path shows, through the (min, max) of each
 * sibling, that no other leaf overlaps the leaf at its end. Both bounds of each child are committed by its
 * parent: a bound committed only inside the sibling's own digest could be forged in a proof. A crit-bit trie's shape depends only on its keys,
 * which makes the root independent of the order of operations.
 */
import { sha256, taggedHash, TAGS } from '../crypto/hash.js';
import { cryptoStats } from '../crypto/stats.js';

/** Root of the tree with no contracts. */
export const EMPTY_ROOT: Uint8Array = taggedHash('empty');

const scratch = new Uint8Array(TAGS.node.length + 1 + 4 * 8 + 32 + 32);
scratch.set(TAGS.node, 0);
// DataView's setBigUint64 is a V8 builtin; Buffer's writeBigUInt64BE splits the value in JS (a tenth of judging).
const view = new DataView(scratch.buffer);
const O = TAGS.node.length;

export function nodeDigest(
  crit: number,
  lmin: bigint,
  lmax: bigint,
  rmin: bigint,
  rmax: bigint,
  left: Uint8Array,
  right: Uint8Array,
): Uint8Array {
  scratch[O] = crit;
  view.setBigUint64(O + 1, lmin);
  view.setBigUint64(O + 9, lmax);
  view.setBigUint64(O + 17, rmin);
  view.setBigUint64(O + 25, rmax);
  scratch.set(left, O + 33);
  scratch.set(right, O + 65);
  cryptoStats.hashes++;
  cryptoStats.nodeHashes++;
  cryptoStats.hashedBytes += scratch.length;
  return sha256(scratch);
}

/** Index (0 = most significant) of the first bit where a and b differ; a !== b. */
export function critBit(a: bigint, b: bigint): number {
  const x = a ^ b;
  const hi = Number(x >> 32n);
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(Number(x & 0xffffffffn));
}

/** The single-bit mask of each crit bit: one BigInt operation per test instead of a shift, a mask and a conversion. */
const BIT_MASKS: readonly bigint[] = Array.from({ length: 64 }, (_, i) => 1n << BigInt(63 - i));

/** Bit `crit` (0 = most significant) of a 64-bit key; 0 past the last bit (critBit of equal keys is 64). */
export function bitAt(key: bigint, crit: number): 0 | 1 {
  const m = BIT_MASKS[crit];
  return m === undefined || (key & m) === 0n ? 0 : 1;
}

/** A path step byte: bits 0-5 the crit bit, bit 7 set when the path continues into the right child. */
export const STEP_RIGHT = 0x80;
export const STEP_CRIT_MASK = 0x3f;
