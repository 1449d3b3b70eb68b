/**
 * The light validator runtime: one libp2p node, gossip on the block topics of every tracked chain and its
 * ancestors plus the evidence topic, request/response (status, blocks by range, evidence, genesis), backfill,
 * the validator's store, and the tracker that judges everything. Operators run the same component and publish
 * their blocks through it. This file wires the rooms: ingest.ts judges and persists, ancestry.ts decides which
 * chains are followed, serve.ts answers requests, sync.ts backfills.
 */
import { ChainDiscovery } from './discovery.js';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Registry } from 'prom-client';
import { toHex } from '../codec/bytes.js';
import { ACCEPT, reject } from '../codec/verdict.js';
import type { GenesisRecord } from '../chain/genesis.js';
import { decodeBlock } from '../chain/block.js';
import type { SignedHeader } from '../chain/header.js';
import type { VerifiedEvidence } from '../chain/evidence.js';
import { verifyEvidence } from '../chain/evidence.js';
import { GossipService } from '../p2p/gossip.js';
import { loadOrCreatePrivateKey } from '../p2p/identity.js';
import { createNetworkNode, type NetworkNode, type NetworkNodeOptions } from '../p2p/libp2p.js';
import { ReqRespService } from '../p2p/reqresp/reqresp.js';
import { blocksTopic, EVIDENCE_TOPIC } from '../p2p/topics.js';
import type { Logger } from '../runtime/logger.js';
import { Alerter } from './alerts.js';
import { AncestryResolver } from './ancestry.js';
import { Ingest, metaOf, type BlockJudge, type BlockSource } from './ingest.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { serveHandlers, statusPages } from './serve.js';
import { NodeStore } from './store.js';
import { Syncer, type SyncerSizes } from './sync.js';
import { Tracker, type ChainStatus, type Verdict } from '../light/tracker.js';
import { WatchService } from './watches.js';

export type { BlockJudge, BlockSource } from './ingest.js';

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
   * What judges each block (default: full validation, judgeBlock). The propagation benchmark injects its baselines
   * here (src/app/baseline.ts), so the production path holds no branch for them.
   */
  readonly judge?: BlockJudge;
  /** Peer exchange dials peers learned from others while the node has fewer connections than this. */
  readonly targetPeers?: number;
  /** Webhook for watch alerts (JSON POST); alerts are logged and counted without one. */
  readonly alertUrl?: string;
  readonly maxWatches?: number;
  /** The bound of what watches may hold, in bytes (watches.ts, watchBytes). */
  readonly maxWatchBytes?: number;
  /** Chains (and their block topics) with metric series of their own (default 32, src/node/metrics.ts). */
  readonly metricChains?: number;
}

/** The answer of GET /v1/health. */
export interface NodeHealth {
  readonly healthy: boolean;
  readonly reasons: string[];
  readonly peerId: string;
  readonly peers: number;
  readonly listen: string[];
  /** `peers`: connected peers that told us their head of the chain. */
  readonly chains: { chainId: string; height: number; peerHead: number; lag: number; peers: number }[];
}

export class ValidatorNode {
  readonly tracker = new Tracker();
  readonly metrics: NodeMetrics;
  readonly alerts: Alerter;
  /** Watched contracts: paths kept current from every accepted block. */
  readonly watches: WatchService;
  private readonly store: NodeStore;
  private readonly intake: Ingest;
  private readonly ancestry: AncestryResolver;
  private network!: NetworkNode;
  private gossip!: GossipService;
  private reqresp!: ReqRespService;
  private syncer!: Syncer;
  private resolveTimer: NodeJS.Timeout | null = null;
  private discovery: ChainDiscovery | null = null;
  private started = false;
  private readonly evidenceListeners: ((ev: VerifiedEvidence) => void)[] = [];
  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => this.syncer.forget(evt.detail);
  /** The anchor's height for expiry checks: the tracked devnet anchor's head unless set (the EVM head). */
  private anchorHeightSource: () => number | null = () => this.tracker.anchorChainHeight();
  /** Per chain: its height when an ancestor was first seen expired, and whether it is flagged an orphan. */
  private readonly parentExpiredAt = new Map<string, number>();
  private readonly orphans = new Set<string>();
  /** Blocks accepted, and what checkLineage last saw: a chain's line changes only with a block or the anchor. */
  private accepted = 0;
  private lineageSeen = '';

