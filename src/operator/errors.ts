import { CodedError } from '../codec/errors.js';

export type OperatorErrorCode =
  'UNKNOWN_CHAIN' | 'NOT_RUNNING' | 'STORE_FAILED' | 'STORE_MISMATCH' | 'EXPIRED'; // the chain expired on its anchor: it takes no more transactions

/** Failures of the service itself (as opposed to ChainError: the request breaks a protocol rule). */
export class OperatorError extends CodedError<OperatorErrorCode> {
  override readonly name = 'OperatorError';
}
