// Generic 8-ary sum tree over bigint weights: O(log n) prefix-sum search and point update.
// Same shape and walk as Keep's sortition tree (keep-network/sortition-pools contracts/SortitionTree.sol,
// pickWeightedLeaf / Branch.pickWeightedSlot; seed docs 002/004 "optimized higher arity trees"), but with
// unbounded bigint slots because Dusk stakes (u64 lux) do not fit Keep's u32 slots.

import { SortitionError } from './errors.js';

export const TREE_ARITY = 8;

export class WeightedTree {
  /** levels[0] are the leaves; each next level holds the sums of groups of TREE_ARITY; the last has the total. */
  private readonly levels: bigint[][];

  constructor(weights: readonly bigint[]) {
    const leaves = weights.slice();
    for (const w of leaves) {
      if (w < 0n) throw new SortitionError('INVALID_ARGUMENT', `negative weight ${w}`);
    }
    this.levels = [leaves];
    let cur = leaves;
    // A one-node top level even for 0 or 1 leaves keeps the walk uniform.
    do {
      const next: bigint[] = new Array<bigint>(Math.max(1, Math.ceil(cur.length / TREE_ARITY)));
      for (let i = 0; i < next.length; i++) {
        let s = 0n;
        const end = Math.min(cur.length, (i + 1) * TREE_ARITY);
        for (let j = i * TREE_ARITY; j < end; j++) s += cur[j];
        next[i] = s;
      }
      this.levels.push(next);
      cur = next;
    } while (cur.length > 1);
  }

  get size(): number {
    return this.levels[0].length;
  }

  get total(): bigint {
    return this.levels[this.levels.length - 1][0];
  }

  weight(i: number): bigint {
    this.checkIndex(i);
    return this.levels[0][i];
  }

  set(i: number, w: bigint): void {
    this.checkIndex(i);
    if (w < 0n) throw new SortitionError('INVALID_ARGUMENT', `negative weight ${w}`);
    const delta = w - this.levels[0][i];
    let idx = i;
    for (const level of this.levels) {
      level[idx] += delta;
      idx = Math.floor(idx / TREE_ARITY);
    }
  }

  /**
   * Index of the first leaf whose inclusive prefix sum is >= target, for 0 <= target <= total.
   * With target = score this is Dusk's `stake >= score` walk (score 0 lands on leaf 0 even if its weight is 0);
   * with target = index + 1 it is Keep's `index < slotWeight` walk.
   */
  findFirstAtLeast(target: bigint): number {
    if (target < 0n || target > this.total || this.size === 0) {
      throw new SortitionError('INVALID_ARGUMENT', `target ${target} outside [0, ${this.total}]`);
    }
    let rest = target;
    let node = 0;
    for (let l = this.levels.length - 2; l >= 0; l--) {
      const level = this.levels[l];
      const start = node * TREE_ARITY;
      const end = Math.min(level.length, start + TREE_ARITY);
      let c = start;
      // Invariant rest <= sum(level[start..end)), so the last child always satisfies the test.
      while (c < end - 1 && level[c] < rest) {
        rest -= level[c];
        c++;
      }
      node = c;
    }
    return node;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new SortitionError('INVALID_ARGUMENT', `leaf index ${i} outside [0, ${this.size})`);
    }
  }
}
