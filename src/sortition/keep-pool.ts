// Keep sortition pool: weighted group selection over a SortitionTree.
// References (keep-network/sortition-pools):
//   - v2 contracts/SortitionPool.sol at dd9a1099e88a2738826436219d1cc3171eec2e76: lock/unlock (selection only
//     while locked, membership changes only while unlocked), weight = authorizedStake / poolWeightDivisor,
//     insert requires weight > 0, updateOperatorStatus removes on weight 0, selectGroup's index sequence.
//   - v1 contracts/AbstractSortitionPool.sol + SortitionPool.sol (0.5.17): minimum stake, INIT_BLOCKS
//     eligibility delay, and decideFate during selection (Skip recently joined leaves; Delete leaves whose
//     current stake is below the minimum or whose eligible weight fell below the recorded weight).
//   - seed docs 002/004 (lock before the seed is known; outdated operators removed when selected).
// What is implemented, precisely:
//   selectGroup draws exactly like v2: state = seed; for each member RNG.getIndex(range, state, bits) with
//   bits = bitsRequired(range), then pickWeightedLeaf. It only departs from v2 when a context is given and a
//   candidate is skipped or deleted: then, as v1 did, the draw continues from the same RNG chain over the
//   remaining ("truncated") range, with skipped intervals stepped over (Interval.skip) and the deleted
//   leaf's weight removed from the range. Deletions are applied to the pool even though it is locked (they
//   are the pool's own maintenance, as in v1, not an external update). With no context, or when no candidate
//   is skipped or deleted, the result equals v2's.
//   selectSetGroup (unique members) uses the same chain, adding every selected leaf to the skipped intervals,
//   i.e. v1's getUniqueIndex (draw in range - sum(previous weights), map with Interval.skip). v2 has no
//   set selection; v1 also reseeded per member (keccak(seed, nonce, pool, "reseed")), which is not kept.

import { SortitionError } from './errors.js';
import { hexToBytes } from './bytes.js';
import { POOL_CAPACITY } from './keep-constants.js';
import { normalizeAddress } from './keep-leaf.js';
import {
  bitsRequired,
  getIndex,
  insertInterval,
  remapIntervals,
  skipIntervals,
  type Interval,
} from './keep-rng.js';
import { SortitionTree } from './keep-tree.js';

/** AbstractSortitionPool.INIT_BLOCKS in v1. */
export const V1_INIT_BLOCKS = 10;

export interface PoolConfig {
  /** The pool contract's address: it salts every RNG step (`address(this)` in RNG.getIndex). */
  readonly poolAddress: string;
  /** Stake units per unit of weight. Default 1. */
  readonly poolWeightDivisor?: bigint;
  /** Stakes below this give weight 0 (v1 getEligibleWeight). Default 0: only the divisor matters, as in v2. */
  readonly minimumStake?: bigint;
  /** Blocks an operator must wait after joining before selection (v1: 10). Default 0 (v2 has none). */
  readonly initBlocks?: number;
}

/** What the pool may check about candidates during a selection. Omit both fields for plain v2 behaviour. */
export interface SelectionContext {
  /** Current block; with initBlocks > 0, operators inserted at block b are skipped until blockNumber > b + initBlocks. */
  readonly blockNumber?: bigint;
  /** Current authorized stake of an operator; out-of-date or below-minimum operators are removed when drawn. */
  readonly currentStake?: (operator: string) => bigint;
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== 32) throw new SortitionError('INVALID_ARGUMENT', 'seed must be 32 bytes (bytes32)');
}

function checkGroupSize(groupSize: number): void {
  if (!Number.isInteger(groupSize) || groupSize < 0 || groupSize > POOL_CAPACITY) {
    throw new SortitionError('INVALID_ARGUMENT', `group size ${groupSize} outside [0, ${POOL_CAPACITY}]`);
  }
}

export class SortitionPool {
  readonly tree = new SortitionTree();
  readonly poolAddress: string;
  readonly poolWeightDivisor: bigint;
  readonly minimumStake: bigint;
  readonly initBlocks: number;
  private locked = false;
  private readonly addressBytes: Uint8Array;

  constructor(config: PoolConfig) {
    this.poolAddress = normalizeAddress(config.poolAddress);
    this.addressBytes = hexToBytes(this.poolAddress);
    this.poolWeightDivisor = config.poolWeightDivisor ?? 1n;
    this.minimumStake = config.minimumStake ?? 0n;
    this.initBlocks = config.initBlocks ?? 0;
    if (this.poolWeightDivisor <= 0n)
      throw new SortitionError('INVALID_ARGUMENT', 'poolWeightDivisor must be positive');
    if (this.minimumStake < 0n)
      throw new SortitionError('INVALID_ARGUMENT', 'minimumStake must not be negative');
    if (!Number.isInteger(this.initBlocks) || this.initBlocks < 0) {
      throw new SortitionError('INVALID_ARGUMENT', 'initBlocks must be a non-negative integer');
    }
  }

  get isLocked(): boolean {
    return this.locked;
  }

  lock(): void {
    this.locked = true;
  }

  unlock(): void {
    this.locked = false;
  }

  /** Weight for a stake: 0 below the minimum, else stake / poolWeightDivisor. */
  getWeight(authorizedStake: bigint): bigint {
    if (authorizedStake < this.minimumStake) return 0n;
    return authorizedStake / this.poolWeightDivisor;
  }

