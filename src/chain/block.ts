/** Blocks on the wire: a signed header and the encoded transactions it commits to through its tx root. */
import { sortition } from '../gen/proto.js';
import { decodeCanonical, encode } from '../codec/canonical.js';
import { LIMITS } from '../codec/limits.js';
import { signedHeaderFromParts, type SignedHeader } from './header.js';

const Pb = sortition.v1.Block;
const SignedPb = sortition.v1.SignedHeader;

export interface Block {
  readonly signed: SignedHeader;
  readonly txs: readonly Uint8Array[];
  readonly bytes: Uint8Array;
}

export function encodeBlock(signed: SignedHeader, txs: readonly Uint8Array[]): Uint8Array {
  return encode(
    Pb,
    Pb.create({ header: { header: signed.headerBytes, signature: signed.signature }, txs: [...txs] }),
  );
}

export function decodeBlock(bytes: Uint8Array): Block {
  const m = decodeCanonical(Pb, bytes, LIMITS.blockBytes, 'block');
  const sh = m.header ?? SignedPb.create();
  // The embedded SignedHeader's own bytes, for evidence that quotes the header alone.
  const shBytes = encode(SignedPb, SignedPb.create({ header: sh.header, signature: sh.signature }));
  return { signed: signedHeaderFromParts(sh, shBytes), txs: m.txs ?? [], bytes };
}
