/**
 * The full probability-space tree an operator keeps: a crit-bit trie over contract starts (see node.ts for the
 * commitment). Digests are computed lazily, so loading or changing many contracts costs one hash per changed
 * node when the root is next read, not one per operation.
 */
import type { Leaf } from './contract.js';
import { EMPTY_ROOT, bitAt, critBit, nodeDigest, STEP_RIGHT } from './node.js';
import type { Path } from './path.js';
import { TreeError } from './errors.js';
import { EMPTY_SUMMARY, type LookupResult, type Summary } from './verify.js';
import { MultiproofWriter, type MultiproofParts } from './multiproof.js';

class LeafNode {
  constructor(readonly leaf: Leaf) {}
  get min(): bigint {
    return this.leaf.contract.start;
  }
  get max(): bigint {
    return this.leaf.contract.end;
  }
}

class InnerNode {
  digest: Uint8Array | null = null;
  readonly min: bigint;
  readonly max: bigint;
  constructor(
    readonly crit: number,
    readonly left: TreeNode,
    readonly right: TreeNode,
  ) {
    this.min = left.min;
    this.max = right.max;
  }
}

type TreeNode = LeafNode | InnerNode;

function digestOf(n: TreeNode): Uint8Array {
  if (n instanceof LeafNode) return n.leaf.digest;
  if (n.digest === null) {
    const { left: l, right: r } = n;
    n.digest = nodeDigest(n.crit, l.min, l.max, r.min, r.max, digestOf(l), digestOf(r));
  }
  return n.digest;
}

function pathStep(crit: number, right: boolean): number {
  return crit | (right ? STEP_RIGHT : 0);
}

export class ProbabilityTree {
  private top: TreeNode | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get root(): Uint8Array {
    return this.top ? digestOf(this.top) : EMPTY_ROOT;
  }

  summary(): Summary {
    if (!this.top) return EMPTY_SUMMARY;
    return { digest: digestOf(this.top), min: this.top.min, max: this.top.max };
  }

