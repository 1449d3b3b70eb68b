/**
 * Watched contracts: a holder's membership path kept current from the transactions of each accepted block, so
 * that the holder never has to ask the operator for a fresh proof (docs/protocol.md §13). Pure: no I/O.
 *
 * Every transaction carries the path of the leaf it touches against the state before it. A watched path and a
 * transaction's path are paths in one tree, so they share the nodes from the root down to the level where they
 * part; below that level each lies in a subtree the other does not enter. A change along the transaction's path
 * therefore reaches the watched path only through its sibling at the parting level, which becomes the changed
 * subtree's new summary, except when the change adds or deletes the node at the parting level itself: an insert
 * whose new inner node sits on the watched path adds a level to it, a removal whose deleted parent sits there
 * deletes one.
 */
import { CodedError } from '../codec/errors.js';
import type { Leaf } from '../tree/contract.js';
import { makeLeaf } from '../tree/contract.js';
import { bitAt, critBit, EMPTY_ROOT, nodeDigest, STEP_CRIT_MASK, STEP_RIGHT } from '../tree/node.js';
import type { Path } from '../tree/path.js';
import type { Summary } from '../tree/verify.js';
import type { Tx } from '../chain/tx.js';

export type WatchStatus = 'current' | 'superseded' | 'closed';

/** The owner operation that superseded or closed a watched contract. */
export type WatchOp = 'transfer' | 'split' | 'openChild' | 'close';

/** What ended a watch: the transaction (its index in the block) and the operation. */
export interface WatchEnd {
  readonly status: 'superseded' | 'closed';
  readonly txIndex: number;
  readonly op: WatchOp;
}

/** Raised when a transaction's path and a watched path cannot be paths of one tree (a broken precondition). */
export class WatchError extends CodedError<'WATCH_INCONSISTENT'> {
  override readonly name = 'WatchError';
  constructor(message: string, options?: ErrorOptions) {
    super('WATCH_INCONSISTENT', message, options);
  }
}

function leafSummary(leaf: Leaf): Summary {
  return { digest: leaf.digest, min: leaf.contract.start, max: leaf.contract.end };
}

/** The inner node over two ordered subtrees. Inputs come from validated transactions: no rule is re-checked. */
function node(crit: number, left: Summary, right: Summary): Summary {
  return {
    digest: nodeDigest(crit, left.min, left.max, right.min, right.max, left.digest, right.digest),
    min: left.min,
    max: right.max,
  };
}

/** The node at level `i` of `path`, given the summary of the child the path continues into. */
function up(path: Path, i: number, below: Summary): Summary {
  const step = path.steps[i];
  const sib: Summary = { digest: path.siblings[i], min: path.siblingMin[i], max: path.siblingMax[i] };
  return (step & STEP_RIGHT) !== 0
    ? node(step & STEP_CRIT_MASK, sib, below)
    : node(step & STEP_CRIT_MASK, below, sib);
}

/**
 * A membership path kept current in place. Levels are root first, as in a `Path`; siblings are summaries, so one
 * transaction's new subtree summary is shared by every watch that parts from it at the same level.
 */
export class WatchedPath {
  status: WatchStatus = 'current';
  end: WatchEnd | null = null;

  private constructor(
    private readonly steps: number[],
    private readonly siblings: Summary[],
    private current: Leaf,
  ) {}

  /** Starts from a membership path (checked against a root by the caller). */
  static from(path: Path): WatchedPath {
    if (!path.leaf) throw new WatchError('a watched path must end in a contract');
    const sibs: Summary[] = path.siblings.map((digest, i) => ({
      digest,
      min: path.siblingMin[i],
      max: path.siblingMax[i],
    }));
    return new WatchedPath(Array.from(path.steps), sibs, path.leaf);
  }

  get start(): bigint {
    return this.current.contract.start;
  }

  get leaf(): Leaf {
    return this.current;
  }

