/**
 * The raw material of the campaign: encoders that write any value the wire can carry (heights past 2^53,
 * zero-width contracts, 2^64-1 edges), where the protocol's own encoders refuse what an honest node never makes,
 * and chains with keys whose signatures the campaign records.
 */
import { sortition } from '../../src/gen/proto.js';
import { encode } from '../../src/codec/canonical.js';
import { toLong } from '../../src/codec/u64.js';
import { makeGenesis, type GenesisRecord } from '../../src/chain/genesis.js';
import { headerHash } from '../../src/chain/header.js';
import { actionHash, type OwnerOp } from '../../src/chain/tx.js';
import { leafDigest, type Contract, type Leaf } from '../../src/tree/contract.js';
import { pathToProto, type Path } from '../../src/tree/path.js';
import { toHex } from '../../src/crypto/hash.js';
import { randomKey, SignedRecord, type FuzzKey } from './keys.js';
import type { Rng } from './prng.js';

export const U64_MAX = (1n << 64n) - 1n;
export const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const pb = sortition.v1;

export interface RawChild {
  readonly chain: Uint8Array;
  readonly operator: Uint8Array;
  readonly height: bigint;
  readonly root: Uint8Array;
}

export interface RawContract {
  readonly start: bigint;
  readonly end: bigint;
  readonly owner: Uint8Array;
  readonly nonce: bigint;
  readonly terms: Uint8Array;
  readonly child?: RawChild;
}

export interface RawAction {
  readonly chainId: Uint8Array;
  readonly contractHash: Uint8Array;
  readonly nonce: bigint;
  readonly op: OwnerOp;
}

export interface RawHeader {
  readonly chainId: Uint8Array;
  readonly height: bigint;
  readonly prevHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly stateMin: bigint;
  readonly stateMax: bigint;
  readonly txRoot: Uint8Array;
  readonly txCount: number;
  readonly timeMs: bigint;
  readonly beaconSig: Uint8Array;
}

const u64 = (v: bigint) => toLong(v & U64_MAX);

export function contractBytes(c: RawContract): Uint8Array {
  const m: sortition.v1.IContract = {
    start: u64(c.start),
    end: u64(c.end),
    owner: c.owner,
    nonce: u64(c.nonce),
    terms: c.terms,
  };
  if (c.child) {
    m.childChain = c.child.chain;
    m.childOperator = c.child.operator;
    m.childHeight = u64(c.child.height);
    m.childRoot = c.child.root;
  }
  return encode(pb.Contract, pb.Contract.create(m));
}

/** A leaf over any contract, shape rules or not; `contract.nonce` is only meaningful up to 2^53. */
export function rawLeaf(c: RawContract): Leaf {
  const bytes = contractBytes(c);
  const child = c.child ? { ...c.child, height: Number(c.child.height) } : undefined;
  const contract: Contract = { ...c, nonce: Number(c.nonce), child };
  return { contract, bytes, digest: leafDigest(bytes) };
}

export function rawOf(c: Contract): RawContract {
  const child = c.child ? { ...c.child, height: BigInt(c.child.height) } : undefined;
  return { ...c, nonce: BigInt(c.nonce), child };
}

export function actionBytes(a: RawAction): Uint8Array {
  const m: sortition.v1.IOwnerAction = {
    chainId: a.chainId,
    contractHash: a.contractHash,
    nonce: u64(a.nonce),
  };
  const op = a.op;
  if (op.kind === 'transfer') m.transfer = { newOwner: op.newOwner, terms: op.terms };
  else if (op.kind === 'split')
    m.split = { at: u64(op.at), rightOwner: op.rightOwner, rightTerms: op.rightTerms };
  else if (op.kind === 'close') m.close = {};
  else m.openChild = { chainId: op.chainId };
  return encode(pb.OwnerAction, pb.OwnerAction.create(m));
}

