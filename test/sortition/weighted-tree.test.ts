// Generic bigint 8-ary weighted tree: prefix search and updates against a brute-force scan.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WeightedTree } from '../../src/sortition/weighted-tree.js';
import { SortitionError } from '../../src/sortition/errors.js';

function bruteFirstAtLeast(weights: bigint[], target: bigint): number {
  let acc = 0n;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (acc >= target) return i;
  }
  return -1;
}

test('findFirstAtLeast matches a scan through random updates', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: 1n << 70n }), { minLength: 1, maxLength: 700 }),
      fc.array(
        fc.tuple(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 70n }), fc.bigInt({ min: 0n, max: 1n << 80n })),
        {
          maxLength: 40,
        },
      ),
      (initial, ops) => {
        const weights = initial.slice();
        const tree = new WeightedTree(weights);
        for (const [i, w, probe] of ops) {
          const idx = i % weights.length;
          weights[idx] = w;
          tree.set(idx, w);
          const total = weights.reduce((a, b) => a + b, 0n);
          assert.equal(tree.total, total);
          const target = total === 0n ? 0n : probe % (total + 1n);
          assert.equal(tree.findFirstAtLeast(target), bruteFirstAtLeast(weights, target));
        }
      },
    ),
    { seed: 3, numRuns: 200 },
  );
});

test('target 0 lands on leaf 0 even when it weighs nothing; targets above the total are refused', () => {
  const tree = new WeightedTree([0n, 0n, 5n]);
  assert.equal(tree.findFirstAtLeast(0n), 0);
  assert.equal(tree.findFirstAtLeast(1n), 2);
  assert.throws(() => tree.findFirstAtLeast(6n), SortitionError);
  assert.throws(() => new WeightedTree([-1n]), SortitionError);
  assert.throws(() => new WeightedTree([]).findFirstAtLeast(0n), SortitionError);
});