  get depth(): number {
    return this.steps.length;
  }

  toPath(): Path {
    return {
      steps: Uint8Array.from(this.steps),
      siblings: this.siblings.map((s) => s.digest),
      siblingMin: this.siblings.map((s) => s.min),
      siblingMax: this.siblings.map((s) => s.max),
      leaf: this.current,
    };
  }

  /**
   * The first level where this path and `p` take different ways; at least `limit` when they agree that far.
   * Levels above it are shared nodes, so both the crit bit and the way agree there; at the parting level the node
   * is still shared, so only the way may differ.
   */
  private partsAt(p: Path, limit: number): number {
    const n = Math.min(limit, this.steps.length, p.steps.length);
    let i = 0;
    while (i < n && this.steps[i] === p.steps[i]) i++;
    if (i < n && (this.steps[i] & STEP_CRIT_MASK) !== (p.steps[i] & STEP_CRIT_MASK))
      throw new WatchError(`paths disagree on the node at level ${i}`);
    return i;
  }

  /** The leaf of `p` was replaced; `after[k]` is the summary of the node at depth k of `p` afterwards. */
  replaced(p: Path, after: readonly Summary[]): void {
    const j = this.partsAt(p, Infinity);
    if (j >= this.steps.length || j >= p.steps.length)
      throw new WatchError('two different leaves on one path');
    this.siblings[j] = after[j + 1];
  }

  /** The leaf of `p` was removed; `after` as for `replaced` (depth n-1 holds the sibling that moved up). */
  removed(p: Path, after: readonly Summary[]): void {
    const n = p.steps.length;
    const j = this.partsAt(p, Infinity);
    if (j >= this.steps.length || j >= n) throw new WatchError('two different leaves on one path');
    if (j === n - 1) {
      // This path runs through the removed leaf's sibling, which takes its parent's place: that level goes.
      this.steps.splice(j, 1);
      this.siblings.splice(j, 1);
    } else this.siblings[j] = after[j + 1];
  }

  /**
   * A leaf was inserted with the insertion path `p`: a new inner node with crit bit `d` took the place of the
   * subtree at depth `k` of `p`. A path through that subtree gains the new node as a level, with the new leaf as
   * its sibling; a path that parted from `p` above it gets the new summary of `p`'s side.
   */
  inserted(p: Path, k: number, d: number, fresh: Leaf, after: readonly Summary[]): void {
    const j = this.partsAt(p, k);
    if (j >= k) {
      const right = bitAt(fresh.contract.start, d) === 0;
      this.steps.splice(k, 0, d | (right ? STEP_RIGHT : 0));
      this.siblings.splice(k, 0, leafSummary(fresh));
    } else if (j >= this.steps.length) throw new WatchError('a leaf above the insertion point');
    else this.siblings[j] = after[j + 1];
  }

  /** The watched leaf itself got new contents that leave it the holder's (a child root commit). */
  refreshed(leaf: Leaf): void {
    this.current = leaf;
  }

  finish(end: WatchEnd): void {
    this.status = end.status;
    this.end = end;
  }
}

/** Summaries of every node on `p` after its leaf became `bottom` (index = depth; depth n is the leaf). */
function climbAll(p: Path, bottom: Summary, from: number): Summary[] {
  const out: Summary[] = new Array<Summary>(from + 1);
  out[from] = bottom;
  for (let i = from - 1; i >= 0; i--) out[i] = up(p, i, out[i + 1]);
  return out;
}

/** Watches of one chain, indexed by contract start (one watch per contract). */
export type WatchSet = ReadonlyMap<bigint, WatchedPath>;

function replaceLeaf(watches: WatchSet, p: Path, next: Leaf, own: (w: WatchedPath) => void): void {
  const old = p.leaf!;
  const after = climbAll(p, leafSummary(next), p.steps.length);
  for (const w of watches.values()) {
    if (w.status !== 'current') continue;
    if (w.start === old.contract.start) own(w);
    else w.replaced(p, after);
  }
}