export function headerBytes(h: RawHeader): Uint8Array {
  return encode(
    pb.Header,
    pb.Header.create({
      chainId: h.chainId,
      height: u64(h.height),
      prevHash: h.prevHash,
      stateRoot: h.stateRoot,
      stateMin: u64(h.stateMin),
      stateMax: u64(h.stateMax),
      txRoot: h.txRoot,
      txCount: h.txCount >>> 0,
      timeMs: u64(h.timeMs),
      beaconSig: h.beaconSig,
    }),
  );
}

export function signedHeaderBytes(header: Uint8Array, signature: Uint8Array): Uint8Array {
  return encode(pb.SignedHeader, pb.SignedHeader.create({ header, signature }));
}

export function blockBytes(
  header: Uint8Array,
  signature: Uint8Array,
  txs: readonly Uint8Array[],
): Uint8Array {
  return encode(pb.Block, pb.Block.create({ header: { header, signature }, txs: [...txs] }));
}

export function pathProtoBytes(p: Path): Uint8Array {
  return encode(pb.Path, pb.Path.create(pathToProto(p)));
}

/** A transaction as the campaign built it: the typed parts the oracle reads, and its bytes. */
export type FuzzTx =
  | { readonly kind: 'create'; readonly contract: RawContract; readonly leaf: Leaf; readonly path: Path }
  | {
      readonly kind: 'owner';
      readonly action: RawAction;
      readonly actionBytes: Uint8Array;
      readonly signature: Uint8Array;
      readonly path: Path;
      readonly insertPath: Path | null;
      readonly genesis: GenesisRecord | null;
    }
  | {
      readonly kind: 'childRoot';
      readonly header: RawHeader;
      readonly headerBytes: Uint8Array;
      readonly signature: Uint8Array;
      readonly path: Path;
    };

export function txBytes(tx: FuzzTx): Uint8Array {
  const m: sortition.v1.ITx = {};
  if (tx.kind === 'create') m.create = { contract: tx.leaf.bytes, path: pathToProto(tx.path) };
  else if (tx.kind === 'owner')
    m.owner = {
      action: tx.actionBytes,
      signature: tx.signature,
      path: pathToProto(tx.path),
      insertPath: tx.insertPath ? pathToProto(tx.insertPath) : null,
      childGenesis: tx.genesis ? tx.genesis.bytes : new Uint8Array(0),
    };
  else
    m.childRoot = {
      childHeader: signedHeaderBytes(tx.headerBytes, tx.signature),
      path: pathToProto(tx.path),
    };
  return encode(pb.Tx, pb.Tx.create(m));
}

export interface FuzzChain {
  readonly key: FuzzKey;
  readonly genesis: GenesisRecord;
}

export function makeChain(
  rng: Rng,
  spaceStart: bigint,
  spaceEnd: bigint,
  parent: { chainId: Uint8Array; contract: bigint } | null,
  name: string,
): FuzzChain {
  const key = randomKey(rng);
  const genesis = makeGenesis({
    operatorKey: key.publicKey,
    spaceStart,
    spaceEnd,
    parentChain: parent ? parent.chainId : new Uint8Array(0),
    parentContract: parent ? parent.contract : 0n,
    expiry: parent ? 100 : 0,
    amount: spaceEnd - spaceStart,
    name,
    salt: rng.bytes(rng.int(3) * 16),
  });
  return { key, genesis };
}

/** Keys by public key, so a contract's owner (or a child chain's operator) can sign. */
export class KeyBook {
  private readonly byPub = new Map<string, FuzzKey>();

  constructor(readonly record: SignedRecord) {}

  add(k: FuzzKey): FuzzKey {
    this.byPub.set(toHex(k.publicKey), k);
    return k;
  }

  of(publicKey: Uint8Array): FuzzKey | undefined {
    return this.byPub.get(toHex(publicKey));
  }

  signAction(key: FuzzKey, bytes: Uint8Array): Uint8Array {
    return this.record.sign(key, actionHash(bytes));
  }

  signHeader(key: FuzzKey, bytes: Uint8Array): Uint8Array {
    return this.record.sign(key, headerHash(bytes));
  }
}

export function flipBit(b: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(b);
  if (out.length) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}
