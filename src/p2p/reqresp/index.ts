export {
  PROTOCOLS,
  PROTOCOL_STATUS,
  PROTOCOL_BLOCKS_BY_RANGE,
  PROTOCOL_EVIDENCE,
  PROTOCOL_GENESIS,
  MAX_GENESIS_IDS,
  PROTOCOL_NAMES,
  MAX_STATUS_HEADS,
  type ProtocolName,
  type ChainHead,
  type Status,
  type BlocksByRangeRequest,
  type EvidenceRequest,
  type GenesisRequest,
} from './messages.js';
export {
  ReqRespService,
  DEFAULT_REQRESP_LIMITS,
  DEFAULT_RATE_LIMITS,
  type ReqRespServiceOptions,
  type ReqRespHandlers,
  type ReqRespLimits,
  type RequestOptions,
  type PeerTarget,
  type ItemSource,
} from './reqresp.js';
export { RateLimiter, type RateLimit } from './rate-limiter.js';
export { streamSource, streamSink, writeFrames, readFrames } from './frames.js';
