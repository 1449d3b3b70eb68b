/**
 * The stateless verifier: given only a root and a path, checks membership, free space and point lookups, and
 * computes the root after an insert, a replace or a removal. This is everything a light validator does with
 * the tree; it never holds more than one path.
 */
import { bytesEqual } from '../codec/canonical.js';
import type { Leaf } from './contract.js';
import { EMPTY_ROOT, bitAt, critBit, nodeDigest, STEP_CRIT_MASK, STEP_RIGHT } from './node.js';
import type { Path } from './path.js';
import { TreeError } from './errors.js';

/** A subtree's commitment: its digest and the smallest start and largest end below it. */
export interface Summary {
  readonly digest: Uint8Array;
  readonly min: bigint;
  readonly max: bigint;
}

export const EMPTY_SUMMARY: Summary = { digest: EMPTY_ROOT, min: 0n, max: 0n };

function leafSummary(leaf: Leaf): Summary {
  return { digest: leaf.digest, min: leaf.contract.start, max: leaf.contract.end };
}

function invalid(message: string): never {
  throw new TreeError('PROOF_INVALID', message);
}

/**
 * The inner node over two subtrees, refused unless they are ordered (`left.max <= right.min`). The digest alone
 * cannot carry this rule: an operator, or whoever made a root nobody validated (a child root in a parent leaf, a
 * root in evidence, a root on chain), can hash any two ranges together.
 */
function join(crit: number, left: Summary, right: Summary): Summary {
  if (left.max > right.min) invalid(`subtrees out of order at crit bit ${crit}: ${left.max} > ${right.min}`);
  return {
    digest: nodeDigest(crit, left.min, left.max, right.min, right.max, left.digest, right.digest),
    min: left.min,
    max: right.max,
  };
}

/**
 * Hashes up through levels [to, from) of the path, starting from the subtree that sits below level from-1.
 * `key` is a start inside that subtree (the path's leaf's). At every level the verifier rule of
 * docs/protocol.md §4.4 holds: the sibling's range is non-empty, the two children are ordered, the key takes the
 * step's side of the crit bit, and the sibling's smallest start shares the key's bits above the crit bit and differs
 * at it. With these, two paths that match one root prove disjoint intervals, whatever produced the root.
 */
function climb(path: Path, from: number, to: number, bottom: Summary, key: bigint): Summary {
  let node = bottom;
  for (let i = from - 1; i >= to; i--) {
    const step = path.steps[i];
    const crit = step & STEP_CRIT_MASK;
    const right = (step & STEP_RIGHT) !== 0;
    const sibling: Summary = { digest: path.siblings[i], min: path.siblingMin[i], max: path.siblingMax[i] };
    if (sibling.min >= sibling.max) invalid(`sibling ${i} has an empty range`);
    if (bitAt(key, crit) !== (right ? 1 : 0)) invalid(`level ${i} goes the wrong way for start ${key}`);
    if (sibling.min === key || critBit(sibling.min, key) !== crit)
      invalid(`sibling ${i} starts at ${sibling.min}, outside its side of crit bit ${crit}`);
    node = right ? join(crit, sibling, node) : join(crit, node, sibling);
  }
  return node;
}

/** The root a path commits to. */
export function pathRoot(path: Path): Summary {
  if (!path.leaf) {
    if (path.steps.length > 0) invalid('path without a leaf');
    return EMPTY_SUMMARY;
  }
  return climb(path, path.steps.length, 0, leafSummary(path.leaf), path.leaf.contract.start);
}

/** Throws PROOF_MISMATCH unless the path belongs to the tree with this root. */
export function checkPath(root: Uint8Array, path: Path): void {
  if (!bytesEqual(pathRoot(path).digest, root))
    throw new TreeError('PROOF_MISMATCH', 'path does not match the root');
}

