/**
 * The operator service: runs one chain. It turns requests (sales, owner actions, child-root commits) into
 * transactions with the core producer, makes each durable in the request log before acknowledging it, seals a
 * block every `blockIntervalMs` or as soon as `maxPending` transactions wait, writes the block and everything it
 * changes in one atomic batch, and only then publishes it and tells listeners (the upstream submitter).
 *
 * The pieces live beside it: the request log's group commit (log-writer.ts), what the requests since the last
 * seal changed (intake.ts), the committed view and the read side (views.ts), the publishing end (publish.ts,
 * where devnet fault injection plugs in as a policy handed to `open`, faults.ts).
 *
 * Ordering guarantees:
 * - requests are applied to the producer synchronously and enter the log in that order (group commit: one fsync
 *   for every request that arrived while the previous write was in flight);
 * - a block is written only after the log entries it carries are durable, and published only after it is written,
 *   so a crash can never make the operator sign two blocks at one height;
 * - on restart the tree is rebuilt from the stored contracts, checked against the head's state root, and the log
 *   is replayed in order: acknowledged requests come back exactly as they were.
 */
import type { Registry } from 'prom-client';
import { bytesEqual } from '../codec/canonical.js';
import { LIMITS } from '../codec/limits.js';
import { toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import type { Block, BlockVersion } from '../chain/block.js';
import { ChainError } from '../chain/errors.js';
import { isAnchor, type GenesisRecord } from '../chain/genesis.js';
import type { SignedHeader } from '../chain/header.js';
import { ChainProducer } from '../chain/producer.js';
import { genesisState, stateAfter, type ChainState } from '../chain/state.js';
import { txHash } from '../chain/txroot.js';
import { EMPTY_ROOT } from '../tree/node.js';
import type { Leaf } from '../tree/contract.js';
import { ProbabilityTree } from '../tree/tree.js';
import type { Path } from '../tree/path.js';
import type { Logger } from '../runtime/logger.js';
import { OperatorError } from './errors.js';
import { treeAt } from './history.js';
import { Accum, applyRequest, duplicateOf, type PendingAuth } from './intake.js';
import { contractJson } from './json.js';
import { LogWriter } from './log-writer.js';
import { operatorMetrics, type OperatorMetrics } from './metrics.js';
import { BlockPublisher, honestPublishing, type Outgoing, type PublishPolicy } from './publish.js';
import { decodeRequest, encodeRequest, type OperatorRequest } from './requests.js';
import type { AuxWrite, OperatorStore } from './store.js';
import type { BlockSink } from './types.js';
import type {
  AuthorisationJson,
  ChainInfo,
  ContractJson,
  ContractView,
  SubmitResult,
  UpstreamStatus,
} from '../api/operator.js';
import { chainInfo, CommittedView, contractView, OwnerIndex } from './views.js';

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
  /** Block version written (docs/protocol.md §14): 2, one multiproof per block, unless set. */
  readonly blockVersion?: BlockVersion;
  /** What goes out at each height: the honest policy by default; devnet fault injection is another (faults.ts). */
  readonly publishing?: PublishPolicy;
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

interface Job {
  readonly accum: Accum;
  readonly block: Block;
  readonly state: ChainState;
  readonly prev: ChainState;
  readonly t0: bigint;
  readonly durable: Promise<void>;
}

/** The block limits leave room for the header and framing. */
const BLOCK_BYTE_BUDGET = LIMITS.blockBytes - 1024 * 1024;

type State = 'created' | 'running' | 'stopping' | 'stopped' | 'failed';

export class OperatorService {
  readonly genesis: GenesisRecord;
  readonly chainId: Uint8Array;
  readonly store: OperatorStore;
  private readonly producer: ChainProducer;
  private readonly committed: CommittedView;
  private readonly children = new Map<string, { start: bigint; genesis: GenesisRecord }>();
  private readonly owners = new OwnerIndex();
  private accum = new Accum();
  private readonly sealing: Job[] = [];
  private nextSeq = 1;
  private readonly writer: LogWriter;
  private jobChain: Promise<void> = Promise.resolve();
  private readonly publisher: BlockPublisher;
  private state: State = 'created';
  private fatal: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: SealListener[] = [];
  private readonly metrics: OperatorMetrics | null;
  private readonly label: string;
  private readonly blockIntervalMs: number;
  private readonly maxPending: number;
  private readonly emptyBlocks: boolean;
  private readonly publishing: PublishPolicy;
  private readonly now: () => number;
  private readonly log: Logger;
  private upstreamStatus: (() => UpstreamStatus) | null = null;
  /** Why the chain is over (see expire()), null while it runs. */
  private expiredWhy: string | null = null;
  /** Why requests are refused until the parent's contract holds this chain (see holdUntilAnchored()). */
  private notAnchoredWhy: string | null = null;
  /** The earliest expiry among the ancestors, as the parent last reported it (0: none known). */
  private ancestorExpiry = 0;
  /** The anchor's height as the parent last reported it (null: unknown); the anchor chain's is its own head. */
  private reportedAnchorHeight: number | null = null;
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
    this.producer = new ChainProducer(
      o.genesis,
      o.key.secretKey,
      { tree: restored.tree, state: restored.state },
      { version: o.blockVersion ?? 2 },
    );
    this.committed = new CommittedView(restored.committed, restored.head, restored.state);
    this.label = toHex(o.genesis.chainId).slice(0, 16);
    this.metrics = o.registry ? operatorMetrics(o.registry) : null;
    this.blockIntervalMs = o.blockIntervalMs ?? 1000;
    this.maxPending = Math.max(1, Math.min(o.maxPending ?? 10_000, LIMITS.txsPerBlock));
    this.emptyBlocks = o.emptyBlocks ?? isAnchor(o.genesis.genesis);
    this.publishing = o.publishing ?? honestPublishing;
    this.now = o.now ?? Date.now;
    this.writer = new LogWriter(o.store, (e) => this.fail(e));
    this.publisher = new BlockPublisher({
      chainId: this.chainId,
      sink: o.sink,
      store: o.store,
      log: o.log,
      policy: this.publishing,
      failed: () => this.fatal !== null,
    });
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
    svc.publisher.publishedHeight = Math.min(await store.published(), state.height);
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
    if (this.publisher.publishedHeight < this.committed.state.height) this.enqueuePublish();
    const head = this.committed.head;
    if (head) this.notify({ signed: head, state: this.committed.state });
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
    await this.publisher.idle();
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
    return this.committed.state;
  }

  get headHeader(): SignedHeader | null {
    return this.committed.head;
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
    this.log.info({ height: this.committed.state.height, why }, 'chain expired: block production stops');
  }

  get expired(): boolean {
    return this.expiredWhy !== null;
  }

  /** Why the chain expired (its own anchor, or an ancestor's expiry), null while it runs. */
  get expiredReason(): string | null {
    return this.expiredWhy;
  }

  /**
   * The parent reported its effective expiry (the earliest of its own and its ancestors', 0: never). A chain
   * expires with its parent, so this chain's effective expiry is the earliest of its own and that one.
   */
  setAncestorExpiry(expiry: number): void {
    this.ancestorExpiry = expiry;
  }

  /**
   * The anchor's height as the parent reports it (the devnet anchor's head, passed down level by level). Once it
   * reaches this chain's own expiry the chain expires.
   */
  setAnchorHeight(height: number | null): void {
    this.reportedAnchorHeight = height;
    const own = this.genesis.genesis.expiry;
    if (height !== null && own > 0 && height >= own)
      this.expire(`the anchor reached height ${height}, this chain's expiry ${own}`);
  }

  /** The anchor's height: the head's for the anchor chain, else as the parent last reported it (null: unknown). */
  get anchorHeight(): number | null {
    return isAnchor(this.genesis.genesis) ? this.committed.state.height : this.reportedAnchorHeight;
  }

  /** The anchor height at which this chain is over: the earliest of its own expiry and its ancestors' (0: never). */
  get effectiveExpiry(): number {
    const own = this.genesis.genesis.expiry;
    if (own === 0) return this.ancestorExpiry;
    return this.ancestorExpiry === 0 ? own : Math.min(own, this.ancestorExpiry);
  }

  /**
   * Refuses every request with NOT_ANCHORED (reads still answer) until markAnchored(): the parent's contract does
   * not hold this chain (yet), so no block of it could be committed upward and whatever it sold could never win.
   * The app holds a nested chain this way from its start until the parent is seen holding it, and for good, with
   * the reason, when the parent's contract holds another chain.
   */
  holdUntilAnchored(why: string): void {
    if (this.notAnchoredWhy === null)
      this.log.info({ why }, 'the chain takes no requests until it is anchored');
    this.notAnchoredWhy = why;
  }

  /** The parent's contract holds this chain: requests are taken. */
  markAnchored(): void {
    if (this.notAnchoredWhy === null) return;
    this.notAnchoredWhy = null;
    this.log.info('the parent holds the chain: requests are taken');
  }

  get anchored(): boolean {
    return this.notAnchoredWhy === null;
  }

  private assertAccepting(): void {
    if (this.fatal) throw new OperatorError('STORE_FAILED', `the operator stopped: ${this.fatal.message}`);
    if (this.expiredWhy !== null)
      throw new OperatorError(
        'EXPIRED',
        `the chain has expired (${this.expiredWhy}): it takes no transactions`,
      );
    if (this.notAnchoredWhy !== null)
      throw new OperatorError(
        'NOT_ANCHORED',
        `the chain is not anchored (${this.notAnchoredWhy}): it takes no transactions`,
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
      this.producer.pendingCount >= this.maxPending ||
      // The producer's bound counts a version 2 block's multiproof too.
      Math.max(this.accum.bytes, this.producer.pendingBytes) + LIMITS.txBytes > BLOCK_BYTE_BUDGET
    );
  }

  private count(kind: string, result: string): void {
    this.metrics?.requestsTotal.inc({ chain: this.label, kind, result });
  }

  /** Whether a failed request is one already accepted (a client retrying after an unknown outcome). */
  private duplicate(req: OperatorRequest, e: ChainError): Promise<SubmitResult | null> {
    return duplicateOf(req, e, this.producer.tree.get(req.start), this.producer.state.height + 1, (d) =>
      this.authorisation(d),
    );
  }

  /** Applies a request to the producer and records what it changed; throws ChainError and changes nothing. */
  private apply(req: OperatorRequest): Uint8Array {
    return applyRequest(this.producer, this.accum, req, {
      changed: (before, after) => this.owners.update(before, after),
      opened: (child) => this.children.set(toHex(child.chainId), child),
    });
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
    else if (this.publisher.behind) this.enqueuePublish();
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
    const done = written.then((outgoing) => this.publisher.queue(() => this.publish(job, outgoing)));
    // Callers that do not wait (the timer, a full block) must not leave a rejection unhandled: a failed write
    // has already stopped the service.
    done.catch(() => undefined);
    return { job, done };
  }

  /** Writes the block and moves the committed view; returns what the publishing policy sends at its height. */
  private async persist(job: Job): Promise<() => readonly Outgoing[]> {
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
    // Asked before the committed view moves on: a policy may build blocks on the state before this one.
    const outgoing = this.publishing.written({
      height: h,
      block: job.block,
      prev: job.prev,
      prevTree: this.committed.tree,
    });
    this.committed.advance(job.block.signed, job.state, a.dirty);
    this.sealing.shift();
    this.metrics?.blocksTotal.inc({ chain: this.label });
    this.metrics?.blockBuildSeconds.observe(
      { chain: this.label },
      Number(process.hrtime.bigint() - job.t0) / 1e9,
    );
    this.log.debug({ height: h, txs: job.block.txs.length }, 'block written');
    return outgoing;
  }

  /** Publishes a written block (after any the sink missed) and tells the listeners. */
  private async publish(job: Job, outgoing: () => readonly Outgoing[]): Promise<void> {
    // Blocks sealed while replaying the log at open are published by start().
    if (this.state === 'created') {
      this.publisher.behind = true;
      return;
    }
    await this.publisher.publishWritten(job.state.height, outgoing);
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
    this.publisher.catchUp(() => this.committed.state.height);
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
    return this.committed.lotteryLevel(point);
  }

  /** The same at an earlier sealed height (the EVM contract's last committed one); null if out of reach. */
  async lotteryLevelAt(point: bigint, height: number): Promise<{ header: SignedHeader; path: Path } | null> {
    if (height === this.committed.state.height) return this.lotteryLevel(point);
    // The head's contracts are copied before the first await: blocks sealed meanwhile do not reach the copy.
    const view = await treeAt(this.committed.tree.leaves(), this.committed.state.height, height, (h) =>
      this.store.block(h),
    );
    return view && { header: view.header, path: view.tree.lookupPath(point) };
  }

  contractView(start: bigint): ContractView {
    return contractView(this.chainId, this.producer.tree, this.committed, start);
  }

  /** Current contracts of an owner, in start order, after `after`, at most `limit`. */
  contractsByOwner(
    owner: Uint8Array,
    after: bigint | null,
    limit: number,
  ): { contracts: ContractJson[]; next: string | null } {
    return this.owners.page(this.producer.tree, owner, after, limit);
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
    if (height < 1 || height > this.committed.state.height) return undefined;
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
    return chainInfo(
      this.genesis,
      this.committed,
      {
        pendingTxs: this.producer.pendingCount,
        contracts: this.producer.tree.size,
        expired: this.expiredWhy !== null,
        expiredReason: this.expiredWhy,
        effectiveExpiry: this.effectiveExpiry,
        anchorHeight: this.anchorHeight,
        notAnchoredReason: this.notAnchoredWhy,
      },
      this.upstreamStatus ? this.upstreamStatus() : null,
    );
  }
}
