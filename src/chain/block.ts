/**
 * Blocks on the wire: a signed header and the encoded transactions it commits to through its tx root, and in
 * version 2 the multiproof the transactions act on (docs/protocol.md §14), also under the tx root.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, encode, NO_BYTES } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { lengthTag, StrictReader, varintTag } from '../codec/wire.js';
import { signedHeaderFromParts, type SignedHeader } from './header.js';

const Pb = sortition.v1.Block;
const SignedPb = sortition.v1.SignedHeader;

export type BlockVersion = 1 | 2;

export interface Block {
  readonly signed: SignedHeader;
  readonly txs: readonly Uint8Array[];
  readonly bytes: Uint8Array;
  readonly version: BlockVersion;
  /** Version 2: the encoded multiproof (empty for an empty tree). Version 1: null. */
  readonly proof: Uint8Array | null;
}

export function encodeBlock(
  signed: SignedHeader,
  txs: readonly Uint8Array[],
  proof: Uint8Array | null = null,
): Uint8Array {
  return encode(
    Pb,
    Pb.create({
      header: { header: signed.headerBytes, signature: signed.signature },
      txs: [...txs],
      version: proof === null ? 0 : 2,
      proof: proof ?? new Uint8Array(0),
    }),
  );
}

/** What a block's envelope holds, before the header inside it is decoded. */
export interface BlockEnvelope {
  /** The embedded SignedHeader's own bytes, for evidence that quotes the header alone. */
  readonly signedBytes: Uint8Array;
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
  readonly txs: Uint8Array[];
  /** 0 when absent (version 1). */
  readonly version: number;
  readonly proof: Uint8Array;
}

const TAG = { header: lengthTag(1), txs: lengthTag(2), version: varintTag(3), proof: lengthTag(4) } as const;
const SIGNED_TAG = { header: lengthTag(1), signature: lengthTag(2) } as const;

/**
 * The envelope of a block in canonical form, read by hand (src/codec/wire.ts); null for anything else, which
 * `envelopeByProtobuf` then judges. A canonical block costs no copy and no re-encoding; whatever is not one gets
 * exactly the verdict (and error code) it always had. test/codec/wire.test.ts holds the two readers to the same parts.
 */
export function canonicalEnvelope(bytes: Uint8Array): BlockEnvelope | null {
  if (bytes.length > LIMITS.blockBytes) return null;
  try {
    const r = new StrictReader(bytes, 'block');
    let signedBytes = NO_BYTES;
    let header = NO_BYTES;
    let signature = NO_BYTES;
    if (r.next(TAG.header)) {
      signedBytes = r.bytes();
      const h = new StrictReader(signedBytes, 'signed header');
      if (h.next(SIGNED_TAG.header)) header = h.bytes(true);
      if (h.next(SIGNED_TAG.signature)) signature = h.bytes(true);
      h.end();
    }
    const txs: Uint8Array[] = [];
    while (r.next(TAG.txs)) txs.push(r.bytes());
    const version = r.next(TAG.version) ? r.uint32() : 0;
    const proof = r.next(TAG.proof) ? r.bytes(true) : NO_BYTES;
    r.end();
    return { signedBytes, header, signature, txs, version, proof };
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

/** The envelope by protobufjs, decoded and checked canonical by re-encoding; throws DecodeError. */
export function envelopeByProtobuf(bytes: Uint8Array): BlockEnvelope {
  const m = decodeCanonical(Pb, bytes, LIMITS.blockBytes, 'block');
  const sh = m.header ?? SignedPb.create();
  return {
    signedBytes: encode(SignedPb, SignedPb.create({ header: sh.header, signature: sh.signature })),
    header: bytesOf(sh.header),
    signature: bytesOf(sh.signature),
    txs: m.txs ?? [],
    version: m.version ?? 0,
    proof: bytesOf(m.proof),
  };
}

export function decodeBlock(bytes: Uint8Array): Block {
  const e = canonicalEnvelope(bytes) ?? envelopeByProtobuf(bytes);
  const { version, proof } = e;
  // Before version 2 both fields were unknown, hence DECODE_NONCANONICAL, and a version 1 block keeps that verdict.
  if (version !== 0 && version !== 2)
    throw new DecodeError('DECODE_NONCANONICAL', `block: unknown version ${version}`);
  if (version === 0 && proof.length !== 0)
    throw new DecodeError('DECODE_NONCANONICAL', 'block: a version 1 block carries no multiproof');
  return {
    signed: signedHeaderFromParts({ header: e.header, signature: e.signature }, e.signedBytes),
    txs: e.txs,
    bytes,
    version: version === 2 ? 2 : 1,
    proof: version === 2 ? proof : null,
  };
}
