// The libp2p node this layer builds: its services, and the members of the gossipsub router it relies on.
import type { GossipSub, TopicValidatorResult } from '@libp2p/gossipsub';
import type { PeerScoreParams } from '@libp2p/gossipsub/score';
import type { Identify } from '@libp2p/identify';
import type { KadDHT } from '@libp2p/kad-dht';
import type { Ping } from '@libp2p/ping';
import type { Libp2p } from '@libp2p/interface';

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

/** Services a Node process adds with the DHT (`dht: true`); a browser tab runs without them. */
export interface DhtServices {
  ping: Ping;
  dht: KadDHT;
}

/** The node's DHT, or null when it runs without one. */
export function dhtOf(libp2p: NetworkLibp2p): KadDHT | null {
  return (libp2p.services as Partial<DhtServices>).dht ?? null;
}
