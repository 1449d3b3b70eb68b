/**
 * Block production for an operator: keeps the full tree, turns requests into transactions with the paths each
 * one needs, checks every transaction with the same stateless transition validators run, and seals blocks.
 * Pure: persistence and networking belong to the operator runtime.
 */
import { taggedHash } from '../crypto/hash.js';
import { sign } from '../crypto/keys.js';
import { makeLeaf, type Contract } from '../tree/contract.js';
import { EMPTY_ROOT } from '../tree/node.js';
import { encodeMultiproof } from '../tree/multiproof.js';
import { ProbabilityTree } from '../tree/tree.js';
import type { Summary } from '../tree/verify.js';
import { encodeBlock, type Block, type BlockVersion } from './block.js';
import { ChainError } from './errors.js';
import { isAnchor, type GenesisRecord } from './genesis.js';
import { signHeader, type SignedHeader } from './header.js';
import { beaconOf, genesisState, type ChainState } from './state.js';
import { applyTx } from './transition.js';
import { encodeTx, encodeTxV2, type SignedAction, type Tx, type TxV2 } from './tx.js';
import { txRoot } from './txroot.js';
import { bytesEqual } from '../codec/canonical.js';

export interface NewContract {
  readonly start: bigint;
  readonly end: bigint;
  readonly owner: Uint8Array;
  readonly terms?: Uint8Array;
}

export interface ProducerOptions {
  /** Block version to write (docs/protocol.md §14); 2 unless set (operators write nothing else). */
  readonly version?: BlockVersion;
}

export interface SealedBlock {
  readonly block: Block;
  readonly state: ChainState;
}

export class ChainProducer {
  readonly tree: ProbabilityTree;
  private head: ChainState;
  private pending: Uint8Array[] = [];
  private summary: Summary;
  readonly version: BlockVersion;
  /** Version 2: the tree before the pending transactions, and the starts of the leaves their descents reach. */
  private base: ProbabilityTree | null = null;
  private readonly reached = new Set<bigint>();
  private bytesBound = 0;

  constructor(
    readonly genesis: GenesisRecord,
    private readonly secretKey: Uint8Array,
    restore?: { tree: ProbabilityTree; state: ChainState },
    options: ProducerOptions = {},
  ) {
    this.version = options.version ?? 2;
    this.tree = restore?.tree ?? new ProbabilityTree();
    this.head = restore?.state ?? genesisState(genesis);
    this.summary = this.tree.summary();
    if (!bytesEqual(this.summary.digest, this.head.stateRoot)) {
      throw new Error('restored tree does not match the restored head state root');
    }
  }

