// Builds the libp2p 3 node: TCP + Noise + Yamux + Identify + gossipsub (@libp2p/gossipsub, the maintained
// continuation of @chainsafe/libp2p-gossipsub, which does not work with libp2p 3).
//
// Besides libp2p itself, NetworkNode owns three small pieces of peer management:
// - a bootstrap dialer: dials the configured peers with exponential backoff until connected, and starts again
//   whenever the node has no connection left;
// - a ban list, enforced by the connection gater (no dial to, no connection from a banned peer);
// - a score watcher: peers whose gossipsub score falls below the disconnect threshold (by default the graylist
//   threshold) are hung up on and banned for a while. Gossipsub on its own only prunes and graylists.
import { toHex } from '../codec/bytes.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, StrictNoSign, type GossipSub, type TopicValidatorResult } from '@libp2p/gossipsub';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import type { Message } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { MemoryDatastore } from 'datastore-core';
import { createLibp2p } from 'libp2p';
import type { Registry } from 'prom-client';
import { gossipsubMetricsRegister } from './gossipsub-metrics.js';
import { createFastMessageId, gossipMessageId } from './message-id.js';
import { DEFAULT_SCORE_THRESHOLDS, defaultPeerScoreParams, defaultTopicScoreParams } from './scoring.js';
import { stringifyTopic, type GossipTopic } from './topics.js';

/** Minimal structured logger; a pino Logger fits. */
export interface P2pLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: P2pLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The part of the @libp2p/gossipsub router this layer uses. The package's exported `GossipSub` interface is
 * narrower than the class it returns; these members exist on the class (v17) and are checked at start-up.
 */
export interface GossipRouter extends GossipSub {
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
  reportMessageValidationResult(
    msgId: string,
    propagationSource: string,
    acceptance: TopicValidatorResult,
  ): void;
  readonly score: { readonly params: PeerScoreParams };
}

export interface NetworkServices extends Record<string, unknown> {
  identify: Identify;
  pubsub: GossipSub;
}

export type NetworkLibp2p = Libp2p<NetworkServices>;

export const DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024;

export interface GossipRouterOptions {
  /** Mesh degree (default 6), lower / upper bounds (4 / 12), gossip fan-out (6). */
  D?: number;
  Dlo?: number;
  Dhi?: number;
  Dlazy?: number;
  /** Gossipsub heartbeat (default 700 ms). */
  heartbeatIntervalMs?: number;
  /** How long message ids are remembered for de-duplication (default 2 minutes). */
  seenTtlMs?: number;
  /** Send own messages to every subscribed peer above the publish threshold, not only the mesh (default true). */
  floodPublish?: boolean;
}

export interface ScoringOptions {
  /** Global score parameters, merged over defaultPeerScoreParams(). `topics` is ignored (set per topic). */
  params?: Partial<Omit<PeerScoreParams, 'topics'>>;
  /** Merged over DEFAULT_SCORE_THRESHOLDS. */
  thresholds?: Partial<PeerScoreThresholds>;
  /** Score parameters of a topic, applied when it is subscribed (default: defaultTopicScoreParams). */
  topicParams?: (topic: GossipTopic) => Partial<TopicScoreParams>;
  /** Below this score a peer is disconnected and banned (default: the graylist threshold). */
  disconnectThreshold?: number;
  /** How long a peer disconnected for its score stays banned (default 10 minutes). */
  banDurationMs?: number;
  /** How often scores are checked (default 1000 ms). */
  checkIntervalMs?: number;
}

export interface ConnectionOptions {
  /** Default 200. */
  maxConnections?: number;
  /** Inbound connections per second accepted from one host (default 100: loopback testnets share hosts). */
  inboundConnectionThreshold?: number;
  /** Inbound connections being upgraded at once (default 64). */
  maxIncomingPendingConnections?: number;
  /** Timeout of one dial attempt (default 10 s). */
  dialTimeoutMs?: number;
  /**
   * Peers the peer store keeps (default 1024): beyond it, peers neither connected nor bootstrap are deleted,
   * oldest first. libp2p only expires entries it happens to read, and identities cost nothing to make.
   */
  maxStoredPeers?: number;
}

