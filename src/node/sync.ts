/**
 * Backfill: learns peers' heads through the status protocol (asking, and from peers that ask us), and fetches
 * missing blocks by range, oldest first, through the same ingestion path as gossip. Runs on start, whenever a
 * block from the future shows the node is behind, and on a timer as a fallback. A progress bar on a terminal,
 * progress logs otherwise.
 *
 * Peer identities cost nothing, so what peers tell us is kept only while it can matter: heads of tracked chains
 * of connected peers (forgotten on disconnect, and swept each round), and a bounded list of addresses to dial.
 */
import type { PeerId } from '@libp2p/interface';
import cliProgress from 'cli-progress';
import { toHex } from '../crypto/hash.js';
import type { ReqRespService } from '../p2p/reqresp/reqresp.js';
import type { Status } from '../p2p/reqresp/messages.js';
import type { Logger } from '../runtime/logger.js';
import type { NodeMetrics } from './metrics.js';
import type { Verdict } from '../light/tracker.js';

export interface SyncDeps {
  readonly reqresp: ReqRespService;
  readonly peers: () => PeerId[];
  readonly tracked: () => Uint8Array[];
  readonly height: (chainId: Uint8Array) => number;
  /** Our heads in status pages (serve.ts statusPages): a status message carries at most 64. */
  readonly statusPages: () => Status[];
  readonly ingest: (chainId: Uint8Array, block: Uint8Array) => Promise<Verdict>;
  /** Evidence fetched from peers goes through the same checks as evidence from gossip. */
  readonly ingestEvidence: (evidence: Uint8Array) => Promise<Verdict>;
  /** How often each chain's evidence is compared with a peer's. */
  readonly evidenceIntervalMs: number;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  readonly intervalMs: number;
  /** Blocks asked for in one request. */
  readonly batch: number;
  readonly progressBar: boolean;
  /** Peer exchange: dials addresses peers told us about while below this many connections. */
  readonly targetPeers: number;
  readonly dial: (addr: string) => Promise<void>;
}

interface PeerHead {
  readonly height: number;
  readonly at: number;
}

/** Addresses learned by peer exchange kept for dialing at most (a status response names up to 16). */
const MAX_CANDIDATES = 64;

/**
 * Status pages sent to a peer in one poll once it has had every page once. Gossip tells us about new blocks
 * (noteHead); the poll is the fallback, so its cost per poll stays fixed however many chains we follow, and a
 * full sweep takes pages / 4 polls (4 polls at 1,000 chains).
 */
export const STATUS_PAGES_PER_POLL = 4;

/** Chains whose evidence is fetched from a peer per evidence interval at most (syncEvidence). */
export const EVIDENCE_CHAINS_PER_ROUND = 8;

/** How much the syncer holds about peers (tests and debugging). */
export interface SyncerSizes {
  /** Chains with a reported head. */
  readonly chains: number;
  /** (chain, peer) heads held. */
  readonly heads: number;
  /** Peers known by id. */
  readonly peers: number;
  /** Addresses waiting to be dialed. */
  readonly candidates: number;
}

export class Syncer {
  /** chain hex -> peer id -> reported head */
  private readonly heads = new Map<string, Map<string, PeerHead>>();
  private readonly peerById = new Map<string, PeerId>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private lastStatusPoll = 0;
  private readonly candidates = new Set<string>();
  /** Per connected peer: the next status page to send, and whether it has had every page once. */
  private readonly statusCursor = new Map<string, { next: number; swept: boolean }>();
  private readonly evidenceAskedAt = new Map<string, number>();
  private lastEvidenceRound = 0;
  /** Our own peer id, never dialed. */
  readonly selfIds = new Set<string>();

  /** The tracked chains by hex, rebuilt only when their number changes (chains are never untracked). */
  private trackedCache: { n: number; byHex: Map<string, Uint8Array>; order: Map<string, number> } = {
    n: -1,
    byHex: new Map(),
    order: new Map(),
  };

  constructor(private readonly d: SyncDeps) {}