  get state(): ChainState {
    return this.head;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * At least the bytes the pending transactions add to the sealed block (with their repeated-field overhead), and
   * in version 2 their share of the multiproof: never more than the paths a version 1 block would carry, since the
   * multiproof is their union and spends on a level what a path does (one byte, a 32-byte digest, two bounds).
   */
  get pendingBytes(): number {
    return this.bytesBound;
  }

  /** Root after the pending transactions. */
  get pendingSummary(): Summary {
    return this.summary;
  }

  /**
   * Checks a transaction statelessly, then applies `mutate` to the tree and insists both agree. `reach`: the keys
   * a version 2 validator descends by for it, each taken in the tree as it is when that descent happens.
   */
  private admit(tx: Tx, mutate: () => void, reach: readonly (bigint | undefined)[]): Uint8Array {
    const next = applyTx(this.genesis, this.summary, tx);
    this.base ??= this.tree.clone();
    mutate();
    if (!bytesEqual(this.tree.root, next.digest))
      throw new Error('internal: tree and stateless transition disagree');
    const bytes = this.version === 2 ? encodeTxV2(toV2(tx)) : encodeTx(tx);
    for (const k of reach) if (k !== undefined) this.reached.add(k);
    this.bytesBound += bytes.length + 8;
    if (this.version === 2) {
      const paths = tx.kind === 'owner' && tx.insertPath ? [tx.path, tx.insertPath] : [tx.path];
      for (const p of paths) this.bytesBound += p.steps.length * 52 + (p.leaf?.bytes.length ?? 0) + 16;
    }
    this.pending.push(bytes);
    this.summary = next;
    return bytes;
  }

  /** Sells unallocated space. Throws ChainError (OVERLAP, OUT_OF_SPACE, ...) and changes nothing on failure. */
  create(c: NewContract): Uint8Array {
    const leaf = guard(() =>
      makeLeaf({ start: c.start, end: c.end, owner: c.owner, nonce: 0, terms: c.terms ?? new Uint8Array(0) }),
    );
    return this.admit(
      { kind: 'create', leaf, path: this.tree.keyPath(c.start) },
      () => this.tree.insert(leaf),
      [this.tree.reach(c.start)],
    );
  }

  /** Applies an action signed by a contract's owner (transfer, split, close, open child). */
  owner(signed: SignedAction, start: bigint, childGenesis?: GenesisRecord): Uint8Array {
    const old = this.tree.get(start) ?? fail('NOT_FOUND', `no contract starts at ${start}`);
    const path = this.tree.memberPath(start);
    const op = signed.action.op;
    const c: Contract = old.contract;
    const nonce = signed.action.nonce;
    const base = {
      kind: 'owner' as const,
      signed,
      path,
      insertPath: null,
      childGenesis: childGenesis ?? null,
    };
    switch (op.kind) {
      case 'transfer': {
        const next = guard(() => makeLeaf({ ...c, owner: op.newOwner, terms: op.terms, nonce }));
        return this.admit(base, () => this.tree.replace(next), [start]);
      }
      case 'close':
        return this.admit(base, () => this.tree.remove(start), [start]);
      case 'openChild': {
        if (!childGenesis) fail('BAD_GENESIS', 'opening a child chain needs its genesis record');
        const link = {
          chain: childGenesis.chainId,
          operator: childGenesis.genesis.operatorKey,
          height: 0,
          root: EMPTY_ROOT,
        };
        const next = guard(() => makeLeaf({ ...c, nonce, child: link }));
        return this.admit(base, () => this.tree.replace(next), [start]);
      }
      case 'split': {
        if (op.at <= c.start || op.at >= c.end)
          fail('SPLIT_OUT_OF_RANGE', `split point ${op.at} not inside the contract`);
        if (c.child) fail('CONTRACT_IS_CHAIN', 'a contract holding a chain cannot be split');
        const left = guard(() => makeLeaf({ ...c, end: op.at, nonce }));
        const right = guard(() =>
          makeLeaf({ start: op.at, end: c.end, owner: op.rightOwner, terms: op.rightTerms, nonce }),
        );
        // The right half's insertion path is taken against the tree in which the left half has already shrunk.
        this.tree.replace(left);
        let insertPath;
        try {
          insertPath = this.tree.keyPath(op.at);
        } finally {
          this.tree.replace(old);
        }
        // Shrinking the left half changes no node's place, so the split point's descent is the same before it.
        return this.admit(
          { ...base, insertPath },
          () => {
            this.tree.replace(left);
            this.tree.insert(right);
          },
          [start, this.tree.reach(op.at)],
        );
      }
    }
  }

  /** Commits a child chain's signed header into the contract that holds the child chain. */
  childRoot(child: SignedHeader, contractStart: bigint): Uint8Array {
    const old = this.tree.get(contractStart) ?? fail('NOT_FOUND', `no contract starts at ${contractStart}`);
    const tx: Tx = { kind: 'childRoot', child, path: this.tree.memberPath(contractStart) };
    const link = old.contract.child;
    return this.admit(tx, () => {
      if (!link) return;
      this.tree.replace(
        makeLeaf({
          ...old.contract,
          child: { ...link, height: child.header.height, root: child.header.stateRoot },
        }),
      );
    }, [contractStart]);
  }

  /** Signs a block over the pending transactions and makes it the head. */
  seal(timeMs: number): SealedBlock {
    const prev = this.head;
    const anchor = isAnchor(this.genesis.genesis);
    const beaconSig = anchor ? sign(this.secretKey, taggedHash('beaconSig', prev.beacon)) : new Uint8Array(0);
    const txs = this.pending;
    const proof =
      this.version === 2 ? encodeMultiproof((this.base ?? this.tree).multiproof(this.reached)) : null;
    const signed = signHeader(
      {
        chainId: this.genesis.chainId,
        height: prev.height + 1,
        prevHash: prev.headHash,
        stateRoot: this.summary.digest,
        stateMin: this.summary.min,
        stateMax: this.summary.max,
        txRoot: txRoot(txs, proof),
        txCount: txs.length,
        timeMs: Math.max(timeMs, prev.timeMs),
        beaconSig,
      },
      this.secretKey,
    );
    const bytes = encodeBlock(signed, txs, proof);
    this.head = {
      genesis: this.genesis,
      height: signed.header.height,
      headHash: signed.hash,
      stateRoot: this.summary.digest,
      stateMin: this.summary.min,
      stateMax: this.summary.max,
      timeMs: signed.header.timeMs,
      beacon: anchor ? beaconOf(beaconSig) : prev.beacon,
    };
    this.pending = [];
    this.bytesBound = 0;
    this.base = null;
    this.reached.clear();
    return { block: { signed, txs, bytes, version: this.version, proof }, state: this.head };
  }
}

function fail(code: ConstructorParameters<typeof ChainError>[0], msg: string): never {
  throw new ChainError(code, msg);
}

/** The version 2 form of a transaction the producer built with its paths. */
function toV2(tx: Tx): TxV2 {
  if (tx.kind === 'create') return { kind: 'create', leaf: tx.leaf };
  const start = tx.path.leaf!.contract.start;
  if (tx.kind === 'childRoot') return { kind: 'childRoot', child: tx.child, start };
  return { kind: 'owner', signed: tx.signed, start, childGenesis: tx.childGenesis };
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw ChainError.from(e);
  }
}