  /** Builds a tree from contracts in any order in O(n log n), hashing each node once. */
  static fromLeaves(leaves: readonly Leaf[]): ProbabilityTree {
    const sorted = [...leaves].sort((a, b) => (a.contract.start < b.contract.start ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i - 1].contract.end > sorted[i].contract.start) {
        throw new TreeError(
          'OVERLAP',
          `contracts at ${sorted[i - 1].contract.start} and ${sorted[i].contract.start}`,
        );
      }
    }
    const t = new ProbabilityTree();
    t.count = sorted.length;
    const build = (lo: number, hi: number): TreeNode => {
      if (hi - lo === 1) return new LeafNode(sorted[lo]);
      const crit = critBit(sorted[lo].contract.start, sorted[hi - 1].contract.start);
      let a = lo;
      let b = hi - 1;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (bitAt(sorted[mid].contract.start, crit) === 1) b = mid;
        else a = mid + 1;
      }
      return new InnerNode(crit, build(lo, a), build(a, hi));
    };
    t.top = sorted.length ? build(0, sorted.length) : null;
    return t;
  }

  *leaves(): Generator<Leaf> {
    const stack: TreeNode[] = this.top ? [this.top] : [];
    while (stack.length) {
      const n = stack.pop()!;
      if (n instanceof LeafNode) yield n.leaf;
      else stack.push(n.right, n.left);
    }
  }

  /** The leaf reached by following the key's bits, and the inner nodes passed. */
  private descend(key: bigint): { leaf: LeafNode; stack: InnerNode[] } | null {
    if (!this.top) return null;
    const stack: InnerNode[] = [];
    let n = this.top;
    while (n instanceof InnerNode) {
      stack.push(n);
      n = bitAt(key, n.crit) ? n.right : n.left;
    }
    return { leaf: n, stack };
  }

  get(start: bigint): Leaf | undefined {
    const d = this.descend(start);
    return d && d.leaf.leaf.contract.start === start ? d.leaf.leaf : undefined;
  }

  /** Which contract or free gap (within [spaceStart, spaceEnd)) contains the point. */
  lookup(point: bigint, spaceStart = 0n, spaceEnd = 1n << 64n): LookupResult {
    let lo = spaceStart;
    let hi = spaceEnd;
    let n = this.top;
    if (!n) return { kind: 'gap', start: lo, end: hi };
    while (n instanceof InnerNode) {
      if (point >= n.right.min) {
        if (n.left.max > lo) lo = n.left.max;
        n = n.right;
      } else {
        if (n.right.min < hi) hi = n.right.min;
        n = n.left;
      }
    }
    const { start, end } = n.leaf.contract;
    if (start <= point && point < end) return { kind: 'leaf', leaf: n.leaf };
    if (end <= point) lo = end > lo ? end : lo;
    else hi = start < hi ? start : hi;
    return { kind: 'gap', start: lo, end: hi };
  }

  /**
   * Rebuilds the nodes of `stack` (the descent by `key`) above `next`, the subtree that replaces the one the
   * descent continued into below the stack. Nodes are never changed in place, so a clone (the state before a
   * block) stays valid with its cached digests: the block's multiproof is read from it (`multiproof`).
   */
  private rebuild(stack: readonly InnerNode[], key: bigint, next: TreeNode): void {
    let n = next;
    for (let i = stack.length - 1; i >= 0; i--) {
      const p = stack[i];
      n = bitAt(key, p.crit) ? new InnerNode(p.crit, p.left, n) : new InnerNode(p.crit, n, p.right);
    }
    this.top = n;
  }

  insert(leaf: Leaf): void {
    const { start: s, end: e } = leaf.contract;
    const found = this.lookup(s);
    if (found.kind === 'leaf' || e > found.end) throw new TreeError('OVERLAP', `[${s}, ${e}) is not free`);
    this.count++;
    const fresh = new LeafNode(leaf);
    const near = this.descend(s);
    if (!near) {
      this.top = fresh;
      return;
    }
    const d = critBit(s, near.leaf.leaf.contract.start);
    const stack: InnerNode[] = [];
    let n: TreeNode = this.top!;
    while (n instanceof InnerNode && n.crit < d) {
      stack.push(n);
      n = bitAt(s, n.crit) ? n.right : n.left;
    }
    this.rebuild(stack, s, bitAt(s, d) ? new InnerNode(d, n, fresh) : new InnerNode(d, fresh, n));
  }

  /** Replaces the contract that starts at leaf's start; a longer interval must not reach the next contract. */
  replace(leaf: Leaf): void {
    const s = leaf.contract.start;
    const d = this.descend(s);
    if (!d || d.leaf.leaf.contract.start !== s)
      throw new TreeError('NOT_FOUND', `no contract starts at ${s}`);
    if (leaf.contract.end > d.leaf.leaf.contract.end) {
      const next = this.lookup(d.leaf.leaf.contract.end);
      const limit = next.kind === 'gap' ? next.end : next.leaf.contract.start;
      if (leaf.contract.end > limit)
        throw new TreeError('OVERLAP', 'the longer interval overlaps the next contract');
    }
    this.rebuild(d.stack, s, new LeafNode(leaf));
  }

  remove(start: bigint): Leaf {
    const d = this.descend(start);
    if (!d || d.leaf.leaf.contract.start !== start)
      throw new TreeError('NOT_FOUND', `no contract starts at ${start}`);
    this.count--;
    const parent = d.stack.pop();
    if (!parent) {
      this.top = null;
      return d.leaf.leaf;
    }
    const sibling = parent.left === d.leaf ? parent.right : parent.left;
    this.rebuild(d.stack, start, sibling);
    return d.leaf.leaf;
  }

  /** A copy in O(1): nodes are shared and never changed in place, so either tree can change on its own. */
  clone(): ProbabilityTree {
    const t = new ProbabilityTree();
    t.top = this.top;
    t.count = this.count;
    return t;
  }

  /** Start of the leaf reached by following the key's bits (what a version 2 validator descends to), if any. */
  reach(key: bigint): bigint | undefined {
    return this.descend(key)?.leaf.leaf.contract.start;
  }

  /**
   * The block multiproof (docs/protocol.md §14) of this tree that reveals the leaves starting at `starts`: every
   * node above one of them is expanded, every other subtree is a stub. Starts that are not leaves are skipped.
   */
  multiproof(starts: Iterable<bigint>): MultiproofParts {
    const open = new Set<TreeNode>();
    for (const k of starts) {
      const d = this.descend(k);
      if (!d || d.leaf.leaf.contract.start !== k) continue;
      open.add(d.leaf);
      for (const n of d.stack) open.add(n);
    }
    const w = new MultiproofWriter();
    if (this.top) {
      const todo: TreeNode[] = [this.top];
      while (todo.length) {
        const n = todo.pop()!;
        if (!open.has(n)) w.stub(digestOf(n), n.min, n.max);
        else if (n instanceof LeafNode) w.leaf(n.leaf);
        else {
          w.inner(n.crit);
          todo.push(n.right, n.left);
        }
      }
    }
    return w.finish();
  }

  private pathBy(choose: (n: InnerNode) => boolean): Path {
    const steps: number[] = [];
    const siblings: Uint8Array[] = [];
    const siblingMin: bigint[] = [];
    const siblingMax: bigint[] = [];
    let n = this.top;
    if (!n) return { steps: new Uint8Array(0), siblings, siblingMin, siblingMax, leaf: null };
    while (n instanceof InnerNode) {
      const right = choose(n);
      const sib = right ? n.left : n.right;
      steps.push(pathStep(n.crit, right));
      siblings.push(digestOf(sib));
      siblingMin.push(sib.min);
      siblingMax.push(sib.max);
      n = right ? n.right : n.left;
    }
    return { steps: Uint8Array.from(steps), siblings, siblingMin, siblingMax, leaf: n.leaf };
  }

  /** Path following the key's bits: a membership path for an existing start, the insertion path for a new one. */
  keyPath(key: bigint): Path {
    return this.pathBy((n) => bitAt(key, n.crit) === 1);
  }

  /** Path to the contract containing the point, or to a contract bounding the free gap around it. */
  lookupPath(point: bigint): Path {
    return this.pathBy((n) => point >= n.right.min);
  }

  /** Membership path of the contract starting at `start`. */
  memberPath(start: bigint): Path {
    const p = this.keyPath(start);
    if (!p.leaf || p.leaf.contract.start !== start)
      throw new TreeError('NOT_FOUND', `no contract starts at ${start}`);
    return p;
  }
}