function removeLeaf(watches: WatchSet, p: Path, own: (w: WatchedPath) => void): void {
  const n = p.steps.length;
  const start = p.leaf!.contract.start;
  const after =
    n === 0
      ? []
      : climbAll(p, { digest: p.siblings[n - 1], min: p.siblingMin[n - 1], max: p.siblingMax[n - 1] }, n - 1);
  for (const w of watches.values()) {
    if (w.status !== 'current') continue;
    if (w.start === start) own(w);
    else w.removed(p, after);
  }
}

function insertLeaf(watches: WatchSet, p: Path, fresh: Leaf): void {
  const near = p.leaf;
  // Inserting into the empty tree: nothing can be watched there.
  if (!near) return;
  const s = fresh.contract.start;
  const d = critBit(s, near.contract.start);
  const n = p.steps.length;
  let k = 0;
  while (k < n && (p.steps[k] & STEP_CRIT_MASK) < d) k++;
  let x = leafSummary(near);
  for (let i = n - 1; i >= k; i--) x = up(p, i, x);
  const joined = bitAt(s, d) === 1 ? node(d, x, leafSummary(fresh)) : node(d, leafSummary(fresh), x);
  const after = climbAll(p, joined, k);
  for (const w of watches.values()) if (w.status === 'current') w.inserted(p, k, d, fresh, after);
}

/**
 * Applies one transaction of an accepted block (already validated, so its paths match the state before it) to
 * the chain's watches. Returns the watches it superseded or closed.
 */
export function followTx(watches: WatchSet, tx: Tx, txIndex: number): WatchedPath[] {
  const ended: WatchedPath[] = [];
  if (watches.size === 0) return ended;
  const finish = (op: WatchOp) => (w: WatchedPath) => {
    w.finish({ status: op === 'close' ? 'closed' : 'superseded', txIndex, op });
    ended.push(w);
  };
  if (tx.kind === 'create') {
    insertLeaf(watches, tx.path, tx.leaf);
    return ended;
  }
  const old = tx.path.leaf!;
  const c = old.contract;
  if (tx.kind === 'childRoot') {
    // The same leaf contents transition.ts builds: the committed child height and root change, nothing else.
    const h = tx.child.header;
    const next = makeLeaf({ ...c, child: { ...c.child!, height: h.height, root: h.stateRoot } });
    replaceLeaf(watches, tx.path, next, (w) => w.refreshed(next));
    return ended;
  }
  const { nonce, op } = tx.signed.action;
  switch (op.kind) {
    case 'transfer':
      replaceLeaf(
        watches,
        tx.path,
        makeLeaf({ ...c, owner: op.newOwner, terms: op.terms, nonce }),
        finish('transfer'),
      );
      break;
    case 'openChild': {
      const g = tx.childGenesis!;
      const link = { chain: g.chainId, operator: g.genesis.operatorKey, height: 0, root: EMPTY_ROOT };
      replaceLeaf(watches, tx.path, makeLeaf({ ...c, nonce, child: link }), finish('openChild'));
      break;
    }
    case 'close':
      removeLeaf(watches, tx.path, finish('close'));
      break;
    case 'split': {
      replaceLeaf(watches, tx.path, makeLeaf({ ...c, end: op.at, nonce }), finish('split'));
      const right = makeLeaf({ start: op.at, end: c.end, owner: op.rightOwner, terms: op.rightTerms, nonce });
      insertLeaf(watches, tx.insertPath!, right);
      break;
    }
  }
  return ended;
}

/** Applies a block's transactions in order; returns the watches they superseded or closed. */
export function followBlock(watches: WatchSet, txs: readonly Tx[]): WatchedPath[] {
  const ended: WatchedPath[] = [];
  txs.forEach((tx, i) => ended.push(...followTx(watches, tx, i)));
  return ended;
}
