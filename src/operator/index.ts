/** The operator: durable store, block production, HTTP API, anchoring up the hierarchy, devnet fault injection. */
export { chainErrorStatus, operatorHttpError, addOperatorRoutes, type OperatorApiOptions } from './api.js';
export { OperatorError, type OperatorErrorCode } from './errors.js';
export {
  parseFaults,
  craftBlock,
  alternativeBlock,
  invalidBlock,
  faultyPublishing,
  type FaultKind,
  type Fault,
} from './faults.js';
export { contractJson, encodePath } from './json.js';
export { operatorMetrics, type OperatorMetrics } from './metrics.js';
export {
  honestPublishing,
  BlockPublisher,
  type WrittenBlock,
  type Outgoing,
  type PublishPolicy,
} from './publish.js';
export { encodeRequest, decodeRequest, type OperatorRequest } from './requests.js';
export {
  OperatorService,
  type OperatorServiceOptions,
  type SealedBlock,
  type SealedInfo,
  type SealListener,
} from './service.js';
export {
  storeKeys,
  OperatorStore,
  type AuxWrite,
  type StoredAuthorisation,
  type StoredChild,
  type BlockWrite,
  type LogEntry,
} from './store.js';
export { loadOrCreateApiToken, requireToken } from './token.js';
export type { PublishVerdict, BlockSink, OperatorDeps } from './types.js';
export { ParentWatch, type ParentWatchOptions } from './parent.js';
export { Upstream, type UpstreamOptions } from './upstream.js';
