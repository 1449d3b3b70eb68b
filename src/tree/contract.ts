/**
 * Contracts are the tree's leaves: an owner's claim on the half-open interval [start, end) of a chain's
 * probability space. A leaf's digest is the tagged hash of its canonical encoding, so a leaf handed over by a
 * peer and one rebuilt locally after a transfer hash alike.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, NO_BYTES } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { checkSafe, checkU64, toBig, toSafeNumber } from '../codec/u64.js';
import { fixed64Tag, lengthTag, StrictReader, StrictWriter, varintSize, varintTag } from '../codec/wire.js';
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

const TAG = {
  start: fixed64Tag(1),
  end: fixed64Tag(2),
  owner: lengthTag(3),
  nonce: varintTag(4),
  terms: lengthTag(5),
  childChain: lengthTag(6),
  childOperator: lengthTag(7),
  childHeight: varintTag(8),
  childRoot: lengthTag(9),
} as const;

const bytesSize = (b: Uint8Array): number => (b.length ? 1 + varintSize(b.length) + b.length : 0);
const uintSize = (v: number): number => (v ? 1 + varintSize(v) : 0);

/**
 * The canonical encoding, written by hand (src/codec/wire.ts): every changed leaf of every block is encoded, and
 * through protobufjs that cost more than hashing it. test/codec/wire.test.ts holds it to protobufjs's bytes.
 * @throws DecodeError DECODE_MALFORMED for a contract of the wrong shape or a value its field cannot carry
 */
export function encodeContract(c: Contract): Uint8Array {
  checkShape(c);
  checkU64(c.start);
  checkU64(c.end);
  checkSafe(c.nonce, 'contract: nonce');
  const k = c.child;
  if (k) checkSafe(k.height, 'contract: child height');
  const size =
    (c.start ? 9 : 0) +
    (c.end ? 9 : 0) +
    bytesSize(c.owner) +
    uintSize(c.nonce) +
    bytesSize(c.terms) +
    (k ? bytesSize(k.chain) + bytesSize(k.operator) + uintSize(k.height) + bytesSize(k.root) : 0);
  const w = new StrictWriter(size);
  if (c.start) w.fixed64(TAG.start, c.start);
  if (c.end) w.fixed64(TAG.end, c.end);
  if (c.owner.length) w.bytes(TAG.owner, c.owner);
  if (c.nonce) w.uint(TAG.nonce, c.nonce);
  if (c.terms.length) w.bytes(TAG.terms, c.terms);
  if (k) {
    if (k.chain.length) w.bytes(TAG.childChain, k.chain);
    if (k.operator.length) w.bytes(TAG.childOperator, k.operator);
    if (k.height) w.uint(TAG.childHeight, k.height);
    if (k.root.length) w.bytes(TAG.childRoot, k.root);
  }
  return w.finish();
}

/** The contract a canonical encoding holds, read by hand; null for anything else (then judged the general way). */
function canonicalContract(bytes: Uint8Array): Contract | null {
  try {
    const r = new StrictReader(bytes, 'contract');
    const start = r.next(TAG.start) ? r.fixed64() : 0n;
    const end = r.next(TAG.end) ? r.fixed64() : 0n;
    const owner = r.next(TAG.owner) ? r.bytes(true) : NO_BYTES;
    const nonce = r.next(TAG.nonce) ? r.safeUint() : 0;
    const terms = r.next(TAG.terms) ? r.bytes(true) : NO_BYTES;
    const chain = r.next(TAG.childChain) ? r.bytes(true) : NO_BYTES;
    const operator = r.next(TAG.childOperator) ? r.bytes(true) : NO_BYTES;
    const height = r.next(TAG.childHeight) ? r.safeUint() : 0;
    const root = r.next(TAG.childRoot) ? r.bytes(true) : NO_BYTES;
    r.end();
    if (nonce === null || height === null) return null;
    return contractOf(start, end, owner, nonce, terms, chain, operator, height, root);
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

/** The rules after the wire ones, alike for both readers; counts already checked to be at most 2^53 - 1. */
function contractOf(
  start: bigint,
  end: bigint,
  owner: Uint8Array,
  nonce: number,
  terms: Uint8Array,
  chain: Uint8Array,
  operator: Uint8Array,
  height: number,
  root: Uint8Array,
): Contract {
  const hasChild = chain.length > 0 || operator.length > 0 || root.length > 0;
  const c: Contract = {
    start,
    end,
    owner,
    nonce,
    terms,
    child: hasChild ? { chain, operator, height, root } : undefined,
  };
  if (!hasChild && height !== 0) malformed('child height without a child chain');
  checkShape(c);
  return c;
}

export function decodeContract(bytes: Uint8Array): Contract {
  const fast = bytes.length <= LIMITS.contractBytes ? canonicalContract(bytes) : null;
  if (fast) return fast;
  const m = decodeCanonical(Pb, bytes, LIMITS.contractBytes, 'contract');
  const chain = bytesOf(m.childChain);
  const operator = bytesOf(m.childOperator);
  const root = bytesOf(m.childRoot);
  const hasChild = chain.length > 0 || operator.length > 0 || root.length > 0;
  const nonce = toSafeNumber(m.nonce, 'contract: nonce');
  if (!hasChild && toBig(m.childHeight) !== 0n) malformed('child height without a child chain');
  const height = hasChild ? toSafeNumber(m.childHeight, 'contract: child height') : 0;
  return contractOf(
    toBig(m.start),
    toBig(m.end),
    bytesOf(m.owner),
    nonce,
    bytesOf(m.terms),
    chain,
    operator,
    height,
    root,
  );
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
