// Keep SortitionPool: v2 selection sequences recorded from the contracts in an EVM (keep-vectors.ts), v2
// pool rules from keep-network/sortition-pools test/sortitionPoolTest.js (lock/unlock, eligibility by
// divisor), v1 selection-time rules from the v1 sortitionPoolTest.js ("removes ineligible operators",
// "removes outdated but still operators", "lets outdated operators update their status") and the INIT_BLOCKS
// delay, plus properties: frequencies follow weights, set selections never repeat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortitionPool } from '../../src/sortition/keep-pool.js';
import { hexToBytes } from '../../src/sortition/bytes.js';
import { ABC, BIG, EVM_POOL_ADDRESS, SEED2, TEST_SEED, opAddress } from './keep-vectors.js';
import { chiSquare, CHI2_CRITICAL_P001 } from './stats.js';
import { codeOf } from '../helpers/errors.js';
import { SortitionError } from '../../src/sortition/errors.js';

const seed = hexToBytes(TEST_SEED);
const seed2 = hexToBytes(SEED2);

function poolOf(operators: { address: string; weight: number }[], address = EVM_POOL_ADDRESS): SortitionPool {
  const pool = new SortitionPool({ poolAddress: address });
  for (const o of operators) pool.insertOperatorWeight(o.address, o.weight);
  return pool;
}

test('selectGroup reproduces the v2 contract: three operators', () => {
  const pool = poolOf(ABC.operators);
  assert.equal(pool.tree.root(), ABC.root);
  pool.lock();
  assert.deepEqual(pool.selectGroup(3, seed), ABC.group3);
  assert.deepEqual(pool.selectGroup(10, seed2), ABC.group10Seed2);
});

test('selectGroup reproduces the v2 contract: 49 operators, 100 members', () => {
  const pool = poolOf(BIG.operators);
  assert.equal(pool.tree.totalWeight(), BIG.total);
  pool.lock();
  assert.deepEqual(pool.selectGroup(100, seed), BIG.group100);
  assert.deepEqual(pool.selectGroup(20, seed2), BIG.group20Seed2);
});

test('selectGroup reproduces the v2 contract after removals, an update and a re-insertion', () => {
  const pool = poolOf(BIG.operators);
  const addr = (i: number) => opAddress(0xaaaa0000 + i);
  pool.tree.removeOperator(addr(120));
  pool.tree.removeOperator(addr(149));
  pool.tree.updateOperator(addr(101), 5000);
  pool.insertOperatorWeight(addr(120), 77);
  assert.equal(pool.tree.root(), BIG.after.root);
  assert.equal(pool.tree.totalWeight(), BIG.after.total);
  assert.equal(pool.tree.getOperatorID(addr(120)), BIG.after.id120);
  pool.lock();
  assert.deepEqual(pool.selectGroup(30, seed2), BIG.after.group30Seed2);
});

test('the pool address salts the RNG: another address gives another sequence', () => {
  const a = poolOf(BIG.operators);
  const b = poolOf(BIG.operators, opAddress(0x1234));
  a.lock();
  b.lock();
  assert.notDeepEqual(a.selectGroup(20, seed2), b.selectGroup(20, seed2));
});

test('lock / unlock: membership changes only unlocked, selection only locked', () => {
  const pool = new SortitionPool({ poolAddress: EVM_POOL_ADDRESS, poolWeightDivisor: 2000n });
  const [alice, bob, carol] = [opAddress(1), opAddress(2), opAddress(3)];
  assert.equal(pool.isLocked, false);
  pool.insertOperator(alice, 20000n);
  pool.insertOperator(bob, 22000n);
  pool.insertOperator(carol, 24000n);
  assert.equal(
    codeOf(SortitionError, () => pool.selectGroup(3, seed)),
    'POOL_UNLOCKED',
  );
  pool.lock();
  assert.equal(pool.selectGroup(3, seed).length, 3);
  assert.equal(
    codeOf(SortitionError, () => pool.insertOperator(opAddress(4), 20000n)),
    'POOL_LOCKED',
  );
  assert.equal(
    codeOf(SortitionError, () => pool.updateOperatorStatus(alice, 10000n)),
    'POOL_LOCKED',
  );
  pool.unlock();
  assert.equal(pool.isLocked, false);
  pool.updateOperatorStatus(alice, 10000n);
});

test('eligibility: weight = stake / poolWeightDivisor must be positive; weight 0 removes', () => {
  const pool = new SortitionPool({ poolAddress: EVM_POOL_ADDRESS, poolWeightDivisor: 2000n });
  const alice = opAddress(1);
  assert.equal(
    codeOf(SortitionError, () => pool.insertOperator(alice, 1999n)),
    'NOT_ELIGIBLE',
  );
  pool.insertOperator(alice, 2000n);
  assert.equal(pool.isOperatorInPool(alice), true);
  pool.updateOperatorStatus(alice, 5000n);
  assert.equal(pool.isOperatorUpToDate(alice, 2000n), false);
  assert.equal(pool.isOperatorUpToDate(alice, 5000n), true);
  assert.equal(pool.tree.getPoolWeight(alice), 2);
  pool.updateOperatorStatus(alice, 1999n);
  assert.equal(pool.isOperatorInPool(alice), false);
});

