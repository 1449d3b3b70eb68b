/**
 * Roots that no validated transition made: an operator (or whoever commits a child root, a root in evidence, a root
 * on chain) can hash any leaves and ranges together. The verifier rule of docs/protocol.md §4.4 must make every two
 * paths that match one such root prove disjoint intervals, and every lookup answer one owner per point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPath, verifyInsert, verifyLookup, verifyRemove, verifyReplace } from '../../src/tree/verify.js';
import { pathFromProto, pathToProto, type Path } from '../../src/tree/path.js';
import { TreeError } from '../../src/tree/errors.js';
import { U64_MAX } from '../../src/codec/u64.js';
import type { Leaf } from '../../src/tree/contract.js';
import { leaf } from '../helpers/contracts.js';
import { ofLeaf, ofNode, type Built, type HandPath } from '../helpers/hand-tree.js';

const SPACE_END = 1n << 64n;
const HALF = 1n << 63n;

/** A path as a peer would send it: through the wire form and its shape rules. Null when the shape is refused. */
function received(p: HandPath): Path | null {
  try {
    return pathFromProto(pathToProto(p));
  } catch (e) {
    if (e instanceof TreeError) return null;
    throw e;
  }
}

function accepts(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof TreeError) return false;
    throw e;
  }
}

/** The paths of a root that the verifier accepts, each with its leaf. */
function acceptedPaths(root: Built): Path[] {
  const out: Path[] = [];
  for (const p of root.paths) {
    const path = received(p);
    if (path && accepts(() => checkPath(root.digest, path))) out.push(path);
  }
  return out;
}

function overlaps(a: Leaf, b: Leaf): boolean {
  return a.contract.start < b.contract.end && b.contract.start < a.contract.end;
}

/** Points worth looking up: both edges of every interval and their neighbours, clipped to the space. */
function probePoints(paths: readonly HandPath[]): bigint[] {
  const pts = new Set<bigint>();
  for (const { leaf: l } of paths) {
    for (const v of [l.contract.start, l.contract.end]) {
      for (const d of [-1n, 0n, 1n]) if (v + d >= 0n && v + d < SPACE_END) pts.add(v + d);
    }
  }
  return [...pts];
}

/**
 * Asserts the property on one adversarial root: accepted paths prove pairwise disjoint intervals; for each point
 * at most one leaf owns it, and no accepted lookup reports a gap that meets an accepted leaf; a path whose root
 * check fails is refused by every operation that takes it.
 */
function assertSound(root: Built): void {
  const accepted = acceptedPaths(root);
  for (let i = 0; i < accepted.length; i++) {
    for (let j = i + 1; j < accepted.length; j++) {
      const a = accepted[i].leaf!;
      const b = accepted[j].leaf!;
      assert.ok(
        !overlaps(a, b),
        `two accepted paths prove overlapping [${a.contract.start}, ${a.contract.end}) and [${b.contract.start}, ${b.contract.end})`,
      );
    }
  }
  for (const point of probePoints(root.paths)) {
    let owner: Leaf | null = null;
    const gaps: { start: bigint; end: bigint }[] = [];
    for (const path of accepted) {
      let r;
      try {
        r = verifyLookup(root.digest, path, point, 0n, SPACE_END);
      } catch (e) {
        if (e instanceof TreeError) continue;
        throw e;
      }
      if (r.kind === 'leaf') {
        assert.ok(owner === null || owner === r.leaf, `two owners for point ${point}`);
        owner = r.leaf;
      } else gaps.push(r);
    }
    for (const g of gaps) {
      for (const path of accepted) {
        const l = path.leaf!.contract;
        assert.ok(
          !(l.start < g.end && g.start < l.end),
          `a gap [${g.start}, ${g.end}) around ${point} meets the accepted leaf [${l.start}, ${l.end})`,
        );
      }
    }
  }
  for (const p of root.paths) {
    const path = received(p);
    if (!path || accepts(() => checkPath(root.digest, path))) continue;
    const l = path.leaf!;
    const bigger = leaf(l.contract.start, l.contract.end, 9);
    const next = l.contract.end < U64_MAX ? leaf(l.contract.end, l.contract.end + 1n, 9) : null;
    assert.ok(!accepts(() => verifyLookup(root.digest, path, l.contract.start, 0n, SPACE_END)));
    assert.ok(!accepts(() => verifyReplace(root.digest, path, bigger)));
    assert.ok(!accepts(() => verifyRemove(root.digest, path)));
    if (next) assert.ok(!accepts(() => verifyInsert(root.digest, path, next)));
  }
}

