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
export { createNetworkNode } from './libp2p.js';
export { NetworkNode } from './network-node.js';
export { BanList } from './banlist.js';
export { gossipMessageId } from './message-id.js';
export {
  silentLogger,
  DEFAULT_MAX_MESSAGE_SIZE,
  type NetworkNodeOptions,
  type GossipRouterOptions,
  type ScoringOptions,
  type ConnectionOptions,
  type RedialOptions,
  type P2pLogger,
} from './options.js';
export type { GossipRouter, NetworkServices, NetworkLibp2p } from './services.js';
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
// Request/response, without its length-prefixed framing helpers (reqresp/frames.ts).
export {
  PROTOCOLS,
  PROTOCOL_STATUS,
  PROTOCOL_BLOCKS_BY_RANGE,
  PROTOCOL_EVIDENCE,
  PROTOCOL_GENESIS,
  MAX_GENESIS_IDS,
  PROTOCOL_NAMES,
  MAX_STATUS_HEADS,
  ReqRespService,
  DEFAULT_REQRESP_LIMITS,
  DEFAULT_RATE_LIMITS,
  RateLimiter,
  type ProtocolName,
  type ChainHead,
  type Status,
  type BlocksByRangeRequest,
  type EvidenceRequest,
  type GenesisRequest,
  type ReqRespServiceOptions,
  type ReqRespHandlers,
  type ReqRespLimits,
  type RequestOptions,
  type PeerTarget,
  type ItemSource,
  type RateLimit,
} from './reqresp/index.js';
