/**
 * The pure protocol core, what a wallet embeds: wire formats, hashing, keys, the probability-space tree and its
 * stateless verifier, chain validation and evidence, watched paths, the light validator (Tracker), and the sortition draws. No I/O, no networking,
 * no Node-only API (test/core/browser.test.ts runs it without Buffer). An explicit list: what is here is public;
 * the layers' internals (digest layout, crit-bit helpers, transition steps) stay behind it.
 */
export { decodeCanonical, encode } from './codec/canonical.js';
export { bytesEqual, compareBytes, fromHex, toHex } from './codec/bytes.js';
export { DecodeError } from './codec/errors.js';
export { LIMITS } from './codec/limits.js';
export { toBig, toLong, toSafeNumber, U64_MAX } from './codec/u64.js';
export { HASH_BYTES, sha256, taggedHash, TAGS, setSha256 } from './crypto/hash.js';
export {
  generateKeyPair,
  keyPairFromSecret,
  sign,
  verify,
  setSignatureVerifier,
  PUBLIC_KEY_BYTES,
  SECRET_KEY_BYTES,
  SIGNATURE_BYTES,
} from './crypto/keys.js';
export {
  ProbabilityTree,
  EMPTY_ROOT,
  EMPTY_SUMMARY,
  TreeError,
  makeLeaf,
  leafFromBytes,
  encodeContract,
  decodeContract,
  pathFromProto,
  pathToProto,
  pathRoot,
  checkPath,
  verifyLookup,
  verifyFree,
  verifyInsert,
  verifyReplace,
  verifyRemove,
} from './tree/index.js';
export {
  PROTOCOL_VERSION,
  ChainError,
  CHAIN_ERROR_CODES,
  EvidenceError,
  ChainProducer,
  makeGenesis,
  decodeGenesis,
  chainIdOf,
  isAnchor,
  genesisState,
  stateAfter,
  beaconOf,
  decodeBlock,
  encodeBlock,
  encodeHeader,
  decodeHeader,
  decodeSignedHeader,
  headerHash,
  signHeader,
  signedHeaderFromParts,
  checkHeaderSignature,
  validateBlock,
  encodeTx,
  decodeTx,
  txHash,
  signAction,
  encodeAction,
  decodeAction,
  actionHash,
  signedActionFromBytes,
  txRoot,
  txInclusion,
  verifyTxInclusion,
  makeEquivocation,
  makeInvalidTransition,
  makeChildRootMismatch,
  makeStaleState,
  verifyEvidence,
  evidenceId,
  isOperatorFault,
  provesOperatorFault,
} from './chain/index.js';
export { WatchedPath, WatchError, followBlock, followTx } from './light/watch.js';
// The light validator: per chain an O(1) state, equivocation windows, anchoring and the evidence it found.
export { Tracker } from './light/tracker.js';
// The draws (settlement lottery with winner proofs, Dusk committees, Keep pools): already an explicit list.
export * from './sortition/index.js';
// Types carry no code: every public type of the core's modules.
export type * from './codec/canonical.js';
export type * from './codec/u64.js';
export type * from './crypto/hash.js';
export type * from './crypto/keys.js';
export type * from './tree/index.js';
export type * from './chain/index.js';
export type * from './light/watch.js';
export type * from './light/tracker.js';
