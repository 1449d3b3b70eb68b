/**
 * Requests an operator accepts, in the form they are kept in the durable request log until a block carries
 * them. Replaying the log in order through the producer rebuilds exactly the pending state a crash interrupted.
 * The log entry keeps the owner's exact signed bytes: the signature over them is what authorises the change.
 */
import { fromHex, toHex } from '../crypto/hash.js';
import { decodeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { decodeSignedHeader, type SignedHeader } from '../chain/header.js';
import { signedActionFromBytes, type SignedAction } from '../chain/tx.js';

export type OperatorRequest =
  | {
      readonly kind: 'create';
      readonly start: bigint;
      readonly end: bigint;
      readonly owner: Uint8Array;
      readonly terms: Uint8Array;
    }
  | {
      readonly kind: 'owner';
      readonly start: bigint;
      readonly signed: SignedAction;
      readonly childGenesis: GenesisRecord | null;
    }
  | { readonly kind: 'childRoot'; readonly start: bigint; readonly header: SignedHeader };

interface EntryJson {
  k: 'create' | 'owner' | 'childRoot';
  s: string;
  e?: string;
  o?: string;
  t?: string;
  a?: string;
  sig?: string;
  g?: string;
  h?: string;
}

export function encodeRequest(r: OperatorRequest): Uint8Array {
  let j: EntryJson;
  if (r.kind === 'create')
    j = { k: 'create', s: r.start.toString(), e: r.end.toString(), o: toHex(r.owner), t: toHex(r.terms) };
  else if (r.kind === 'owner')
    j = {
      k: 'owner',
      s: r.start.toString(),
      a: toHex(r.signed.bytes),
      sig: toHex(r.signed.signature),
      g: r.childGenesis ? toHex(r.childGenesis.bytes) : undefined,
    };
  else j = { k: 'childRoot', s: r.start.toString(), h: toHex(r.header.bytes) };
  return new TextEncoder().encode(JSON.stringify(j));
}

export function decodeRequest(bytes: Uint8Array): OperatorRequest {
  const j = JSON.parse(new TextDecoder().decode(bytes)) as EntryJson;
  const start = BigInt(j.s);
  if (j.k === 'create')
    return {
      kind: 'create',
      start,
      end: BigInt(j.e ?? ''),
      owner: fromHex(j.o ?? '', 'owner'),
      terms: fromHex(j.t ?? '', 'terms'),
    };
  if (j.k === 'owner')
    return {
      kind: 'owner',
      start,
      signed: signedActionFromBytes(fromHex(j.a ?? '', 'action'), fromHex(j.sig ?? '', 'signature')),
      childGenesis: j.g ? decodeGenesis(fromHex(j.g, 'genesis')) : null,
    };
  if (j.k === 'childRoot')
    return { kind: 'childRoot', start, header: decodeSignedHeader(fromHex(j.h ?? '')) };
  throw new Error(`unknown request log entry kind ${String(j.k)}`);
}
