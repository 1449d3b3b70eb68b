/** The anchor interface and its devnet implementation on top of an operator of the anchor chain. */
export { addAnchorRoutes, addRegistrationRoute } from './api.js';
export { HttpAnchor } from './client.js';
export { DevnetAnchor, type AuxRecord, type AnchorChainOperator } from './devnet.js';
export {
  registrationToJson,
  registrationFromJson,
  evidenceRecordToJson,
  evidenceRecordFromJson,
  encodeJson,
  decodeJson,
  type RegistrationJson,
  type EvidenceRecordJson,
} from './json.js';
export {
  AnchorError,
  type AnchorErrorCode,
  type RegistrationRequest,
  type Registration,
  type CommitResult,
  type EvidenceRecord,
  type Anchor,
} from './types.js';
