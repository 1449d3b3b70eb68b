/**
 * The page's peer: js-libp2p in the tab, dialing a node over WebSockets (browsers dial only `wss://` off
 * localhost) or WebRTC-direct (no certificate needed) and speaking the nodes' own protocols: gossipsub on the project's topics, request/response for genesis
 * records and blocks by range. Every block goes to the judge before gossipsub relays it (async validation).
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, StrictNoSign, TopicValidatorResult, type GossipsubMessage } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PeerId } from '@libp2p/interface';
import { webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { fromHex, toHex } from '../../src/codec/bytes.js';
import { gossipMessageIdPure } from '../../src/p2p/gossip-id.js';
import { ReqRespService } from '../../src/p2p/reqresp/reqresp.js';
import type { NetworkLibp2p, NetworkServices } from '../../src/p2p/services.js';
import { blocksTopic, EVIDENCE_TOPIC, parseTopic, stringifyTopic } from '../../src/p2p/topics.js';
import type { BlockReport } from './judge.js';

export interface PeerHooks {
  block(chainId: string, bytes: Uint8Array): Promise<BlockReport>;
  evidence(bytes: Uint8Array): Promise<BlockReport>;
  /** The chain fell behind a gossiped block: backfill it. */
  behind(chainId: string): void;
}

const RESULT = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
} as const;

/** Blocks asked for in one request: the responders' own cap (DEFAULT_REQRESP_LIMITS.maxResponseItems). */
const RANGE = 64;

export class BrowserPeer {
  private constructor(
    readonly libp2p: NetworkLibp2p,
    private readonly rr: ReqRespService,
    private readonly peer: PeerId,
  ) {}

  static async connect(addr: string, hooks: PeerHooks): Promise<BrowserPeer> {
    const libp2p = await createLibp2p<NetworkServices>({
      transports: [webSockets(), webRTCDirect()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // The page dials out only; a tab cannot listen.
      addresses: { listen: [] },
      connectionGater: { denyDialMultiaddr: () => false },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          globalSignaturePolicy: StrictNoSign,
          msgIdFn: (m) => gossipMessageIdPure(m.topic, m.data),
          asyncValidation: true,
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          emitSelf: false,
          fallbackToFloodsub: false,
          maxInboundDataLength: 10 * 1024 * 1024 + 64 * 1024,
        }),
      },
    });
    const pubsub = libp2p.services.pubsub;
    pubsub.addEventListener('gossipsub:message', (ev: CustomEvent<GossipsubMessage>) => {
      void judgeGossip(libp2p, hooks, ev.detail);
    });
    const conn = await libp2p.dial(multiaddr(addr));
    const rr = new ReqRespService({ libp2p });
    await rr.start();
    return new BrowserPeer(libp2p, rr, conn.remotePeer);
  }

  /** Genesis records the peer knows, by chain id (hex); the caller checks each hashes to its id. */
  async genesis(chainIds: string[]): Promise<Uint8Array[]> {
    return this.rr.genesis(this.peer, { chainIds: chainIds.map((c) => fromHex(c)) });
  }

  /** The peer's head height of a chain (0 when it does not know it). */
  async headOf(chainId: string): Promise<number> {
    // Status is answered per chain named (docs/protocol.md §10): name the chain asked about.
    const s = await this.rr.status(this.peer, {
      heads: [{ chainId: fromHex(chainId), height: 0n, headHash: new Uint8Array(0) }],
    });
    const h = s.heads.find((x) => toHex(x.chainId) === chainId);
    return h ? Number(h.height) : 0;
  }

  /** Up to RANGE blocks of a chain from `from` on. */
  async blocks(chainId: string, from: number): Promise<Uint8Array[]> {
    return this.rr.blocksByRange(this.peer, {
      chainId: fromHex(chainId),
      startHeight: BigInt(from),
      count: RANGE,
    });
  }

  /** Evidence the peer holds against a chain. */
  async evidence(chainId: string): Promise<Uint8Array[]> {
    return this.rr.evidence(this.peer, { chainId: fromHex(chainId), ids: [], maxCount: 64 });
  }

  /** Gossips evidence this tab found. */
  publishEvidence(bytes: Uint8Array): void {
    publishEvidence(this.libp2p, bytes);
  }

  subscribe(chainId: string): void {
    this.libp2p.services.pubsub.subscribe(stringifyTopic(blocksTopic(fromHex(chainId))));
  }

  subscribeEvidence(): void {
    this.libp2p.services.pubsub.subscribe(stringifyTopic(EVIDENCE_TOPIC));
  }

  peers(): number {
    return this.libp2p.getConnections().length;
  }

  async stop(): Promise<void> {
    await this.libp2p.stop();
  }
}

function publishEvidence(libp2p: NetworkLibp2p, bytes: Uint8Array): void {
  libp2p.services.pubsub.publish(stringifyTopic(EVIDENCE_TOPIC), bytes).catch(() => {
    // No peer on the topic right now: the evidence stays in this tab, and the next node asked gets it judged anew.
  });
}

async function judgeGossip(libp2p: NetworkLibp2p, hooks: PeerHooks, m: GossipsubMessage): Promise<void> {
  let r: BlockReport;
  try {
    const topic = parseTopic(m.msg.topic);
    if (topic.kind === 'blocks') {
      const id = toHex(topic.chainId);
      r = await hooks.block(id, m.msg.data);
      if (r.code === 'HEIGHT_GAP') hooks.behind(id);
      for (const ev of r.evidence ?? []) publishEvidence(libp2p, ev);
    } else r = await hooks.evidence(m.msg.data);
  } catch {
    r = { result: 'reject', code: 'BAD_TOPIC' };
  }
  const pubsub = libp2p.services.pubsub as unknown as {
    reportMessageValidationResult(id: string, from: string, r: TopicValidatorResult): void;
  };
  pubsub.reportMessageValidationResult(m.msgId, m.propagationSource.toString(), RESULT[r.result]);
}
