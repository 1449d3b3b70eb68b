/**
 * Blocks on the wire: a signed header and the encoded transactions it commits to through its tx root, and in
 * version 2 the multiproof the transactions act on (docs/protocol.md §14), also under the tx root.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, encode } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
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

export function decodeBlock(bytes: Uint8Array): Block {
  const m = decodeCanonical(Pb, bytes, LIMITS.blockBytes, 'block');
  const sh = m.header ?? SignedPb.create();
  const version = m.version ?? 0;
  const proof = bytesOf(m.proof);
  // Before version 2 both fields were unknown, hence DECODE_NONCANONICAL, and a version 1 block keeps that verdict.
  if (version !== 0 && version !== 2)
    throw new DecodeError('DECODE_NONCANONICAL', `block: unknown version ${version}`);
  if (version === 0 && proof.length !== 0)
    throw new DecodeError('DECODE_NONCANONICAL', 'block: a version 1 block carries no multiproof');
  // The embedded SignedHeader's own bytes, for evidence that quotes the header alone.
  const shBytes = encode(SignedPb, SignedPb.create({ header: sh.header, signature: sh.signature }));
  return {
    signed: signedHeaderFromParts(sh, shBytes),
    txs: m.txs ?? [],
    bytes,
    version: version === 2 ? 2 : 1,
    proof: version === 2 ? proof : null,
  };
}
