/**
 * The light validator runtime: one libp2p node, gossip on the block topics of every tracked chain and its
 * ancestors plus the evidence topic, request/response (status, blocks by range, evidence, genesis), backfill,
 * the validator's store, and the tracker that judges everything. Operators run the same component and publish
 * their blocks through it.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Registry } from 'prom-client';
import { bytesEqual } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { decodeBlock } from '../chain/block.js';
import type { SignedHeader } from '../chain/header.js';
import type { VerifiedEvidence } from '../chain/evidence.js';
import { verifyEvidence } from '../chain/evidence.js';
import { GossipValidationError } from '../p2p/errors.js';
import { routableAddress } from '../p2p/addresses.js';
import { GossipService } from '../p2p/gossip.js';
import { loadOrCreatePrivateKey } from '../p2p/identity.js';
import { createNetworkNode, type NetworkNode, type NetworkNodeOptions } from '../p2p/libp2p.js';
import { ReqRespService } from '../p2p/reqresp/reqresp.js';
import type { Status } from '../p2p/reqresp/messages.js';
import { blocksTopic, EVIDENCE_TOPIC } from '../p2p/topics.js';
import type { Logger } from '../runtime/logger.js';
import { Alerter } from './alerts.js';
import { chainLabel, createNodeMetrics, threadCpuSeconds, type NodeMetrics } from './metrics.js';
import { NodeStore, type ChainMeta } from './store.js';
import { Syncer, type SyncerSizes } from './sync.js';
import { Tracker, type Verdict } from '../light/tracker.js';
import { WatchService } from './watches.js';

export interface ValidatorOptions {
  readonly dataDir: string;
  readonly listen: string[];
  readonly announce?: string[];
  readonly bootstrap: string[];
  /** The trusted anchor's chain id; every tracked chain must descend from it. */
  readonly anchorId?: Uint8Array;
  /**
   * The anchor has no genesis record (the EVM contract, whose id names it): a chain naming it as parent is
   * top-level and its ancestry is complete. Unset, the anchor is a chain like any other (the devnet anchor) and is
   * followed as every chain's root.
   */
  readonly externalAnchor?: boolean;
  /** Chains to follow; their ancestors are followed too. */
  readonly track: Uint8Array[];
  /** Genesis records known in advance (otherwise fetched from peers and checked by hash). */
  readonly genesis: GenesisRecord[];
  /**
   * Chains this process operates: followed from the first block, before their ancestry is resolved, so every
   * block the operator publishes is judged, stored and served.
   */
  readonly own?: GenesisRecord[];
  readonly registry: Registry;
  readonly log: Logger;
  readonly syncIntervalMs?: number;
  readonly progressBar?: boolean;
  readonly maxMessageSize?: number;
  /** Extra network options (tests tune scoring and timing). */
  readonly network?: Partial<NetworkNodeOptions>;
  /**
   * Benchmark baselines only: gossiped blocks are accepted (relayed, stored, logged) after decoding and judged
   * by nothing ('accept-all'), or by their signatures alone ('signatures-only'); see Tracker.trustBlock. The
   * propagation benchmark compares both with full validation.
   */
  readonly baseline?: BenchBaseline;
  /** Peer exchange dials peers learned from others while the node has fewer connections than this. */
  readonly targetPeers?: number;
  /** Webhook for watch alerts (JSON POST); alerts are logged and counted without one. */
  readonly alertUrl?: string;
  readonly maxWatches?: number;
}

export type BlockSource = 'gossip' | 'sync' | 'local';

export type BenchBaseline = 'accept-all' | 'signatures-only';

/** The answer of GET /v1/health. */
export interface NodeHealth {
  readonly healthy: boolean;
  readonly reasons: string[];
  readonly peerId: string;
  readonly peers: number;
  readonly listen: string[];
  readonly chains: { chainId: string; height: number; peerHead: number; lag: number }[];
}

