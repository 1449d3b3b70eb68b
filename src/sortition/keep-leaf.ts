// Keep leaves: [address operator (160 bits) || uint64 creationBlock || uint32 id] packed in a uint256.
// Reference: keep-network/sortition-pools contracts/Leaf.sol (v2); vectors in test/leafTest.js.

import { SortitionError } from './errors.js';
import { toHex } from '../codec/bytes.js';
import { hexToBytes } from './bytes.js';
import { BLOCKHEIGHT_WIDTH, ID_MAX, SLOT_WIDTH } from './keep-constants.js';

const U64_MAX = (1n << 64n) - 1n;
const BLOCK_MASK = (1n << BigInt(BLOCKHEIGHT_WIDTH)) - 1n;

/** Lowercase 0x-prefixed 20-byte address; throws INVALID_ARGUMENT otherwise. */
const CANONICAL_ADDRESS = /^0x[0-9a-f]{40}$/;

export function normalizeAddress(address: string): string {
  // Hot path for tree operations: already canonical.
  if (CANONICAL_ADDRESS.test(address)) return address;
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(address);
  } catch {
    throw new SortitionError('INVALID_ARGUMENT', `not a hex address: ${JSON.stringify(address)}`);
  }
  if (bytes.length !== 20)
    throw new SortitionError('INVALID_ARGUMENT', `address must be 20 bytes: ${address}`);
  return '0x' + toHex(bytes);
}

export function makeLeaf(operator: string, creationBlock: bigint, id: number): bigint {
  if (creationBlock < 0n || creationBlock > U64_MAX) {
    throw new SortitionError('INVALID_ARGUMENT', `creation block ${creationBlock} is not a u64`);
  }
  if (!Number.isInteger(id) || id < 0 || id > ID_MAX) {
    throw new SortitionError('INVALID_ARGUMENT', `id ${id} is not a u32`);
  }
  const op = BigInt(normalizeAddress(operator)) << 96n;
  return op | ((creationBlock & BLOCK_MASK) << BigInt(SLOT_WIDTH)) | BigInt(id);
}

export function leafOperator(leaf: bigint): string {
  return '0x' + (leaf >> 96n).toString(16).padStart(40, '0');
}

export function leafCreationBlock(leaf: bigint): bigint {
  return (leaf >> BigInt(SLOT_WIDTH)) & BLOCK_MASK;
}

export function leafId(leaf: bigint): number {
  return Number(leaf & BigInt(ID_MAX));
}
