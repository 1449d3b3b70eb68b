/**
 * Adversarial roots: trees that no validated transition made, hashed by hand with nodeDigest as an honest node
 * is, over overlapping leaves, misordered siblings, crit bits that contradict the keys below them and 64-bit
 * edges. Every root-to-leaf path of such a tree, sent through the wire form, is checked against its root: no two
 * accepted paths may prove overlapping intervals, and lookups of one point must not name two owners. Honest trees
 * (ProbabilityTree) are the control: all their paths must be accepted.
 */
import { sortition } from '../../src/gen/proto.js';
import { bytesEqual, decodeCanonical } from '../../src/codec/canonical.js';
import { LIMITS } from '../../src/codec/limits.js';
import type { Leaf } from '../../src/tree/contract.js';
import { critBit } from '../../src/tree/node.js';
import { pathFromProto, type Path } from '../../src/tree/path.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { checkPath, verifyLookup, type LookupResult } from '../../src/tree/verify.js';
import type { Tally } from './judge.js';
import type { Rng } from './prng.js';
import { pathProtoBytes, rawLeaf, U64_MAX } from './world.js';
import { ofLeaf, ofNode, type Built } from '../../test/helpers/hand-tree.js';

export const ROOTS_KIND = 'adversarial roots';
const PathPb = sortition.v1.Path;

/** Leaves clustered so that they overlap, touch, nest, and sit on 0 and 2^64-1. */
function leaves(rng: Rng, n: number): Leaf[] {
  const base = rng.pick([0n, U64_MAX - 4096n, rng.u64() & ~0xfffn, 1n << 63n]);
  const owner = rng.bytes(32);
  const out: Leaf[] = [];
  for (let i = 0; i < n; i++) {
    let s = base + rng.big(0n, 4096n);
    let e = s + 1n + rng.big(0n, rng.pick([2n, 64n, 4096n]));
    if (rng.chance(0.1)) [s, e] = [0n, 1n + rng.big(0n, 64n)];
    if (rng.chance(0.1)) [s, e] = [U64_MAX - 1n - rng.big(0n, 64n), U64_MAX];
    if (e > U64_MAX) e = U64_MAX;
    if (s >= e) s = e - 1n;
    out.push(rawLeaf({ start: s, end: e, owner, nonce: 0n, terms: new Uint8Array(0) }));
  }
  return out;
}

/** A random binary tree over the leaves; crit bits increase downwards (the shape rule) but need not fit. */
function shape(rng: Rng, ls: Leaf[], minCrit: number): Built {
  if (ls.length === 1 || minCrit > 63) return ofLeaf(ls[0]);
  const cut = 1 + rng.int(ls.length - 1);
  let crit: number;
  if (rng.chance(0.5)) {
    // The crit bit an honest trie would have over the two sides' first starts, when it is deep enough.
    const a = ls[0].contract.start;
    const b = ls[cut].contract.start;
    crit = a === b ? minCrit : Math.max(minCrit, critBit(a, b));
  } else crit = minCrit + rng.int(Math.max(1, Math.min(8, 64 - minCrit)));
  if (crit > 63) crit = 63;
  const left = ls.slice(0, cut);
  const right = ls.slice(cut);
  return ofNode(crit, shape(rng, left, crit + 1), shape(rng, right, crit + 1));
}

/** A path as a peer sends it: through the wire form and its shape rules; null when the shape is refused. */
function received(p: Path): Path | null {
  try {
    return pathFromProto(decodeCanonical(PathPb, pathProtoBytes(p), LIMITS.txBytes, 'path'));
  } catch {
    return null;
  }
}

function sameAnswer(a: LookupResult, b: LookupResult): boolean {
  if (a.kind === 'leaf' || b.kind === 'leaf')
    return a.kind === 'leaf' && b.kind === 'leaf' && bytesEqual(a.leaf.digest, b.leaf.digest);
  return a.start === b.start && a.end === b.end;
}

function oneRoot(rng: Rng, tally: Tally): void {
  const honest = rng.chance(0.15);
  let ls = leaves(rng, 2 + rng.int(7));
  let built: Built;
  if (honest) {
    // Disjoint leaves only: shrink each to end before the next starts.
    ls.sort((a, b) =>
      a.contract.start < b.contract.start ? -1 : a.contract.start > b.contract.start ? 1 : 0,
    );
    const kept: Leaf[] = [];
    for (const l of ls) {
      const prev = kept[kept.length - 1];
      if (prev && l.contract.start < prev.contract.end) continue;
      kept.push(l);
    }
    ls = kept;
    const t = ProbabilityTree.fromLeaves(ls);
    built = {
      digest: t.root,
      min: 0n,
      max: 0n,
      paths: ls.map((l) => ({ ...t.memberPath(l.contract.start), leaf: l })),
    };
  } else {
    for (let i = ls.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [ls[i], ls[j]] = [ls[j], ls[i]];
    }
    if (rng.chance(0.5)) ls.sort((a, b) => (a.contract.start < b.contract.start ? -1 : 1));
    built = shape(rng, ls, 0);
  }
  const root = built.digest;
  const what = () =>
    `${honest ? 'honest' : 'hand-made'} root over ${ls.map((l) => `[${l.contract.start}, ${l.contract.end})`).join(' ')}`;
  const out = tally.call(ROOTS_KIND, what, () => {
    const accepted: Path[] = [];
    for (const p of built.paths) {
      const r = received(p);
      if (!r) continue;
      try {
        checkPath(root, r);
        accepted.push(r);
      } catch {
        // refused: fine for a hand-made root
      }
    }
    const points = new Set<bigint>();
    for (const l of ls) {
      points.add(l.contract.start);
      points.add(l.contract.end - 1n);
      points.add(l.contract.end < U64_MAX ? l.contract.end : l.contract.start);
    }
    const owners = new Map<bigint, LookupResult>();
    let conflict: string | null = null;
    for (const p of points)
      for (const path of accepted) {
        let r: LookupResult;
        try {
          r = verifyLookup(root, path, p, 0n, 1n << 64n);
        } catch {
          continue;
        }
        const prev = owners.get(p);
        if (prev && !sameAnswer(prev, r)) conflict ??= `two answers for point ${p}`;
        else owners.set(p, r);
      }
    for (let i = 0; i < accepted.length; i++)
      for (let j = i + 1; j < accepted.length; j++) {
        const a = accepted[i].leaf!.contract;
        const b = accepted[j].leaf!.contract;
        if (a.start < b.end && b.start < a.end)
          conflict ??= `paths prove [${a.start}, ${a.end}) and [${b.start}, ${b.end})`;
      }
    return { accepted: accepted.length, conflict };
  });
  tally.input(ROOTS_KIND, out.ok && out.value.accepted > 0);
  if (!out.ok) return;
  if (out.value.conflict)
    tally.note(ROOTS_KIND, 'acceptedInvalid', `${out.value.conflict} under a ${what()}`);
  if (honest && out.value.accepted !== built.paths.length)
    tally.note(ROOTS_KIND, 'rejectedValid', `an honest path refused: ${what()}`);
}

/** Runs `count` adversarial roots (or until `deadline`). */
export function rootsCampaign(rng: Rng, tally: Tally, count: number, deadline: number): number {
  let done = 0;
  for (; done < count && performance.now() < deadline; done++) oneRoot(rng, tally);
  return done;
}