export class ValidatorNode {
  readonly tracker = new Tracker();
  readonly metrics: NodeMetrics;
  readonly alerts: Alerter;
  /** Watched contracts: paths kept current from every accepted block. */
  readonly watches: WatchService;
  private readonly store: NodeStore;
  private network!: NetworkNode;
  private gossip!: GossipService;
  private reqresp!: ReqRespService;
  private syncer!: Syncer;
  private readonly wanted: Uint8Array[];
  private resolveTimer: NodeJS.Timeout | null = null;
  private resolving = false;
  private started = false;
  /** Serialises block ingestion. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Block writes, in the order blocks were applied. The gossip verdict does not wait for them, so relaying never
   * waits on the disk; a block lost to a crash before its write is fetched again by backfill.
   */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly evidenceListeners: ((ev: VerifiedEvidence) => void)[] = [];
  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => this.syncer.forget(evt.detail);

  constructor(private readonly opts: ValidatorOptions) {
    this.metrics = createNodeMetrics(opts.registry);
    this.store = new NodeStore(join(opts.dataDir, 'validator-db'));
    this.wanted = [...opts.track];
    this.alerts = new Alerter({
      url: opts.alertUrl,
      log: opts.log.child({ component: 'alerts' }),
      registry: opts.registry,
    });
    this.watches = new WatchService({
      store: this.store,
      tracker: this.tracker,
      alerter: this.alerts,
      log: opts.log.child({ component: 'watch' }),
      registry: opts.registry,
      blocks: (id, start, count) => this.storedBlocks(id, start, count),
      serialize: (f) => this.serialized(f),
      write: (f) => this.write(f),
      maxWatches: opts.maxWatches,
    });
  }

  get peerId(): PeerId {
    return this.network.peerId;
  }

  multiaddrs(): string[] {
    return this.network.getMultiaddrs().map((m) => m.toString());
  }

  /**
   * Whether this node is fit to serve: listening, with at least `minPeers` peers, and on every tracked chain within
   * `maxLag` blocks of the best head its peers report. Each failed condition is a reason, said in words.
   */
  health(opts: { minPeers: number; maxLag: number }): NodeHealth {
    const listen = this.multiaddrs();
    const peers = this.connectedPeers().length;
    const reasons: string[] = [];
    if (listen.length === 0) reasons.push('not listening on any address');
    if (peers < opts.minPeers) reasons.push(`${peers} peers, fewer than ${opts.minPeers}`);
    else if (opts.minPeers > 0 && this.syncer.heardPeers() === 0)
      reasons.push('no peer has told us its heads yet');
    const chains = this.tracker.trackedIds().map((id) => {
      const height = this.tracker.state(id)?.height ?? 0;
      const peerHead = this.syncer.peerHead(id);
      const lag = Math.max(0, peerHead - height);
      if (lag > opts.maxLag)
        reasons.push(
          `chain ${toHex(id).slice(0, 16)} at ${height}, ${lag} blocks behind peers (${peerHead})`,
        );
      return { chainId: toHex(id), height, peerHead, lag };
    });
    if (chains.length === 0) reasons.push('no tracked chain');
    return { healthy: reasons.length === 0, reasons, peerId: this.peerId.toString(), peers, listen, chains };
  }

  connectedPeers(): PeerId[] {
    return this.network.getConnectedPeers();
  }

  /** How much the node holds about peers for sync: bounded by tracked chains times connected peers. */
  syncSizes(): SyncerSizes {
    return this.syncer.sizes();
  }

  meshPeers(chainId: Uint8Array): number {
    return this.gossip.getMeshPeers(blocksTopic(chainId)).length;
  }

