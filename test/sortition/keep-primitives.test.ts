// Keep sortition-pool primitives against the reference repository's tests (keep-network/sortition-pools):
// test/branchTest.js + contracts/test/TestBranch.sol, test/positionTest.js, test/leafTest.js, test/rngTest.js
// (v2 and the v1 bitsRequired cases). getIndex sequences come from the v2 contracts themselves: RNG.sol and
// SortitionTree.sol (commit dd9a1099e88a2738826436219d1cc3171eec2e76 sources) compiled with solc 0.8.17 and
// run in @ethereumjs/evm 10 (a scratch harness outside this repository), pool address = the harness address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clearSlot, getSlot, pickWeightedSlot, setSlot, sumWeight } from '../../src/sortition/keep-branch.js';
import { childOf, parentOf, setFlag, slotOf, unsetFlag } from '../../src/sortition/keep-position.js';
import { leafCreationBlock, leafId, leafOperator, makeLeaf } from '../../src/sortition/keep-leaf.js';
import { bitsRequired, getIndex, skipIntervals, truncate } from '../../src/sortition/keep-rng.js';
import { hexToBytes } from '../../src/sortition/bytes.js';
import { EVM_POOL_ADDRESS, SEED2, TEST_SEED } from './keep-vectors.js';

const hexlify = (n: bigint) => {
  const h = n.toString(16);
  return '0x' + (h.length % 2 ? '0' + h : h);
};

const NODE = 0x7777777766666666555555554444444433333333222222221111111100000000n;

test('Branch.getSlot / clearSlot / setSlot / sumWeight (branchTest.js)', () => {
  const slots = [
    0x00000000, 0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555, 0x66666666, 0x77777777,
  ];
  slots.forEach((v, i) => assert.equal(getSlot(NODE, i), v));
  const cleared = [
    '0x7777777766666666555555554444444433333333222222221111111100000000',
    '0x7777777766666666555555554444444433333333222222220000000000000000',
    '0x7777777766666666555555554444444433333333000000001111111100000000',
    '0x7777777766666666555555554444444400000000222222221111111100000000',
    '0x7777777766666666555555550000000033333333222222221111111100000000',
    '0x7777777766666666000000004444444433333333222222221111111100000000',
    '0x7777777700000000555555554444444433333333222222221111111100000000',
    '0x66666666555555554444444433333333222222221111111100000000',
  ];
  cleared.forEach((h, i) => assert.equal(hexlify(clearSlot(NODE, i)), h));
  assert.equal(
    hexlify(clearSlot(0x1111111111111111111111111111111111111111111111111111111111111111n, 0)),
    '0x1111111111111111111111111111111111111111111111111111111100000000',
  );
  const set = [
    '0x7777777766666666555555554444444433333333222222221111111112345678',
    '0x7777777766666666555555554444444433333333222222221234567800000000',
    '0x7777777766666666555555554444444433333333123456781111111100000000',
    '0x7777777766666666555555554444444412345678222222221111111100000000',
    '0x7777777766666666555555551234567833333333222222221111111100000000',
    '0x7777777766666666123456784444444433333333222222221111111100000000',
    '0x7777777712345678555555554444444433333333222222221111111100000000',
    '0x1234567866666666555555554444444433333333222222221111111100000000',
  ];
  set.forEach((h, i) => {
    const r = setSlot(NODE, i, 0x12345678);
    assert.equal(hexlify(r), h);
    assert.equal(getSlot(r, i), 0x12345678);
  });
  assert.equal(
    sumWeight(NODE),
    slots.reduce((a, b) => a + b, 0),
  );
});

test('Branch.pickWeightedSlot (TestBranch.runPickWeightedSlotTest)', () => {
  const cases = [
    { weight: 0, index: 1, surplus: 0 },
    { weight: 1, index: 1, surplus: 1 },
    { weight: 0x11111222, index: 2, surplus: 0x111 },
  ];
  for (const c of cases)
    assert.deepEqual(pickWeightedSlot(NODE, c.weight), { slot: c.index, newIndex: c.surplus });
});

test('Position.slot / parent / child / flags (positionTest.js)', () => {
  const data = [
    { position: 196831, slot: 7 },
    { position: 238968, slot: 0 },
    { position: 31002, slot: 2 },
    { position: 1617940, slot: 4 },
  ];
  for (const d of data) assert.equal(slotOf(d.position), d.slot);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8 ** 7 - 1 }), (p) => {
      assert.equal(slotOf(p), p % 8);
      assert.equal(childOf(parentOf(p), slotOf(p)), p);
      assert.equal(unsetFlag(setFlag(p)), p);
      assert.notEqual(setFlag(0), 0n);
    }),
    { seed: 7, numRuns: 200 },
  );
});

