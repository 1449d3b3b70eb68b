// Constants of Keep's v2 sortition tree.
// Reference: keep-network/sortition-pools contracts/Constants.sol (v2, pragma 0.8.x); seed docs 002/004:
// "A storage field can hold 8 values of 32 bits ... 8 levels including root and leaves ... 2Mi leaves".

export const SLOT_BITS = 3;
export const LEVELS = 7;
export const SLOT_COUNT = 1 << SLOT_BITS; // 8 children per branch
export const SLOT_WIDTH = 256 / SLOT_COUNT; // 32-bit slots
export const SLOT_MAX = 0xffff_ffff;
export const POOL_CAPACITY = SLOT_COUNT ** LEVELS; // 2^21 leaf positions
/**
 * SortitionTree.getEmptyLeafPosition only hands out a fresh leaf while rightmostLeaf + 1 < POOL_CAPACITY, so
 * the last position is never used and at most 2^21 - 1 operators fit at once.
 */
export const MAX_OPERATORS = POOL_CAPACITY - 1;
export const WEIGHT_WIDTH = SLOT_WIDTH;
export const ID_MAX = SLOT_MAX;
export const BLOCKHEIGHT_WIDTH = 96 - SLOT_WIDTH; // 64
