// Builds the libp2p 3 node: TCP, WebSockets and WebRTC-direct (what a browser tab can dial; docs/browser.md) +
// Noise + Yamux + Identify + gossipsub (@libp2p/gossipsub, the maintained
// continuation of @chainsafe/libp2p-gossipsub, which does not work with libp2p 3), and wraps it in a NetworkNode
// (network-node.ts) with its bootstrap dialer and ban list.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, StrictNoSign } from '@libp2p/gossipsub';
import type { Message } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { MemoryDatastore } from 'datastore-core';
import { LevelDatastore } from 'datastore-level';
import { createLibp2p } from 'libp2p';
import { BanList } from './banlist.js';
import { BootstrapDialer } from './bootstrap.js';
import { gossipsubMetricsRegister } from './gossipsub-metrics.js';
import { createFastMessageId, gossipMessageId } from './message-id.js';
import { NetworkNode } from './network-node.js';
import { resolveNetworkOptions, topicBytesBudget, type NetworkNodeOptions } from './options.js';
import type { NetworkServices } from './services.js';

// What the validator and the gossip service take from here along with createNetworkNode: the node it returns,
// its options and the logger they share.
export { NetworkNode } from './network-node.js';
export { silentLogger, type NetworkNodeOptions, type P2pLogger } from './options.js';

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

/** Builds (does not start) a network node. Call `start()`. */
export async function createNetworkNode(opts: NetworkNodeOptions): Promise<NetworkNode> {
  const o = resolveNetworkOptions(opts);
  const bans = new BanList();
  const topicFilter: { fn: ((topic: string) => boolean) | undefined } = { fn: undefined };
  const topicLabels = new Map<string, string>();
  const fastMsgIdFn = await createFastMessageId();
  const { gossip: g, connections: conns, maxMessageSize } = o;

  // A peer store on disk lets a restart find its peers again without a bootstrap list (and keeps bans).
  const disk = opts.peerStorePath === undefined ? null : new LevelDatastore(opts.peerStorePath);
  await disk?.open();
  const libp2p = await createLibp2p<NetworkServices>({
    start: false,
    datastore: disk ?? new CompactMemoryDatastore(),
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen, announce: opts.announce },
    // A transport listens only where a --listen address asks for it (`/tcp/N/ws`, `/udp/N/webrtc-direct`).
    // WebRTC-direct needs no certificate from a CA, so a browser reaches it off localhost without a proxy; it
    // makes a certificate at start (and its native peer connections), so only a node that listens on it has it.
    transports: [
      tcp(),
      webSockets(),
      ...(opts.listen.some((a) => a.includes('/webrtc-direct')) ? [webRTCDirect()] : []),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: conns.maxConnections,
      inboundConnectionThreshold: conns.inboundConnectionThreshold,
      maxIncomingPendingConnections: conns.maxIncomingPendingConnections,
      dialTimeout: conns.dialTimeoutMs,
    },
    connectionGater: {
      denyDialPeer: (peer) => bans.isBanned(peer),
      denyInboundEncryptedConnection: (peer) => bans.isBanned(peer),
      denyOutboundEncryptedConnection: (peer) => bans.isBanned(peer),
    },
    services: {
      identify: identify(),
      // The DHT's routing table checks contacts with ping; testnets on private and loopback addresses keep them.
      // Not in NetworkServices (a browser tab has no DHT): `dhtOf` reads it where it may be absent.
      ...((opts.dht
        ? {
            ping: ping(),
            dht: kadDHT({
              protocol: '/sortition/kad/1.0.0',
              clientMode: false,
              peerInfoMapper: passthroughMapper,
            }),
          }
        : {}) as Record<string, never>),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (msg: Message) => gossipMessageId(msg.topic, msg.data),
        fastMsgIdFn,
        metricsRegister: opts.registry
          ? gossipsubMetricsRegister(opts.registry, (t) => topicLabels.get(t))
          : null,
        metricsTopicStrToLabel: topicLabels,
        asyncValidation: true,
        // One tag per topic on each mesh peer's record made every stream open re-encode it (mesh-tags.ts).
        tagMeshPeers: false,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        fallbackToFloodsub: false,
        floodPublish: g.floodPublish,
        D: g.D,
        Dlo: g.Dlo,
        Dhi: g.Dhi,
        Dlazy: g.Dlazy,
        heartbeatInterval: g.heartbeatIntervalMs,
        seenTTL: g.seenTtlMs,
        // One topic per followed chain: the default budget (1 MiB, ~941 of our topics) would leave chains past it
        // unmeshed, silently (issue 28).
        maxTopicBytesPerPeer: topicBytesBudget(g.maxTopicsPerPeer),
        // Room for the message, its topic and piggybacked control messages in one RPC frame.
        maxInboundDataLength: maxMessageSize + 64 * 1024,
        maxOutboundBufferSize: Math.max(32 * 1024 * 1024, 4 * maxMessageSize),
        scoreParams: o.scoreParams,
        scoreThresholds: o.thresholds,
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
    o.redial,
    bans,
    o.log,
  );
  return new NetworkNode({
    libp2p,
    maxStoredPeers: conns.maxStoredPeers,
    bans,
    bootstrap,
    scoring: o.scoring,
    maxMessageSize,
    log: o.log,
    topicFilter,
    topicLabels,
    metricTopics: opts.metricTopics ?? 32,
    onPeerBanned: opts.onPeerBanned,
    store: disk ? { datastore: disk, remembered: opts.rememberedPeers ?? 16 } : null,
  });
}
