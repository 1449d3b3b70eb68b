/** Failures of tree operations and proofs. The codes are part of the protocol's error codes. */
import { CodedError } from '../codec/errors.js';
export type TreeErrorCode =
  | 'PROOF_INVALID' // malformed path: depth, lengths, order of crit bits, wrong kind of path for the operation
  | 'PROOF_MISMATCH' // the path does not hash to the root it is checked against
  | 'OVERLAP' // the interval intersects an allocated contract
  | 'NOT_FOUND'; // no contract starts at the requested position

export class TreeError extends CodedError<TreeErrorCode> {
  override readonly name = 'TreeError';
}