export interface RedialOptions {
  /** First retry delay (default 250 ms), doubled after each failure up to maxDelayMs (default 30 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How often to check that the node still has connections (default 5 s). */
  checkIntervalMs?: number;
}

export interface NetworkNodeOptions {
  /** Listen multiaddrs, e.g. `/ip4/127.0.0.2/tcp/0`. */
  listen: string[];
  /** Addresses to announce instead of the listen addresses. */
  announce?: string[];
  /** Bootstrap peers to dial, e.g. `/ip4/127.0.0.2/tcp/9000/p2p/12D3Koo...` (the /p2p part is optional). */
  bootstrap?: string[];
  /** Persistent identity (see identity.ts); a fresh Ed25519 key when absent. */
  privateKey?: PrivateKey;
  /** Largest gossip message payload in bytes (default 10 MiB). */
  maxMessageSize?: number;
  gossip?: GossipRouterOptions;
  scoring?: ScoringOptions;
  connections?: ConnectionOptions;
  redial?: RedialOptions;
  logger?: P2pLogger;
  /** Called after a peer was banned and disconnected. */
  onPeerBanned?: (peer: PeerId, reason: string) => void;
  /** Where gossipsub's own metrics go (delivery, mesh, IDONTWANT, churn); none without it. */
  registry?: Registry;
}

export { gossipMessageId } from './message-id.js';

function toHexPrefix(id: Uint8Array): string {
  return toHex(id.subarray(0, 8));
}

/**
 * libp2p's in-memory datastore (the peer store lives in it), keeping each value in a buffer of its own. Peer
 * records arrive as views into 64 KiB encoder slabs: stored as they came, each pinned its slab, about 64 KiB
 * for every peer ever seen (measured with test/node/churn.test.ts), where the record itself is some 400 bytes.
 */
class CompactMemoryDatastore extends MemoryDatastore {
  override put(
    ...[key, val, options]: Parameters<MemoryDatastore['put']>
  ): ReturnType<MemoryDatastore['put']> {
    return super.put(key, val.byteLength === val.buffer.byteLength ? val : val.slice(), options);
  }
}

/** Time-limited bans by peer id, consulted by the connection gater. */
export class BanList {
  readonly #until = new Map<string, number>();

