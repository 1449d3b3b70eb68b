// Gossipsub peer scoring for sortition topics.
//
// The one property that matters: a REJECT costs the peer that sent the message. P4 (invalid message
// deliveries) is quadratic in the count of rejected messages, so with the defaults below:
//   1 rejected message   -> score about -100: below 0, pruned from our meshes at the next heartbeat
//   2 rejected messages  -> about -400: below gossip and publish thresholds (no gossip to/from it)
//   3 rejected messages  -> about -900: below graylist (its RPCs are ignored) and below the disconnect
//                           threshold (the network node hangs up and bans it for a while)
// Rejections decay (x0.995 a second, half-life about 2 minutes), so a peer that sent one bad message long
// ago recovers. Validators must therefore only REJECT what is provably invalid and IGNORE what merely
// depends on local state (future heights, unknown parents, duplicates).
//
// P3 (mesh message delivery rate) is disabled: block topics are low and bursty traffic, and a deficit
// penalty there would punish honest peers on a quiet chain.
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import type { GossipTopic } from './topics.js';

export type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams };

export const DEFAULT_SCORE_THRESHOLDS: PeerScoreThresholds = Object.freeze({
  gossipThreshold: -200,
  publishThreshold: -400,
  graylistThreshold: -800,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 2,
});

/** Peers scoring below this are disconnected and banned by the network node (see NetworkNode). */
export const DEFAULT_DISCONNECT_THRESHOLD = -800;

/** Addresses never penalised for IP colocation (loopback testnets run many nodes on one host). */
export const DEFAULT_IP_COLOCATION_WHITELIST: readonly string[] = ['127.0.0.1', '::1'];

/** Global (non-topic) score parameters; `topics` is filled per subscribed topic at run time. */
export function defaultPeerScoreParams(overrides: Partial<PeerScoreParams> = {}): Partial<PeerScoreParams> {
  return {
    topics: {},
    topicScoreCap: 10,
    appSpecificScore: () => 0,
    appSpecificWeight: 1,
    // P6: more than 10 peers from one IP costs (n-10)^2 * 5, loopback excepted.
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: new Set(DEFAULT_IP_COLOCATION_WHITELIST),
    // P7: protocol misbehaviour (regrafting during backoff, broken IWANT promises); a few are tolerated.
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 6,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000,
    decayToZero: 0.01,
    retainScore: 3600 * 1000,
    ...overrides,
  };
}

/** Per-topic score parameters. Blocks and evidence are scored alike; evidence weighs a little less. */
export function defaultTopicScoreParams(topic: GossipTopic): TopicScoreParams {
  return {
    topicWeight: topic.kind === 'blocks' ? 1 : 0.5,
    // P1: time in mesh, up to +6 after 10 minutes.
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 600,
    // P2: first deliveries of valid messages, up to +5.
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 5,
    // P3 / P3b disabled (see the file comment). Other fields must still be valid numbers.
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 10,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 60_000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    // P4: rejected messages, quadratic.
    invalidMessageDeliveriesWeight: topic.kind === 'blocks' ? -100 : -200,
    invalidMessageDeliveriesDecay: 0.995,
  };
}