test('minimum stake (v1): stakes below the minimum give no weight', () => {
  const pool = new SortitionPool({
    poolAddress: EVM_POOL_ADDRESS,
    poolWeightDivisor: 1000n,
    minimumStake: 5000n,
  });
  assert.equal(pool.getWeight(4999n), 0n);
  assert.equal(pool.getWeight(5000n), 5n);
  assert.equal(
    codeOf(SortitionError, () => pool.insertOperator(opAddress(1), 4999n)),
    'NOT_ELIGIBLE',
  );
});

test('empty pool and fewer operators than the group size', () => {
  const pool = new SortitionPool({ poolAddress: EVM_POOL_ADDRESS });
  pool.lock();
  assert.equal(
    codeOf(SortitionError, () => pool.selectGroup(3, seed)),
    'EMPTY_POOL',
  );
  pool.unlock();
  pool.insertOperatorWeight(opAddress(1), 1);
  pool.lock();
  assert.deepEqual(pool.selectGroup(5, seed), [1, 1, 1, 1, 1]);
  assert.equal(
    codeOf(SortitionError, () => pool.selectSetGroup(2, seed)),
    'NOT_ENOUGH_ELIGIBLE',
  );
  assert.equal(
    codeOf(SortitionError, () => pool.selectGroup(3, seed.subarray(0, 31))),
    'INVALID_ARGUMENT',
  );
});

/** v1 sortitionPoolTest.js: minimum stake 2000, pool weight divisor 2000, alice 2000 and bob 4000000. */
function v1Pool(): { pool: SortitionPool; alice: string; bob: string; stakes: Map<string, bigint> } {
  const pool = new SortitionPool({
    poolAddress: EVM_POOL_ADDRESS,
    poolWeightDivisor: 2000n,
    minimumStake: 2000n,
  });
  const alice = opAddress(0xa11ce);
  const bob = opAddress(0xb0b);
  const stakes = new Map<string, bigint>([
    [alice, 2000n],
    [bob, 4000000n],
  ]);
  pool.insertOperator(alice, 2000n);
  pool.insertOperator(bob, 4000000n);
  return { pool, alice, bob, stakes };
}

test('v1 "removes ineligible operators": bob below the minimum stake is deleted when drawn', () => {
  const { pool, bob, stakes } = v1Pool();
  stakes.set(bob, 1000n);
  pool.lock();
  const group = pool.selectGroup(5, seed, { currentStake: (op) => stakes.get(op) ?? 0n });
  assert.deepEqual(group, [1, 1, 1, 1, 1]);
  assert.equal(pool.isOperatorInPool(bob), false);
});

test('v1 "removes outdated but still operators": bob whose weight dropped below the recorded one', () => {
  const { pool, bob, stakes } = v1Pool();
  stakes.set(bob, 390000n);
  pool.lock();
  assert.deepEqual(
    pool.selectGroup(5, seed, { currentStake: (op) => stakes.get(op) ?? 0n }),
    [1, 1, 1, 1, 1],
  );
  assert.equal(pool.isOperatorInPool(bob), false);
});

test('v1 "lets outdated operators update their status"', () => {
  const { pool, alice, bob, stakes } = v1Pool();
  stakes.set(bob, 390000n);
  stakes.set(alice, 1000n);
  pool.updateOperatorStatus(bob, 390000n);
  pool.updateOperatorStatus(alice, 1000n);
  pool.lock();
  assert.deepEqual(
    pool.selectGroup(5, seed, { currentStake: (op) => stakes.get(op) ?? 0n }),
    [2, 2, 2, 2, 2],
  );
});

test('an up-to-date pool with a stake oracle selects exactly like v2', () => {
  const pool = poolOf(BIG.operators);
  pool.lock();
  const weights = new Map(BIG.operators.map((o) => [o.address, BigInt(o.weight)]));
  const group = pool.selectGroup(100, seed, {
    currentStake: (op) => weights.get(op) ?? 0n,
    blockNumber: 1000n,
  });
  assert.deepEqual(group, BIG.group100);
});

test('eligibility delay: operators are skipped until blockNumber > joinBlock + initBlocks', () => {
  const pool = new SortitionPool({ poolAddress: EVM_POOL_ADDRESS, initBlocks: 10 });
  const [old, fresh] = [opAddress(1), opAddress(2)];
  pool.insertOperatorWeight(old, 1, 100n);
  pool.insertOperatorWeight(fresh, 1_000_000, 195n);
  pool.lock();
  assert.equal(pool.isOperatorInitialized(fresh, 205n), false);
  assert.equal(pool.isOperatorInitialized(fresh, 206n), true);
  // At block 205 the heavy newcomer is skipped and the draw falls through to the only initialized operator.
  assert.deepEqual(pool.selectGroup(6, seed2, { blockNumber: 205n }), [1, 1, 1, 1, 1, 1]);
  assert.equal(pool.isOperatorInPool(fresh), true);
  const later = pool.selectGroup(50, seed2, { blockNumber: 206n });
  assert.ok(later.filter((id) => id === 2).length > 40);
  assert.equal(
    codeOf(SortitionError, () => pool.selectGroup(1, seed2, { blockNumber: 100n })),
    'NOT_ENOUGH_ELIGIBLE',
  );
});

