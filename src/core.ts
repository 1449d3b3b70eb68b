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
// Signatures checked ahead by an asynchronous implementation (WebCrypto in a browser), same rule: Tracker.onBlockAsync.
export { SignatureMemo, webCryptoVerifier } from './crypto/async.js';
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
// The draws: Dusk committees, Keep pools, and the settlement lottery with its winner proofs. The CLI's JSON
// drivers and the pools' random-walk helpers stay in src/sortition.
export {
  SortitionError,
  sortitionHash,
  sortitionScore,
  committee,
  generator,
  extractCredits,
  CommitteeExtractor,
  sortProvisioners,
  DUSK_UNIT,
  WeightedTree,
  SortitionTree,
  SortitionPool,
  POOL_CAPACITY,
  MAX_OPERATORS,
  winningPoint,
  settlementBeacon,
  buildPointProof,
  buildWinnerProof,
  verifyPointProof,
  verifyWinner,
  trustRoots,
  encodeLookupPath,
  decodeLookupPath,
  winnerProofToJson,
  winnerProofFromJson,
  winnerToJson,
  LotteryError,
  MAX_LOTTERY_LEVELS,
} from './sortition/index.js';
// Types carry no code: the types of the public values above.
export type { MessageType } from './codec/canonical.js';
export type { U64Like } from './codec/u64.js';
export type { TagName, Sha256 } from './crypto/hash.js';
export type { KeyPair, SignatureVerifier, SignatureEncodingVerdict } from './crypto/keys.js';
export type { AsyncSignatureVerifier } from './crypto/async.js';
export type {
  ChildLink,
  Contract,
  Leaf,
  TreeErrorCode,
  Path,
  Summary,
  LookupResult,
  MultiproofParts,
} from './tree/index.js';
export type {
  BlockVersion,
  Block,
  ChainErrorCode,
  EvidenceKind,
  VerifiedEvidence,
  EvidenceErrorCode,
  GenesisLookup,
  Genesis,
  GenesisRecord,
  Header,
  SignedHeader,
  NewContract,
  ProducerOptions,
  SealedBlock,
  ChainState,
  OwnerOp,
  OwnerAction,
  SignedAction,
  Tx,
  TxV2,
  ValidationResult,
} from './chain/index.js';
export type { WatchStatus, WatchOp, WatchEnd, WatchSet } from './light/watch.js';
export type {
  VerdictResult,
  Verdict,
  AcceptedBlock,
  BlockOutcome,
  ChainStatus,
  TrackerOptions,
} from './light/tracker.js';
export type {
  SortitionErrorCode,
  Provisioner,
  Committee,
  CommitteeMember,
  CommitteeOptions,
  ExtractionWalk,
  ExtractionParams,
  LeafData,
  PickedLeaf,
  PoolConfig,
  SelectionContext,
  LotteryErrorCode,
  LotteryChain,
  LotteryTrust,
  LotteryWinner,
  WinnerLevel,
  WinnerProof,
  WinnerResult,
  WinnerLevelJson,
  WinnerProofJson,
  WinnerJson,
} from './sortition/index.js';