  /** Tracked chains by hex id: every round and every status page asks, and hex costs at 1,000 chains. */
  private tracked(): ReadonlyMap<string, Uint8Array> {
    const ids = this.d.tracked();
    if (ids.length !== this.trackedCache.n)
      this.trackedCache = {
        n: ids.length,
        byHex: new Map(ids.map((id) => [toHex(id), id])),
        order: new Map(ids.map((id, i) => [toHex(id), i])),
      };
    return this.trackedCache.byHex;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.request(), this.d.intervalMs);
    this.timer.unref();
    this.request();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * What a peer told us about its heads (from its status request or our status request). Only heads of chains
   * we track are kept: any other chain id is a peer's word about something we neither sync nor serve.
   */
  observe(peer: PeerId, status: Status): boolean {
    let ahead = false;
    const now = Date.now();
    const tracked = this.tracked();
    for (const h of status.heads) {
      const k = toHex(h.chainId);
      if (!tracked.has(k)) continue;
      let m = this.heads.get(k);
      if (!m) this.heads.set(k, (m = new Map()));
      const height = Number(h.height);
      m.set(peer.toString(), { height, at: now });
      this.peerById.set(peer.toString(), peer);
      if (height > this.d.height(h.chainId)) ahead = true;
    }
    return ahead;
  }

  /** How many connected peers have told us their heads: until one has, nobody knows whether we are behind. */
  heardPeers(): number {
    return this.d.peers().filter((p) => this.peerById.has(p.toString())).length;
  }

  /** The highest head that a connected peer reported for a chain (0 when none did). */
  peerHead(chainId: Uint8Array): number {
    const connected = new Set(this.d.peers().map((p) => p.toString()));
    let best = 0;
    for (const [p, h] of this.heads.get(toHex(chainId)) ?? [])
      if (connected.has(p) && h.height > best) best = h.height;
    return best;
  }

  /** How many connected peers have told us their head of a chain (a status head, or a block from beyond ours). */
  reporters(chainId: Uint8Array): number {
    const m = this.heads.get(toHex(chainId));
    if (!m) return 0;
    let n = 0;
    for (const p of this.d.peers()) if (m.has(p.toString())) n++;
    return n;
  }

  /** A peer disconnected: what it reported no longer helps (a reconnect is asked again). */
  forget(peer: PeerId | string): void {
    const id = peer.toString();
    this.peerById.delete(id);
    this.statusCursor.delete(id);
    for (const [k, m] of this.heads) {
      m.delete(id);
      if (m.size === 0) this.heads.delete(k);
    }
  }

  sizes(): SyncerSizes {
    let heads = 0;
    for (const m of this.heads.values()) heads += m.size;
    return { chains: this.heads.size, heads, peers: this.peerById.size, candidates: this.candidates.size };
  }

  /**
   * A peer relayed a (signed) block from beyond our head: it has at least that height, so backfill from it now
   * rather than after the next status poll.
   */
  noteHead(peer: PeerId, chainId: Uint8Array, height: number): void {
    const k = toHex(chainId);
    if (!this.tracked().has(k)) return;
    let m = this.heads.get(k);
    if (!m) this.heads.set(k, (m = new Map()));
    const prev = m.get(peer.toString());
    if (!prev || prev.height < height) m.set(peer.toString(), { height, at: Date.now() });
    this.peerById.set(peer.toString(), peer);
    this.request();
  }

