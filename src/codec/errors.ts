/** Why bytes from outside could not be decoded. The code is reused by validation results, the API and metrics. */
export type DecodeErrorCode = 'DECODE_MALFORMED' | 'DECODE_NONCANONICAL' | 'DECODE_OVERSIZE';

/**
 * The base of the project's typed errors: a code from a closed union, which the API answers with and metrics count
 * by, beside the message. Each layer's error class names its own union and adds only what it must.
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class DecodeError extends CodedError<DecodeErrorCode> {
  override readonly name = 'DecodeError';
}
