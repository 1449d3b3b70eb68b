/**
 * Transactions and owner actions: their typed forms, codecs and signing. An owner action names the exact
 * contract state it acts on (its leaf digest) and the next nonce, so a signature can never be replayed against
 * another state of the contract.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, encode, NO_BYTES } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { fixed64Tag, lengthTag, StrictReader, varintTag } from '../codec/wire.js';
import { toBig, toLong, toSafeNumber, type U64Like } from '../codec/u64.js';
import { HASH_BYTES, taggedHash } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, sign } from '../crypto/keys.js';
import { leafFromBytes, type Leaf } from '../tree/contract.js';
import { pathFromProto, pathToProto, type Path } from '../tree/path.js';
import { decodeGenesis, type GenesisRecord } from './genesis.js';
import { decodeSignedHeader, type SignedHeader } from './header.js';

export type OwnerOp =
  | { readonly kind: 'transfer'; readonly newOwner: Uint8Array; readonly terms: Uint8Array }
  | {
      readonly kind: 'split';
      readonly at: bigint;
      readonly rightOwner: Uint8Array;
      readonly rightTerms: Uint8Array;
    }
  | { readonly kind: 'close' }
  | { readonly kind: 'openChild'; readonly chainId: Uint8Array };

export interface OwnerAction {
  readonly chainId: Uint8Array;
  readonly contractHash: Uint8Array;
  readonly nonce: number;
  readonly op: OwnerOp;
}

export interface SignedAction {
  readonly action: OwnerAction;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

export type Tx =
  | { readonly kind: 'create'; readonly leaf: Leaf; readonly path: Path }
  | {
      readonly kind: 'owner';
      readonly signed: SignedAction;
      readonly path: Path;
      readonly insertPath: Path | null;
      readonly childGenesis: GenesisRecord | null;
    }
  | { readonly kind: 'childRoot'; readonly child: SignedHeader; readonly path: Path };

/**
 * A version 2 transaction (docs/protocol.md §14): no paths, the contract acted on named by its start; the block's
 * multiproof holds the tree it acts on.
 */
export type TxV2 =
  | { readonly kind: 'create'; readonly leaf: Leaf }
  | {
      readonly kind: 'owner';
      readonly signed: SignedAction;
      readonly start: bigint;
      readonly childGenesis: GenesisRecord | null;
    }
  | { readonly kind: 'childRoot'; readonly child: SignedHeader; readonly start: bigint };

const TxPb = sortition.v1.Tx;
const ActionPb = sortition.v1.OwnerAction;

function malformed(what: string): never {
  throw new DecodeError('DECODE_MALFORMED', what);
}

function key(b: Uint8Array | null | undefined, what: string, optional = false): Uint8Array {
  const k = bytesOf(b);
  if (optional && k.length === 0) return k;
  if (k.length !== PUBLIC_KEY_BYTES) malformed(`${what} must be a 32-byte key`);
  return k;
}

function terms(b: Uint8Array | null | undefined): Uint8Array {
  const t = bytesOf(b);
  if (t.length !== 0 && t.length !== HASH_BYTES) malformed('terms must be empty or 32 bytes');
  return t;
}

export function actionHash(actionBytes: Uint8Array): Uint8Array {
  return taggedHash('action', actionBytes);
}

export function encodeAction(a: OwnerAction): Uint8Array {
  const m: sortition.v1.IOwnerAction = {
    chainId: a.chainId,
    contractHash: a.contractHash,
    nonce: toLong(a.nonce, 'owner action: nonce'),
  };
  const op = a.op;
  if (op.kind === 'transfer') m.transfer = { newOwner: op.newOwner, terms: op.terms };
  else if (op.kind === 'split')
    m.split = {
      at: toLong(op.at, 'owner action: split point'),
      rightOwner: op.rightOwner,
      rightTerms: op.rightTerms,
    };
  else if (op.kind === 'close') m.close = {};
  else m.openChild = { chainId: op.chainId };
  return encode(ActionPb, ActionPb.create(m));
}

