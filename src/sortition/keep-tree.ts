// Keep's 8-ary sortition tree of u32 weights with 2^21 leaf positions.
// Reference: keep-network/sortition-pools contracts/SortitionTree.sol at commit
// dd9a1099e88a2738826436219d1cc3171eec2e76 (v2, pragma 0.8.17); seed docs 002/004 ("optimized higher arity
// trees"). Reproduced: leaf allocation (fill left to right, reuse freed leaves only once the right end is
// reached, most recent first), sequential u32 operator IDs kept across leave/rejoin, updateTree propagation
// and pickWeightedLeaf (exclusive walk: a slot is entered when index < its weight).
// Storage differs: slots are kept unpacked per level (level 1 = root slots, level 7 = leaf weights) because a
// JS engine has no cheap uint256; `root()` packs them back so the contract's root values can be compared.
// Deliberate difference: a change that would take the total weight above 2^32 - 1 is refused (the contract
// would silently truncate a slot, and RNG.bitsRequired caps at 32 bits so weight past 2^32 is unreachable).

import { SortitionError } from './errors.js';
import {
  LEVELS,
  MAX_OPERATORS,
  POOL_CAPACITY,
  SLOT_BITS,
  SLOT_COUNT,
  SLOT_MAX,
  ID_MAX,
} from './keep-constants.js';
import { packSlots } from './keep-branch.js';
import { makeLeaf, normalizeAddress } from './keep-leaf.js';

export interface LeafData {
  readonly operator: string;
  readonly creationBlock: bigint;
  readonly id: number;
}

export interface PickedLeaf {
  readonly position: number;
  /** First weight index covered by the leaf, needed to skip or remap it during a selection. */
  readonly firstIndex: number;
}

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > SLOT_MAX) {
    throw new SortitionError('INVALID_ARGUMENT', `weight ${weight} is not a u32`);
  }
}

export class SortitionTree {
  /** slots[L][i], L = 1..LEVELS: weight under the i-th slot of level L (index = leafPosition >> 3*(LEVELS-L)). */
  private readonly slots: number[][] = Array.from({ length: LEVELS + 1 }, () => []);
  private readonly leaves = new Map<number, LeafData>();
  private readonly positions = new Map<string, number>();
  private total = 0;
  private rightmostLeaf = 0;
  private readonly emptyLeaves: number[] = [];
  private readonly operatorIDs = new Map<string, number>();
  private readonly idAddress: string[] = ['0x' + '00'.repeat(20)];

  getOperatorID(operator: string): number {
    return this.operatorIDs.get(normalizeAddress(operator)) ?? 0;
  }

  /** The operator of an ID, or undefined for an unallocated ID. */
  getIDOperator(id: number): string | undefined {
    return id > 0 && id < this.idAddress.length ? this.idAddress[id] : undefined;
  }

  isOperatorRegistered(operator: string): boolean {
    return this.positions.has(normalizeAddress(operator));
  }

  operatorsInPool(): number {
    return this.rightmostLeaf - this.emptyLeaves.length;
  }

  totalWeight(): number {
    return this.total;
  }

  /** The root node packed as the contract stores it (slot i in bits 32i..32i+31). */
  root(): bigint {
    return packSlots(this.slots[1]);
  }

  /** Leaf position of a registered operator, or undefined. */
  positionOf(operator: string): number | undefined {
    return this.positions.get(normalizeAddress(operator));
  }

  leafAt(position: number): LeafData | undefined {
    return this.leaves.get(position);
  }

  /** The packed leaf word at a position, 0n when empty (SortitionTreeStub.getLeaf). */
  getLeaf(position: number): bigint {
    const leaf = this.leaves.get(position);
    return leaf === undefined ? 0n : makeLeaf(leaf.operator, leaf.creationBlock, leaf.id);
  }

  getLeafWeight(position: number): number {
    return this.slots[LEVELS][position] ?? 0;
  }

  /** Weight recorded for an operator, 0 when absent (SortitionPool.getPoolWeight). */
  getPoolWeight(operator: string): number {
    const p = this.positionOf(operator);
    return p === undefined ? 0 : this.getLeafWeight(p);
  }

  insertOperator(operator: string, weight: number, creationBlock: bigint = 0n): number {
    const op = normalizeAddress(operator);
    checkWeight(weight);
    if (this.positions.has(op)) {
      throw new SortitionError('ALREADY_REGISTERED', 'Operator is already registered in the pool');
    }
    this.checkTotal(weight);
    let id = this.operatorIDs.get(op) ?? 0;
    const position = this.getEmptyLeafPosition();
    if (id === 0) id = this.allocateOperatorID(op);
    this.setLeaf(position, { operator: op, creationBlock, id }, weight);
    this.positions.set(op, position);
    return position;
  }