  onEvidence(f: (ev: VerifiedEvidence) => void): void {
    this.evidenceListeners.push(f);
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    await mkdir(this.opts.dataDir, { recursive: true, mode: 0o700 });
    await this.store.open();
    await this.restore();
    await this.watches.restore();
    for (const g of this.opts.own ?? []) {
      if (this.tracker.isTracked(g.chainId)) continue;
      this.tracker.track(g);
      await this.store.putGenesis(g);
      await this.store.putMeta(g.chainId, this.metaOf(g.chainId)!);
    }
    const privateKey = await loadOrCreatePrivateKey(this.opts.dataDir);
    this.network = await createNetworkNode({
      listen: this.opts.listen,
      announce: this.opts.announce,
      bootstrap: this.opts.bootstrap,
      privateKey,
      maxMessageSize: this.opts.maxMessageSize,
      logger: log.child({ component: 'p2p' }),
      registry: this.opts.registry,
      ...this.opts.network,
    });
    this.gossip = new GossipService({
      node: this.network,
      registry: this.opts.registry,
      logger: log.child({ component: 'gossip' }),
    });
    this.reqresp = new ReqRespService({
      libp2p: this.network.libp2p,
      registry: this.opts.registry,
      logger: log.child({ component: 'reqresp' }),
      handlers: {
        status: async (peerStatus, peer) => {
          if (this.syncer.observe(peer, peerStatus)) this.syncer.request();
          return { ...this.ourStatus(), peers: await this.peerAddresses(peer.toString()) };
        },
        blocksByRange: (req) => this.serveBlocks(req.chainId, Number(req.startHeight), req.count),
        evidence: (req) => this.serveEvidence(req.chainId, req.ids, req.maxCount),
        genesis: (req) =>
          req.chainIds.map((id) => this.tracker.genesisOf(id)?.bytes).filter((b): b is Uint8Array => !!b),
      },
    });
    this.gossip.registerValidator('blocks', async (msg) => {
      if (msg.topic.kind !== 'blocks') throw GossipValidationError.reject('WRONG_TOPIC');
      toGossip(await this.ingest(msg.topic.chainId, msg.data, 'gossip', msg.from));
    });
    this.gossip.registerValidator('evidence', async (msg) =>
      toGossip(await this.ingestEvidence(msg.data, 'gossip')),
    );
    this.syncer = new Syncer({
      reqresp: this.reqresp,
      peers: () => this.network.getConnectedPeers(),
      tracked: () => this.tracker.trackedIds(),
      height: (id) => this.tracker.state(id)?.height ?? 0,
      ourStatus: () => this.ourStatus(),
      ingest: (id, b) => this.ingest(id, b, 'sync'),
      ingestEvidence: (e) => this.ingestEvidence(e, 'sync'),
      evidenceIntervalMs: 5000,
      log: log.child({ component: 'sync' }),
      metrics: this.metrics,
      intervalMs: this.opts.syncIntervalMs ?? 3000,
      batch: 32,
      progressBar: this.opts.progressBar ?? false,
      targetPeers: this.opts.targetPeers ?? 8,
      dial: (addr) => this.dial(addr),
    });
    await this.network.start();
    this.network.libp2p.addEventListener('peer:disconnect', this.onPeerDisconnect);
    this.syncer.selfIds.add(this.network.peerId.toString());
    await this.gossip.start();
    await this.reqresp.start();
    this.gossip.subscribe(EVIDENCE_TOPIC);
    for (const id of this.tracker.trackedIds()) this.gossip.subscribe(blocksTopic(id));
    this.started = true;
    this.syncer.start();
    this.resolveTimer = setInterval(() => void this.resolveAncestry(), 1000);
    this.resolveTimer.unref();
    await this.resolveAncestry();
    log.info({ peerId: this.peerId.toString(), listen: this.multiaddrs() }, 'validator started');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.resolveTimer) clearInterval(this.resolveTimer);
    await this.syncer.stop();
    this.network.libp2p.removeEventListener('peer:disconnect', this.onPeerDisconnect);
    await this.queue.catch(() => undefined);
    await this.writes;
    await this.watches
      .checkpoint()
      .catch((e: unknown) => this.opts.log.error({ err: e }, 'watch checkpoint failed'));
    await this.alerts.stop();
    await this.reqresp.stop();
    await this.gossip.stop();
    await this.network.stop();
    await this.store.close();
  }

  /** Loads what the node knew before a restart: genesis records, tracked chains at their heads, evidence. */
  private async restore(): Promise<void> {
    for (const g of this.opts.genesis) {
      this.tracker.learn(g);
      await this.store.putGenesis(g);
    }
    for (const g of await this.store.genesis()) this.tracker.learn(g);
    for (const g of this.tracker.knownGenesis()) {
      const meta = await this.store.meta(g.chainId);
      if (!meta) continue;
      const recent = await this.store.recentHeaders(g.chainId, meta.height, 1024);
      const head = recent.length ? recent[recent.length - 1] : null;
      this.tracker.track(g, { head, recent, anchoredHeight: meta.anchoredHeight, faulty: meta.faulty });
      this.observeChain(g.chainId);
    }
    for (const e of await this.store.evidence()) {
      try {
        this.tracker.restoreEvidence(verifyEvidence(e, this.tracker.genesisOf));
      } catch {
        // Evidence whose genesis records are gone cannot be re-checked; it stays on disk for the API.
      }
    }
  }

  /**
   * Resolves the ancestry of every chain the node was asked to track: genesis records from config, the store,
   * parents' open-child transactions, or peers (checked by hash), up to the trusted anchor. Chains whose
   * ancestry is complete are tracked, subscribed and synced, ancestors first.
   */
  private async resolveAncestry(): Promise<void> {
    if (this.resolving || !this.started) return;
    this.resolving = true;
    try {
      for (const id of this.wanted) {
        const missing = this.missingAncestor(id);
        if (missing) {
          await this.fetchGenesis(missing);
          continue;
        }
        const external = this.externalAnchorId();
        const chain = this.tracker.ancestry(id, external)!;
        const root = chain[chain.length - 1];
        const a = this.opts.anchorId;
        if (
          a &&
          !bytesEqual(root.chainId, a) &&
          !(external && bytesEqual(root.genesis.parentChain, external))
        ) {
          this.opts.log.error(
            { chain: toHex(id), anchor: toHex(root.chainId) },
            'chain does not descend from the trusted anchor: not tracked',
          );
          continue;
        }
        for (const g of [...chain].reverse()) await this.startTracking(g);
      }
    } finally {
      this.resolving = false;
    }
  }

  private missingAncestor(id: Uint8Array): Uint8Array | null {
    let cur: Uint8Array = id;
    for (let i = 0; i < 64; i++) {
      const g = this.tracker.genesisOf(cur);
      if (!g) return cur;
      if (isAnchor(g.genesis)) return null;
      // A top-level chain of an anchor without a genesis record (the EVM contract): its ancestry is complete.
      const external = this.externalAnchorId();
      if (external && bytesEqual(g.genesis.parentChain, external)) return null;
      cur = g.genesis.parentChain;
    }
    return null;
  }

  private async fetchGenesis(id: Uint8Array): Promise<void> {
    for (const peer of this.network.getConnectedPeers()) {
      try {
        const items = await this.reqresp.genesis(peer, { chainIds: [id] }, { timeoutMs: 5000 });
        for (const bytes of items) {
          const rec = decodeGenesis(bytes);
          if (!bytesEqual(rec.chainId, id)) continue;
          this.tracker.learn(rec);
          await this.store.putGenesis(rec);
          return;
        }
      } catch (e) {
        this.opts.log.debug({ peer: peer.toString(), err: (e as Error).message }, 'genesis request failed');
      }
    }
  }

  private async startTracking(g: GenesisRecord): Promise<void> {
    if (this.tracker.isTracked(g.chainId)) return;
    this.tracker.track(g);
    await this.store.putGenesis(g);
    await this.store.putMeta(g.chainId, this.metaOf(g.chainId)!);
    this.gossip.subscribe(blocksTopic(g.chainId));
    this.observeChain(g.chainId);
    this.opts.log.info({ chain: toHex(g.chainId), chainName: g.genesis.name }, 'tracking chain');
    this.syncer.request();
  }

  /** What the store keeps of a tracked chain, read off the tracker (undefined for an untracked chain). */
  private metaOf(chainId: Uint8Array): ChainMeta | undefined {
    const v = this.tracker.view(chainId);
    const s = this.tracker.state(chainId);
    return v && s ? { height: s.height, anchoredHeight: v.anchoredHeight, faulty: v.faulty } : undefined;
  }

  private observeChain(chainId: Uint8Array): void {
    const label = chainLabel(toHex(chainId));
    const v = this.tracker.view(chainId);
    this.metrics.height.set({ chain: label }, this.tracker.state(chainId)?.height ?? 0);
    this.metrics.anchoredHeight.set({ chain: label }, v?.anchoredHeight ?? 0);
    this.metrics.faulty.set({ chain: label }, v?.faulty ? 1 : 0);
  }

  /** A routable listen address of each connected peer other than the asking one, for peer exchange. */
  private async peerAddresses(except: string): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.network.getConnectedPeers()) {
      const id = p.toString();
      if (id === except) continue;
      const known = await this.network.libp2p.peerStore.get(p).catch(() => null);
      const remote = this.network.libp2p.getConnections(p)[0]?.remoteAddr.toString();
      const addr = routableAddress(known?.addresses.map((a) => a.multiaddr.toString()) ?? [], remote);
      if (addr) out.push(`${addr}/p2p/${id}`);
      if (out.length >= 16) break;
    }
    return out;
  }

  private ourStatus(): Status {
    return {
      heads: this.tracker.trackedIds().map((id) => {
        const s = this.tracker.state(id)!;
        return { chainId: id, height: BigInt(s.height), headHash: s.height ? s.headHash : new Uint8Array(0) };
      }),
    };
  }

  private async *serveBlocks(chainId: Uint8Array, start: number, count: number): AsyncGenerator<Uint8Array> {
    await this.writes;
    yield* await this.store.blocks(chainId, start, Math.min(count, 64));
  }

  private serveEvidence(chainId: Uint8Array, ids: Uint8Array[], max: number): Uint8Array[] {
    const all = this.tracker.evidence().filter((e) => bytesEqual(e.chainId, chainId));
    const pick = ids.length ? all.filter((e) => ids.some((id) => bytesEqual(id, e.id))) : all;
    return pick.slice(0, Math.max(max, ids.length)).map((e) => e.bytes);
  }

  /** Queues a store write behind the earlier ones. */
  private write(f: () => Promise<void>): void {
    this.writes = this.writes
      .then(f)
      .catch((e: unknown) => this.opts.log.error({ err: e }, 'store write failed'));
  }

  /** Judges one block and applies what follows: persistence, evidence, discovered chains, sync. */
  ingest(chainId: Uint8Array, bytes: Uint8Array, source: BlockSource, from?: PeerId): Promise<Verdict> {
    const seen = performance.now();
    return this.serialized(() => this.ingestNow(chainId, bytes, source, from, seen));
  }

  /** Runs `f` in the block ingestion order, so no block is applied while it runs. */
  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ingestNow(
    chainId: Uint8Array,
    bytes: Uint8Array,
    source: BlockSource,
    from: PeerId | undefined,
    seen: number,
  ): Promise<Verdict> {
    const start = performance.now();
    const cpu0 = threadCpuSeconds();
    const { baseline } = this.opts;
    const out =
      baseline && source === 'gossip'
        ? this.tracker.trustBlock(chainId, bytes, { signatures: baseline === 'signatures-only' })
        : this.tracker.onBlock(chainId, bytes);
    const done = performance.now();
    this.metrics.judgeCpuSeconds.observe({ source }, threadCpuSeconds() - cpu0);
    this.metrics.validationSeconds.observe({ source }, (done - start) / 1000);
    this.metrics.queueWaitSeconds.observe({ source }, (start - seen) / 1000);
    this.metrics.delaySeconds.observe({ source }, (done - seen) / 1000);
    const label = chainLabel(toHex(chainId));
    this.metrics.blocks.inc({
      chain: label,
      result: out.verdict.result,
      code: out.verdict.code ?? 'ok',
      source,
    });
    if (out.accepted) {
      const meta = this.metaOf(chainId)!;
      const signed = out.accepted.block.signed;
      this.write(() => this.store.putBlock(chainId, meta.height, bytes, signed, meta));
      // Gossip, backfill and local blocks all pass here: watched paths follow every accepted block.
      this.watches.onBlock(chainId, meta.height, out.accepted.block.txs, out.accepted.txs);
      this.opts.log.debug({ chain: label, height: meta.height, source }, 'block accepted');
    } else if (out.verdict.result === 'reject') {
      this.opts.log.info({ chain: label, code: out.verdict.code, source }, 'block rejected');
    }
    for (const g of out.discovered) await this.store.putGenesis(g);
    for (const id of out.anchored) {
      const meta = this.metaOf(id)!;
      this.write(() => this.store.putMeta(id, meta));
      this.observeChain(id);
    }
    for (const ev of out.evidence) await this.onNewEvidence(ev, 'found');
    this.observeChain(chainId);
    if (out.behind) {
      if (from && out.aheadHeight !== undefined) this.syncer.noteHead(from, chainId, out.aheadHeight);
      else this.syncer.request();
    }
    return out.verdict;
  }

  /** Judges evidence from gossip or the API; new valid evidence is stored, logged and relayed. */
  async ingestEvidence(bytes: Uint8Array, source: 'gossip' | 'api' | 'sync'): Promise<Verdict> {
    const r = this.tracker.onEvidence(bytes);
    if (r.isNew && r.evidence) await this.onNewEvidence(r.evidence, source);
    return r.verdict;
  }

  private async onNewEvidence(
    ev: VerifiedEvidence,
    source: 'found' | 'gossip' | 'api' | 'sync',
  ): Promise<void> {
    await this.store.putEvidence(ev.id, ev.bytes);
    const meta = this.metaOf(ev.chainId);
    if (meta) this.write(() => this.store.putMeta(ev.chainId, meta));
    this.metrics.evidence.inc({ kind: ev.kind, source });
    this.observeChain(ev.chainId);
    this.opts.log.warn(
      { kind: ev.kind, chain: toHex(ev.chainId), height: ev.height, id: toHex(ev.id), source },
      'double-spend evidence',
    );
    // Evidence found here or handed in is published once; gossip relays what arrived by gossip.
    if (source === 'found' || source === 'api')
      await this.gossip.publish(EVIDENCE_TOPIC, ev.bytes).catch(() => 0);
    this.watches.onEvidence(ev);
    for (const f of this.evidenceListeners) f(ev);
  }

  /**
   * Publishes a block produced in this process (an operator). It is judged like any other block first, so an
   * operator can never gossip what its own validator rejects; `raw` skips that (fault injection only).
   */
  async publishBlock(chainId: Uint8Array, bytes: Uint8Array, opts: { raw?: boolean } = {}): Promise<Verdict> {
    let verdict: Verdict = { result: 'accept' };
    if (!opts.raw) {
      verdict = await this.ingest(chainId, bytes, 'local');
      if (verdict.result !== 'accept') return verdict;
    }
    await this.gossip.publish(blocksTopic(chainId), bytes);
    return verdict;
  }

  /** Tracks a chain (and its ancestors) from now on. */
  async follow(chainId: Uint8Array, genesis?: GenesisRecord[]): Promise<void> {
    for (const g of genesis ?? []) {
      this.tracker.learn(g);
      await this.store.putGenesis(g);
    }
    if (!this.wanted.some((w) => bytesEqual(w, chainId))) this.wanted.push(chainId);
    await this.resolveAncestry();
  }

  /** Devnet only: drops every connection and refuses peers for `ms`, as a network partition would. */
  async partition(ms: number): Promise<number> {
    const peers = this.network.getConnectedPeers();
    await Promise.all(peers.map((p) => this.network.ban(p, 'devnet partition', ms)));
    this.opts.log.warn({ ms, peers: peers.length }, 'partitioned (devnet)');
    return peers.length;
  }

  async dial(addr: string): Promise<void> {
    await this.network.dial(multiaddr(addr));
  }

  private externalAnchorId(): Uint8Array | undefined {
    return this.opts.externalAnchor ? this.opts.anchorId : undefined;
  }

  /** An external anchor (the EVM contract) confirmed the chain's header at `height`: persisted and exported. */
  markAnchored(chainId: Uint8Array, height: number): void {
    if (!this.tracker.markAnchored(chainId, height)) return;
    const meta = this.metaOf(chainId)!;
    this.write(() => this.store.putMeta(chainId, meta));
    this.observeChain(chainId);
  }

  /** The signed header of the block this node accepted at `height`, if it holds that block. */
  async headerAt(chainId: Uint8Array, height: number): Promise<SignedHeader | undefined> {
    if (height < 1) return undefined;
    const [b] = await this.storedBlocks(chainId, height, 1);
    return b ? decodeBlock(b).signed : undefined;
  }

  evidenceList(): VerifiedEvidence[] {
    return this.tracker.evidence();
  }

  async storedBlocks(chainId: Uint8Array, start: number, count: number): Promise<Uint8Array[]> {
    await this.writes;
    return this.store.blocks(chainId, start, count);
  }
}

function toGossip(v: Verdict): void {
  if (v.result === 'accept') return;
  const code = v.code ?? 'unknown';
  throw v.result === 'ignore' ? GossipValidationError.ignore(code) : GossipValidationError.reject(code);
}
