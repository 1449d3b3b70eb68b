// Network layer: libp2p node, persistent identity, typed gossip topics, gossip validation and req/resp.
export { TopicParseError, ReqRespError, isReqRespError, type ReqRespErrorCode } from './errors.js';
export {
  TOPIC_PREFIX,
  CHAIN_ID_LENGTH,
  GOSSIP_TOPIC_KINDS,
  EVIDENCE_TOPIC,
  blocksTopic,
  stringifyTopic,
  parseTopic,
  tryParseTopic,
  topicsEqual,
  type GossipTopic,
  type GossipTopicKind,
} from './topics.js';
export {
  loadOrCreateIdentity,
  loadOrCreatePrivateKey,
  IdentityError,
  DEFAULT_KEY_FILE,
  type NodeIdentity,
} from './identity.js';
export {
  createNetworkNode,
  NetworkNode,
  BanList,
  gossipMessageId,
  silentLogger,
  DEFAULT_MAX_MESSAGE_SIZE,
  type NetworkNodeOptions,
  type GossipRouterOptions,
  type ScoringOptions,
  type ConnectionOptions,
  type RedialOptions,
  type GossipRouter,
  type NetworkServices,
  type NetworkLibp2p,
  type P2pLogger,
} from './libp2p.js';
export {
  DEFAULT_SCORE_THRESHOLDS,
  DEFAULT_DISCONNECT_THRESHOLD,
  DEFAULT_IP_COLOCATION_WHITELIST,
  defaultPeerScoreParams,
  defaultTopicScoreParams,
  type PeerScoreParams,
  type PeerScoreThresholds,
  type TopicScoreParams,
} from './scoring.js';
export {
  GossipService,
  acceptanceOf,
  type GossipServiceOptions,
  type GossipMessage,
  type GossipValidator,
  type GossipMessageHandler,
} from './gossip.js';
export {
  createGossipMetrics,
  createReqRespMetrics,
  metricValue,
  type GossipMetrics,
  type ReqRespMetrics,
} from './metrics.js';
export * from './reqresp/index.js';
