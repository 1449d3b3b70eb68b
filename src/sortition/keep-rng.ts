// Keep's selection RNG: rejection sampling on the low bits of a keccak chain bound to the pool address.
// Reference: keep-network/sortition-pools contracts/RNG.sol (v2: getIndex(range, state, bits), bitsRequired,
// truncate) and, for unique draws, v1 RNG.getUniqueIndex + Interval.skip/remapIndices (contracts/Interval.sol).
// Each draw reads the index from the current state *before* hashing it forward with
// keccak256(abi.encodePacked(bytes32 state, address pool)), so the first index comes straight from the seed.

import { keccak_256 } from '@noble/hashes/sha3.js';
import { SortitionError } from './errors.js';
import { bytesToBigIntBE, concatBytes } from './bytes.js';
import { WEIGHT_WIDTH } from './keep-constants.js';

/**
 * Smallest bit count that holds range - 1, capped at 32 (RNG.bitsRequired starts at WEIGHT_WIDTH - 1; any
 * range above 2^32 therefore still gets 32 bits, as the reference's tests assert). Range 1 needs 0 bits.
 */
export function bitsRequired(range: bigint): number {
  if (range < 1n) throw new SortitionError('EMPTY_POOL', `range ${range} must be at least 1`);
  if (range === 1n) return 0;
  let bits = WEIGHT_WIDTH - 1;
  while (1n << BigInt(bits) >= range) bits--;
  return bits + 1;
}

/** The `bits` least significant bits of `input`. */
export function truncate(bits: number, input: bigint): bigint {
  return input & ((1n << BigInt(bits)) - 1n);
}

export interface RngDraw {
  readonly index: bigint;
  readonly state: Uint8Array;
}

/** One RNG.getIndex call: an index in [0, range) and the state to pass to the next call. */
export function getIndex(range: bigint, state: Uint8Array, bits: number, poolAddress: Uint8Array): RngDraw {
  if (state.length !== 32) throw new SortitionError('INVALID_ARGUMENT', 'RNG state must be 32 bytes');
  if (poolAddress.length !== 20)
    throw new SortitionError('INVALID_ARGUMENT', 'pool address must be 20 bytes');
  if (range < 1n) throw new SortitionError('EMPTY_POOL', `range ${range} must be at least 1`);
  let s = state;
  for (;;) {
    const index = truncate(bits, bytesToBigIntBE(s));
    s = keccak_256(concatBytes(s, poolAddress));
    if (index < range) return { index, state: s };
  }
}

/** A run of weight [start, start + weight) excluded from the index space. */
export interface Interval {
  start: number;
  readonly weight: number;
}

/** Interval.skip: maps an index of the truncated space onto the full space, stepping over sorted intervals. */
export function skipIntervals(truncatedIndex: number, intervals: readonly Interval[]): number {
  let mapped = truncatedIndex;
  for (const iv of intervals) {
    if (mapped >= iv.start) mapped += iv.weight;
    else break;
  }
  return mapped;
}

/** Interval.insert: keeps the list sorted by start. */
export function insertInterval(intervals: Interval[], interval: Interval): void {
  let i = intervals.length;
  while (i > 0 && intervals[i - 1].start > interval.start) i--;
  intervals.splice(i, 0, interval);
}

/** Interval.remapIndices: a leaf starting at `start` lost `weight`; later intervals move down by that much. */
export function remapIntervals(intervals: Interval[], start: number, weight: number): void {
  for (const iv of intervals) {
    if (iv.start > start) iv.start -= weight;
  }
}
