/**
 * Block headers and their signatures. The block hash is the tagged hash of the header's exact encoded bytes, and
 * the operator signs that hash, so a header is only ever judged by the bytes that were signed.
 */
import { sortition } from '../gen/proto.js';
import { bytesEqual, bytesOf, decodeCanonical, encode } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { toBig, toLong, toSafeNumber } from '../codec/u64.js';
import { HASH_BYTES, taggedHash } from '../crypto/hash.js';
import { sign, verify, SIGNATURE_BYTES } from '../crypto/keys.js';
import type { GenesisRecord } from './genesis.js';
import { ChainError } from './errors.js';

export interface Header {
  readonly chainId: Uint8Array;
  readonly height: number;
  readonly prevHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly stateMin: bigint;
  readonly stateMax: bigint;
  readonly txRoot: Uint8Array;
  readonly txCount: number;
  readonly timeMs: number;
  /** Anchor only: the operator's signature over the previous beacon. */
  readonly beaconSig: Uint8Array;
}

export interface SignedHeader {
  readonly header: Header;
  /** Exact encoded Header; `hash` is over these bytes. */
  readonly headerBytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly signature: Uint8Array;
  /** Exact encoded SignedHeader. */
  readonly bytes: Uint8Array;
}

const HeaderPb = sortition.v1.Header;
const SignedPb = sortition.v1.SignedHeader;

export function headerHash(headerBytes: Uint8Array): Uint8Array {
  return taggedHash('header', headerBytes);
}

function checkHeader(h: Header): void {
  const bad = (m: string): never => {
    throw new DecodeError('DECODE_MALFORMED', `header: ${m}`);
  };
  if (h.chainId.length !== HASH_BYTES) bad('chain id must be 32 bytes');
  if (h.prevHash.length !== HASH_BYTES) bad('previous hash must be 32 bytes');
  if (h.stateRoot.length !== HASH_BYTES) bad('state root must be 32 bytes');
  if (h.txRoot.length !== HASH_BYTES) bad('tx root must be 32 bytes');
  if (h.height < 1) bad('height starts at 1');
  if (h.beaconSig.length !== 0 && h.beaconSig.length !== SIGNATURE_BYTES)
    bad('beacon signature must be 64 bytes');
}

export function encodeHeader(h: Header): Uint8Array {
  checkHeader(h);
  return encode(
    HeaderPb,
    HeaderPb.create({
      chainId: h.chainId,
      height: toLong(h.height, 'header: height'),
      prevHash: h.prevHash,
      stateRoot: h.stateRoot,
      stateMin: toLong(h.stateMin),
      stateMax: toLong(h.stateMax),
      txRoot: h.txRoot,
      txCount: h.txCount,
      timeMs: toLong(h.timeMs, 'header: time'),
      beaconSig: h.beaconSig,
    }),
  );
}

export function decodeHeader(bytes: Uint8Array): Header {
  const m = decodeCanonical(HeaderPb, bytes, LIMITS.headerBytes, 'header');
  const h: Header = {
    chainId: bytesOf(m.chainId),
    height: toSafeNumber(m.height, 'header: height'),
    prevHash: bytesOf(m.prevHash),
    stateRoot: bytesOf(m.stateRoot),
    stateMin: toBig(m.stateMin),
    stateMax: toBig(m.stateMax),
    txRoot: bytesOf(m.txRoot),
    txCount: m.txCount ?? 0,
    timeMs: toSafeNumber(m.timeMs, 'header: time'),
    beaconSig: bytesOf(m.beaconSig),
  };
  checkHeader(h);
  return h;
}

export function signHeader(h: Header, secretKey: Uint8Array): SignedHeader {
  const headerBytes = encodeHeader(h);
  const hash = headerHash(headerBytes);
  const signature = sign(secretKey, hash);
  const bytes = encode(SignedPb, SignedPb.create({ header: headerBytes, signature }));
  return { header: h, headerBytes, hash, signature, bytes };
}

/** Decodes a SignedHeader from its parts (as embedded in a block) without checking the signature. */
export function signedHeaderFromParts(m: sortition.v1.ISignedHeader, bytes: Uint8Array): SignedHeader {
  const headerBytes = bytesOf(m.header);
  const header = decodeHeader(headerBytes);
  const signature = bytesOf(m.signature);
  if (signature.length !== SIGNATURE_BYTES)
    throw new DecodeError('DECODE_MALFORMED', 'signature must be 64 bytes');
  return { header, headerBytes, hash: headerHash(headerBytes), signature, bytes };
}

export function decodeSignedHeader(bytes: Uint8Array): SignedHeader {
  const m = decodeCanonical(SignedPb, bytes, LIMITS.headerBytes + 80, 'signed header');
  return signedHeaderFromParts(m, bytes);
}

/** Throws BAD_SIGNATURE / WRONG_CHAIN unless the header is this chain's and its operator signed it. */
export function checkHeaderSignature(rec: GenesisRecord, sh: SignedHeader): void {
  if (!bytesEqual(sh.header.chainId, rec.chainId))
    throw new ChainError('WRONG_CHAIN', 'header names another chain');
  if (!verify(rec.genesis.operatorKey, sh.hash, sh.signature)) {
    throw new ChainError('BAD_SIGNATURE', 'header signature does not verify with the operator key');
  }
}
