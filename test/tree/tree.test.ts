import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProbabilityTree } from '../../src/tree/tree.js';
import {
  verifyInsert,
  verifyLookup,
  verifyRemove,
  verifyReplace,
  verifyFree,
  EMPTY_SUMMARY,
} from '../../src/tree/verify.js';
import { pathFromProto, pathToProto } from '../../src/tree/path.js';
import { TreeError } from '../../src/tree/errors.js';
import { EMPTY_ROOT } from '../../src/tree/node.js';
import { sortition } from '../../src/gen/proto.js';
import { leaf } from '../helpers/contracts.js';

const same = (a: Uint8Array, b: Uint8Array) =>
  assert.equal(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'));
import type { Leaf } from '../../src/tree/contract.js';
import { codeOf } from '../helpers/errors.js';

const U64 = 1n << 64n;

/** Paths go through their wire encoding, as they do between operator and validator. */
function wire<T extends Parameters<typeof pathToProto>[0]>(p: T) {
  const bytes = sortition.v1.Path.encode(pathToProto(p)).finish();
  return pathFromProto(sortition.v1.Path.decode(bytes));
}

type Op =
  | { kind: 'insert'; start: bigint; width: bigint }
  | { kind: 'remove'; pick: number }
  | { kind: 'replace'; pick: number; owner: number }
  | { kind: 'split'; pick: number; frac: number }
  | { kind: 'lookup'; point: bigint };

// Starts from a small range make dense neighbourhoods and deep shared prefixes; full 64-bit ones make sparse tries.
const position = fc.oneof(fc.bigInt({ min: 0n, max: 2000n }), fc.bigInt({ min: 0n, max: U64 - 2n }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      start: position,
      width: fc.bigInt({ min: 1n, max: 300n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), owner: fc.nat(1000) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('split' as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lookup' as const), point: position }) },
);

function sortedModel(model: Map<bigint, Leaf>): Leaf[] {
  return [...model.values()].sort((a, b) => (a.contract.start < b.contract.start ? -1 : 1));
}

test('random operations: full tree and stateless verifier agree, intervals never overlap', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 120, size: 'medium' }), (ops) => {
      const tree = new ProbabilityTree();
      const model = new Map<bigint, Leaf>();
      let root = tree.root;
      for (const op of ops) {
        const live = sortedModel(model);
        if (op.kind === 'insert') {
          const end = op.start + op.width >= U64 ? U64 - 1n : op.start + op.width;
          if (end <= op.start) continue;
          const l = leaf(op.start, end, 7);
          const overlaps = live.some((x) => x.contract.start < end && op.start < x.contract.end);
          const path = wire(tree.keyPath(op.start));
          if (overlaps) {
            assert.equal(
              codeOf(TreeError, () => verifyInsert(root, path, l)),
              'OVERLAP',
            );
            assert.equal(
              codeOf(TreeError, () => tree.insert(l)),
              'OVERLAP',
            );
            continue;
          }
          const next = verifyInsert(root, path, l);
          tree.insert(l);
          model.set(op.start, l);
          same(next.digest, tree.root);
        } else if (op.kind === 'lookup') {
          const r = verifyLookup(root, wire(tree.lookupPath(op.point)), op.point, 0n, U64);
          const owner = live.find((x) => x.contract.start <= op.point && op.point < x.contract.end);
          if (owner) {
            assert.equal(r.kind, 'leaf');
            assert.equal(r.kind === 'leaf' && r.leaf.contract.start, owner.contract.start);
          } else {
            assert.equal(r.kind, 'gap');
            if (r.kind !== 'gap') return;
            const before = live.filter((x) => x.contract.end <= op.point).map((x) => x.contract.end);
            const after = live.filter((x) => x.contract.start > op.point).map((x) => x.contract.start);
            assert.equal(r.start, before.length ? before.reduce((a, b) => (a > b ? a : b)) : 0n);
            assert.equal(r.end, after.length ? after.reduce((a, b) => (a < b ? a : b)) : U64);
            assert.deepEqual(tree.lookup(op.point), r);
          }
        } else {
          if (live.length === 0) continue;
          const target = live[op.pick % live.length];
          const s = target.contract.start;
          const path = wire(tree.memberPath(s));
          if (op.kind === 'remove') {
            const next = verifyRemove(root, path);
            tree.remove(s);
            model.delete(s);
            same(next.digest, tree.root);
          } else if (op.kind === 'replace') {
            const l = leaf(s, target.contract.end, op.owner, target.contract.nonce + 1);
            const next = verifyReplace(root, path, l);
            tree.replace(l);
            model.set(s, l);
            same(next.digest, tree.root);
          } else {
            const width = target.contract.end - s;
            if (width < 2n) continue;
            const at = s + 1n + BigInt(Math.floor(op.frac * Number(width - 1n)));
            if (at >= target.contract.end) continue;
            const left = leaf(s, at, 3, target.contract.nonce + 1);
            const right = leaf(at, target.contract.end, 4, target.contract.nonce + 1);
            const mid = verifyReplace(root, path, left);
            tree.replace(left);
            same(mid.digest, tree.root);
            const next = verifyInsert(mid.digest, wire(tree.keyPath(at)), right);
            tree.insert(right);
            model.set(s, left);
            model.set(at, right);
            same(next.digest, tree.root);
          }
        }
        root = tree.root;
        const leaves = [...tree.leaves()];
        assert.equal(leaves.length, model.size);
        for (let i = 1; i < leaves.length; i++) {
          assert.ok(
            leaves[i - 1].contract.end <= leaves[i].contract.start,
            'leaves are ordered and disjoint',
          );
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('the root depends only on the set of contracts, not on the order of operations', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), { minLength: 0, maxLength: 60 }),
      fc.nat(),
      (starts, seed) => {
        const leaves = starts.map((s) => leaf(s << 20n, (s << 20n) + 1000n, Number(s % 97n)));
        const a = new ProbabilityTree();
        for (const l of leaves) a.insert(l);
        // A second history: insert in another order, with detours (extra contracts later removed).
        const shuffled = [...leaves].sort(
          (x, y) => ((x.digest[seed % 32] ^ seed) & 255) - ((y.digest[seed % 32] ^ seed) & 255),
        );
        const b = new ProbabilityTree();
        const detour = leaf(1n << 62n, (1n << 62n) + 5n);
        if (!leaves.some((l) => l.contract.start === detour.contract.start)) b.insert(detour);
        for (const l of shuffled) b.insert(l);
        if (b.get(detour.contract.start) === detour) b.remove(detour.contract.start);
        assert.deepEqual(b.root, a.root);
        assert.deepEqual(ProbabilityTree.fromLeaves(shuffled).root, a.root);
      },
    ),
    { numRuns: 200 },
  );
});

test('empty tree: empty root, insert from the empty path, remove back to empty', () => {
  const t = new ProbabilityTree();
  assert.deepEqual(t.root, EMPTY_ROOT);
  const l = leaf(10n, 20n);
  const r = verifyInsert(t.root, wire(t.keyPath(10n)), l);
  t.insert(l);
  same(r.digest, t.root);
  same(r.digest, l.digest);
  const back = verifyRemove(t.root, wire(t.memberPath(10n)));
  same(back.digest, EMPTY_SUMMARY.digest);
  assert.equal(back.max, 0n);
});

test('free-gap proofs: a free interval verifies, an allocated one does not', () => {
  const t = ProbabilityTree.fromLeaves([leaf(0n, 100n), leaf(200n, 300n), leaf(1000n, 1001n)]);
  verifyFree(t.root, t.lookupPath(100n), 100n, 200n);
  assert.equal(
    codeOf(TreeError, () => verifyFree(t.root, t.lookupPath(150n), 150n, 201n)),
    'OVERLAP',
  );
  assert.equal(
    codeOf(TreeError, () => verifyFree(t.root, t.lookupPath(50n), 50n, 60n)),
    'OVERLAP',
  );
  // Edge rules: a point equal to a start is inside, equal to an end is outside.
  const atStart = verifyLookup(t.root, t.lookupPath(200n), 200n, 0n, U64);
  assert.equal(atStart.kind, 'leaf');
  const atEnd = verifyLookup(t.root, t.lookupPath(300n), 300n, 0n, U64);
  assert.deepEqual(atEnd, { kind: 'gap', start: 300n, end: 1000n });
});

test('forged and misdirected paths are rejected', () => {
  const leaves = Array.from({ length: 50 }, (_, i) => leaf(BigInt(i) * 1000n, BigInt(i) * 1000n + 10n, i));
  const t = ProbabilityTree.fromLeaves(leaves);
  const p = t.memberPath(7000n);
  // Any change to a sibling digest, a bound, a step or the leaf breaks the root.
  const sib = p.siblings.map((s, i) => (i === 2 ? Uint8Array.from(s, (b, j) => (j === 0 ? b ^ 1 : b)) : s));
  assert.equal(
    codeOf(TreeError, () => verifyRemove(t.root, { ...p, siblings: sib })),
    'PROOF_MISMATCH',
  );
  for (let i = 0; i < p.steps.length; i++) {
    const shift = (v: bigint, j: number) => (j === i ? v + 1n : v);
    assert.equal(
      codeOf(TreeError, () => verifyRemove(t.root, { ...p, siblingMin: p.siblingMin.map(shift) })),
      'PROOF_MISMATCH',
    );
    assert.equal(
      codeOf(TreeError, () => verifyRemove(t.root, { ...p, siblingMax: p.siblingMax.map(shift) })),
      'PROOF_MISMATCH',
    );
  }
  assert.equal(
    codeOf(TreeError, () => verifyRemove(t.root, { ...p, leaf: leaf(7000n, 7010n, 99) })),
    'PROOF_MISMATCH',
  );
  // A lookup path that does not lead to the point's neighbourhood cannot claim a gap.
  assert.equal(
    codeOf(TreeError, () => verifyLookup(t.root, t.lookupPath(0n), 20500n, 0n, U64)),
    'PROOF_INVALID',
  );
  // An insertion path that does not follow the new key's bits would misplace the leaf.
  assert.equal(
    codeOf(TreeError, () => verifyInsert(t.root, t.keyPath(0n), leaf(40500n, 40600n))),
    'PROOF_INVALID',
  );
  // Paths over the depth bound, with lengths that disagree, or with non-increasing crit bits do not decode.
  const bad = (m: Partial<sortition.v1.IPath>) =>
    codeOf(TreeError, () => pathFromProto({ ...pathToProto(p), ...m }));
  assert.equal(bad({ steps: new Uint8Array(65) }), 'PROOF_INVALID');
  assert.equal(bad({ siblings: p.siblings.slice(1) as Uint8Array[] }), 'PROOF_INVALID');
  assert.equal(bad({ steps: Uint8Array.from(p.steps).reverse() }), 'PROOF_INVALID');
});

test('proof size is logarithmic and bounded by the 64-level hard limit', () => {
  const n = 4096;
  const leaves = Array.from({ length: n }, (_, i) => leaf(BigInt(i) << 20n, (BigInt(i) << 20n) + 5n));
  const t = ProbabilityTree.fromLeaves(leaves);
  const depth = t.memberPath(1234n << 20n).steps.length;
  assert.equal(depth, 12, 'balanced keys give depth log2(n)');
  // Adversarial keys (one per crit bit) give the deepest possible trie, still 64 levels at most.
  const chain = Array.from({ length: 64 }, (_, i) =>
    leaf(U64 - 1n - ((1n << BigInt(i + 1)) - 1n), U64 - 1n - ((1n << BigInt(i)) - 1n)),
  );
  const deep = ProbabilityTree.fromLeaves(chain);
  const deepest = Math.max(...chain.map((l) => deep.memberPath(l.contract.start).steps.length));
  assert.ok(deepest <= 64 && deepest >= 62, `deepest path ${deepest}`);
});
