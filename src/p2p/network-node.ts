// A libp2p node with the peer management libp2p and gossipsub leave out: the bootstrap dialer (bootstrap.ts), a
// ban list enforced by the connection gater (banlist.ts), a score watcher that hangs up on and bans peers whose
// gossipsub score falls below the disconnect threshold (gossipsub on its own only prunes and graylists), and a
// bound on the peer store.
import { UselessTraffic } from './useless.js';
import { toHex } from '../codec/bytes.js';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Datastore } from 'interface-datastore';
import type { BanList } from './banlist.js';
import { ChainFinder } from './chain-finder.js';
import { loadBans, markSeen, rememberedPeers, saveBans } from './peer-memory.js';
import type { BootstrapDialer } from './bootstrap.js';
import type { P2pLogger, ResolvedScoring } from './options.js';
import { MeshTagger } from './mesh-tags.js';
import { dhtOf, type GossipRouter, type NetworkLibp2p } from './services.js';
import { stringifyTopic, type GossipTopic } from './topics.js';

function toHexPrefix(id: Uint8Array): string {
  return toHex(id.subarray(0, 8));
}

/** What createNetworkNode (libp2p.ts) hands the node it built. */
export interface NetworkNodeInit {
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
  /** Block topics labelled by chain; the rest share "blocks/other" (metrics must not grow with chains). */
  metricTopics: number;
  onPeerBanned?: (peer: PeerId, reason: string) => void;
  /** The peer store on disk and how many remembered peers a start dials; null: in memory. */
  store: { datastore: Datastore & { close(): Promise<void> }; remembered: number } | null;
}

/** A libp2p node with gossipsub, bootstrap dialing, bans and score-based disconnection. */
export class NetworkNode {
  readonly libp2p: NetworkLibp2p;
  readonly gossipsub: GossipRouter;
  readonly peerId: PeerId;
  readonly maxMessageSize: number;
  readonly bans: BanList;
  /** Who follows a chain, over the DHT (chain-finder.ts); null without the DHT. */
  readonly chains: ChainFinder | null;
  /** Ignored gossip per peer, which becomes its application-specific score (useless.ts). */
  readonly useless = new UselessTraffic();
  readonly log: P2pLogger;
  readonly #bootstrap: BootstrapDialer;
  readonly #scoring: ResolvedScoring;
  readonly #topicLabels: Map<string, string>;
  readonly #metricTopics: number;
  #labelledTopics = 0;
  readonly #onPeerBanned: ((peer: PeerId, reason: string) => void) | undefined;
  readonly #meshTags: MeshTagger;
  readonly #topicFilter: { fn: ((topic: string) => boolean) | undefined };
  #scoreTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  readonly #maxStoredPeers: number;
  readonly #store: NetworkNodeInit['store'];
  #disconnects = 0;
  #pruning = false;
  #pruneAgain = false;

  /** Use createNetworkNode() (libp2p.ts), which builds the libp2p node this wraps. */
  constructor(init: NetworkNodeInit) {
    this.libp2p = init.libp2p;
    const router = init.libp2p.services.pubsub as GossipRouter;
    for (const m of ['getScore', 'getMeshPeers', 'reportMessageValidationResult'] as const) {
      if (typeof router[m] !== 'function') throw new Error(`@libp2p/gossipsub router lacks ${m}()`);
    }
    if (typeof router.score?.params?.topics !== 'object')
      throw new Error('@libp2p/gossipsub router lacks score');
    this.gossipsub = router;
    // P5: a flood of well-formed but useless messages costs the sender like invalid ones do.
    router.score.params.appSpecificScore = (peer: string) => this.useless.score(peer);
    this.peerId = init.libp2p.peerId;
    this.bans = init.bans;
    this.#bootstrap = init.bootstrap;
    this.#scoring = init.scoring;
    this.#topicLabels = init.topicLabels;
    this.#metricTopics = init.metricTopics;
    this.maxMessageSize = init.maxMessageSize;
    this.log = init.log;
    this.#topicFilter = init.topicFilter;
    this.#onPeerBanned = init.onPeerBanned;
    this.#maxStoredPeers = init.maxStoredPeers;
    this.#store = init.store;
    this.chains = dhtOf(init.libp2p) ? new ChainFinder(init.libp2p, init.log) : null;
    this.#meshTags = new MeshTagger(this.gossipsub, this.libp2p.peerStore, (err) =>
      this.log.debug({ err: String(err) }, 'mesh tag failed'),
    );
  }

  readonly #onConnect = (e: CustomEvent<{ remotePeer: PeerId }>): void => {
    void markSeen(this.libp2p, e.detail.remotePeer).catch(() => undefined);
  };

  // The peer store is read in full only every quarter of its bound in disconnects, so pruning stays cheap.
  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#meshTags.forget(evt.detail);
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
    if (this.#store) {
      const banned = await loadBans(this.#store.datastore, this.bans);
      const remembered = await rememberedPeers(this.libp2p, this.bans, this.#store.remembered);
      this.#bootstrap.add(remembered);
      this.libp2p.addEventListener('connection:open', this.#onConnect);
      this.log.info(
        { remembered: remembered.length, banned },
        'peer store opened: dialing the peers it remembers',
      );
    }
    this.#meshTags.start();
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
    this.#meshTags.stop();
    await this.#bootstrap.stop();
    this.libp2p.removeEventListener('connection:open', this.#onConnect);
    await this.libp2p.stop();
    await this.#store?.datastore.close();
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
    if (this.#store)
      await saveBans(this.#store.datastore, this.bans).catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'could not keep the ban on disk'),
      );
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
    if (!this.#topicLabels.has(name)) {
      const own = topic.kind !== 'blocks' || this.#labelledTopics < this.#metricTopics;
      if (topic.kind === 'blocks' && own) this.#labelledTopics++;
      this.#topicLabels.set(
        name,
        topic.kind === 'blocks' ? `blocks/${own ? toHexPrefix(topic.chainId) : 'other'}` : topic.kind,
      );
    }
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
