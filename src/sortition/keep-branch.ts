// Keep branch nodes: a uint256 holding 8 little-endian-ordered 32-bit slots (slot 0 = least significant).
// Reference: keep-network/sortition-pools contracts/Branch.sol (v2); vectors in test/branchTest.js and
// contracts/test/TestBranch.sol. The tree (keep-tree.ts) stores slots unpacked for speed and uses these
// functions to expose the packed root exactly as the contract stores it.

import { SLOT_COUNT, SLOT_WIDTH } from './keep-constants.js';
import { SortitionError } from './errors.js';

const MASK = (1n << BigInt(SLOT_WIDTH)) - 1n;
const W = BigInt(SLOT_WIDTH);

function checkPosition(position: number): bigint {
  if (!Number.isInteger(position) || position < 0 || position >= SLOT_COUNT) {
    throw new SortitionError('INVALID_ARGUMENT', `slot ${position} outside [0, ${SLOT_COUNT})`);
  }
  return BigInt(position) * W;
}

export function getSlot(node: bigint, position: number): number {
  return Number((node >> checkPosition(position)) & MASK);
}

export function clearSlot(node: bigint, position: number): bigint {
  return node & ~(MASK << checkPosition(position));
}

/** Like the contract, the weight is truncated to 32 bits; callers are expected never to overflow. */
export function setSlot(node: bigint, position: number, weight: number | bigint): bigint {
  const shift = checkPosition(position);
  return (node & ~(MASK << shift)) | ((BigInt(weight) & MASK) << shift);
}

export function sumWeight(node: bigint): number {
  let sum = 0;
  for (let n = node; n > 0n; n >>= W) sum += Number(n & MASK);
  return sum;
}

/** The slot holding the `index`th unit of weight, and the index within that slot. Requires index < sumWeight. */
export function pickWeightedSlot(node: bigint, index: number): { slot: number; newIndex: number } {
  let newIndex = index;
  let slot = 0;
  let n = node;
  let w = Number(n & MASK);
  while (newIndex >= w) {
    if (slot >= SLOT_COUNT - 1)
      throw new SortitionError('INVALID_ARGUMENT', `index ${index} exceeds node weight`);
    newIndex -= w;
    slot++;
    n >>= W;
    w = Number(n & MASK);
  }
  return { slot, newIndex };
}

/** Packs 8 slot values into a node. */
export function packSlots(slots: ArrayLike<number>): bigint {
  let node = 0n;
  for (let i = 0; i < SLOT_COUNT; i++) node = setSlot(node, i, slots[i] ?? 0);
  return node;
}