/** The free interval around a point, as bounded by the subtrees a path passes; throws if the point is covered. */
interface Gap {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * Bounds of the free space containing `point` as seen from the path's frontier (its siblings and its leaf),
 * which together cover every leaf. `covered` names what to throw when the point lies in a frontier range.
 */
function gapAround(path: Path, point: bigint, lo: bigint, hi: bigint, covered: () => never): Gap {
  const n = path.steps.length;
  for (let i = 0; i < n; i++) {
    const min = path.siblingMin[i];
    const max = path.siblingMax[i];
    if (max <= point) {
      if (max > lo) lo = max;
    } else if (min > point) {
      if (min < hi) hi = min;
    } else covered();
  }
  if (path.leaf) {
    const { start, end } = path.leaf.contract;
    if (end <= point) {
      if (end > lo) lo = end;
    } else if (start > point) {
      if (start < hi) hi = start;
    } else covered();
  }
  return { start: lo, end: hi };
}

export type LookupResult = { readonly kind: 'leaf'; readonly leaf: Leaf } | ({ readonly kind: 'gap' } & Gap);

/**
 * Which contract, or which free gap, contains `point`. The gap is reported within [spaceStart, spaceEnd).
 * A path that passes through a subtree whose range covers the point is no lookup proof: PROOF_INVALID.
 */
export function verifyLookup(
  root: Uint8Array,
  path: Path,
  point: bigint,
  spaceStart: bigint,
  spaceEnd: bigint,
): LookupResult {
  checkPath(root, path);
  const leaf = path.leaf;
  if (leaf && leaf.contract.start <= point && point < leaf.contract.end) return { kind: 'leaf', leaf };
  const gap = gapAround(path, point, spaceStart, spaceEnd, () => {
    throw new TreeError('PROOF_INVALID', `path is not a lookup path for ${point}`);
  });
  return { kind: 'gap', ...gap };
}

/** Checks that [start, end) is unallocated in the tree with this root. */
export function verifyFree(root: Uint8Array, path: Path, start: bigint, end: bigint): void {
  const r = verifyLookup(root, path, start, 0n, 1n << 64n);
  if (r.kind === 'leaf' || end > r.end) throw new TreeError('OVERLAP', `[${start}, ${end}) is not free`);
}

/**
 * Root after inserting `leaf`, given the path that follows the new start's bits from the root to a leaf.
 * Rejects (OVERLAP) an interval that intersects any allocated contract, and (PROOF_INVALID) a path that is not
 * the insertion path, which could otherwise place the leaf where the canonical trie would not.
 */
export function verifyInsert(root: Uint8Array, path: Path, leaf: Leaf): Summary {
  checkPath(root, path);
  const s = leaf.contract.start;
  const e = leaf.contract.end;
  const near = path.leaf;
  if (!near) return leafSummary(leaf);
  if (near.contract.start === s) throw new TreeError('OVERLAP', `a contract already starts at ${s}`);
  const d = critBit(s, near.contract.start);
  const n = path.steps.length;
  let k = 0;
  while (k < n && (path.steps[k] & STEP_CRIT_MASK) < d) {
    const right = (path.steps[k] & STEP_RIGHT) !== 0 ? 1 : 0;
    if (bitAt(s, path.steps[k] & STEP_CRIT_MASK) !== right) {
      throw new TreeError('PROOF_INVALID', 'path does not follow the new key');
    }
    k++;
  }
  // Two nodes with one crit bit on a path: the path's leaf is not the new key's best match.
  if (k < n && (path.steps[k] & STEP_CRIT_MASK) === d)
    throw new TreeError('PROOF_INVALID', 'not the insertion path');
  const gap = gapAround(path, s, 0n, 1n << 64n, () => {
    throw new TreeError('OVERLAP', `[${s}, ${e}) overlaps an allocated contract`);
  });
  if (e > gap.end) throw new TreeError('OVERLAP', `[${s}, ${e}) overlaps the contract at ${gap.end}`);
  const x = climb(path, n, k, leafSummary(near), near.contract.start);
  const node = bitAt(s, d) === 1 ? join(d, x, leafSummary(leaf)) : join(d, leafSummary(leaf), x);
  return climb(path, k, 0, node, s);
}

/**
 * Root after replacing the leaf at the end of the path by one with the same start (a transfer, a child root
 * update, the left half of a split). A longer interval must stay clear of the next contract.
 */
export function verifyReplace(root: Uint8Array, path: Path, leaf: Leaf): Summary {
  checkPath(root, path);
  const old = path.leaf;
  if (!old) throw new TreeError('NOT_FOUND', 'the tree is empty');
  if (old.contract.start !== leaf.contract.start) {
    throw new TreeError('PROOF_INVALID', 'replacement must keep the contract start');
  }
  if (leaf.contract.end > old.contract.end) {
    const gap = gapAround({ ...path, leaf: null }, old.contract.start, 0n, 1n << 64n, () => {
      throw new TreeError('PROOF_INVALID', 'path is not a membership path');
    });
    if (leaf.contract.end > gap.end)
      throw new TreeError('OVERLAP', 'the longer interval overlaps the next contract');
  }
  return climb(path, path.steps.length, 0, leafSummary(leaf), leaf.contract.start);
}

/** Root after removing the leaf at the end of the path: its sibling takes its parent's place. */
export function verifyRemove(root: Uint8Array, path: Path): Summary {
  checkPath(root, path);
  if (!path.leaf) throw new TreeError('NOT_FOUND', 'the tree is empty');
  const n = path.steps.length;
  if (n === 0) return EMPTY_SUMMARY;
  const sibling: Summary = {
    digest: path.siblings[n - 1],
    min: path.siblingMin[n - 1],
    max: path.siblingMax[n - 1],
  };
  return climb(path, n - 1, 0, sibling, path.leaf.contract.start);
}
