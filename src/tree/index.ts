export {
  encodeContract,
  decodeContract,
  leafDigest,
  makeLeaf,
  leafFromBytes,
  type ChildLink,
  type Contract,
  type Leaf,
} from './contract.js';
export { TreeError, type TreeErrorCode } from './errors.js';
export { nodeDigest, critBit, bitAt, EMPTY_ROOT, STEP_RIGHT, STEP_CRIT_MASK } from './node.js';
export { pathToProto, pathFromProto, type Path } from './path.js';
export { ProbabilityTree } from './tree.js';
export {
  pathRoot,
  checkPath,
  verifyLookup,
  verifyFree,
  verifyInsert,
  verifyReplace,
  verifyRemove,
  EMPTY_SUMMARY,
  type Summary,
  type LookupResult,
} from './verify.js';
export {
  encodeMultiproof,
  decodeMultiproof,
  MultiproofWriter,
  PartialTree,
  type MultiproofParts,
  type PartialState,
} from './multiproof.js';
