// Keep SortitionTree against keep-network/sortition-pools test/sortitionTreeTest.js (v2), plus properties:
// the Keep walk agrees with the generic weighted tree, and capacity/overflow limits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortitionTree } from '../../src/sortition/keep-tree.js';
import { WeightedTree } from '../../src/sortition/weighted-tree.js';
import { opAddress } from './keep-vectors.js';
import { codeOf } from '../helpers/errors.js';
import { SortitionError } from '../../src/sortition/errors.js';

const alice = opAddress(0xa11ce);
const bob = opAddress(0xb0b);

const hexlify = (n: bigint) => {
  const h = n.toString(16);
  return '0x' + (h.length % 2 ? '0' + h : h);
};

const leaf = (operator: string) => ({ operator, creationBlock: 0n, id: 1 });

test('setLeaf: one leaf in the first root slot -> 0x1234', () => {
  const t = new SortitionTree();
  t.setLeaf(42798, leaf(alice), 0x1234);
  assert.equal(hexlify(t.root()), '0x1234');
});

test('setLeaf: a leaf in the second root slot (position 262145) -> 0x123400000000', () => {
  const t = new SortitionTree();
  t.setLeaf(262145, leaf(alice), 0x1234);
  assert.equal(hexlify(t.root()), '0x123400000000');
});

test('setLeaf: two leaves -> 0x1100001234; removeLeaf of the first -> 0x1100000000', () => {
  const t = new SortitionTree();
  t.setLeaf(42798, leaf(alice), 0x1234);
  t.setLeaf(342391, leaf(bob), 0x11);
  assert.equal(hexlify(t.root()), '0x1100001234');
  t.removeLeaf(42798);
  assert.equal(hexlify(t.root()), '0x1100000000');
});

test('insertOperator: weights 0xfff0 + 0x10000001 -> root 0x1000fff1; double insert reverts', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 0xfff0);
  t.insertOperator(bob, 0x10000001);
  assert.equal(hexlify(t.root()), '0x1000fff1');
  assert.equal(
    codeOf(SortitionError, () => t.insertOperator(alice, 0x10000001)),
    'ALREADY_REGISTERED',
  );
});

test('getOperatorID / getIDOperator', () => {
  const t = new SortitionTree();
  assert.equal(t.getOperatorID(bob), 0);
  t.insertOperator(alice, 0xfff0);
  assert.equal(t.getOperatorID(alice), 1);
  assert.equal(t.getIDOperator(1), alice);
  assert.equal(t.getIDOperator(2), undefined);
});

test('removeOperator: unknown reverts; removal clears root and position but keeps the id', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 0x1234);
  assert.equal(
    codeOf(SortitionError, () => t.removeOperator(bob)),
    'NOT_REGISTERED',
  );
  t.removeOperator(alice);
  assert.equal(hexlify(t.root()), '0x00');
  assert.equal(t.positionOf(alice), undefined);
  assert.equal(t.isOperatorRegistered(alice), false);
  assert.equal(t.getOperatorID(alice), 1);
  // Rejoining keeps the ID (it is allocated once per operator).
  t.insertOperator(bob, 1);
  t.insertOperator(alice, 2);
  assert.equal(t.getOperatorID(alice), 1);
  assert.equal(t.getOperatorID(bob), 2);
});

test('isOperatorRegistered', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 0x1234);
  assert.equal(t.isOperatorRegistered(bob), false);
  assert.equal(t.isOperatorRegistered(alice), true);
});

test('updateLeaf: position 0 to 0x9876 -> root 0x9876', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 0x1234);
  t.updateLeaf(0, 0x9876);
  assert.equal(hexlify(t.root()), '0x9876');
});

test('trunk stacks: freed leaves are not reused before the right end is reached', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 0x1234);
  t.insertOperator(bob, 0x9876);
  t.removeOperator(alice);
  assert.equal(t.getLeaf(0), 0n);
  t.insertOperator(alice, 0xdead);
  assert.equal(t.getLeaf(0), 0n);
  assert.equal(t.positionOf(alice), 2);
  assert.equal(hexlify(t.root()), '0x017723');
});

test('leaf selection: weights 451 and 1984, index 450 -> alice, 451 -> bob', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 451);
  t.insertOperator(bob, 1984);
  const p1 = t.pickWeightedLeaf(450);
  assert.deepEqual(p1, { position: 0, firstIndex: 0 });
  assert.equal(t.leafAt(p1.position)?.operator, alice);
  const p2 = t.pickWeightedLeaf(451);
  assert.deepEqual(p2, { position: 1, firstIndex: 451 });
  assert.equal(t.leafAt(p2.position)?.operator, bob);
  assert.equal(
    codeOf(SortitionError, () => t.pickWeightedLeaf(451 + 1984)),
    'INVALID_ARGUMENT',
  );
});

test('operatorsInPool counts the operators', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 1);
  assert.equal(t.operatorsInPool(), 1);
  t.insertOperator(bob, 1);
  assert.equal(t.operatorsInPool(), 2);
});

test('packed leaves carry operator, creation block and id', () => {
  const t = new SortitionTree();
  t.insertOperator(alice, 5, 0xdfd871n);
  assert.equal(t.getLeaf(0), (BigInt(alice) << 96n) | (0xdfd871n << 32n) | 1n);
});

test('weights are u32 and the total must stay below 2^32', () => {
  const t = new SortitionTree();
  assert.equal(
    codeOf(SortitionError, () => t.insertOperator(alice, 2 ** 32)),
    'INVALID_ARGUMENT',
  );
  t.insertOperator(alice, 0xffff_fff0);
  assert.equal(
    codeOf(SortitionError, () => t.insertOperator(bob, 0x10)),
    'WEIGHT_OVERFLOW',
  );
  assert.equal(t.isOperatorRegistered(bob), false);
  t.insertOperator(bob, 0xf);
  assert.equal(t.totalWeight(), 0xffff_ffff);
});

test('pool capacity: 2^21 - 1 fresh leaves, then freed ones, most recent first', () => {
  const t = new SortitionTree();
  const n = 2 ** 21 - 1;
  for (let i = 0; i < n; i++) t.insertOperator(opAddress(i + 1), 1);
  assert.equal(t.operatorsInPool(), n);
  assert.equal(
    codeOf(SortitionError, () => t.insertOperator(opAddress(n + 1), 1)),
    'POOL_FULL',
  );
  t.removeOperator(opAddress(11));
  t.removeOperator(opAddress(21));
  t.insertOperator(opAddress(n + 1), 1);
  assert.equal(t.positionOf(opAddress(n + 1)), 20);
  t.insertOperator(opAddress(n + 2), 1);
  assert.equal(t.positionOf(opAddress(n + 2)), 10);
});

test('property: the Keep walk picks the leaf the generic tree finds for target index + 1', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 600 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
      (weights, probes) => {
        fc.pre(weights.some((w) => w > 0));
        const t = new SortitionTree();
        weights.forEach((w, i) => t.insertOperator(opAddress(i + 1), w));
        const g = new WeightedTree(weights.map(BigInt));
        assert.equal(t.totalWeight(), Number(g.total));
        for (const probe of probes) {
          const index = probe % t.totalWeight();
          assert.equal(t.pickWeightedLeaf(index).position, g.findFirstAtLeast(BigInt(index) + 1n));
        }
      },
    ),
    { seed: 21, numRuns: 150 },
  );
});
