/**
 * The state transition, one transaction at a time. Version 1: holding nothing but the current root, each
 * transaction carries the paths it needs against the state left by the one before it. Version 2: the block's
 * multiproof, checked once, is the tree the transactions act on (docs/protocol.md §14). The operator runs the same function
 * before it signs, so it can never publish what validators would reject.
 */
import { bytesEqual } from '../codec/canonical.js';
import { verify } from '../crypto/keys.js';
import { makeLeaf, type Contract, type Leaf } from '../tree/contract.js';
import { EMPTY_ROOT } from '../tree/node.js';
import { PartialTree, type PartialState } from '../tree/multiproof.js';
import type { Path } from '../tree/path.js';
import { verifyInsert, verifyRemove, verifyReplace, type Summary } from '../tree/verify.js';
import { ChainError } from './errors.js';
import type { GenesisRecord } from './genesis.js';
import type { SignedHeader } from './header.js';
import { actionHash, type SignedAction, type Tx, type TxV2 } from './tx.js';

function fail(code: ConstructorParameters<typeof ChainError>[0], msg: string): never {
  throw new ChainError(code, msg);
}

function inSpace(g: GenesisRecord, c: Contract): boolean {
  return g.genesis.spaceStart <= c.start && c.end <= g.genesis.spaceEnd;
}

function requireLeaf(leaf: Leaf | null): Leaf {
  return leaf ?? fail('NOT_FOUND', 'the path ends in the empty tree');
}

/** An owner action must be signed by the contract's current owner. Throws BAD_OWNER_SIGNATURE. */
export function checkOwnerSignature(owner: Uint8Array, signed: SignedAction): void {
  if (!verify(owner, actionHash(signed.bytes), signed.signature))
    fail('BAD_OWNER_SIGNATURE', 'not signed by the owner');
}

/** A committed child header must be signed by the child chain's operator. Throws CHILD_BAD_SIGNATURE. */
export function checkChildSignature(operator: Uint8Array, child: SignedHeader): void {
  if (!verify(operator, child.hash, child.signature))
    fail('CHILD_BAD_SIGNATURE', "child header is not signed by the child's operator");
}

/**
 * How a transaction reaches the tree: through its own paths (version 1) or through the block's partial tree
 * (version 2). The checks of `apply` are the same for both, in the same order, so a transaction gets one verdict
 * whichever way it is carried.
 */
interface TreeAccess {
  /** The contract an owner or child-root transaction acts on; NOT_FOUND if there is none. */
  acted(): Leaf;
  /** Version 1 only: an insert path belongs to splits alone. */
  checkSplitProof(isSplit: boolean): void;
  create(leaf: Leaf): void;
  replace(leaf: Leaf): void;
  remove(): void;
  /** The right half of a split, after `replace` shrank the left half. */
  splitInsert(leaf: Leaf): void;
}

/** What both versions' transactions carry besides the tree access. */
type TxBody =
  | { readonly kind: 'create'; readonly leaf: Leaf }
  | { readonly kind: 'owner'; readonly signed: SignedAction; readonly childGenesis: GenesisRecord | null }
  | { readonly kind: 'childRoot'; readonly child: SignedHeader };

/** Applies one decoded version 1 transaction to the state summary `cur` of the chain `g`; throws ChainError. */
export function applyTx(g: GenesisRecord, cur: Summary, tx: Tx): Summary {
  let next = cur;
  const access: TreeAccess = {
    acted: () => requireLeaf(tx.path.leaf),
    checkSplitProof: (isSplit) => {
      if (tx.kind === 'owner' && isSplit !== (tx.insertPath !== null))
        fail('PROOF_INVALID', 'an insert path belongs to splits only');
    },
    create: (leaf) => (next = verifyInsert(next.digest, tx.path, leaf)),
    replace: (leaf) => (next = verifyReplace(next.digest, tx.path, leaf)),
    remove: () => (next = verifyRemove(next.digest, tx.path)),
    splitInsert: (leaf) => (next = verifyInsert(next.digest, (tx as { insertPath: Path }).insertPath, leaf)),
  };
  try {
    apply(g, tx, access);
  } catch (e) {
    throw ChainError.from(e);
  }
  return next;
}

