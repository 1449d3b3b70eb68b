import Long from 'long';
import { sortition } from '../../src/gen/proto.js';
import type { Block } from '../../src/chain/block.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { headerHash } from '../../src/chain/header.js';
import type { ChainState } from '../../src/chain/state.js';
import { actionHash, encodeTx, type SignedAction, type Tx } from '../../src/chain/tx.js';
import { sign } from '../../src/crypto/keys.js';
import { craftBlock } from '../../src/operator/faults.js';
import type { Path } from '../../src/tree/path.js';

/** Integers a u64 field can carry but a height, nonce, time or expiry may not: 2^53 and 2^64 - 1. */
export const PAST_SAFE: readonly bigint[] = [1n << 53n, (1n << 64n) - 1n];

interface Codec<T> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
}

/**
 * Re-encodes `bytes` with one integer field set to `v`, past the encoders' range checks: what a peer or a client
 * could send. The result is canonical, so only the value itself can be what a decoder objects to.
 */
export function withU64<T extends object>(
  Pb: Codec<T>,
  bytes: Uint8Array,
  field: keyof T,
  v: bigint,
): Uint8Array {
  const m = Pb.decode(bytes);
  (m as Record<keyof T, unknown>)[field] = Long.fromString(v.toString(), true);
  return Pb.encode(m).finish();
}

/** A block on `state` (no transactions) whose header, with `field` set to `v`, is signed with `secretKey`. */
export function blockWithHeaderU64(
  genesis: GenesisRecord,
  secretKey: Uint8Array,
  state: ChainState,
  field: 'height' | 'timeMs',
  v: bigint,
): Uint8Array {
  const base: Block = craftBlock(genesis, secretKey, state, []);
  const header = withU64(sortition.v1.Header, base.signed.headerBytes, field, v);
  const signature = sign(secretKey, headerHash(header));
  const Pb = sortition.v1.Block;
  return Pb.encode(Pb.create({ header: { header, signature }, txs: [...base.txs] })).finish();
}

/** An owner transaction whose action bytes say nonce `v`, signed by the owner over exactly those bytes. */
export function ownerTxWithNonce(
  signed: SignedAction,
  ownerSecretKey: Uint8Array,
  path: Path,
  v: bigint,
): Uint8Array {
  const bytes = withU64(sortition.v1.OwnerAction, signed.bytes, 'nonce', v);
  const tx: Tx = {
    kind: 'owner',
    // encodeTx writes the action's bytes as they are; the decoded form is not read.
    signed: { action: signed.action, bytes, signature: sign(ownerSecretKey, actionHash(bytes)) },
    path,
    insertPath: null,
    childGenesis: null,
  };
  return encodeTx(tx);
}