  /** Runs a sync round soon; rounds never overlap, and a request during a round causes one more. */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .catch((e: unknown) => this.d.log.warn({ err: e }, 'sync round failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.request();
        }
      });
  }

  private async pollStatus(): Promise<void> {
    // The status protocol is rate-limited by peers: poll at most once per second.
    if (Date.now() - this.lastStatusPoll < 1000) return;
    this.lastStatusPoll = Date.now();
    const pages = this.d.statusPages();
    await Promise.allSettled(this.d.peers().map((p) => this.pollPeer(p, pages)));
    await this.exchangePeers();
  }

  /**
   * A peer we have not swept yet gets every page (until it answers them all, nobody knows what is waiting there);
   * after that, STATUS_PAGES_PER_POLL pages a poll, round robin. A failed page (timeout, RATE_LIMITED from an old
   * peer's limit of 5) ends this peer's poll; the next poll resumes at that page.
   */
  private async pollPeer(p: PeerId, pages: Status[]): Promise<void> {
    const id = p.toString();
    let c = this.statusCursor.get(id);
    if (!c) this.statusCursor.set(id, (c = { next: 0, swept: false }));
    const n = c.swept
      ? Math.min(STATUS_PAGES_PER_POLL, pages.length)
      : pages.length - (c.next % pages.length);
    for (let i = 0; i < n && !this.stopped; i++) {
      const at = c.next % pages.length;
      const s = await this.d.reqresp.status(p, pages[at], { timeoutMs: 5000 });
      this.observe(p, s);
      for (const a of s.peers ?? []) if (this.candidates.size < MAX_CANDIDATES) this.candidates.add(a);
      c.next = (at + 1) % pages.length;
      if (c.next === 0) c.swept = true;
    }
  }

  /** Dials a few addresses learned from peers while the node has fewer connections than it wants. */
  private async exchangePeers(): Promise<void> {
    const connected = new Set(this.d.peers().map((p) => p.toString()));
    const missing = this.d.targetPeers - connected.size;
    const fresh = [...this.candidates].filter((a) => {
      const id = a.split('/p2p/')[1];
      return id !== undefined && !connected.has(id) && !this.selfIds.has(id);
    });
    // Addresses are asked afresh each poll: kept, they would only go stale.
    this.candidates.clear();
    if (missing <= 0) return;
    await Promise.all(
      fresh.slice(0, Math.min(missing, 4)).map((a) =>
        this.d.dial(a).catch((e: unknown) => {
          // A peer that hands out addresses nobody can dial (its own loopback, a private net) shows up here.
          this.d.log.info({ addr: a, err: (e as Error).message }, 'peer exchange: dial failed');
        }),
      ),
    );
  }

  /**
   * Evidence is gossiped once, when found; a node that was not in the mesh then (starting, partitioned) would
   * never learn it. So chains' evidence is also fetched from a peer that follows the chain, now and then: at most
   * EVIDENCE_CHAINS_PER_ROUND chains per interval, those asked longest ago (or never) first, so the cost does
   * not grow with the chains followed (a full pass over 1,000 chains takes about 10 minutes at the defaults).
   */
  private async syncEvidence(): Promise<void> {
    const now = Date.now();
    if (now - this.lastEvidenceRound < this.d.evidenceIntervalMs) return;
    const connected = new Set(this.d.peers().map((p) => p.toString()));
    const due = [...this.tracked()]
      .map(([k, chainId]) => ({ chainId, k, at: this.evidenceAskedAt.get(k) ?? 0 }))
      .filter((c) => now - c.at >= this.d.evidenceIntervalMs && this.heads.has(c.k))
      .sort((a, b) => a.at - b.at);
    let asked = 0;
    for (const { chainId, k } of due) {
      if (asked >= EVIDENCE_CHAINS_PER_ROUND) break;
      const holders = [...(this.heads.get(k)?.keys() ?? [])].filter((p) => connected.has(p));
      const peer = holders.length
        ? this.peerById.get(holders[Math.floor(Math.random() * holders.length)])
        : undefined;
      if (!peer) continue;
      asked++;
      this.evidenceAskedAt.set(k, Date.now());
      try {
        const items = await this.d.reqresp.evidence(
          peer,
          { chainId, ids: [], maxCount: 16 },
          { timeoutMs: 5000 },
        );
        for (const e of items) await this.d.ingestEvidence(e);
      } catch (e) {
        this.d.log.debug({ peer: peer.toString(), err: (e as Error).message }, 'evidence request failed');
      }
    }
    if (asked > 0) this.lastEvidenceRound = now;
  }

  /** Drops heads of peers no longer connected and of chains no longer tracked (a disconnect can race observe). */
  private sweep(): void {
    const connected = new Set(this.d.peers().map((p) => p.toString()));
    const tracked = this.tracked();
    for (const id of this.peerById.keys()) if (!connected.has(id)) this.forget(id);
    for (const id of this.statusCursor.keys()) if (!connected.has(id)) this.statusCursor.delete(id);
    for (const k of this.heads.keys()) if (!tracked.has(k)) this.heads.delete(k);
    for (const k of this.evidenceAskedAt.keys()) if (!tracked.has(k)) this.evidenceAskedAt.delete(k);
  }

  private async round(): Promise<void> {
    this.sweep();
    await this.pollStatus();
    await this.syncEvidence();
    const connected = new Set(this.d.peers().map((p) => p.toString()));
    const jobs: { chainId: Uint8Array; k: string; target: number; peers: string[] }[] = [];
    // Only chains a peer reported a head for can have blocks to fetch (the sweep dropped untracked ones).
    const tracked = this.tracked();
    for (const [k, m] of this.heads) {
      const chainId = tracked.get(k);
      if (!chainId) continue;
      const reported = [...m.entries()].filter(([p]) => connected.has(p));
      const target = Math.max(0, ...reported.map(([, h]) => h.height));
      const label = this.d.metrics.chain(k);
      if (label !== undefined) this.d.metrics.syncTarget.set({ chain: label }, target);
      const local = this.d.height(chainId);
      if (target > local) {
        const peers = reported.filter(([, h]) => h.height > local).sort((a, b) => b[1].height - a[1].height);
        jobs.push({ chainId, k, target, peers: peers.map(([p]) => p) });
      }
    }
    // Parents first (tracking order is ancestors first): a child's anchoring is checked against commits the
    // parent has already validated.
    const order = this.trackedCache.order;
    jobs.sort((a, b) => (order.get(a.k) ?? 0) - (order.get(b.k) ?? 0));
    if (jobs.length === 0) return;
    const total = jobs.reduce((s, j) => s + (j.target - this.d.height(j.chainId)), 0);
    const bar = this.d.progressBar
      ? new cliProgress.SingleBar(
          { format: 'backfill [{bar}] {value}/{total} blocks', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : null;
    bar?.start(total, 0);
    let done = 0;
    let lastLog = Date.now();
    try {
      for (const job of jobs) {
        for (const peerKey of job.peers) {
          const peer = this.peerById.get(peerKey);
          if (!peer || this.stopped) continue;
          const ok = await this.fetchFrom(peer, job.chainId, job.target, (n) => {
            done += n;
            bar?.update(done);
            if (!bar && Date.now() - lastLog > 2000) {
              lastLog = Date.now();
              this.d.log.info({ done, total }, 'backfill progress');
            }
          });
          if (ok || this.d.height(job.chainId) >= job.target) break;
        }
      }
    } finally {
      bar?.stop();
    }
    if (total > 0) this.d.log.info({ blocks: done, chains: jobs.length }, 'backfill round done');
  }

  /** Fetches blocks until `target` from one peer; false when the peer failed or served something invalid. */
  private async fetchFrom(
    peer: PeerId,
    chainId: Uint8Array,
    target: number,
    progress: (n: number) => void,
  ): Promise<boolean> {
    const label = this.d.metrics.chainOrOther(toHex(chainId));
    while (!this.stopped && this.d.height(chainId) < target) {
      const start = this.d.height(chainId) + 1;
      const count = Math.min(this.d.batch, target - start + 1);
      let blocks: Uint8Array[];
      try {
        blocks = await this.d.reqresp.blocksByRange(peer, { chainId, startHeight: BigInt(start), count });
      } catch (e) {
        this.d.log.debug({ peer: peer.toString(), err: (e as Error).message }, 'blocks by range failed');
        return false;
      }
      if (blocks.length === 0) return false;
      for (const b of blocks) {
        const v = await this.d.ingest(chainId, b);
        if (v.result === 'reject') {
          this.d.log.warn(
            { peer: peer.toString(), code: v.code, chain: label },
            'peer served an invalid block',
          );
          return false;
        }
        this.d.metrics.syncBlocks.inc({ chain: label });
        progress(1);
      }
    }
    return true;
  }
}
