// Reference vectors for Keep's v2 selection, produced by the contracts themselves: SortitionTree.sol,
// Branch.sol, Position.sol, Leaf.sol, RNG.sol, Constants.sol of keep-network/sortition-pools (v2, the
// SortitionTree.sol of commit dd9a1099e88a2738826436219d1cc3171eec2e76) plus a harness contract whose
// selectGroup is SortitionPool.selectGroup's body without the lock/owner modifiers, compiled with solc
// 0.8.17 (optimizer on, 200 runs) and executed in @ethereumjs/evm 10. The scratch harness lives outside this
// repository; only its outputs are recorded here.

/** Harness address (deployer 0x…ca, nonce 0) = `address(this)` mixed into every RNG step. */
export const EVM_POOL_ADDRESS = '0x0df8e22177567f0ae77e5a0ed75c81bceb2c311c';
/** The v2 sortitionPoolTest.js seed: its low bits are zero, so the first draw is index 0. */
export const TEST_SEED = '0xff39d6cca87853892d2854566e883008bc000000000000000000000000000000';
/** keccak256("sortition-node"). */
export const SEED2 = '0x28cce7b9d7a4cf0bf318d425cc739b949dab81ffe3c2a9b5a36604bfbf9af934';

export const opAddress = (n: number) => '0x' + n.toString(16).padStart(40, '0');

/** Three operators 0xa11ce, 0xb0b, 0xca201 with weights 10, 11, 12 (as in the v2 test, stake / 2000). */
export const ABC = {
  operators: [
    { address: opAddress(0xa11ce), weight: 10 },
    { address: opAddress(0xb0b), weight: 11 },
    { address: opAddress(0xca201), weight: 12 },
  ],
  root: 0x21n,
  group3: [1, 1, 2],
  group10Seed2: [1, 1, 3, 3, 1, 3, 3, 1, 3, 3],
};

/** 49 operators 0xaaaa0000 + i with weight i for i = 101..149 (the v2 "very large group" setup). */
export const BIG = {
  operators: Array.from({ length: 49 }, (_, k) => ({
    address: opAddress(0xaaaa0000 + 101 + k),
    weight: 101 + k,
  })),
  total: 6125,
  group100: [
    1, 36, 45, 14, 13, 34, 35, 14, 22, 40, 38, 16, 38, 13, 40, 15, 21, 16, 7, 23, 3, 31, 40, 35, 16, 36, 10,
    38, 39, 24, 14, 15, 21, 43, 10, 17, 32, 34, 11, 16, 25, 41, 40, 49, 26, 33, 27, 21, 33, 43, 41, 23, 3, 28,
    48, 30, 24, 15, 1, 34, 27, 12, 34, 29, 23, 11, 24, 25, 25, 47, 49, 13, 25, 34, 36, 19, 12, 47, 25, 43, 11,
    38, 7, 32, 9, 10, 49, 8, 3, 31, 31, 17, 24, 41, 43, 42, 26, 30, 17, 2,
  ],
  group20Seed2: [29, 43, 25, 29, 17, 26, 28, 43, 23, 7, 24, 32, 44, 18, 37, 44, 1, 45, 43, 35],
  /** Then: remove i = 120 and 149, update i = 101 to weight 5000, re-insert 120 with weight 77. */
  after: {
    root: 0x2a50n,
    total: 10832,
    id120: 20,
    group30Seed2: [
      1, 4, 43, 23, 1, 1, 1, 1, 20, 1, 4, 44, 1, 16, 1, 10, 21, 7, 1, 1, 1, 31, 39, 40, 1, 46, 45, 11, 47, 1,
    ],
  },
};
