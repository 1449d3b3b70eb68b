import { CodedError } from '../codec/errors.js';

export type OperatorErrorCode =
  | 'UNKNOWN_CHAIN'
  | 'NOT_RUNNING'
  | 'STORE_FAILED'
  | 'STORE_MISMATCH'
  // The chain expired on its anchor, or an ancestor's did (a chain expires with its parent): no more transactions.
  | 'EXPIRED'
  // The parent's contract does not (yet) hold this chain: nothing sold on it could ever be anchored.
  | 'NOT_ANCHORED';

/** Failures of the service itself (as opposed to ChainError: the request breaks a protocol rule). */
export class OperatorError extends CodedError<OperatorErrorCode> {
  override readonly name = 'OperatorError';
}
