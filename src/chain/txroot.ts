/**
 * The transaction root: a binary Merkle tree over tagged transaction hashes, split as RFC 6962 does (left part
 * the largest power of two below n), so a single transaction can be shown to be in a signed block. Child-root
 * mismatch evidence relies on that.
 */
import { bytesEqual } from '../codec/canonical.js';
import { taggedHash } from '../crypto/hash.js';

export function txHash(txBytes: Uint8Array): Uint8Array {
  return taggedHash('tx', txBytes);
}

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOf(hashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  if (hi - lo === 1) return hashes[lo];
  const k = lo + splitPoint(hi - lo);
  return taggedHash('txNode', rootOf(hashes, lo, k), rootOf(hashes, k, hi));
}

/** The leaf hashes: the transactions', then, in a version 2 block, the multiproof's (docs/protocol.md §14). */
function leafHashes(txs: readonly Uint8Array[], proof: Uint8Array | null): Uint8Array[] {
  const hashes = txs.map(txHash);
  if (proof !== null) hashes.push(taggedHash('multiproof', proof));
  return hashes;
}

/** `proof`: a version 2 block's encoded multiproof, null in version 1. */
export function txRoot(txs: readonly Uint8Array[], proof: Uint8Array | null = null): Uint8Array {
  const hashes = leafHashes(txs, proof);
  if (hashes.length === 0) return taggedHash('txEmpty');
  return rootOf(hashes, 0, hashes.length);
}

/** Sibling hashes from the leaf up. */
export function txInclusion(
  txs: readonly Uint8Array[],
  index: number,
  proof: Uint8Array | null = null,
): Uint8Array[] {
  const hashes = leafHashes(txs, proof);
  const out: Uint8Array[] = [];
  const walk = (lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = lo + splitPoint(hi - lo);
    if (index < k) {
      walk(lo, k);
      out.push(rootOf(hashes, k, hi));
    } else {
      walk(k, hi);
      out.push(rootOf(hashes, lo, k));
    }
  };
  walk(0, hashes.length);
  return out;
}

/**
 * Whether `tx` is transaction `index` of a block with this tx root and `count` transactions, in either version:
 * a version 2 root has one leaf more (the multiproof's, under another tag, so it never passes for a transaction).
 */
export function verifyTxInclusion(
  root: Uint8Array,
  count: number,
  index: number,
  tx: Uint8Array,
  siblings: readonly Uint8Array[],
): boolean {
  if (index < 0 || index >= count) return false;
  return (
    verifyInShape(root, count, index, tx, siblings) || verifyInShape(root, count + 1, index, tx, siblings)
  );
}

function verifyInShape(
  root: Uint8Array,
  count: number,
  index: number,
  tx: Uint8Array,
  siblings: readonly Uint8Array[],
): boolean {
  // Recompute the shape top-down to know, at each level, which side the sibling is on.
  const sides: boolean[] = [];
  let lo = 0;
  let hi = count;
  while (hi - lo > 1) {
    const k = lo + splitPoint(hi - lo);
    if (index < k) {
      sides.push(false);
      hi = k;
    } else {
      sides.push(true);
      lo = k;
    }
  }
  if (sides.length !== siblings.length) return false;
  let h = txHash(tx);
  for (let i = 0; i < siblings.length; i++) {
    const onRight = sides[sides.length - 1 - i];
    h = onRight ? taggedHash('txNode', siblings[i], h) : taggedHash('txNode', h, siblings[i]);
  }
  return bytesEqual(h, root);
}