  ban(peer: PeerId | string, durationMs: number, now = Date.now()): void {
    const id = peer.toString();
    // Identities are free, so bans of peers that never come back would pile up: expired ones go here.
    for (const [k, until] of this.#until) if (until <= now) this.#until.delete(k);
    this.#until.set(id, Math.max(this.#until.get(id) ?? 0, now + durationMs));
  }

  get size(): number {
    return this.#until.size;
  }

  unban(peer: PeerId | string): void {
    this.#until.delete(peer.toString());
  }

  isBanned(peer: PeerId | string, now = Date.now()): boolean {
    const id = peer.toString();
    const until = this.#until.get(id);
    if (until === undefined) return false;
    if (until <= now) {
      this.#until.delete(id);
      return false;
    }
    return true;
  }

  /** Currently banned peer ids. */
  list(now = Date.now()): string[] {
    return [...this.#until.keys()].filter((id) => this.isBanned(id, now));
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function peerIdOf(addr: Multiaddr): string | undefined {
  return addr.getComponents().find((c) => c.name === 'p2p')?.value;
}

interface BootstrapTarget {
  addr: Multiaddr;
  peerId: string | undefined;
  running: boolean;
}

/** Dials bootstrap peers with backoff until connected; redials when the node has no connection left. */
class BootstrapDialer {
  readonly #libp2p: NetworkLibp2p;
  readonly #targets: BootstrapTarget[];
  readonly #opts: Required<RedialOptions> & { dialTimeoutMs: number };
  readonly #bans: BanList;
  readonly #log: P2pLogger;
  #controller: AbortController | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  readonly #tasks = new Set<Promise<void>>();

  constructor(
    libp2p: NetworkLibp2p,
    addrs: Multiaddr[],
    opts: Required<RedialOptions> & { dialTimeoutMs: number },
    bans: BanList,
    log: P2pLogger,
  ) {
    this.#libp2p = libp2p;
    const self = libp2p.peerId.toString();
    this.#targets = addrs
      .filter((addr) => peerIdOf(addr) !== self)
      .map((addr) => ({ addr, peerId: peerIdOf(addr), running: false }));
    this.#opts = opts;
    this.#bans = bans;
    this.#log = log;
  }

  readonly #onDisconnect = (): void => {
    if (this.#libp2p.getConnections().length === 0) this.kick();
  };

  /** Peer ids named in the bootstrap addresses. */
  peerIds(): string[] {
    return this.#targets.flatMap((t) => (t.peerId === undefined ? [] : [t.peerId]));
  }

  start(): void {
    if (this.#targets.length === 0 || this.#controller !== undefined) return;
    this.#controller = new AbortController();
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect);
    this.#interval = setInterval(() => {
      if (this.#libp2p.getConnections().length === 0) this.kick();
    }, this.#opts.checkIntervalMs);
    this.#interval.unref?.();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#controller?.abort();
    this.#controller = undefined;
    this.#libp2p.removeEventListener('peer:disconnect', this.#onDisconnect);
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    await Promise.allSettled([...this.#tasks]);
  }

  /** Starts a dial loop for every bootstrap peer that is not connected and has no loop running. */
  kick(): void {
    const signal = this.#controller?.signal;
    if (signal === undefined || signal.aborted) return;
    for (const target of this.#targets) {
      if (target.running || this.#isConnected(target)) continue;
      const task = this.#run(target, signal).finally(() => this.#tasks.delete(task));
      this.#tasks.add(task);
    }
  }

  #isConnected(target: BootstrapTarget): boolean {
    if (target.peerId === undefined) return false;
    return this.#libp2p.getConnections(peerIdFromString(target.peerId)).length > 0;
  }

  async #run(target: BootstrapTarget, signal: AbortSignal): Promise<void> {
    target.running = true;
    let delay = this.#opts.initialDelayMs;
    try {
      while (!signal.aborted && !this.#isConnected(target)) {
        if (target.peerId === undefined || !this.#bans.isBanned(target.peerId)) {
          try {
            const conn = await this.#libp2p.dial(target.addr, {
              signal: AbortSignal.any([signal, AbortSignal.timeout(this.#opts.dialTimeoutMs)]),
            });
            target.peerId = conn.remotePeer.toString();
            this.#log.info(
              { peer: target.peerId, addr: target.addr.toString() },
              'connected to bootstrap peer',
            );
            return;
          } catch (err) {
            if (signal.aborted) return;
            this.#log.debug(
              { addr: target.addr.toString(), err: (err as Error).message, retryInMs: delay },
              'bootstrap dial failed',
            );
          }
        }
        // +-20 % jitter so that restarted testnets do not dial in lockstep.
        await abortableSleep(delay * (0.8 + Math.random() * 0.4), signal);
        // Back off only after real dial failures: while the peer is banned, keep checking at the first delay so
        // the dial happens as soon as the ban ends.
        if (target.peerId === undefined || !this.#bans.isBanned(target.peerId)) {
          delay = Math.min(delay * 2, this.#opts.maxDelayMs);
        }
      }
    } finally {
      target.running = false;
    }
  }
}

interface ResolvedScoring {
  topicParams: (topic: GossipTopic) => Partial<TopicScoreParams>;
  disconnectThreshold: number;
  banDurationMs: number;
  checkIntervalMs: number;
}

interface NetworkNodeInit {
  libp2p: NetworkLibp2p;
  maxStoredPeers: number;
  bans: BanList;
  bootstrap: BootstrapDialer;
  scoring: ResolvedScoring;
  maxMessageSize: number;
  log: P2pLogger;
  topicFilter: { fn: ((topic: string) => boolean) | undefined };
  /** gossipsub's metric label per topic, filled as topics are scored (a chain id is too long for a label). */
  topicLabels: Map<string, string>;
  onPeerBanned?: (peer: PeerId, reason: string) => void;
}

/** A libp2p node with gossipsub, bootstrap dialing, bans and score-based disconnection. */
export class NetworkNode {
  readonly libp2p: NetworkLibp2p;
  readonly gossipsub: GossipRouter;
  readonly peerId: PeerId;
  readonly maxMessageSize: number;
  readonly bans: BanList;
  readonly log: P2pLogger;
  readonly #bootstrap: BootstrapDialer;
  readonly #scoring: ResolvedScoring;
  readonly #topicLabels: Map<string, string>;
  readonly #onPeerBanned: ((peer: PeerId, reason: string) => void) | undefined;
  readonly #topicFilter: { fn: ((topic: string) => boolean) | undefined };
  #scoreTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  readonly #maxStoredPeers: number;
  #disconnects = 0;
  #pruning = false;
  #pruneAgain = false;

  /** Builds (does not start) a network node; same as createNetworkNode(). */
  static async create(opts: NetworkNodeOptions): Promise<NetworkNode> {
    return buildNetworkNode(opts, (init) => new NetworkNode(init));
  }

  private constructor(init: NetworkNodeInit) {
    this.libp2p = init.libp2p;
    const router = init.libp2p.services.pubsub as GossipRouter;
    for (const m of ['getScore', 'getMeshPeers', 'reportMessageValidationResult'] as const) {
      if (typeof router[m] !== 'function') throw new Error(`@libp2p/gossipsub router lacks ${m}()`);
    }
    if (typeof router.score?.params?.topics !== 'object')
      throw new Error('@libp2p/gossipsub router lacks score');
    this.gossipsub = router;
    this.peerId = init.libp2p.peerId;
    this.bans = init.bans;
    this.#bootstrap = init.bootstrap;
    this.#scoring = init.scoring;
    this.#topicLabels = init.topicLabels;
    this.maxMessageSize = init.maxMessageSize;
    this.log = init.log;
    this.#topicFilter = init.topicFilter;
    this.#onPeerBanned = init.onPeerBanned;
    this.#maxStoredPeers = init.maxStoredPeers;
  }

  // The peer store is read in full only every quarter of its bound in disconnects, so pruning stays cheap.
  readonly #onDisconnect = (): void => {
    if (++this.#disconnects < Math.max(1, Math.floor(this.#maxStoredPeers / 4))) return;
    this.#disconnects = 0;
    void this.prunePeerStore();
  };

  /** Deletes stored peers beyond maxStoredPeers that are neither connected nor bootstrap; returns how many. */
  async prunePeerStore(): Promise<number> {
    if (this.#pruning) {
      this.#pruneAgain = true;
      return 0;
    }
    this.#pruning = true;
    let deleted = 0;
    try {
      const peers = await this.libp2p.peerStore.all();
      let excess = peers.length - this.#maxStoredPeers;
      if (excess <= 0) return 0;
      const keep = new Set([...this.libp2p.getPeers().map(String), ...this.#bootstrap.peerIds()]);
      for (const p of peers) {
        if (excess <= 0) break;
        if (keep.has(p.id.toString()) || p.id.equals(this.peerId)) continue;
        await this.libp2p.peerStore.delete(p.id);
        excess--;
        deleted++;
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'peer store pruning failed');
    } finally {
      this.#pruning = false;
    }
    // Disconnects while this ran may have left the store over its bound again.
    if (this.#pruneAgain) {
      this.#pruneAgain = false;
      deleted += await this.prunePeerStore();
    }
    return deleted;
  }

  get isStarted(): boolean {
    return this.#started;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.libp2p.start();
    this.#started = true;
    this.libp2p.addEventListener('peer:disconnect', this.#onDisconnect);
    this.#bootstrap.start();
    this.#scoreTimer = setInterval(() => this.#checkScores(), this.#scoring.checkIntervalMs);
    this.#scoreTimer.unref?.();
    this.log.info(
      { peerId: this.peerId.toString(), addrs: this.getMultiaddrs().map(String) },
      'network node started',
    );
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#scoreTimer !== undefined) clearInterval(this.#scoreTimer);
    this.#scoreTimer = undefined;
    this.libp2p.removeEventListener('peer:disconnect', this.#onDisconnect);
    await this.#bootstrap.stop();
    await this.libp2p.stop();
    this.log.info({ peerId: this.peerId.toString() }, 'network node stopped');
  }

  getMultiaddrs(): Multiaddr[] {
    return this.libp2p.getMultiaddrs();
  }

  /** Peers with at least one open connection. */
  getConnectedPeers(): PeerId[] {
    return this.libp2p.getPeers();
  }

  /** Dials a peer once (no retry); returns its peer id. */
  async dial(addr: string | Multiaddr, signal?: AbortSignal): Promise<PeerId> {
    const conn = await this.libp2p.dial(typeof addr === 'string' ? multiaddr(addr) : addr, { signal });
    return conn.remotePeer;
  }

  /** Bans a peer (connection gater) and closes its connections. */
  async ban(peer: PeerId, reason: string, durationMs = this.#scoring.banDurationMs): Promise<void> {
    this.bans.ban(peer, durationMs);
    this.log.warn({ peer: peer.toString(), reason, durationMs }, 'peer banned');
    try {
      await this.libp2p.hangUp(peer);
    } catch (err) {
      this.log.debug({ peer: peer.toString(), err: (err as Error).message }, 'hang up failed');
    }
    this.#onPeerBanned?.(peer, reason);
  }

  isBanned(peer: PeerId | string): boolean {
    return this.bans.isBanned(peer);
  }

  /** Gossipsub score of a peer as this node sees it. */
  getScore(peer: PeerId | string): number {
    return this.gossipsub.getScore(peer.toString());
  }

  /** Starts scoring a topic (P1-P4) with the configured topic score parameters. */
  enableTopicScoring(topic: GossipTopic): void {
    const name = stringifyTopic(topic);
    this.#topicLabels.set(
      name,
      topic.kind === 'blocks' ? `blocks/${toHexPrefix(topic.chainId)}` : topic.kind,
    );
    this.gossipsub.score.params.topics[name] = createTopicScoreParams(this.#scoring.topicParams(topic));
  }

  disableTopicScoring(topic: GossipTopic): void {
    delete this.gossipsub.score.params.topics[stringifyTopic(topic)];
  }

  /**
   * Installs the check run on the topic of every inbound gossip message before anything else (including
   * messages on topics this node does not subscribe to). A message whose topic fails it is rejected by
   * gossipsub. Used by GossipService to reject and count messages on topics that do not parse.
   */
  setInboundTopicFilter(filter: ((topic: string) => boolean) | undefined): void {
    this.#topicFilter.fn = filter;
  }

  #checkScores(): void {
    for (const peer of this.gossipsub.getPeers()) {
      let score: number;
      try {
        score = this.gossipsub.getScore(peer.toString());
      } catch {
        continue;
      }
      if (score < this.#scoring.disconnectThreshold && !this.bans.isBanned(peer)) {
        void this.ban(peer, `gossip score ${score.toFixed(1)} below ${this.#scoring.disconnectThreshold}`);
      }
    }
  }
}

/** Builds (does not start) a network node. Call `start()`. */
export async function createNetworkNode(opts: NetworkNodeOptions): Promise<NetworkNode> {
  return NetworkNode.create(opts);
}

async function buildNetworkNode(
  opts: NetworkNodeOptions,
  construct: (init: NetworkNodeInit) => NetworkNode,
): Promise<NetworkNode> {
  const log = opts.logger ?? silentLogger;
  const maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize <= 0)
    throw new RangeError('bad maxMessageSize');
  const bans = new BanList();
  const thresholds: PeerScoreThresholds = { ...DEFAULT_SCORE_THRESHOLDS, ...opts.scoring?.thresholds };
  const scoreParams = defaultPeerScoreParams({ ...opts.scoring?.params, topics: {} });
  const scoring: ResolvedScoring = {
    topicParams: opts.scoring?.topicParams ?? defaultTopicScoreParams,
    disconnectThreshold: opts.scoring?.disconnectThreshold ?? thresholds.graylistThreshold,
    banDurationMs: opts.scoring?.banDurationMs ?? 10 * 60_000,
    checkIntervalMs: opts.scoring?.checkIntervalMs ?? 1000,
  };
  const topicFilter: { fn: ((topic: string) => boolean) | undefined } = { fn: undefined };
  const g = opts.gossip ?? {};
  const conns = opts.connections ?? {};
  const dialTimeoutMs = conns.dialTimeoutMs ?? 10_000;
  const topicLabels = new Map<string, string>();
  const fastMsgIdFn = await createFastMessageId();

  const libp2p = await createLibp2p<NetworkServices>({
    start: false,
    datastore: new CompactMemoryDatastore(),
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, announce: opts.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: conns.maxConnections ?? 200,
      inboundConnectionThreshold: conns.inboundConnectionThreshold ?? 100,
      maxIncomingPendingConnections: conns.maxIncomingPendingConnections ?? 64,
      dialTimeout: dialTimeoutMs,
    },
    connectionGater: {
      denyDialPeer: (peer) => bans.isBanned(peer),
      denyInboundEncryptedConnection: (peer) => bans.isBanned(peer),
      denyOutboundEncryptedConnection: (peer) => bans.isBanned(peer),
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (msg: Message) => gossipMessageId(msg.topic, msg.data),
        fastMsgIdFn,
        metricsRegister: opts.registry ? gossipsubMetricsRegister(opts.registry) : null,
        metricsTopicStrToLabel: topicLabels,
        asyncValidation: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        fallbackToFloodsub: false,
        floodPublish: g.floodPublish ?? true,
        D: g.D ?? 6,
        Dlo: g.Dlo ?? 4,
        Dhi: g.Dhi ?? 12,
        Dlazy: g.Dlazy ?? 6,
        heartbeatInterval: g.heartbeatIntervalMs ?? 700,
        seenTTL: g.seenTtlMs ?? 2 * 60_000,
        // Room for the message, its topic and piggybacked control messages in one RPC frame.
        maxInboundDataLength: maxMessageSize + 64 * 1024,
        maxOutboundBufferSize: Math.max(32 * 1024 * 1024, 4 * maxMessageSize),
        scoreParams,
        scoreThresholds: thresholds,
        dataTransform: {
          inboundTransform: (topic: string, data: Uint8Array): Uint8Array => {
            const filter = topicFilter.fn;
            if (filter !== undefined && !filter(topic)) throw new Error('topic rejected');
            return data;
          },
          outboundTransform: (_topic: string, data: Uint8Array): Uint8Array => data,
        },
      }),
    },
  });

  const bootstrap = new BootstrapDialer(
    libp2p,
    (opts.bootstrap ?? []).map((a) => multiaddr(a)),
    {
      initialDelayMs: opts.redial?.initialDelayMs ?? 250,
      maxDelayMs: opts.redial?.maxDelayMs ?? 30_000,
      checkIntervalMs: opts.redial?.checkIntervalMs ?? 5_000,
      dialTimeoutMs,
    },
    bans,
    log,
  );
  const maxStoredPeers = conns.maxStoredPeers ?? 1024;
  if (!Number.isSafeInteger(maxStoredPeers) || maxStoredPeers < 1) throw new RangeError('bad maxStoredPeers');
  return construct({
    libp2p,
    maxStoredPeers,
    bans,
    bootstrap,
    scoring,
    maxMessageSize,
    log,
    topicFilter,
    topicLabels,
    onPeerBanned: opts.onPeerBanned,
  });
}