  constructor(private readonly opts: ValidatorOptions) {
    this.metrics = createNodeMetrics(opts.registry, opts.metricChains);
    this.store = new NodeStore(join(opts.dataDir, 'validator-db'));
    this.alerts = new Alerter({
      url: opts.alertUrl,
      log: opts.log.child({ component: 'alerts' }),
      registry: opts.registry,
    });
    this.intake = new Ingest({
      tracker: this.tracker,
      store: this.store,
      metrics: this.metrics,
      log: opts.log,
      judge: opts.judge,
      onAccepted: (id, height, txBytes, txs) => {
        this.accepted++;
        this.watches.onBlock(id, height, txBytes, txs);
      },
      onEvidence: (ev) => {
        this.watches.onEvidence(ev);
        for (const f of this.evidenceListeners) f(ev);
      },
      publishEvidence: (bytes) => this.gossip.publish(EVIDENCE_TOPIC, bytes),
      behind: (id, from, height) => {
        if (from && height !== undefined) this.syncer.noteHead(from, id, height);
        else this.syncer.request();
      },
    });
    this.watches = new WatchService({
      store: this.store,
      tracker: this.tracker,
      alerter: this.alerts,
      log: opts.log.child({ component: 'watch' }),
      registry: opts.registry,
      blocks: (id, start, count) => this.storedBlocks(id, start, count),
      serialize: (f) => this.intake.serialized(f),
      write: (f) => this.intake.write(f),
      maxWatches: opts.maxWatches,
      maxWatchBytes: opts.maxWatchBytes,
    });
    this.ancestry = new AncestryResolver({
      tracker: this.tracker,
      store: this.store,
      log: opts.log,
      track: opts.track,
      anchorId: opts.anchorId,
      externalAnchor: opts.externalAnchor,
      peers: () => this.network.getConnectedPeers(),
      requestGenesis: (peer, id) => this.reqresp.genesis(peer, { chainIds: [id] }, { timeoutMs: 5000 }),
      onTracked: async (g) => {
        await this.store.putGenesis(g);
        await this.store.putMeta(g.chainId, metaOf(this.tracker, g.chainId)!);
        this.gossip.subscribe(blocksTopic(g.chainId));
        this.intake.observe(g.chainId);
        this.opts.log.info({ chain: toHex(g.chainId), chainName: g.genesis.name }, 'tracking chain');
        this.syncer.request();
      },
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
    const own = new Set((this.opts.own ?? []).map((g) => toHex(g.chainId)));
    const untold: string[] = [];
    const chains = this.tracker.trackedIds().map((id) => {
      const hex = toHex(id);
      const height = this.tracker.state(id)?.height ?? 0;
      const peerHead = this.syncer.peerHead(id);
      const told = this.syncer.reporters(id);
      const lag = Math.max(0, peerHead - height);
      if (lag > opts.maxLag)
        reasons.push(`chain ${hex.slice(0, 16)} at ${height}, ${lag} blocks behind peers (${peerHead})`);
      // Nobody has told us this chain's head: we cannot know whether we are behind (issue 28: a node whose
      // status never got through answered healthy with every chain at height 0). A chain operated here is its own
      // source, and a node told it needs no peers has nobody to hear from.
      if (told === 0 && opts.minPeers > 0 && peers > 0 && !own.has(hex)) untold.push(hex.slice(0, 16));
      return { chainId: hex, height, peerHead, lag, peers: told };
    });
    if (untold.length > 0)
      reasons.push(
        `${untold.length} chain(s) no connected peer has told us about: ${untold.slice(0, 8).join(', ')}` +
          (untold.length > 8 ? `, and ${untold.length - 8} more` : ''),
      );
    if (chains.length === 0) reasons.push('no tracked chain');
    for (const c of this.checkLineage()) {
      const id = c.chainId.slice(0, 16);
      if (c.orphanOf)
        reasons.push(
          `chain ${id} is an orphan: its parent's contract holds chain ${c.orphanOf.slice(0, 16)}, so nothing ` +
            'on it can ever be anchored',
        );
      const at = this.parentExpiredAt.get(c.chainId);
      if (c.parentExpired && at !== undefined && c.height > at)
        reasons.push(
          `chain ${id} sealed blocks after its parent expired (expiry ${c.effectiveExpiry}, height ${at} then, ` +
            `${c.height} now)`,
        );
    }
    return { healthy: reasons.length === 0, reasons, peerId: this.peerId.toString(), peers, listen, chains };
  }

  /** Where the anchor's height comes from for expiry checks (the EVM anchor: its watcher's head). */
  setAnchorHeight(f: () => number | null): void {
    this.anchorHeightSource = f;
  }

  /** Every tracked chain with its line's state (GET /v1/status). */
  chainStatus(): ChainStatus[] {
    return this.tracker.status(this.anchorHeightSource(), this.ancestry.externalAnchorId);
  }

  /**
   * Flags chains that sell what can never win (issue 27): one whose parent's contract holds another chain
   * (`orphan`), and one an ancestor of which is past its expiry (`parent-expired`). Each is raised once per chain
   * through the Alerter, and shown by the gauges sortition_chain_orphan and sortition_chain_parent_expired; health
   * reports an orphan, and a chain whose height still rises after its parent expired.
   */
  checkLineage(): ChainStatus[] {
    const all = this.chainStatus();
    this.metrics.chainsTracked.set(all.length);
    for (const c of all) {
      const label = this.metrics.chain(c.chainId);
      if (label !== undefined) {
        this.metrics.orphan.set({ chain: label }, c.orphanOf ? 1 : 0);
        this.metrics.parentExpired.set({ chain: label }, c.parentExpired ? 1 : 0);
      }
      const watches = () => this.watches.list({ chainId: c.chainId, limit: 100 }).map((w) => w.id);
      if (c.orphanOf && !this.orphans.has(c.chainId)) {
        this.orphans.add(c.chainId);
        this.alerts.raise({
          kind: 'orphan',
          chainId: c.chainId,
          height: c.height,
          parentChain: c.parentId ?? undefined,
          heldChain: c.orphanOf,
          watches: watches(),
        });
      }
      if (c.parentExpired && !this.parentExpiredAt.has(c.chainId)) {
        this.parentExpiredAt.set(c.chainId, c.height);
        this.alerts.raise({
          kind: 'parent-expired',
          chainId: c.chainId,
          height: c.height,
          parentChain: c.parentId ?? undefined,
          expiry: c.effectiveExpiry,
          watches: watches(),
        });
      }
    }
    return all;
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
      await this.store.putMeta(g.chainId, metaOf(this.tracker, g.chainId)!);
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
      metricTopics: this.opts.metricChains,
      ...this.opts.network,
    });
    this.gossip = new GossipService({
      node: this.network,
      registry: this.opts.registry,
      logger: log.child({ component: 'gossip' }),
      maxTopicSeries: this.opts.metricChains,
    });
    this.reqresp = new ReqRespService({
      libp2p: this.network.libp2p,
      registry: this.opts.registry,
      logger: log.child({ component: 'reqresp' }),
      handlers: serveHandlers({
        tracker: this.tracker,
        network: () => this.network,
        blocks: (id, start, count) => this.storedBlocks(id, start, count),
        observe: (peer, status) => {
          if (this.syncer.observe(peer, status)) this.syncer.request();
        },
      }),
    });
    this.gossip.registerValidator('blocks', async (msg) =>
      msg.topic.kind === 'blocks'
        ? this.ingest(msg.topic.chainId, msg.data, 'gossip', msg.from)
        : reject('WRONG_TOPIC'),
    );
    this.gossip.registerValidator('evidence', (msg) => this.ingestEvidence(msg.data, 'gossip'));
    this.syncer = new Syncer({
      reqresp: this.reqresp,
      peers: () => this.network.getConnectedPeers(),
      tracked: () => this.tracker.trackedIds(),
      height: (id) => this.tracker.state(id)?.height ?? 0,
      statusPages: () => statusPages(this.tracker),
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
    const finder = this.network.chains;
    this.discovery = finder
      ? new ChainDiscovery({
          finder,
          tracked: () => this.tracker.trackedIds(),
          meshPeers: (id) => this.meshPeers(id),
        }).start()
      : null;
    this.resolveTimer = setInterval(() => {
      void this.resolveAncestry();
      // The line of every chain, each second, was 3.5% of a core at 1,000 chains: only when something changed.
      const seen = `${this.accepted}/${this.tracker.trackedIds().length}/${this.anchorHeightSource()}`;
      if (seen !== this.lineageSeen) {
        this.lineageSeen = seen;
        this.checkLineage();
      }
    }, 1000);
    this.resolveTimer.unref();
    await this.resolveAncestry();
    log.info({ peerId: this.peerId.toString(), listen: this.multiaddrs() }, 'validator started');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.resolveTimer) clearInterval(this.resolveTimer);
    await this.discovery?.stop();
    await this.syncer.stop();
    this.network.libp2p.removeEventListener('peer:disconnect', this.onPeerDisconnect);
    await this.intake.drain();
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
      this.tracker.track(g, {
        head,
        recent,
        anchoredHeight: meta.anchoredHeight,
        faulty: meta.faulty,
        holds: meta.holds,
      });
      this.intake.observe(g.chainId);
    }
    for (const e of await this.store.evidence()) {
      try {
        this.tracker.restoreEvidence(verifyEvidence(e, this.tracker.genesisOf));
      } catch {
        // Evidence whose genesis records are gone cannot be re-checked; it stays on disk for the API.
      }
    }
  }

