/** JSON forms of contracts and proofs, and strict parsing of request fields (hex bytes, decimal u64). */
import { sortition } from '../gen/proto.js';
import { encode } from '../codec/canonical.js';
import { U64_MAX } from '../codec/u64.js';
import { fromHex, toHex } from '../crypto/hash.js';
import type { Leaf } from '../tree/contract.js';
import { pathToProto, type Path } from '../tree/path.js';
import { HttpError } from '../runtime/http.js';
import type { ContractJson } from './types.js';

export function contractJson(leaf: Leaf): ContractJson {
  const c = leaf.contract;
  return {
    start: c.start.toString(),
    end: c.end.toString(),
    owner: toHex(c.owner),
    nonce: c.nonce,
    terms: toHex(c.terms),
    child: c.child
      ? {
          chain: toHex(c.child.chain),
          operator: toHex(c.child.operator),
          height: c.child.height,
          root: toHex(c.child.root),
        }
      : null,
    leaf: toHex(leaf.bytes),
    digest: toHex(leaf.digest),
  };
}

export function encodePath(p: Path): Uint8Array {
  const Pb = sortition.v1.Path;
  return encode(Pb, Pb.create(pathToProto(p)));
}

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