  removeOperator(operator: string): void {
    const op = normalizeAddress(operator);
    const position = this.positions.get(op);
    if (position === undefined)
      throw new SortitionError('NOT_REGISTERED', 'Operator is not registered in the pool');
    this.removeLeaf(position);
    this.positions.delete(op);
  }

  updateOperator(operator: string, weight: number): void {
    const position = this.positions.get(normalizeAddress(operator));
    if (position === undefined)
      throw new SortitionError('NOT_REGISTERED', 'Operator is not registered in the pool');
    this.updateLeaf(position, weight);
  }

  /**
   * Low level (SortitionTree.removeLeaf): clears a leaf and frees its position. The operator's position record
   * is left alone; pair with forgetPosition, as removeOperator and the pool's selection-time deletion do.
   */
  removeLeaf(position: number): void {
    const isRightmost = position === this.rightmostLeaf - 1;
    this.setLeaf(position, undefined, 0);
    if (isRightmost) this.rightmostLeaf -= 1;
    else this.emptyLeaves.push(position);
  }

  /** Drops the operator's position record only (used after removeLeaf during a selection). */
  forgetPosition(operator: string): void {
    this.positions.delete(normalizeAddress(operator));
  }

  /** Low level (SortitionTree.updateLeaf): sets the weight at a position, a no-op when unchanged. */
  updateLeaf(position: number, weight: number): void {
    checkWeight(weight);
    if (this.getLeafWeight(position) !== weight) {
      this.checkTotal(weight - this.getLeafWeight(position));
      this.updateTree(position, weight);
    }
  }

  /**
   * Low level (SortitionTree.setLeaf, exposed like SortitionTreeStub.publicSetLeaf): places or clears leaf data
   * and weight at any position without allocating it or recording the operator. Meant for tests and for the
   * other methods of this class; use insertOperator to add operators.
   */
  setLeaf(position: number, leaf: LeafData | undefined, weight: number): void {
    checkWeight(weight);
    this.checkTotal(weight - this.getLeafWeight(position));
    if (leaf === undefined) this.leaves.delete(position);
    else this.leaves.set(position, leaf);
    this.updateTree(position, weight);
  }

  /** pickWeightedLeaf: the leaf holding the index-th unit of weight, for 0 <= index < totalWeight(). */
  pickWeightedLeaf(index: number): PickedLeaf {
    if (!Number.isInteger(index) || index < 0 || index >= this.totalWeight()) {
      throw new SortitionError('INVALID_ARGUMENT', 'Index exceeds weight');
    }
    let rest = index;
    let node = 0;
    for (let level = 1; level <= LEVELS; level++) {
      const row = this.slots[level];
      let slot = 0;
      let w = row[node * SLOT_COUNT] ?? 0;
      while (rest >= w) {
        rest -= w;
        slot++;
        w = row[node * SLOT_COUNT + slot] ?? 0;
      }
      node = node * SLOT_COUNT + slot;
    }
    return { position: node, firstIndex: index - rest };
  }

  private updateTree(position: number, weight: number): void {
    const delta = weight - this.getLeafWeight(position);
    for (let level = LEVELS; level >= 1; level--) {
      const row = this.slots[level];
      const i = position >>> (SLOT_BITS * (LEVELS - level));
      while (row.length <= i) row.push(0);
      row[i] += delta;
    }
    this.total += delta;
  }

  private checkTotal(delta: number): void {
    if (this.total + delta > SLOT_MAX) {
      throw new SortitionError('WEIGHT_OVERFLOW', `total pool weight would exceed ${SLOT_MAX}`);
    }
  }

  private getEmptyLeafPosition(): number {
    const r = this.rightmostLeaf;
    if (r + 1 < POOL_CAPACITY) {
      this.rightmostLeaf = r + 1;
      return r;
    }
    const leaf = this.emptyLeaves.pop();
    if (leaf === undefined)
      throw new SortitionError('POOL_FULL', `Pool is full (${MAX_OPERATORS} operators)`);
    return leaf;
  }

  private allocateOperatorID(operator: string): number {
    const id = this.idAddress.length;
    if (id > ID_MAX) throw new SortitionError('POOL_FULL', 'Pool capacity exceeded (operator IDs)');
    this.operatorIDs.set(operator, id);
    this.idAddress.push(operator);
    return id;
  }
}
