// Keep leaf positions: 21-bit numbers, 3 bits per level, plus a flag bit so position 0 differs from "absent".
// Reference: keep-network/sortition-pools contracts/Position.sol (v2); vectors in test/positionTest.js.

import { SLOT_BITS } from './keep-constants.js';

const SLOT_POINTER_MAX = (1 << SLOT_BITS) - 1;
export const LEAF_FLAG = 1n << 255n;

/** The slot of a position within its parent (its last 3 bits). */
export function slotOf(position: number): number {
  return position & SLOT_POINTER_MAX;
}

export function parentOf(position: number): number {
  return position >>> SLOT_BITS;
}

export function childOf(position: number, slot: number): number {
  return ((position << SLOT_BITS) | (slot & SLOT_POINTER_MAX)) >>> 0;
}

export function setFlag(position: number): bigint {
  return BigInt(position) | LEAF_FLAG;
}

export function unsetFlag(flagged: bigint): number {
  return Number(flagged & ~LEAF_FLAG);
}
