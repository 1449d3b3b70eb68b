/**
 * Root-to-leaf paths, the tree's proofs. One path proves membership of its leaf, and, through the (min, max)
 * of every sibling subtree, which part of the space around the leaf is free: a point outside every sibling's
 * [min, max) and outside the leaf is unallocated, and the nearest sibling bounds give the exact free gap.
 */
import { sortition } from '../gen/proto.js';
import { toBig, toLong } from '../codec/u64.js';
import { HASH_BYTES } from '../crypto/hash.js';
import { LIMITS } from '../codec/limits.js';
import { leafFromBytes, type Leaf } from './contract.js';
import { STEP_CRIT_MASK } from './node.js';
import { TreeError } from './errors.js';

export interface Path {
  /** Root first: crit bit in bits 0-5, bit 7 when the path goes right. */
  readonly steps: Uint8Array;
  readonly siblings: readonly Uint8Array[];
  readonly siblingMin: readonly bigint[];
  readonly siblingMax: readonly bigint[];
  /** The leaf at the end of the path; null only for the empty tree. */
  readonly leaf: Leaf | null;
}

export function pathToProto(p: Path): sortition.v1.IPath {
  return {
    steps: p.steps,
    siblings: p.siblings as Uint8Array[],
    siblingMin: p.siblingMin.map((v) => toLong(v)),
    siblingMax: p.siblingMax.map((v) => toLong(v)),
    leaf: p.leaf ? p.leaf.bytes : new Uint8Array(0),
  };
}

/**
 * Checks a received path's shape (lengths, depth bound, strictly increasing crit bits) and decodes its leaf.
 * Whether it belongs to a root is for the verifier.
 */
export function pathFromProto(m: sortition.v1.IPath | null | undefined): Path {
  if (!m) throw new TreeError('PROOF_INVALID', 'missing path');
  const steps = m.steps ?? new Uint8Array(0);
  const siblings = m.siblings ?? [];
  const mins = m.siblingMin ?? [];
  const maxs = m.siblingMax ?? [];
  const depth = steps.length;
  if (depth > LIMITS.pathDepth)
    throw new TreeError('PROOF_INVALID', `path depth ${depth} exceeds ${LIMITS.pathDepth}`);
  if (siblings.length !== depth || mins.length !== depth || maxs.length !== depth) {
    throw new TreeError('PROOF_INVALID', 'path arrays differ in length');
  }
  let prev = -1;
  for (let i = 0; i < depth; i++) {
    const s = steps[i];
    const crit = s & STEP_CRIT_MASK;
    if ((s & 0x40) !== 0 || crit <= prev) throw new TreeError('PROOF_INVALID', `bad step ${s} at level ${i}`);
    prev = crit;
    if (siblings[i].length !== HASH_BYTES)
      throw new TreeError('PROOF_INVALID', `sibling ${i} is not 32 bytes`);
  }
  const siblingMin = mins.map(toBig);
  const siblingMax = maxs.map(toBig);
  for (let i = 0; i < depth; i++) {
    if (siblingMin[i] >= siblingMax[i])
      throw new TreeError('PROOF_INVALID', `sibling ${i} has an empty range`);
  }
  const leafBytes = m.leaf ?? new Uint8Array(0);
  if (leafBytes.length === 0 && depth > 0) throw new TreeError('PROOF_INVALID', 'path without a leaf');
  return {
    steps,
    siblings,
    siblingMin,
    siblingMax,
    leaf: leafBytes.length ? leafFromBytes(leafBytes) : null,
  };
}
