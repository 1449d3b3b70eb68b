/**
 * Every way a block or transaction can fail, by name. The codes are the protocol's (src/codec/verdict.ts lists them
 * with the other verdict codes): the API returns them, metrics label by them, docs/protocol.md lists what each means.
 */
import { CodedError, DecodeError, type DecodeErrorCode } from '../codec/errors.js';
import { TreeError, type TreeErrorCode } from '../tree/errors.js';
import { CHAIN_ERROR_CODES, reject, type Verdict } from '../codec/verdict.js';

export { CHAIN_ERROR_CODES };

export type ChainErrorCode = (typeof CHAIN_ERROR_CODES)[number];

// Compile-time check that the decode and tree codes are all chain codes.
const _subsets: readonly ChainErrorCode[] = [] as (DecodeErrorCode | TreeErrorCode)[];
void _subsets;

export class ChainError extends CodedError<ChainErrorCode> {
  override readonly name = 'ChainError';
  constructor(
    code: ChainErrorCode,
    message: string,
    /** Index of the failing transaction in its block, when a transaction failed. */
    readonly txIndex?: number,
  ) {
    super(code, txIndex === undefined ? message : `tx ${txIndex}: ${message}`);
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

  /** The verdict this failure makes: every rule broken is a reject. */
  verdict(): Verdict {
    return reject(this.code);
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