export function lazy<T>(f: () => T): () => T {
  let v: { value: T } | null = null;
  return () => (v ??= { value: f() }).value;
}

/** A transaction's version 1 paths, built when first read. */
export interface PathReaders {
  path(): Path;
  insertPath(): Path | null;
}

/** How a version 2 transaction reaches the partial tree: one object per transaction, not a closure per operation. */
class PartialAccess implements TreeAccess {
  /** The tree after a split shrank its left half: where the right half's insert path is read. */
  mid: PartialState = null;
  constructor(
    private readonly tree: PartialTree,
    private readonly start: bigint,
  ) {}
  acted(): Leaf {
    return this.tree.get(this.start) ?? fail('NOT_FOUND', `no contract starts at ${this.start}`);
  }
  checkSplitProof(): void {}
  create(leaf: Leaf): void {
    this.tree.insert(leaf);
  }
  replace(leaf: Leaf): void {
    this.tree.replace(leaf);
  }
  remove(): void {
    this.tree.remove(this.start);
  }
  splitInsert(leaf: Leaf): void {
    this.mid = this.tree.state;
    this.tree.insert(leaf);
  }
}

/** The paths of one version 2 transaction, read from the partial tree's states around it when asked for. */
class PartialPaths implements PathReaders {
  #path: Path | undefined;
  #insertPath: Path | null | undefined;
  constructor(
    private readonly before: PartialState,
    private readonly start: bigint,
    private readonly mid: PartialState,
    private readonly at: bigint | null,
  ) {}
  path(): Path {
    return (this.#path ??= PartialTree.pathAt(this.before, this.start));
  }
  insertPath(): Path | null {
    if (this.#insertPath === undefined)
      this.#insertPath = this.at === null ? null : PartialTree.pathAt(this.mid, this.at);
    return this.#insertPath;
  }
}

/**
 * Applies one version 2 transaction to the block's partial tree; throws ChainError. Returns readers of the paths a
 * version 1 transaction would carry, against the state before it (and, for a split's insert path, after the
 * shrink); they hold those states, so a caller that only judges drops them at once.
 */
export function applyTxV2(g: GenesisRecord, tree: PartialTree, tx: TxV2, signatures = true): PathReaders {
  const before = tree.state;
  const start = tx.kind === 'create' ? tx.leaf.contract.start : tx.start;
  const access = new PartialAccess(tree, start);
  try {
    apply(g, tx, access, signatures);
  } catch (e) {
    throw ChainError.from(e);
  }
  const op = tx.kind === 'owner' ? tx.signed.action.op : null;
  return new PartialPaths(before, start, access.mid, op?.kind === 'split' ? op.at : null);
}

/*
 * The version 1 form of a version 2 transaction: classes with the path getters on their prototype. Object literals
 * with getters closing over `paths` gave every transaction a hidden class of its own; those maps live in old space
 * and pointed at young closures, so every scavenge kept a block's garbage alive and took 16-20 ms (measured: 43 KB
 * promoted per judged 16-transaction block, against none).
 */
abstract class WithPaths {
  readonly #paths: PathReaders;
  constructor(paths: PathReaders) {
    this.#paths = paths;
  }
  get path(): Path {
    return this.#paths.path();
  }
  protected readInsertPath(): Path | null {
    return this.#paths.insertPath();
  }
}

class CreateWithPaths extends WithPaths {
  readonly kind = 'create';
  constructor(
    readonly leaf: Leaf,
    paths: PathReaders,
  ) {
    super(paths);
  }
}

class ChildRootWithPaths extends WithPaths {
  readonly kind = 'childRoot';
  constructor(
    readonly child: SignedHeader,
    paths: PathReaders,
  ) {
    super(paths);
  }
}

class OwnerWithPaths extends WithPaths {
  readonly kind = 'owner';
  constructor(
    readonly signed: SignedAction,
    readonly childGenesis: GenesisRecord | null,
    paths: PathReaders,
  ) {
    super(paths);
  }
  get insertPath(): Path | null {
    return this.readInsertPath();
  }
}

/** A version 2 transaction in version 1 form, its paths read through `paths` when asked for. */
export function withPaths(tx: TxV2, paths: PathReaders): Tx {
  if (tx.kind === 'create') return new CreateWithPaths(tx.leaf, paths);
  if (tx.kind === 'childRoot') return new ChildRootWithPaths(tx.child, paths);
  return new OwnerWithPaths(tx.signed, tx.childGenesis, paths);
}

/** `signatures` false: everything but the signature checks (a stored block's replay, the signatures-only bench). */
function apply(g: GenesisRecord, tx: TxBody, tree: TreeAccess, signatures = true): void {
  if (tx.kind === 'create') {
    const c = tx.leaf.contract;
    if (!inSpace(g, c)) fail('OUT_OF_SPACE', `[${c.start}, ${c.end}) is outside the chain's space`);
    if (c.nonce !== 0 || c.child)
      fail('BAD_CONTRACT', 'a new contract starts at nonce 0 without a child chain');
    return tree.create(tx.leaf);
  }

  if (tx.kind === 'childRoot') {
    const old = tree.acted();
    const link = old.contract.child ?? fail('NOT_A_CHAIN', 'the contract has no child chain');
    const h = tx.child.header;
    if (!bytesEqual(h.chainId, link.chain)) fail('CHILD_WRONG_CHAIN', 'child header names another chain');
    if (signatures) checkChildSignature(link.operator, tx.child);
    if (h.height <= link.height)
      fail('CHILD_HEIGHT_NOT_INCREASING', `child height ${h.height} <= ${link.height}`);
    const empty = bytesEqual(h.stateRoot, EMPTY_ROOT);
    if (!empty && (h.stateMin < old.contract.start || h.stateMax > old.contract.end)) {
      fail('CHILD_OUT_OF_BOUNDS', "child root's bounds leave the contract's interval");
    }
    return tree.replace(
      makeLeaf({ ...old.contract, child: { ...link, height: h.height, root: h.stateRoot } }),
    );
  }

  const { action } = tx.signed;
  const old = tree.acted();
  const c = old.contract;
  if (!bytesEqual(action.chainId, g.chainId)) fail('WRONG_CHAIN', 'the action was signed for another chain');
  if (action.nonce !== c.nonce + 1) fail('STALE_NONCE', `nonce ${action.nonce}, expected ${c.nonce + 1}`);
  if (!bytesEqual(action.contractHash, old.digest))
    fail('WRONG_CONTRACT', 'the action names another contract state');
  if (signatures) checkOwnerSignature(c.owner, tx.signed);
  const op = action.op;
  tree.checkSplitProof(op.kind === 'split');
  if ((op.kind === 'openChild') !== (tx.childGenesis !== null))
    fail('BAD_GENESIS', 'a genesis belongs to open-child only');
  const nonce = action.nonce;

  switch (op.kind) {
    case 'transfer':
      return tree.replace(makeLeaf({ ...c, owner: op.newOwner, terms: op.terms, nonce }));
    case 'close':
      if (c.child) fail('CONTRACT_IS_CHAIN', 'a contract holding a chain cannot be closed');
      return tree.remove();
    case 'split': {
      if (c.child) fail('CONTRACT_IS_CHAIN', 'a contract holding a chain cannot be split');
      if (op.at <= c.start || op.at >= c.end)
        fail('SPLIT_OUT_OF_RANGE', `split point ${op.at} not inside the contract`);
      tree.replace(makeLeaf({ ...c, end: op.at, nonce }));
      const right = makeLeaf({ start: op.at, end: c.end, owner: op.rightOwner, terms: op.rightTerms, nonce });
      return tree.splitInsert(right);
    }
    case 'openChild': {
      if (c.child) fail('CONTRACT_IS_CHAIN', 'the contract already holds a chain');
      const child = tx.childGenesis!;
      const cg = child.genesis;
      if (!bytesEqual(child.chainId, op.chainId))
        fail('BAD_GENESIS', 'genesis does not hash to the named chain id');
      if (!bytesEqual(cg.parentChain, g.chainId) || cg.parentContract !== c.start) {
        fail('BAD_GENESIS', 'child genesis names another parent');
      }
      if (cg.spaceStart !== c.start || cg.spaceEnd !== c.end)
        fail('BAD_GENESIS', "child space is not the contract's interval");
      const link = { chain: child.chainId, operator: cg.operatorKey, height: 0, root: EMPTY_ROOT };
      return tree.replace(makeLeaf({ ...c, nonce, child: link }));
    }
  }
}