test('selectSetGroup of every operator returns each exactly once', () => {
  const pool = poolOf(BIG.operators);
  pool.lock();
  const all = pool.selectSetGroup(49, seed2);
  assert.deepEqual(
    [...all].sort((a, b) => a - b),
    Array.from({ length: 49 }, (_, i) => i + 1),
  );
  // The first draw of a set selection is the first draw of selectGroup (same RNG chain, nothing skipped yet).
  assert.equal(all[0], BIG.group20Seed2[0]);
});

test('property: selectSetGroup never repeats and only returns pool members', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 50000 }), { minLength: 1, maxLength: 120 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.nat(),
      (weights, s, address, k) => {
        const pool = poolOf(
          weights.map((w, i) => ({ address: opAddress(i + 1), weight: w })),
          '0x' + Buffer.from(address).toString('hex'),
        );
        pool.lock();
        const size = k % (weights.length + 1);
        const group = pool.selectSetGroup(size, s);
        assert.equal(group.length, size);
        assert.equal(new Set(group).size, size);
        for (const id of group) assert.ok(id >= 1 && id <= weights.length);
      },
    ),
    { seed: 99, numRuns: 150 },
  );
});

test('property: selectGroup frequencies follow weights (chi-square, p = 0.001)', () => {
  const weights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const pool = poolOf(weights.map((w, i) => ({ address: opAddress(i + 1), weight: w * 100 })));
  pool.lock();
  const draws = 20000;
  const counts = new Array<number>(weights.length).fill(0);
  for (const id of pool.selectGroup(draws, seed2)) counts[id - 1]++;
  const expected = weights.map((w) => (draws * w) / 55);
  const stat = chiSquare(counts, expected);
  assert.ok(stat < CHI2_CRITICAL_P001[weights.length - 1], `chi-square ${stat}, counts ${counts}`);
});

test('property: unique selections are fair to the first pick (per-operator binomial bound)', () => {
  // The first member of a set selection is a plain weighted draw; over many seeds its frequency must match.
  const weights = [5, 1, 1, 3];
  const pool = poolOf(weights.map((w, i) => ({ address: opAddress(i + 1), weight: w })));
  pool.lock();
  const n = 4000;
  const counts = new Array<number>(weights.length).fill(0);
  let s = seed2;
  for (let i = 0; i < n; i++) {
    counts[pool.selectSetGroup(2, s)[0] - 1]++;
    s = hexToBytes((BigInt('0x' + Buffer.from(s).toString('hex')) + 1n).toString(16).padStart(64, '0'));
  }
  weights.forEach((w, i) => {
    const p = w / 10;
    const sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(counts[i] - n * p) < 4 * sd, `operator ${i + 1}: ${counts[i]} vs ${n * p}`);
  });
});

test('property: with stale and fresh operators, selections hold only eligible members (skip + delete paths)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          weight: fc.integer({ min: 1, max: 5000 }),
          kind: fc.constantFrom('ok', 'stale', 'fresh'),
        }),
        {
          minLength: 1,
          maxLength: 80,
        },
      ),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.nat(),
      fc.boolean(),
      (ops, s, k, unique) => {
        const good = ops.filter((o) => o.kind === 'ok').length;
        fc.pre(good > 0);
        const pool = new SortitionPool({ poolAddress: EVM_POOL_ADDRESS, initBlocks: 10 });
        ops.forEach((o, i) =>
          pool.insertOperatorWeight(opAddress(i + 1), o.weight, o.kind === 'fresh' ? 95n : 0n),
        );
        pool.lock();
        const stake = (op: string) => {
          const o = ops[Number(BigInt(op)) - 1];
          return BigInt(o.kind === 'stale' ? o.weight - 1 : o.weight);
        };
        const size = unique ? k % (good + 1) : (k % 40) + 1;
        const ctx = { blockNumber: 100n, currentStake: stake };
        const group = unique ? pool.selectSetGroup(size, s, ctx) : pool.selectGroup(size, s, ctx);
        assert.equal(group.length, size);
        if (unique) assert.equal(new Set(group).size, size);
        for (const id of group) assert.equal(ops[id - 1].kind, 'ok');
        // Stale operators that were drawn are gone; ok and fresh ones all stay.
        ops.forEach((o, i) => {
          if (o.kind !== 'stale') assert.ok(pool.isOperatorInPool(opAddress(i + 1)));
        });
      },
    ),
    { seed: 1234, numRuns: 200 },
  );
});