test('two leaves under one node that overlap across the crit bit: no point has two owners', () => {
  // The example: both starts sit on their side of bit 0, but the left interval runs into the right one.
  const root = ofNode(0, ofLeaf(leaf(10n, HALF + 5n, 1)), ofLeaf(leaf(HALF, HALF + 10n, 2)));
  assert.equal(root.paths.length, 2);
  for (const p of root.paths) {
    const path = received(p)!;
    assert.ok(path, 'each path has a valid shape');
    assert.throws(
      () => checkPath(root.digest, path),
      (e: unknown) => e instanceof TreeError && e.code === 'PROOF_INVALID',
    );
  }
  assertSound(root);
});

test('siblings out of trie order, and sibling ranges that contradict the crit bit, are refused', () => {
  // Right child's leaf lies before the left child's: ordered by position, but against the crit bit.
  const misordered = ofNode(0, ofLeaf(leaf(HALF, HALF + 1n, 1)), ofLeaf(leaf(5n, 6n, 2)));
  // Both starts on the left of bit 0: the left one's sibling claims a start its side of the bit cannot hold.
  const sameSide = ofNode(0, ofLeaf(leaf(1n, 2n, 1)), ofLeaf(leaf(3n, 4n, 2)));
  // Disjoint and on the right sides of bit 0, but differing at bit 1 above the node's crit bit 2.
  const prefix = ofNode(
    2,
    ofLeaf(leaf(0n, 1n, 1)),
    ofLeaf(leaf(HALF + (1n << 62n) + (1n << 61n), U64_MAX, 2)),
  );
  for (const root of [misordered, sameSide, prefix]) {
    assert.equal(acceptedPaths(root).length, 0);
    assertSound(root);
  }
  // An honest pair at the 64-bit edges is accepted on both paths.
  const edges = ofNode(0, ofLeaf(leaf(0n, HALF, 1)), ofLeaf(leaf(HALF, U64_MAX, 2)));
  assert.equal(acceptedPaths(edges).length, 2);
  assertSound(edges);
});

/**
 * Random trees of depth up to 6 with crit bits increasing down each path (so paths pass the shape rules and reach
 * the rule under test). Starts follow their path's bits over a shared base in most cases, so many trees are
 * trie-consistent and differ from honest ones only by overlapping widths; the rest are placed anywhere.
 */
type Shape =
  { leaf: true; width: bigint; wild: bigint | null } | { leaf: false; gap: number; l: Shape; r: Shape };

const widthArb = fc.oneof(
  fc.bigInt({ min: 1n, max: 4n }),
  fc.bigInt({ min: 1n, max: 1n << 20n }),
  fc.bigInt({ min: 1n, max: U64_MAX }),
);
const shapeArb: fc.Arbitrary<Shape> = fc.letrec<{ shape: Shape }>((tie) => ({
  shape: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      leaf: fc.constant(true as const),
      width: widthArb,
      wild: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX - 1n }) },
      ),
    }),
    fc.record({
      leaf: fc.constant(false as const),
      gap: fc.nat({ max: 12 }),
      l: tie('shape'),
      r: tie('shape'),
    }),
  ),
})).shape;

const EDGE_BASES = [0n, 1n, HALF - 1n, HALF, U64_MAX - 1n, U64_MAX];

function build(shape: Shape, base: bigint, crit: number, owner: { n: number }): Built | null {
  if (shape.leaf) {
    const start = shape.wild ?? base;
    if (start >= U64_MAX) return null;
    const end = start + shape.width > U64_MAX ? U64_MAX : start + shape.width;
    return ofLeaf(leaf(start, end, ++owner.n));
  }
  const c = crit + shape.gap;
  if (c > 63) return null;
  const bit = 1n << BigInt(63 - c);
  const l = build(shape.l, base & ~bit, c + 1, owner);
  const r = build(shape.r, base | bit, c + 1, owner);
  return l && r ? ofNode(c, l, r) : null;
}

test('property: under any root, accepted paths prove disjoint intervals and one owner per point', () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(
      shapeArb,
      fc.oneof(fc.constantFrom(...EDGE_BASES), fc.bigInt({ min: 0n, max: U64_MAX })),
      (shape, base) => {
        const root = build(shape, base, 0, { n: 0 });
        if (!root) return;
        const ok = acceptedPaths(root).length;
        accepted += ok;
        refused += root.paths.length - ok;
        assertSound(root);
      },
    ),
    { numRuns: 600, seed: 11 },
  );
  // The generator reaches both sides of the rule, or the property says nothing.
  assert.ok(accepted > 100, `only ${accepted} accepted paths`);
  assert.ok(refused > 100, `only ${refused} refused paths`);
});