  /** Tracks, subscribes and syncs every wanted chain whose ancestry is complete (src/node/ancestry.ts). */
  private async resolveAncestry(): Promise<void> {
    if (this.started) await this.ancestry.resolve();
  }

  /** Judges one block and applies what follows: persistence, evidence, discovered chains, sync. */
  ingest(chainId: Uint8Array, bytes: Uint8Array, source: BlockSource, from?: PeerId): Promise<Verdict> {
    return this.intake.block(chainId, bytes, source, from);
  }

  /** Judges evidence from gossip or the API; new valid evidence is stored, logged and relayed. */
  ingestEvidence(bytes: Uint8Array, source: 'gossip' | 'api' | 'sync'): Promise<Verdict> {
    return this.intake.evidence(bytes, source);
  }

  /**
   * Publishes a block produced in this process (an operator). It is judged like any other block first, so an
   * operator can never gossip what its own validator rejects; `raw` skips that (fault injection only).
   */
  async publishBlock(chainId: Uint8Array, bytes: Uint8Array, opts: { raw?: boolean } = {}): Promise<Verdict> {
    let verdict: Verdict = ACCEPT;
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
    this.ancestry.want(chainId);
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

  /** An external anchor (the EVM contract) confirmed the chain's header at `height`: persisted and exported. */
  markAnchored(chainId: Uint8Array, height: number): void {
    if (this.tracker.markAnchored(chainId, height)) this.intake.saveMeta(chainId);
  }

  /** The external anchor no longer holds the chain's commits above `height` (an EVM reorg): persisted and exported. */
  unanchorAbove(chainId: Uint8Array, height: number): void {
    if (this.tracker.unanchorAbove(chainId, height)) this.intake.saveMeta(chainId);
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
    await this.intake.written();
    return this.store.blocks(chainId, start, count);
  }
}
