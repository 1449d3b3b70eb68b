/**
 * Strict parsing of JSON request fields for the HTTP APIs: hex bytes, decimal u64, object bodies. A malformed
 * field is a 400 `BAD_REQUEST` with the field's name, never an exception the server does not expect.
 */
import { U64_MAX } from '../codec/u64.js';
import { fromHex } from '../codec/bytes.js';
import { HttpError } from './http.js';

export function badRequest(message: string): never {
  throw new HttpError(400, 'BAD_REQUEST', message);
}

/** Hex bytes; `len` checks the length. */
export function hexField(v: unknown, what: string, len?: number): Uint8Array {
  if (typeof v !== 'string') badRequest(`${what} must be a hex string`);
  let b: Uint8Array;
  try {
    b = fromHex(v, what);
  } catch (e) {
    badRequest((e as Error).message);
  }
  if (len !== undefined && b.length !== len) badRequest(`${what} must be ${len} bytes, got ${b.length}`);
  return b;
}

/** An unsigned 64-bit integer given as a decimal string (or a safe JSON number). */
export function u64Field(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v))
    badRequest(`${what} must be an unsigned decimal integer string`);
  const n = BigInt(v);
  if (n > U64_MAX) badRequest(`${what} does not fit in 64 bits`);
  return n;
}

export function objectBody(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) badRequest('the body must be a JSON object');
  return v as Record<string, unknown>;
}
