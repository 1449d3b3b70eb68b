/**
 * The operator service: runs one chain. It turns requests (sales, owner actions, child-root commits) into
 * transactions with the core producer, makes each durable in the request log before acknowledging it, seals a
 * block every `blockIntervalMs` or as soon as `maxPending` transactions wait, writes the block and everything it
 * changes in one atomic batch, and only then publishes it and tells listeners (the upstream submitter).
 *
 * Views: the producer's tree is the *current* state (including acknowledged, unsealed requests: what an owner's
 * next action must name); a second tree follows the *committed* state of the head block, so that membership
 * proofs always verify against a signed header. Both trees share their leaves.
 *
 * Ordering guarantees:
 * - requests are applied to the producer synchronously and enter the log in that order (group commit: one fsync
 *   for every request that arrived while the previous write was in flight);
 * - a block is written only after the log entries it carries are durable, and published only after it is written,
 *   so a crash can never make the operator sign two blocks at one height;
 * - on restart the tree is rebuilt from the stored contracts, checked against the head's state root, and the log
 *   is replayed in order: acknowledged requests come back exactly as they were.
 */
import { CodedError } from '../codec/errors.js';
import type { Registry } from 'prom-client';
import { bytesEqual } from '../codec/canonical.js';
import { LIMITS } from '../codec/limits.js';
import { toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import type { Block } from '../chain/block.js';
import { ChainError } from '../chain/errors.js';
import { isAnchor, type GenesisRecord } from '../chain/genesis.js';
import type { SignedHeader } from '../chain/header.js';
import { ChainProducer } from '../chain/producer.js';
import { genesisState, stateAfter, type ChainState } from '../chain/state.js';
import { txHash } from '../chain/txroot.js';
import { EMPTY_ROOT } from '../tree/node.js';
import type { Leaf } from '../tree/contract.js';
import { ProbabilityTree } from '../tree/tree.js';
import { checkPath } from '../tree/verify.js';
import type { Path } from '../tree/path.js';
import type { Logger } from '../runtime/logger.js';
import { alternativeBlock, invalidBlock, type Fault } from './faults.js';
import { treeAt } from './history.js';
import { contractJson, encodePath } from './json.js';
import { operatorMetrics, type OperatorMetrics } from './metrics.js';
import { decodeRequest, encodeRequest, type OperatorRequest } from './requests.js';
import type { AuxWrite, LogEntry, OperatorStore, StoredChild } from './store.js';
import type {
  AuthorisationJson,
  BlockSink,
  ChainInfo,
  ContractJson,
  ContractView,
  SubmitResult,
  UpstreamStatus,
} from './types.js';

export type OperatorErrorCode =
  'UNKNOWN_CHAIN' | 'NOT_RUNNING' | 'STORE_FAILED' | 'STORE_MISMATCH' | 'EXPIRED'; // the chain expired on its anchor: it takes no more transactions

/** Failures of the service itself (as opposed to ChainError: the request breaks a protocol rule). */
export class OperatorError extends CodedError<OperatorErrorCode> {
  override readonly name = 'OperatorError';
}

export interface OperatorServiceOptions {
  readonly genesis: GenesisRecord;
  readonly key: KeyPair;
  /** Opened store; the service owns it from now on and closes it in stop(). */
  readonly store: OperatorStore;
  readonly sink: BlockSink;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Seal a block this often (when anything is pending, or always with emptyBlocks). Default 1000. */
  readonly blockIntervalMs?: number;
  /** Seal as soon as this many transactions are pending. Default 10,000 (at most the protocol's 20,000). */
  readonly maxPending?: number;
  /** Seal blocks with no transactions too (the anchor does: its beacon advances every block). Default: anchor. */
  readonly emptyBlocks?: boolean;
  /** Devnet fault injection (already checked against the devnet flag). */
  readonly faults?: readonly Fault[];
  readonly now?: () => number;
  /** Called once when a durable write fails; the service refuses everything afterwards. */
  readonly onFatal?: (e: Error) => void;
}

export interface SealedBlock {
  readonly block: Block;
  readonly state: ChainState;
}

/** A head: the signed header and the state after it. */
export interface SealedInfo {
  readonly signed: SignedHeader;
  readonly state: ChainState;
}

export type SealListener = (sealed: SealedInfo) => void;

interface PendingAuth {
  readonly digest: Uint8Array;
  readonly start: bigint;
  readonly action: Uint8Array;
  readonly signature: Uint8Array;
}

/** What the transactions since the last seal changed. */
class Accum {
  readonly dirty = new Map<bigint, Leaf | null>();
  readonly auths = new Map<string, PendingAuth>();
  readonly children: StoredChild[] = [];
  firstSeq: number | null = null;
  lastSeq: number | null = null;
  bytes = 0;

  seq(s: number): void {
    this.firstSeq ??= s;
    this.lastSeq = s;
  }
}

interface Job {
  readonly accum: Accum;
  readonly block: Block;
  readonly state: ChainState;
  readonly prev: ChainState;
  readonly t0: bigint;
  readonly durable: Promise<void>;
}

/** Group commit of the request log: every append that arrives during a write goes into the next single fsync. */
class LogWriter {
  private queue: { entry: LogEntry; aux: readonly AuxWrite[]; done: (e?: Error) => void }[] = [];
  private running = false;
  private last: Promise<void> = Promise.resolve();
  private failed: Error | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: OperatorStore,
    private readonly onFail: (e: Error) => void,
  ) {}

  append(entry: LogEntry, aux: readonly AuxWrite[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const p = new Promise<void>((resolve, reject) =>
      this.queue.push({ entry, aux, done: (e) => (e ? reject(e) : resolve()) }),
    );
    this.last = p;
    if (!this.running) void this.drain();
    return p;
  }

  /** Resolves once everything appended so far is durable. */
  flushed(): Promise<void> {
    return this.last;
  }

  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length) {
      const group = this.queue.splice(0);
      try {
        await this.store.appendLog(
          group.map((g) => g.entry),
          group.flatMap((g) => g.aux),
        );
        for (const g of group) g.done();
      } catch (e) {
        const err = new OperatorError('STORE_FAILED', `request log write failed: ${(e as Error).message}`);
        this.failed = err;
        for (const g of [...group, ...this.queue.splice(0)]) g.done(err);
        this.onFail(err);
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** Applies one block's contract changes to a tree: removals, then replacements, then insertions. */
function applyChanges(tree: ProbabilityTree, changes: ReadonlyMap<bigint, Leaf | null>): void {
  const replaces: Leaf[] = [];
  const inserts: Leaf[] = [];
  for (const [start, leaf] of changes) {
    const had = tree.get(start) !== undefined;
    if (!leaf) {
      if (had) tree.remove(start);
    } else if (had) replaces.push(leaf);
    else inserts.push(leaf);
  }
  for (const l of replaces) tree.replace(l);
  for (const l of inserts) tree.insert(l);
}

interface FaultyBlocks {
  readonly pre: Block[];
  readonly post: Block[];
  instead: Block | null;
}

const PUBLISH_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number, msg: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(msg)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The block limits leave room for the header and framing. */
const BLOCK_BYTE_BUDGET = LIMITS.blockBytes - 1024 * 1024;

type State = 'created' | 'running' | 'stopping' | 'stopped' | 'failed';

export class OperatorService {
  readonly genesis: GenesisRecord;
  readonly chainId: Uint8Array;
  readonly store: OperatorStore;
  private readonly producer: ChainProducer;
  private readonly committedTree: ProbabilityTree;
  private committedHead: SignedHeader | null;
  private committedState: ChainState;
  private readonly children = new Map<string, { start: bigint; genesis: GenesisRecord }>();
  private ownerIndex: Map<string, Set<bigint>> | null = null;
  private accum = new Accum();
  private readonly sealing: Job[] = [];
  private nextSeq = 1;
  private readonly writer: LogWriter;
  private jobChain: Promise<void> = Promise.resolve();
  private publishChain: Promise<void> = Promise.resolve();
  private state: State = 'created';
  private fatal: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private publishedHeight = 0;
  private publishBehind = false;
  /** After a root-mismatch fault the network holds another block at that height: publish past the validator. */
  private diverged = false;
  private readonly listeners: SealListener[] = [];
  private readonly metrics: OperatorMetrics | null;
  private readonly label: string;
  private readonly blockIntervalMs: number;
  private readonly maxPending: number;
  private readonly emptyBlocks: boolean;
  private readonly faults: readonly Fault[];
  private readonly firedFaults = new Set<Fault>();
  private firstSealed: number | null = null;
  private readonly now: () => number;
  private readonly log: Logger;
  private upstreamStatus: (() => UpstreamStatus) | null = null;
  /** Why the chain is over (see expire()), null while it runs. */
  private expiredWhy: string | null = null;
  /** Requests replayed from the log that no longer applied (never acknowledged ones only, see docs). */
  droppedOnReplay = 0;

  private constructor(
    private readonly o: OperatorServiceOptions,
    restored: {
      tree: ProbabilityTree;
      committed: ProbabilityTree;
      head: SignedHeader | null;
      state: ChainState;
    },
  ) {
    this.genesis = o.genesis;
    this.chainId = o.genesis.chainId;
    this.store = o.store;
    this.log = o.log;
    this.producer = new ChainProducer(o.genesis, o.key.secretKey, {
      tree: restored.tree,
      state: restored.state,
    });
    this.committedTree = restored.committed;
    this.committedHead = restored.head;
    this.committedState = restored.state;
    this.label = toHex(o.genesis.chainId).slice(0, 16);
    this.metrics = o.registry ? operatorMetrics(o.registry) : null;
    this.blockIntervalMs = o.blockIntervalMs ?? 1000;
    this.maxPending = Math.max(1, Math.min(o.maxPending ?? 10_000, LIMITS.txsPerBlock));
    this.emptyBlocks = o.emptyBlocks ?? isAnchor(o.genesis.genesis);
    this.faults = o.faults ?? [];
    this.now = o.now ?? Date.now;
    this.writer = new LogWriter(o.store, (e) => this.fail(e));
  }

  /**
   * Opens the chain from its store: checks the store belongs to this chain and key, rebuilds the tree from the
   * stored contracts (checked against the head's state root), and replays the request log in order.
   */
  static async open(o: OperatorServiceOptions): Promise<OperatorService> {
    const { store, genesis } = o;
    if (!bytesEqual(genesis.genesis.operatorKey, o.key.publicKey))
      throw new OperatorError('STORE_MISMATCH', "the key is not the chain's operator key");
    const stored = await store.genesis();
    if (stored && !bytesEqual(stored.chainId, genesis.chainId)) {
      throw new OperatorError(
        'STORE_MISMATCH',
        `the store holds chain ${toHex(stored.chainId)}, not ${toHex(genesis.chainId)}`,
      );
    }
    if (!stored) await store.putGenesis(genesis);
    const head = (await store.head()) ?? null;
    const state = head ? stateAfter(genesis, head) : genesisState(genesis);
    const leaves = await store.leaves();
    const tree = ProbabilityTree.fromLeaves(leaves);
    if (!bytesEqual(tree.root, state.stateRoot)) {
      throw new OperatorError(
        'STORE_MISMATCH',
        `stored contracts do not match the head state root at height ${state.height}`,
      );
    }
    const committed = ProbabilityTree.fromLeaves(leaves);
    const svc = new OperatorService(o, { tree, committed, head, state });
    for (const c of await store.children()) svc.children.set(toHex(c.chainId), c);
    svc.publishedHeight = Math.min(await store.published(), state.height);
    const consumed = await store.consumed();
    const entries = await store.logEntries();
    svc.nextSeq = Math.max(consumed, entries.length ? entries[entries.length - 1].seq : 0) + 1;
    for (const e of entries) {
      // A crash can leave more than one block's worth of requests in the log.
      if (svc.blockFull()) svc.sealSync(true);
      svc.accum.seq(e.seq);
      try {
        svc.apply(decodeRequest(e.bytes));
      } catch (err) {
        // Cannot happen with an intact store: the log holds exactly the requests that applied, in order (a
        // failed group write stops the service). A damaged entry is logged and removed with the next block.
        svc.droppedOnReplay++;
        svc.log.error(
          { seq: e.seq, err: (err as Error).message },
          'request log entry no longer applies: dropped',
        );
      }
    }
    await svc.jobChain;
    if (svc.fatal) throw svc.fatal;
    if (entries.length)
      svc.log.info({ replayed: entries.length, pending: svc.producer.pendingCount }, 'request log replayed');
    svc.updatePendingGauge();
    return svc;
  }

  /** Starts block production; republishes blocks the sink may not have and tells listeners about the head. */
  start(): void {
    if (this.state !== 'created') return;
    this.state = 'running';
    this.timer = setInterval(() => this.tick(), this.blockIntervalMs);
    this.timer.unref();
    if (this.publishedHeight < this.committedState.height) this.enqueuePublish();
    const head = this.committedHead;
    if (head) this.notify({ signed: head, state: this.committedState });
    void this.refreshStoreSize();
  }

  /**
   * Clean shutdown: no new requests; with `seal` (the default) the pending transactions go into one last block,
   * otherwise they stay in the request log for the next start. The block being written is always finished.
   */
  async stop(opts: { seal?: boolean } = {}): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (wasRunning && (opts.seal ?? true) && this.producer.pendingCount > 0 && !this.fatal) this.sealSync();
    await this.jobChain;
    await this.publishChain;
    await this.writer.idle();
    await this.store.close();
    this.state = 'stopped';
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get pendingCount(): number {
    return this.producer.pendingCount;
  }

  /** Root of the current state, including acknowledged transactions not yet sealed. */
  get pendingRoot(): Uint8Array {
    return this.producer.pendingSummary.digest;
  }

  /** The head block's state. */
  get head(): ChainState {
    return this.committedState;
  }

  get headHeader(): SignedHeader | null {
    return this.committedHead;
  }

  /** Calls `f` after every block is written and published (and once at start with the stored head). */
  onSealed(f: SealListener): void {
    this.listeners.push(f);
  }

  setUpstreamStatus(f: () => UpstreamStatus): void {
    this.upstreamStatus = f;
  }

  // ---- requests

  /** Sells unallocated space (operator only). Idempotent: selling exactly the contract that is there succeeds. */
  create(
    c: { start: bigint; end: bigint; owner: Uint8Array; terms?: Uint8Array },
    opts: { aux?: readonly AuxWrite[] } = {},
  ): Promise<SubmitResult> {
    return this.submit(
      { kind: 'create', start: c.start, end: c.end, owner: c.owner, terms: c.terms ?? new Uint8Array(0) },
      opts.aux ?? [],
    );
  }

  /** An action signed by the contract's owner. Idempotent: resubmitting an applied action succeeds. */
  async ownerAction(req: Extract<OperatorRequest, { kind: 'owner' }>): Promise<SubmitResult> {
    if (!bytesEqual(req.signed.action.chainId, this.chainId)) {
      throw new OperatorError('UNKNOWN_CHAIN', `this operator runs chain ${toHex(this.chainId)}`);
    }
    return this.submit(req, []);
  }

  /** Commits a child chain's signed header into the contract that holds it. Idempotent. */
  async childRoot(header: SignedHeader): Promise<SubmitResult> {
    const child = this.children.get(toHex(header.header.chainId));
    if (!child) {
      throw new OperatorError(
        'UNKNOWN_CHAIN',
        `no contract of this chain holds chain ${toHex(header.header.chainId)}`,
      );
    }
    return this.submit({ kind: 'childRoot', start: child.start, header }, []);
  }

  /**
   * The chain expired on its anchor: no commit of a later block can land there, so a block sealed now would hold
   * transactions nobody can rely on, and would move the tree past the committed root settlement proves against.
   * From now on nothing is sealed and every request is refused with EXPIRED.
   */
  expire(why: string): void {
    if (this.expiredWhy !== null) return;
    this.expiredWhy = why;
    this.log.info({ height: this.committedState.height, why }, 'chain expired: block production stops');
  }

  get expired(): boolean {
    return this.expiredWhy !== null;
  }

  private assertAccepting(): void {
    if (this.fatal) throw new OperatorError('STORE_FAILED', `the operator stopped: ${this.fatal.message}`);
    if (this.expiredWhy !== null)
      throw new OperatorError(
        'EXPIRED',
        `the chain has expired (${this.expiredWhy}): it takes no transactions`,
      );
    if (this.state !== 'running') throw new OperatorError('NOT_RUNNING', `the operator is ${this.state}`);
  }

  private async submit(req: OperatorRequest, aux: readonly AuxWrite[]): Promise<SubmitResult> {
    this.assertAccepting();
    // Keep every block inside the protocol's limits: seal before a transaction could overflow it.
    if (this.blockFull()) this.sealSync();
    let tx: Uint8Array;
    try {
      tx = this.apply(req);
    } catch (e) {
      if (!(e instanceof ChainError)) throw e;
      const dup = await this.duplicate(req, e);
      if (!dup) {
        this.count(req.kind, e.code);
        throw e;
      }
      await this.writer.flushed();
      this.count(req.kind, 'duplicate');
      return dup;
    }
    const seq = this.nextSeq++;
    this.accum.seq(seq);
    const height = this.producer.state.height + 1;
    const durable = this.writer.append({ seq, bytes: encodeRequest(req) }, aux);
    if (this.producer.pendingCount >= this.maxPending) this.sealSync();
    this.updatePendingGauge();
    await durable;
    this.count(req.kind, 'accepted');
    const leaf = this.producer.tree.get(req.start);
    return { status: 'accepted', tx: toHex(txHash(tx)), height, contract: leaf ? contractJson(leaf) : null };
  }

  private blockFull(): boolean {
    return (
      this.producer.pendingCount >= this.maxPending || this.accum.bytes + LIMITS.txBytes > BLOCK_BYTE_BUDGET
    );
  }

  private count(kind: string, result: string): void {
    this.metrics?.requestsTotal.inc({ chain: this.label, kind, result });
  }

  /** Whether a failed request is one already accepted (a client retrying after an unknown outcome). */
  private async duplicate(req: OperatorRequest, e: ChainError): Promise<SubmitResult | null> {
    const tree = this.producer.tree;
    const current = tree.get(req.start);
    const result = (height: number | null): SubmitResult => ({
      status: 'duplicate',
      height: height ?? this.producer.state.height + 1,
      contract: current ? contractJson(current) : null,
    });
    if (req.kind === 'create') {
      const c = current?.contract;
      const same =
        e.code === 'OVERLAP' &&
        c !== undefined &&
        c.end === req.end &&
        c.nonce === 0 &&
        !c.child &&
        bytesEqual(c.owner, req.owner) &&
        bytesEqual(c.terms, req.terms);
      return same ? result(null) : null;
    }
    if (req.kind === 'childRoot') {
      const link = current?.contract.child;
      const h = req.header.header;
      const same =
        e.code === 'CHILD_HEIGHT_NOT_INCREASING' &&
        link !== undefined &&
        link.height === h.height &&
        bytesEqual(link.root, h.stateRoot);
      return same ? result(null) : null;
    }
    if (!['STALE_NONCE', 'WRONG_CONTRACT', 'NOT_FOUND'].includes(e.code)) return null;
    const auth = await this.authorisation(req.signed.action.contractHash);
    if (!auth) return null;
    const same = auth.action === toHex(req.signed.bytes) && auth.signature === toHex(req.signed.signature);
    return same ? result(auth.height) : null;
  }

  /** Applies a request to the producer and records what it changed; throws ChainError and changes nothing. */
  private apply(req: OperatorRequest): Uint8Array {
    const p = this.producer;
    const op = req.kind === 'owner' ? req.signed.action.op : null;
    const starts = op?.kind === 'split' ? [req.start, op.at] : [req.start];
    const before = starts.map((s) => p.tree.get(s));
    let tx: Uint8Array;
    if (req.kind === 'create')
      tx = p.create({ start: req.start, end: req.end, owner: req.owner, terms: req.terms });
    else if (req.kind === 'owner') tx = p.owner(req.signed, req.start, req.childGenesis ?? undefined);
    else tx = p.childRoot(req.header, req.start);

    const a = this.accum;
    starts.forEach((s, i) => {
      const after = p.tree.get(s) ?? null;
      a.dirty.set(s, after);
      this.reindexOwner(before[i], after);
    });
    if (req.kind === 'owner') {
      const d = req.signed.action.contractHash;
      a.auths.set(toHex(d), {
        digest: d,
        start: req.start,
        action: req.signed.bytes,
        signature: req.signed.signature,
      });
      if (req.childGenesis) {
        const child = { chainId: req.childGenesis.chainId, start: req.start, genesis: req.childGenesis };
        this.children.set(toHex(child.chainId), child);
        a.children.push(child);
      }
    }
    a.bytes += tx.length + 8;
    return tx;
  }

  private reindexOwner(before: Leaf | undefined, after: Leaf | null): void {
    const idx = this.ownerIndex;
    if (!idx) return;
    if (before) {
      const k = toHex(before.contract.owner);
      const set = idx.get(k);
      set?.delete(before.contract.start);
      if (set && set.size === 0) idx.delete(k);
    }
    if (after) {
      const k = toHex(after.contract.owner);
      let set = idx.get(k);
      if (!set) idx.set(k, (set = new Set()));
      set.add(after.contract.start);
    }
  }

  // ---- blocks

  /** Seals whatever is pending (even nothing) now; resolves when the block is written and published. */
  async sealNow(): Promise<SealedBlock> {
    this.assertAccepting();
    const job = this.sealSync(true);
    if (!job) throw new OperatorError('NOT_RUNNING', 'nothing to seal');
    await job.done;
    return { block: job.job.block, state: job.job.state };
  }

  private tick(): void {
    if (this.state !== 'running' || this.fatal) return;
    if (this.producer.pendingCount > 0 || this.emptyBlocks) this.sealSync();
    else if (this.publishBehind) this.enqueuePublish();
    if (++this.ticks % 10 === 0) void this.refreshStoreSize();
  }

  private ticks = 0;

  private async refreshStoreSize(): Promise<void> {
    if (!this.metrics || !this.store.isOpen) return;
    try {
      this.metrics.storeBytes.set({ chain: this.label }, await this.store.sizeOnDisk());
    } catch {
      // The store is closing.
    }
  }

  /** Seals in memory (synchronous, so no request can slip between) and queues the durable write. */
  private sealSync(force = false): { job: Job; done: Promise<void> } | null {
    if (this.fatal || this.state === 'stopped' || this.expiredWhy !== null) return null;
    if (!force && this.producer.pendingCount === 0 && !this.emptyBlocks) return null;
    const t0 = process.hrtime.bigint();
    const prev = this.producer.state;
    const { block, state } = this.producer.seal(this.now());
    const job: Job = { accum: this.accum, block, state, prev, t0, durable: this.writer.flushed() };
    this.accum = new Accum();
    this.sealing.push(job);
    this.updatePendingGauge();
    // Writes are sequential; publishing follows in a chain of its own, so a slow node never holds up writes.
    const written = this.jobChain.then(() => this.persist(job));
    this.jobChain = written.then(
      () => undefined,
      () => undefined,
    );
    const done = written.then((faulty) => {
      const p = this.publishChain.then(() => this.publish(job, faulty));
      this.publishChain = p.catch(() => undefined);
      return p;
    });
    // Callers that do not wait (the timer, a full block) must not leave a rejection unhandled: a failed write
    // has already stopped the service.
    done.catch(() => undefined);
    return { job, done };
  }

  /** Writes the block and moves the committed view; returns the devnet's faulty blocks to publish with it. */
  private async persist(job: Job): Promise<FaultyBlocks> {
    if (this.fatal) throw this.fatal;
    const h = job.state.height;
    const a = job.accum;
    try {
      await job.durable;
      await this.store.writeBlock({
        height: h,
        block: job.block.bytes,
        head: job.block.signed,
        contracts: a.dirty,
        authorisations: [...a.auths.values()].map((x) => ({ ...x, height: h })),
        children: a.children,
        consumed: a.firstSeq === null ? null : { from: a.firstSeq, to: a.lastSeq! },
      });
    } catch (e) {
      const err =
        e instanceof OperatorError
          ? e
          : new OperatorError('STORE_FAILED', `block write failed: ${(e as Error).message}`);
      this.fail(err);
      throw err;
    }
    // Faulty blocks (devnet) are built on the committed state before it moves on.
    // A fault fires once, at its height or the first one after it at which a peer is in the chain's mesh: fired
    // into an empty mesh it would reach nobody, and catching up serves only the honest block.
    // A restarted operator already past a fault's height does not fire it.
    this.firstSealed ??= h;
    const faults = this.faults.filter(
      (f) =>
        !this.firedFaults.has(f) &&
        f.height >= this.firstSealed! &&
        h >= f.height &&
        (this.o.sink.meshPeers?.(this.chainId) ?? 1) > 0,
    );
    for (const f of faults) this.firedFaults.add(f);
    const faulty: FaultyBlocks = { pre: [], post: [], instead: null };
    for (const f of faults) {
      if (f.kind === 'invalid')
        faulty.pre.push(invalidBlock(this.genesis, this.o.key.secretKey, job.prev, this.committedTree));
      else if (f.kind === 'equivocate')
        faulty.post.push(alternativeBlock(this.genesis, this.o.key.secretKey, job.prev, job.block));
      else faulty.instead = alternativeBlock(this.genesis, this.o.key.secretKey, job.prev, job.block);
      this.log.warn({ fault: f.kind, height: h }, 'fault injection: publishing a faulty block');
    }

    applyChanges(this.committedTree, a.dirty);
    this.committedHead = job.block.signed;
    this.committedState = job.state;
    this.sealing.shift();
    this.metrics?.blocksTotal.inc({ chain: this.label });
    this.metrics?.blockBuildSeconds.observe(
      { chain: this.label },
      Number(process.hrtime.bigint() - job.t0) / 1e9,
    );
    this.log.debug({ height: h, txs: job.block.txs.length }, 'block written');
    return faulty;
  }

  /** Publishes a written block (after any the sink missed) and tells the listeners. */
  private async publish(job: Job, faulty: FaultyBlocks): Promise<void> {
    const h = job.state.height;
    // Blocks sealed while replaying the log at open are published by start().
    if (this.state === 'created') {
      this.publishBehind = true;
      return;
    }
    if (this.publishedHeight === h - 1) {
      const list = [
        ...faulty.pre.map((b) => ({ b, raw: true })),
        { b: faulty.instead ?? job.block, raw: this.diverged },
        ...faulty.post.map((b) => ({ b, raw: true })),
      ];
      if (faulty.instead) this.diverged = true;
      await this.publishList(h, list);
    } else await this.publishThrough(h);
    this.notify({ signed: job.block.signed, state: job.state });
  }

  private notify(info: SealedInfo): void {
    for (const l of this.listeners) {
      try {
        l(info);
      } catch (e) {
        this.log.error({ err: e }, 'seal listener failed');
      }
    }
  }

  private enqueuePublish(): void {
    this.publishChain = this.publishChain
      .then(() => this.publishThrough(this.committedState.height))
      .catch(() => undefined);
  }

  /** Publishes stored blocks the sink has not had yet, in order, up to `height`. */
  private async publishThrough(height: number): Promise<void> {
    while (this.publishedHeight < height && !this.fatal) {
      const h = this.publishedHeight + 1;
      const bytes = await this.store.block(h);
      if (!bytes) throw new Error(`block ${h} missing from the store`);
      if (!(await this.publishList(h, [{ b: { bytes }, raw: this.diverged }]))) return;
    }
  }

  private async publishList(
    height: number,
    list: { b: Pick<Block, 'bytes'>; raw: boolean }[],
  ): Promise<boolean> {
    try {
      for (const { b, raw } of list) {
        const v = await withTimeout(
          this.o.sink.publishBlock(this.chainId, b.bytes, { raw }),
          PUBLISH_TIMEOUT_MS,
          'the node did not take the block in time',
        );
        if (v && v.result === 'reject')
          this.log.error({ height, code: v.code }, "the node's validator rejected this operator's block");
      }
    } catch (e) {
      this.publishBehind = true;
      this.log.warn({ height, err: (e as Error).message }, 'publishing the block failed; will retry');
      return false;
    }
    this.publishedHeight = height;
    this.publishBehind = false;
    await this.store.putPublished(height).catch(() => undefined);
    return true;
  }

  private fail(e: Error): void {
    if (this.fatal) return;
    this.fatal = e;
    this.state = 'failed';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.log.fatal({ err: e }, 'durable write failed: the operator stops accepting requests');
    this.o.onFatal?.(e);
  }

  private updatePendingGauge(): void {
    this.metrics?.pendingTxs.set({ chain: this.label }, this.producer.pendingCount);
  }

  // ---- views

  /**
   * The settlement lottery's first level from what this operator holds: the head's signed header and the lookup
   * path of `point` in its committed tree (null before the first block).
   */
  lotteryLevel(point: bigint): { header: SignedHeader; path: Path } | null {
    if (!this.committedHead) return null;
    return { header: this.committedHead, path: this.committedTree.lookupPath(point) };
  }

  /** The same at an earlier sealed height (the EVM contract's last committed one); null if out of reach. */
  async lotteryLevelAt(point: bigint, height: number): Promise<{ header: SignedHeader; path: Path } | null> {
    if (height === this.committedState.height) return this.lotteryLevel(point);
    // The head's contracts are copied before the first await: blocks sealed meanwhile do not reach the copy.
    const view = await treeAt(this.committedTree.leaves(), this.committedState.height, height, (h) =>
      this.store.block(h),
    );
    return view && { header: view.header, path: view.tree.lookupPath(point) };
  }

  contractView(start: bigint): ContractView {
    const cur = this.producer.tree.get(start) ?? null;
    const com = this.committedTree.get(start) ?? null;
    if (!cur && !com) throw new ChainError('NOT_FOUND', `no contract starts at ${start}`);
    let proof = null;
    if (com && this.committedHead) {
      const path = this.committedTree.memberPath(start);
      checkPath(this.committedState.stateRoot, path);
      proof = {
        path: toHex(encodePath(path)),
        height: this.committedState.height,
        stateRoot: toHex(this.committedState.stateRoot),
        headHash: toHex(this.committedState.headHash),
        signedHeader: toHex(this.committedHead.bytes),
      };
    }
    return {
      chainId: toHex(this.chainId),
      start: start.toString(),
      contract: cur ? contractJson(cur) : null,
      committed: com ? contractJson(com) : null,
      proof,
      pending: !(cur && com && bytesEqual(cur.digest, com.digest)),
    };
  }

  /** Current contracts of an owner, in start order, after `after`, at most `limit`. */
  contractsByOwner(
    owner: Uint8Array,
    after: bigint | null,
    limit: number,
  ): { contracts: ContractJson[]; next: string | null } {
    if (!this.ownerIndex) {
      const idx = new Map<string, Set<bigint>>();
      for (const leaf of this.producer.tree.leaves()) {
        const k = toHex(leaf.contract.owner);
        let set = idx.get(k);
        if (!set) idx.set(k, (set = new Set()));
        set.add(leaf.contract.start);
      }
      this.ownerIndex = idx;
    }
    const starts = [...(this.ownerIndex.get(toHex(owner)) ?? [])]
      .filter((s) => after === null || s > after)
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const page = starts.slice(0, limit);
    const contracts = page.map((s) => contractJson(this.producer.tree.get(s)!));
    return { contracts, next: starts.length > limit ? page[page.length - 1].toString() : null };
  }

  /** The owner's signed action that superseded the contract state with this digest. */
  async authorisation(digest: Uint8Array): Promise<AuthorisationJson | undefined> {
    const k = toHex(digest);
    const fromMem = (x: PendingAuth, height: number | null): AuthorisationJson => ({
      digest: k,
      start: x.start.toString(),
      action: toHex(x.action),
      signature: toHex(x.signature),
      height,
    });
    const p = this.accum.auths.get(k);
    if (p) return fromMem(p, null);
    for (const j of this.sealing) {
      const s = j.accum.auths.get(k);
      if (s) return fromMem(s, j.state.height);
    }
    const stored = await this.store.authorisation(digest);
    return stored ? fromMem(stored, stored.height) : undefined;
  }

  async block(height: number): Promise<Uint8Array | undefined> {
    if (height < 1 || height > this.committedState.height) return undefined;
    return this.store.block(height);
  }

  /** The chain id of the child chain a contract of this chain holds, and the genesis record, by child id. */
  child(chainId: Uint8Array): { start: bigint; genesis: GenesisRecord } | undefined {
    return this.children.get(toHex(chainId));
  }

  /** Current leaf at `start` (including pending changes). */
  currentContract(start: bigint): Leaf | undefined {
    return this.producer.tree.get(start);
  }

  /** Smallest start and largest end allocated in the current state (0, 0 when empty). */
  currentBounds(): { min: bigint; max: bigint; empty: boolean } {
    const s = this.producer.pendingSummary;
    return { min: s.min, max: s.max, empty: bytesEqual(s.digest, EMPTY_ROOT) };
  }

  chainInfo(): ChainInfo {
    const g = this.genesis.genesis;
    const s = this.committedState;
    return {
      chainId: toHex(this.chainId),
      genesis: toHex(this.genesis.bytes),
      name: g.name,
      operatorKey: toHex(g.operatorKey),
      spaceStart: g.spaceStart.toString(),
      spaceEnd: g.spaceEnd.toString(),
      parentChain: isAnchor(g) ? null : toHex(g.parentChain),
      parentContract: isAnchor(g) ? null : g.parentContract.toString(),
      head: {
        height: s.height,
        hash: toHex(s.headHash),
        stateRoot: toHex(s.stateRoot),
        timeMs: s.timeMs,
        signedHeader: this.committedHead ? toHex(this.committedHead.bytes) : null,
      },
      pendingTxs: this.producer.pendingCount,
      expired: this.expiredWhy !== null,
      contracts: this.producer.tree.size,
      upstream: this.upstreamStatus ? this.upstreamStatus() : null,
    };
  }
}