test('Leaf.make / operator / creationBlock / id (leafTest.js)', () => {
  const data = [
    {
      address: '0x4ddc2d193948926d02f9b1fe9e1daa0718270ed5',
      creationBlock: 0xdfd871n,
      id: 0x1995b5,
      expectation: '0x4ddc2d193948926d02f9b1fe9e1daa0718270ed50000000000DFD871001995B5',
    },
    {
      address: '0x176f3dab24a159341c0509bb36b833e7fdd0a132',
      creationBlock: 0x5e8eee0n,
      id: 0x8f573,
      expectation: '0x176f3dab24a159341c0509bb36b833e7fdd0a1320000000005E8EEE00008F573',
    },
    {
      address: '0x2b6ed29a95753c3ad948348e3e7b1a251080ffb9',
      creationBlock: 0x771d8dbn,
      id: 0xca009,
      expectation: '0x2b6ed29a95753c3ad948348e3e7b1a251080ffb9000000000771D8DB000CA009',
    },
  ];
  for (const d of data) {
    const leaf = makeLeaf(d.address, d.creationBlock, d.id);
    assert.equal(leaf, BigInt(d.expectation));
    assert.equal(leafOperator(leaf), d.address);
    assert.equal(leafCreationBlock(leaf), d.creationBlock);
    assert.equal(leafId(leaf), d.id);
  }
  // Checksummed input is the same address.
  assert.equal(
    makeLeaf('0x4Ddc2D193948926D02f9B1fE9e1daa0718270ED5', 0xdfd871n, 0x1995b5),
    BigInt(data[0].expectation),
  );
});

test('RNG.bitsRequired (rngTest.js, v2 and v1 cases)', () => {
  const cases: [bigint, number][] = [
    [2n ** 32n + 1n, 32],
    [2n ** 32n, 32],
    [2n ** 32n - 1n, 32],
    [2n ** 31n + 1n, 32],
    [2n ** 31n, 31],
    [2n ** 31n - 1n, 31],
    [2n ** 16n + 1n, 17],
    [2n ** 16n, 16],
    [2n ** 16n - 1n, 16],
    [2n ** 2n + 1n, 3],
    [2n ** 2n, 2],
    [2n ** 2n - 1n, 2],
    [2n, 1],
    [2n ** 19n - 1n, 19],
    [2n ** 10n + 1n, 11],
    [1n, 0],
  ];
  for (const [range, bits] of cases) assert.equal(bitsRequired(range), bits, `bitsRequired(${range})`);
  // The reference's generative check: ceil(log2(n)) for n in [2, 2^32).
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 2 ** 32 - 1 }), (n) => {
      assert.equal(bitsRequired(BigInt(n)), Math.ceil(Math.log2(n)));
    }),
    { seed: 11, numRuns: 500 },
  );
});

test('RNG.truncate (rngTest.js)', () => {
  const a = 0xffffffffn;
  assert.equal(truncate(1, a), 0x1n);
  assert.equal(truncate(2, a), 0x3n);
  assert.equal(truncate(16, a), 0xffffn);
  assert.equal(truncate(31, a), 0x7fffffffn);
  assert.equal(truncate(32, a), a);
  assert.equal(truncate(64, a), a);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), fc.integer({ min: 1, max: 64 }), (n, bits) => {
      assert.equal(truncate(bits, n), n % 2n ** BigInt(bits));
    }),
    { seed: 12, numRuns: 300 },
  );
});

function indices(n: number, seedHex: string, range: bigint): string[] {
  const out: string[] = [];
  let state = hexToBytes(seedHex);
  const bits = bitsRequired(range);
  for (let i = 0; i < n; i++) {
    const d = getIndex(range, state, bits, hexToBytes(EVM_POOL_ADDRESS));
    out.push(d.index.toString());
    state = d.state;
  }
  return out;
}

test('RNG.getIndex sequences equal the v2 contract run in an EVM', () => {
  assert.deepEqual(indices(5, SEED2, 1n), ['0', '0', '0', '0', '0']);
  assert.deepEqual(indices(12, SEED2, 6n), ['4', '4', '4', '2', '4', '5', '5', '3', '1', '2', '5', '3']);
  assert.deepEqual(indices(8, TEST_SEED, 1000n), ['0', '37', '362', '431', '296', '302', '841', '954']);
  assert.deepEqual(indices(4, SEED2, 2n ** 32n + 5n), ['3214604596', '825281788', '3474592884', '267299586']);
  assert.deepEqual(indices(4, SEED2, 123456789n), ['19975420', '119149684', '93515012', '20408021']);
});

test('RNG.getIndex: index below range; uniform within 10% over 6 outcomes (rngTest.js)', () => {
  const pool = hexToBytes(EVM_POOL_ADDRESS);
  let state = hexToBytes(SEED2);
  const counts = new Array<number>(6).fill(0);
  const samples = 10000;
  for (let i = 0; i < samples; i++) {
    const d = getIndex(6n, state, bitsRequired(6n), pool);
    assert.ok(d.index < 6n);
    counts[Number(d.index)]++;
    state = d.state;
  }
  for (const c of counts) assert.ok(Math.abs(c - samples / 6) < samples / 6 / 10, `counts ${counts}`);
});

test('Interval.skip steps over sorted intervals', () => {
  const iv = [
    { start: 2, weight: 3 },
    { start: 10, weight: 4 },
  ];
  assert.deepEqual(
    [0, 1, 2, 3, 6, 7, 8].map((i) => skipIntervals(i, iv)),
    [0, 1, 5, 6, 9, 14, 15],
  );
});