/** An owner action's fields as either reader gives them, before the action's own rules. */
interface ActionFields {
  readonly chainId?: Uint8Array | null;
  readonly contractHash?: Uint8Array | null;
  readonly nonce?: U64Like;
  readonly transfer?: { readonly newOwner?: Uint8Array | null; readonly terms?: Uint8Array | null } | null;
  readonly split?: {
    readonly at?: U64Like;
    readonly rightOwner?: Uint8Array | null;
    readonly rightTerms?: Uint8Array | null;
  } | null;
  readonly close?: object | null;
  readonly openChild?: { readonly chainId?: Uint8Array | null } | null;
}

const ACTION = {
  chainId: lengthTag(1),
  contractHash: lengthTag(2),
  nonce: varintTag(3),
  transfer: lengthTag(4),
  split: lengthTag(5),
  close: lengthTag(6),
  openChild: lengthTag(7),
  transferOwner: lengthTag(1),
  transferTerms: lengthTag(2),
  splitAt: fixed64Tag(1),
  splitOwner: lengthTag(2),
  splitTerms: lengthTag(3),
  openChildId: lengthTag(1),
} as const;

/** A canonical owner action's fields, read by hand; null for anything else (then judged the general way). */
function canonicalActionFields(bytes: Uint8Array): ActionFields | null {
  if (bytes.length > LIMITS.txBytes) return null;
  try {
    const r = new StrictReader(bytes, 'owner action');
    const chainId = r.next(ACTION.chainId) ? r.bytes(true) : null;
    const contractHash = r.next(ACTION.contractHash) ? r.bytes(true) : null;
    const nonce = r.next(ACTION.nonce) ? r.safeUint() : 0;
    if (nonce === null) return null;
    let f: ActionFields;
    if (r.next(ACTION.transfer)) {
      const m = new StrictReader(r.bytes(), 'transfer');
      const newOwner = m.next(ACTION.transferOwner) ? m.bytes(true) : null;
      const terms = m.next(ACTION.transferTerms) ? m.bytes(true) : null;
      m.end();
      f = { chainId, contractHash, nonce, transfer: { newOwner, terms } };
    } else if (r.next(ACTION.split)) {
      const m = new StrictReader(r.bytes(), 'split');
      const at = m.next(ACTION.splitAt) ? m.fixed64() : 0n;
      const rightOwner = m.next(ACTION.splitOwner) ? m.bytes(true) : null;
      const rightTerms = m.next(ACTION.splitTerms) ? m.bytes(true) : null;
      m.end();
      f = { chainId, contractHash, nonce, split: { at, rightOwner, rightTerms } };
    } else if (r.next(ACTION.close)) {
      new StrictReader(r.bytes(), 'close').end();
      f = { chainId, contractHash, nonce, close: {} };
    } else if (r.next(ACTION.openChild)) {
      const m = new StrictReader(r.bytes(), 'open child');
      const id = m.next(ACTION.openChildId) ? m.bytes(true) : null;
      m.end();
      f = { chainId, contractHash, nonce, openChild: { chainId: id } };
    } else f = { chainId, contractHash, nonce };
    r.end();
    return f;
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

export function decodeAction(bytes: Uint8Array): OwnerAction {
  const m: ActionFields =
    canonicalActionFields(bytes) ?? decodeCanonical(ActionPb, bytes, LIMITS.txBytes, 'owner action');
  const set = [m.transfer, m.split, m.close, m.openChild].filter((x) => x != null);
  if (set.length !== 1) malformed('owner action must carry exactly one operation');
  let op: OwnerOp;
  if (m.transfer)
    op = {
      kind: 'transfer',
      newOwner: key(m.transfer.newOwner, 'new owner'),
      terms: terms(m.transfer.terms),
    };
  else if (m.split) {
    op = {
      kind: 'split',
      at: toBig(m.split.at),
      rightOwner: key(m.split.rightOwner, 'right owner'),
      rightTerms: terms(m.split.rightTerms),
    };
  } else if (m.close) op = { kind: 'close' };
  else {
    const id = bytesOf(m.openChild!.chainId);
    if (id.length !== HASH_BYTES) malformed('child chain id must be 32 bytes');
    op = { kind: 'openChild', chainId: id };
  }
  const chainId = bytesOf(m.chainId);
  const contractHash = bytesOf(m.contractHash);
  if (chainId.length !== HASH_BYTES || contractHash.length !== HASH_BYTES)
    malformed('action ids must be 32 bytes');
  return { chainId, contractHash, nonce: toSafeNumber(m.nonce, 'owner action: nonce'), op };
}

/** What a contract owner's wallet does: encode the action and sign its hash. */
export function signAction(action: OwnerAction, ownerSecretKey: Uint8Array): SignedAction {
  const bytes = encodeAction(action);
  return { action, bytes, signature: sign(ownerSecretKey, actionHash(bytes)) };
}

export function signedActionFromBytes(bytes: Uint8Array, signature: Uint8Array): SignedAction {
  if (signature.length !== SIGNATURE_BYTES) malformed('owner signature must be 64 bytes');
  return { action: decodeAction(bytes), bytes, signature };
}

export function encodeTx(tx: Tx): Uint8Array {
  const m: sortition.v1.ITx = {};
  if (tx.kind === 'create') m.create = { contract: tx.leaf.bytes, path: pathToProto(tx.path) };
  else if (tx.kind === 'owner') {
    m.owner = {
      action: tx.signed.bytes,
      signature: tx.signed.signature,
      path: pathToProto(tx.path),
      insertPath: tx.insertPath ? pathToProto(tx.insertPath) : null,
      childGenesis: tx.childGenesis ? tx.childGenesis.bytes : new Uint8Array(0),
    };
  } else m.childRoot = { childHeader: tx.child.bytes, path: pathToProto(tx.path) };
  return encode(TxPb, TxPb.create(m));
}

function decodeTxMessage(bytes: Uint8Array): sortition.v1.Tx {
  const m = decodeCanonical(TxPb, bytes, LIMITS.txBytes, 'tx');
  const set = [m.create, m.owner, m.childRoot].filter((x) => x != null);
  if (set.length !== 1) malformed('tx must carry exactly one kind');
  return m;
}

/** A version 1 transaction. */
export function decodeTx(bytes: Uint8Array): Tx {
  const m = decodeTxMessage(bytes);
  // `start` is version 2's; before it existed it was an unknown field, and it keeps that verdict here.
  if (toBig(m.owner?.start) !== 0n || toBig(m.childRoot?.start) !== 0n)
    throw new DecodeError('DECODE_NONCANONICAL', 'tx: a version 2 field in a version 1 transaction');
  if (m.create)
    return {
      kind: 'create',
      leaf: leafFromBytes(bytesOf(m.create.contract)),
      path: pathFromProto(m.create.path),
    };
  if (m.owner) {
    const o = m.owner;
    const g = bytesOf(o.childGenesis);
    return {
      kind: 'owner',
      signed: signedActionFromBytes(bytesOf(o.action), bytesOf(o.signature)),
      path: pathFromProto(o.path),
      insertPath: o.insertPath ? pathFromProto(o.insertPath) : null,
      childGenesis: g.length ? decodeGenesis(g) : null,
    };
  }
  const c = m.childRoot!;
  return {
    kind: 'childRoot',
    child: decodeSignedHeader(bytesOf(c.childHeader)),
    path: pathFromProto(c.path),
  };
}

export function encodeTxV2(tx: TxV2): Uint8Array {
  const m: sortition.v1.ITx = {};
  if (tx.kind === 'create') m.create = { contract: tx.leaf.bytes };
  else if (tx.kind === 'owner') {
    m.owner = {
      action: tx.signed.bytes,
      signature: tx.signed.signature,
      childGenesis: tx.childGenesis ? tx.childGenesis.bytes : new Uint8Array(0),
      start: toLong(tx.start),
    };
  } else m.childRoot = { childHeader: tx.child.bytes, start: toLong(tx.start) };
  return encode(TxPb, TxPb.create(m));
}

/** What a version 2 transaction's envelope holds, before the action, contract or header inside it is decoded. */
type TxV2Parts =
  | { readonly kind: 'create'; readonly contract: Uint8Array }
  | {
      readonly kind: 'owner';
      readonly action: Uint8Array;
      readonly signature: Uint8Array;
      readonly childGenesis: Uint8Array;
      readonly start: bigint;
    }
  | { readonly kind: 'childRoot'; readonly childHeader: Uint8Array; readonly start: bigint };

const V2 = {
  create: lengthTag(1),
  owner: lengthTag(2),
  childRoot: lengthTag(3),
  createContract: lengthTag(1),
  ownerAction: lengthTag(1),
  ownerSignature: lengthTag(2),
  ownerChildGenesis: lengthTag(5),
  ownerStart: fixed64Tag(6),
  childHeader: lengthTag(1),
  childStart: fixed64Tag(3),
} as const;

/**
 * The envelope of a canonical, path-free version 2 transaction, read by hand (src/codec/wire.ts); null for anything
 * else, which `txV2PartsByProtobuf` then judges with the codes it always gave. test/codec/wire.test.ts holds the two.
 */
export function canonicalTxV2Parts(bytes: Uint8Array): TxV2Parts | null {
  if (bytes.length > LIMITS.txBytes) return null;
  try {
    const r = new StrictReader(bytes, 'tx');
    let parts: TxV2Parts | null = null;
    if (r.next(V2.create)) {
      const m = new StrictReader(r.bytes(), 'create tx');
      const contract = m.next(V2.createContract) ? m.bytes(true) : NO_BYTES;
      m.end();
      parts = { kind: 'create', contract };
    } else if (r.next(V2.owner)) {
      const m = new StrictReader(r.bytes(), 'owner tx');
      const action = m.next(V2.ownerAction) ? m.bytes(true) : NO_BYTES;
      const signature = m.next(V2.ownerSignature) ? m.bytes(true) : NO_BYTES;
      const childGenesis = m.next(V2.ownerChildGenesis) ? m.bytes(true) : NO_BYTES;
      const start = m.next(V2.ownerStart) ? m.fixed64() : 0n;
      m.end();
      parts = { kind: 'owner', action, signature, childGenesis, start };
    } else if (r.next(V2.childRoot)) {
      const m = new StrictReader(r.bytes(), 'child root tx');
      const childHeader = m.next(V2.childHeader) ? m.bytes(true) : NO_BYTES;
      const start = m.next(V2.childStart) ? m.fixed64() : 0n;
      m.end();
      parts = { kind: 'childRoot', childHeader, start };
    }
    r.end();
    return parts;
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

/** The envelope by protobufjs: canonical, one kind, no paths; throws DecodeError. */
export function txV2PartsByProtobuf(bytes: Uint8Array): TxV2Parts {
  const m = decodeTxMessage(bytes);
  if (m.create?.path || m.owner?.path || m.owner?.insertPath || m.childRoot?.path)
    malformed('a version 2 transaction carries no paths');
  if (m.create) return { kind: 'create', contract: bytesOf(m.create.contract) };
  if (m.owner) {
    const o = m.owner;
    return {
      kind: 'owner',
      action: bytesOf(o.action),
      signature: bytesOf(o.signature),
      childGenesis: bytesOf(o.childGenesis),
      start: toBig(o.start),
    };
  }
  const c = m.childRoot!;
  return { kind: 'childRoot', childHeader: bytesOf(c.childHeader), start: toBig(c.start) };
}

/** A version 2 transaction: one carrying a path is DECODE_MALFORMED (the block's multiproof replaces them). */
export function decodeTxV2(bytes: Uint8Array): TxV2 {
  const p = canonicalTxV2Parts(bytes) ?? txV2PartsByProtobuf(bytes);
  if (p.kind === 'create') return { kind: 'create', leaf: leafFromBytes(p.contract) };
  if (p.kind === 'owner')
    return {
      kind: 'owner',
      signed: signedActionFromBytes(p.action, p.signature),
      start: p.start,
      childGenesis: p.childGenesis.length ? decodeGenesis(p.childGenesis) : null,
    };
  return { kind: 'childRoot', child: decodeSignedHeader(p.childHeader), start: p.start };
}

/**
 * A transaction quoted alone (child-root mismatch evidence), of either version: one without any path is read as
 * version 2, any other as version 1.
 */
export function decodeTxAnyVersion(bytes: Uint8Array): Tx | TxV2 {
  const m = decodeTxMessage(bytes);
  const v1 = m.create?.path || m.owner?.path || m.owner?.insertPath || m.childRoot?.path;
  return v1 ? decodeTx(bytes) : decodeTxV2(bytes);
}
