/** Why bytes from outside could not be decoded. The code is reused by validation results, the API and metrics. */
export type DecodeErrorCode = 'DECODE_MALFORMED' | 'DECODE_NONCANONICAL' | 'DECODE_OVERSIZE';

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
