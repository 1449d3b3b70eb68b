/**
 * Every way a block, transaction or piece of evidence can fail, by name. The codes are the protocol's: the API
 * returns them, metrics label by them, docs/protocol.md lists what each means.
 */
import { DecodeError, type DecodeErrorCode } from '../codec/errors.js';
import { TreeError, type TreeErrorCode } from '../tree/errors.js';

export const CHAIN_ERROR_CODES = [
  // decoding and size
  'DECODE_MALFORMED',
  'DECODE_NONCANONICAL',
  'DECODE_OVERSIZE',
  'TOO_MANY_TXS',
  // header
  'WRONG_CHAIN',
  'BAD_SIGNATURE',
  'OLD_HEIGHT',
  'HEIGHT_GAP',
  'WRONG_PARENT',
  'TIME_REGRESSION',
  'BAD_BEACON',
  'TX_COUNT_MISMATCH',
  'TX_ROOT_MISMATCH',
  'STATE_ROOT_MISMATCH',
  'STATE_BOUNDS_MISMATCH',
  // transactions
  'PROOF_INVALID',
  'PROOF_MISMATCH',
  'OVERLAP',
  'NOT_FOUND',
  'OUT_OF_SPACE',
  'BAD_CONTRACT',
  'BAD_OWNER_SIGNATURE',
  'STALE_NONCE',
  'WRONG_CONTRACT',
  'SPLIT_OUT_OF_RANGE',
  'CONTRACT_IS_CHAIN',
  'NOT_A_CHAIN',
  'BAD_GENESIS',
  'CHILD_WRONG_CHAIN',
  'CHILD_BAD_SIGNATURE',
  'CHILD_HEIGHT_NOT_INCREASING',
  'CHILD_OUT_OF_BOUNDS',
] as const;

export type ChainErrorCode = (typeof CHAIN_ERROR_CODES)[number];

// Compile-time check that the decode and tree codes are all chain codes.
const _subsets: readonly ChainErrorCode[] = [] as (DecodeErrorCode | TreeErrorCode)[];
void _subsets;

export class ChainError extends Error {
  override readonly name = 'ChainError';
  constructor(
    readonly code: ChainErrorCode,
    message: string,
    /** Index of the failing transaction in its block, when a transaction failed. */
    readonly txIndex?: number,
  ) {
    super(txIndex === undefined ? message : `tx ${txIndex}: ${message}`);
  }

  /** Converts the lower layers' typed errors; anything else is a bug and is rethrown. */
  static from(e: unknown, txIndex?: number): ChainError {
    if (e instanceof ChainError)
      return txIndex === undefined || e.txIndex !== undefined
        ? e
        : new ChainError(e.code, e.message, txIndex);
    if (e instanceof DecodeError || e instanceof TreeError) return new ChainError(e.code, e.message, txIndex);
    throw e;
  }
}

/**
 * Failures that prove nothing about the operator: a block that does not link to the head (wrong chain, height,
 * parent, or not signed by the operator) or whose body is not the one the header's tx root signed. Every other
 * failure happens inside a correctly signed and linked block whose body the operator signed, so the operator answers
 * for it, and it makes invalid-transition evidence.
 */
const NOT_ATTRIBUTABLE: ReadonlySet<ChainErrorCode> = new Set<ChainErrorCode>([
  'WRONG_CHAIN',
  'BAD_SIGNATURE',
  'OLD_HEIGHT',
  'HEIGHT_GAP',
  'WRONG_PARENT',
  'TX_COUNT_MISMATCH',
  'TX_ROOT_MISMATCH',
]);

/** Whether a failure inside a correctly signed, correctly linked block is the operator's fault. */
export function isOperatorFault(e: ChainError): boolean {
  // Decode failures count only inside the signed body (a transaction), never for the block envelope itself.
  if (e.code.startsWith('DECODE_')) return e.txIndex !== undefined;
  return !NOT_ATTRIBUTABLE.has(e.code);
}
