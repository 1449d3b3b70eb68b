// Public surface of the sortition library (issue 6): Dusk deterministic sortition, Keep sortition pools and the
// settlement lottery.
// Pure code, no I/O: safe to embed in a wallet.

export { SortitionError, type SortitionErrorCode } from './errors.js';
export { sortitionHash, sortitionScore } from './dusk-hash.js';
export {
  committee,
  generator,
  extractCredits,
  CommitteeExtractor,
  sortProvisioners,
  DUSK_UNIT,
  type Provisioner,
  type Committee,
  type CommitteeMember,
  type CommitteeOptions,
  type ExtractionWalk,
  type ExtractionParams,
} from './dusk-committee.js';
export { WeightedTree, TREE_ARITY } from './weighted-tree.js';
export { SortitionTree, type LeafData, type PickedLeaf } from './keep-tree.js';
export { SortitionPool, V1_INIT_BLOCKS, type PoolConfig, type SelectionContext } from './keep-pool.js';
export { bitsRequired, truncate, getIndex, type RngDraw } from './keep-rng.js';
export { POOL_CAPACITY, MAX_OPERATORS, LEVELS, SLOT_COUNT } from './keep-constants.js';
export {
  runCommitteeJson,
  runGroupJson,
  DrawInputError,
  MAX_JSON_CREDITS,
  type DrawInputErrorCode,
  type CommitteeJsonOutput,
  type GroupJsonOutput,
} from './json.js';
export {
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
  runWinnerJson,
  LotteryError,
  MAX_LOTTERY_LEVELS,
  SELF_TRUST_NOTE,
  type LotteryErrorCode,
  type LotteryChain,
  type LotteryTrust,
  type LotteryWinner,
  type WinnerLevel,
  type WinnerProof,
  type WinnerResult,
  type WinnerLevelJson,
  type WinnerProofJson,
  type WinnerJson,
  type WinnerJsonOutput,
} from './lottery.js';
