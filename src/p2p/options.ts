// The options of a network node, their defaults, and the logger interface the network layer writes to.
import type { PeerId, PrivateKey } from '@libp2p/interface';
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import type { Registry } from 'prom-client';
import { DEFAULT_SCORE_THRESHOLDS, defaultPeerScoreParams, defaultTopicScoreParams } from './scoring.js';
import type { GossipTopic } from './topics.js';

/** Minimal structured logger; a pino Logger fits. */
export interface P2pLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: P2pLogger = { debug: noop, info: noop, warn: noop, error: noop };

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
  /**
   * Topics a peer may subscribe to that this node records (default MAX_TOPICS_PER_PEER); gossipsub ignores a
   * peer's subscriptions beyond it, so a chain past it never meshes with that peer (docs/protocol.md section 10).
   */
  maxTopicsPerPeer?: number;
}

/**
 * The per-chain topic budget (docs/protocol.md section 10): a node follows up to this many chains and meshes
 * every one of them. gossipsub's default (1 MiB a peer) held 941 block topics.
 */
export const MAX_TOPICS_PER_PEER = 4096;

/**
 * gossipsub's charge for one subscription (its `GossipsubTopicEntryOverhead` plus the name): the block topic's
 * name is the longest of ours, 90 characters.
 */
export const TOPIC_ENTRY_BYTES = 1024 + 90;

/** gossipsub's maxTopicBytesPerPeer for a number of topics. */
export function topicBytesBudget(topics: number): number {
  return topics * TOPIC_ENTRY_BYTES;
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
  /**
   * A folder for the peer store and the bans (a LevelDB): a restarted node dials the peers it knew, even with no
   * bootstrap list, and keeps its bans. In memory when absent.
   */
  peerStorePath?: string;
  /** How many remembered peers a start dials (default 16). */
  rememberedPeers?: number;
  /**
   * Run the Kademlia DHT (chain-finder.ts): announce and find the followers of chains. Off by default in the
   * library, where tests build exact topologies the DHT's own dials would change; the node's command line turns it
   * on (`--no-dht` off).
   */
  dht?: boolean;
  /** Block topics labelled by chain in gossipsub's metrics, the first scored (default 32); the rest "blocks/other". */
  metricTopics?: number;
}

/** Scoring options with their defaults filled in. */
export interface ResolvedScoring {
  topicParams: (topic: GossipTopic) => Partial<TopicScoreParams>;
  disconnectThreshold: number;
  banDurationMs: number;
  checkIntervalMs: number;
}

/** NetworkNodeOptions with every default filled in and the numbers checked. */
export interface ResolvedNetworkOptions {
  log: P2pLogger;
  maxMessageSize: number;
  thresholds: PeerScoreThresholds;
  scoreParams: Partial<PeerScoreParams>;
  scoring: ResolvedScoring;
  gossip: Required<GossipRouterOptions>;
  connections: Required<ConnectionOptions>;
  redial: Required<RedialOptions> & { dialTimeoutMs: number };
}

export function resolveNetworkOptions(opts: NetworkNodeOptions): ResolvedNetworkOptions {
  const maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize <= 0)
    throw new RangeError('bad maxMessageSize');
  const thresholds: PeerScoreThresholds = { ...DEFAULT_SCORE_THRESHOLDS, ...opts.scoring?.thresholds };
  const g = opts.gossip ?? {};
  const conns = opts.connections ?? {};
  const connections: Required<ConnectionOptions> = {
    maxConnections: conns.maxConnections ?? 200,
    inboundConnectionThreshold: conns.inboundConnectionThreshold ?? 100,
    maxIncomingPendingConnections: conns.maxIncomingPendingConnections ?? 64,
    dialTimeoutMs: conns.dialTimeoutMs ?? 10_000,
    maxStoredPeers: conns.maxStoredPeers ?? 1024,
  };
  if (!Number.isSafeInteger(connections.maxStoredPeers) || connections.maxStoredPeers < 1)
    throw new RangeError('bad maxStoredPeers');
  if (
    g.maxTopicsPerPeer !== undefined &&
    (!Number.isSafeInteger(g.maxTopicsPerPeer) || g.maxTopicsPerPeer < 2)
  )
    throw new RangeError('bad maxTopicsPerPeer');
  return {
    log: opts.logger ?? silentLogger,
    maxMessageSize,
    thresholds,
    scoreParams: defaultPeerScoreParams({ ...opts.scoring?.params, topics: {} }),
    scoring: {
      topicParams: opts.scoring?.topicParams ?? defaultTopicScoreParams,
      disconnectThreshold: opts.scoring?.disconnectThreshold ?? thresholds.graylistThreshold,
      banDurationMs: opts.scoring?.banDurationMs ?? 10 * 60_000,
      checkIntervalMs: opts.scoring?.checkIntervalMs ?? 1000,
    },
    gossip: {
      floodPublish: g.floodPublish ?? true,
      D: g.D ?? 6,
      Dlo: g.Dlo ?? 4,
      Dhi: g.Dhi ?? 12,
      Dlazy: g.Dlazy ?? 6,
      heartbeatIntervalMs: g.heartbeatIntervalMs ?? 700,
      seenTtlMs: g.seenTtlMs ?? 2 * 60_000,
      maxTopicsPerPeer: g.maxTopicsPerPeer ?? MAX_TOPICS_PER_PEER,
    },
    connections,
    redial: {
      initialDelayMs: opts.redial?.initialDelayMs ?? 250,
      maxDelayMs: opts.redial?.maxDelayMs ?? 30_000,
      checkIntervalMs: opts.redial?.checkIntervalMs ?? 5_000,
      dialTimeoutMs: connections.dialTimeoutMs,
    },
  };
}
