export { encodeBlock, decodeBlock, type BlockVersion, type Block } from './block.js';
export { isOperatorFault, CHAIN_ERROR_CODES, ChainError, type ChainErrorCode } from './errors.js';
export {
  provesOperatorFault,
  evidenceId,
  makeEquivocation,
  makeInvalidTransition,
  makeChildRootMismatch,
  makeStaleState,
  verifyEvidence,
  EvidenceError,
  type EvidenceKind,
  type VerifiedEvidence,
  type EvidenceErrorCode,
  type GenesisLookup,
} from './evidence.js';
export {
  chainIdOf,
  makeGenesis,
  decodeGenesis,
  isAnchor,
  PROTOCOL_VERSION,
  type Genesis,
  type GenesisRecord,
} from './genesis.js';
export {
  headerHash,
  encodeHeader,
  decodeHeader,
  signHeader,
  signedHeaderFromParts,
  decodeSignedHeader,
  checkHeaderSignature,
  type Header,
  type SignedHeader,
} from './header.js';
export { ChainProducer, type NewContract, type ProducerOptions, type SealedBlock } from './producer.js';
export { genesisState, beaconOf, stateAfter, type ChainState } from './state.js';
export {
  checkOwnerSignature,
  checkChildSignature,
  applyTx,
  lazy,
  applyTxV2,
  withPaths,
  type PathReaders,
} from './transition.js';
export {
  actionHash,
  encodeAction,
  decodeAction,
  signAction,
  signedActionFromBytes,
  encodeTx,
  decodeTx,
  encodeTxV2,
  decodeTxV2,
  decodeTxAnyVersion,
  type OwnerOp,
  type OwnerAction,
  type SignedAction,
  type Tx,
  type TxV2,
} from './tx.js';
export { txHash, txRoot, txInclusion, verifyTxInclusion } from './txroot.js';
export {
  checkLink,
  checkBeaconSignature,
  checkTransition,
  blockTxs,
  checkTxSignaturesV2,
  validateDecodedBlock,
  validateBlock,
  type ValidationResult,
} from './validate.js';