  insertOperator(operator: string, authorizedStake: bigint, blockNumber: bigint = 0n): void {
    this.requireUnlocked();
    const weight = this.getWeight(authorizedStake);
    if (weight === 0n) throw new SortitionError('NOT_ELIGIBLE', 'Operator not eligible');
    this.tree.insertOperator(operator, this.toSlotWeight(weight), blockNumber);
  }

  /** Inserts by weight directly, for callers that already hold weights (the `draw group` command). */
  insertOperatorWeight(operator: string, weight: number, blockNumber: bigint = 0n): void {
    this.requireUnlocked();
    if (weight === 0) throw new SortitionError('NOT_ELIGIBLE', 'Operator not eligible (zero weight)');
    this.tree.insertOperator(operator, weight, blockNumber);
  }

  updateOperatorStatus(operator: string, authorizedStake: bigint): void {
    this.requireUnlocked();
    const weight = this.getWeight(authorizedStake);
    if (weight === 0n) this.tree.removeOperator(operator);
    else this.tree.updateOperator(operator, this.toSlotWeight(weight));
  }

  isOperatorInPool(operator: string): boolean {
    return this.tree.isOperatorRegistered(operator);
  }

  isOperatorUpToDate(operator: string, authorizedStake: bigint): boolean {
    return this.getWeight(authorizedStake) === BigInt(this.tree.getPoolWeight(operator));
  }

  /** Whether an inserted operator has waited out the eligibility delay at `blockNumber`. */
  isOperatorInitialized(operator: string, blockNumber: bigint): boolean {
    const p = this.tree.positionOf(operator);
    if (p === undefined) throw new SortitionError('NOT_REGISTERED', 'Operator is not in the pool');
    const leaf = this.tree.leafAt(p);
    return leaf !== undefined && blockNumber > leaf.creationBlock + BigInt(this.initBlocks);
  }

  /** `groupSize` operator IDs, duplicates allowed. */
  selectGroup(groupSize: number, seed: Uint8Array, context: SelectionContext = {}): number[] {
    return this.select(groupSize, seed, context, false);
  }

  /** `groupSize` distinct operator IDs. */
  selectSetGroup(groupSize: number, seed: Uint8Array, context: SelectionContext = {}): number[] {
    if (groupSize > this.tree.operatorsInPool()) {
      throw new SortitionError(
        'NOT_ENOUGH_ELIGIBLE',
        `a set of ${groupSize} needs at least that many operators; the pool has ${this.tree.operatorsInPool()}`,
      );
    }
    return this.select(groupSize, seed, context, true);
  }

  private select(groupSize: number, seed: Uint8Array, context: SelectionContext, unique: boolean): number[] {
    if (!this.locked) throw new SortitionError('POOL_UNLOCKED', 'Sortition pool unlocked');
    checkGroupSize(groupSize);
    checkSeed(seed);
    let fullRange = this.tree.totalWeight();
    if (fullRange === 0) throw new SortitionError('EMPTY_POOL', 'Not enough operators in pool');
    const skipped: Interval[] = [];
    let skippedWeight = 0;
    let state = seed;
    const selected: number[] = [];
    while (selected.length < groupSize) {
      const range = fullRange - skippedWeight;
      if (range <= 0) {
        throw new SortitionError(
          'NOT_ENOUGH_ELIGIBLE',
          `only ${selected.length} of ${groupSize} members could be selected: every remaining operator is ineligible`,
        );
      }
      const draw = getIndex(BigInt(range), state, bitsRequired(BigInt(range)), this.addressBytes);
      state = draw.state;
      const { position, firstIndex } = this.tree.pickWeightedLeaf(skipIntervals(Number(draw.index), skipped));
      const leaf = this.tree.leafAt(position);
      if (leaf === undefined)
        throw new SortitionError('INVALID_ARGUMENT', 'picked an empty leaf (corrupt tree)');
      const weight = this.tree.getLeafWeight(position);
      const fate = this.decideFate(leaf.operator, leaf.creationBlock, weight, context);
      if (fate === 'skip') {
        insertInterval(skipped, { start: firstIndex, weight });
        skippedWeight += weight;
      } else if (fate === 'delete') {
        remapIntervals(skipped, firstIndex, weight);
        this.tree.removeLeaf(position);
        this.tree.forgetPosition(leaf.operator);
        fullRange -= weight;
      } else {
        selected.push(leaf.id);
        if (unique) {
          insertInterval(skipped, { start: firstIndex, weight });
          skippedWeight += weight;
        }
      }
    }
    return selected;
  }

  private decideFate(
    operator: string,
    creationBlock: bigint,
    leafWeight: number,
    context: SelectionContext,
  ): 'select' | 'skip' | 'delete' {
    if (context.blockNumber !== undefined && context.blockNumber <= creationBlock + BigInt(this.initBlocks)) {
      return 'skip';
    }
    if (context.currentStake !== undefined) {
      const stake = context.currentStake(operator);
      if (stake < this.minimumStake || stake / this.poolWeightDivisor < BigInt(leafWeight)) return 'delete';
    }
    return 'select';
  }

  private requireUnlocked(): void {
    if (this.locked) throw new SortitionError('POOL_LOCKED', 'Sortition pool locked');
  }

  private toSlotWeight(weight: bigint): number {
    if (weight > 0xffff_ffffn)
      throw new SortitionError('WEIGHT_OVERFLOW', `weight ${weight} does not fit u32`);
    return Number(weight);
  }
}
