/**
 * Contracts are the tree's leaves: an owner's claim on the half-open interval [start, end) of a chain's
 * probability space. A leaf's digest is the tagged hash of its canonical encoding, so a leaf handed over by a
 * peer and one rebuilt locally after a transfer hash alike.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, encode } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { toBig, toLong, toSafeNumber } from '../codec/u64.js';
import { taggedHash, HASH_BYTES } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';

const Pb = sortition.v1.Contract;

export interface ChildLink {
  /** The child chain's id (hash of its genesis record). */
  readonly chain: Uint8Array;
  readonly operator: Uint8Array;
  /** Latest child height committed here (0: none yet) and the child's state root at that height. */
  readonly height: number;
  readonly root: Uint8Array;
}

export interface Contract {
  readonly start: bigint;
  readonly end: bigint;
  readonly owner: Uint8Array;
  readonly nonce: number;
  /** Empty, or a 32-byte hash of terms agreed off-chain. */
  readonly terms: Uint8Array;
  readonly child?: ChildLink;
}

/** A contract with the exact bytes it was received or built as, and their digest. */
export interface Leaf {
  readonly contract: Contract;
  readonly bytes: Uint8Array;
  readonly digest: Uint8Array;
}

function malformed(msg: string): never {
  throw new DecodeError('DECODE_MALFORMED', `contract: ${msg}`);
}

/** Shape rules that hold for every contract, whoever built it. */
function checkShape(c: Contract): void {
  if (c.start >= c.end) malformed(`empty interval [${c.start}, ${c.end})`);
  if (c.owner.length !== PUBLIC_KEY_BYTES) malformed(`owner key is ${c.owner.length} bytes, expected 32`);
  if (c.terms.length !== 0 && c.terms.length !== HASH_BYTES)
    malformed('terms must be empty or a 32-byte hash');
  if (c.child) {
    if (c.child.chain.length !== HASH_BYTES) malformed('child chain id must be 32 bytes');
    if (c.child.operator.length !== PUBLIC_KEY_BYTES) malformed('child operator key must be 32 bytes');
    if (c.child.root.length !== HASH_BYTES) malformed('child root must be 32 bytes');
  }
}

export function encodeContract(c: Contract): Uint8Array {
  checkShape(c);
  const m: sortition.v1.IContract = {
    start: toLong(c.start),
    end: toLong(c.end),
    owner: c.owner,
    nonce: toLong(c.nonce, 'contract: nonce'),
    terms: c.terms,
  };
  if (c.child) {
    m.childChain = c.child.chain;
    m.childOperator = c.child.operator;
    m.childHeight = toLong(c.child.height, 'contract: child height');
    m.childRoot = c.child.root;
  }
  return encode(Pb, Pb.create(m));
}

export function decodeContract(bytes: Uint8Array): Contract {
  const m = decodeCanonical(Pb, bytes, LIMITS.contractBytes, 'contract');
  const chain = bytesOf(m.childChain);
  const operator = bytesOf(m.childOperator);
  const root = bytesOf(m.childRoot);
  const hasChild = chain.length > 0 || operator.length > 0 || root.length > 0;
  const c: Contract = {
    start: toBig(m.start),
    end: toBig(m.end),
    owner: bytesOf(m.owner),
    nonce: toSafeNumber(m.nonce, 'contract: nonce'),
    terms: bytesOf(m.terms),
    child: hasChild
      ? { chain, operator, height: toSafeNumber(m.childHeight, 'contract: child height'), root }
      : undefined,
  };
  if (!hasChild && toBig(m.childHeight) !== 0n) malformed('child height without a child chain');
  checkShape(c);
  return c;
}

export function leafDigest(bytes: Uint8Array): Uint8Array {
  return taggedHash('leaf', bytes);
}

export function makeLeaf(c: Contract): Leaf {
  const bytes = encodeContract(c);
  return { contract: c, bytes, digest: leafDigest(bytes) };
}

export function leafFromBytes(bytes: Uint8Array): Leaf {
  return { contract: decodeContract(bytes), bytes, digest: leafDigest(bytes) };
}
