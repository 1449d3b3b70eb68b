/**
 * Genesis records: what creates a chain. The chain id is the tagged hash of the encoded record, so anyone holding
 * the record can check the id, the operator key and the space without asking anybody.
 */
import { sortition } from '../gen/proto.js';
import { bytesOf, decodeCanonical, encode } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import { toBig, toLong, toSafeNumber } from '../codec/u64.js';
import { HASH_BYTES, taggedHash } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';

const Pb = sortition.v1.Genesis;
export const PROTOCOL_VERSION = 1;

export interface Genesis {
  readonly version: number;
  readonly operatorKey: Uint8Array;
  readonly spaceStart: bigint;
  readonly spaceEnd: bigint;
  /** Empty for the anchor, the root of trust; every other chain names its parent. */
  readonly parentChain: Uint8Array;
  readonly parentContract: bigint;
  /** Anchor height at which the chain settles; 0: never. */
  readonly expiry: number;
  readonly amount: bigint;
  readonly name: string;
  readonly salt: Uint8Array;
}

export interface GenesisRecord {
  readonly genesis: Genesis;
  readonly bytes: Uint8Array;
  readonly chainId: Uint8Array;
}

function check(g: Genesis): void {
  const bad = (m: string): never => {
    throw new DecodeError('DECODE_MALFORMED', `genesis: ${m}`);
  };
  if (g.version !== PROTOCOL_VERSION) bad(`unsupported version ${g.version}`);
  if (g.operatorKey.length !== PUBLIC_KEY_BYTES) bad('operator key must be 32 bytes');
  if (g.spaceStart >= g.spaceEnd) bad('empty probability space');
  if (g.parentChain.length !== 0 && g.parentChain.length !== HASH_BYTES)
    bad('parent chain id must be 32 bytes');
  if (g.parentChain.length === 0 && g.parentContract !== 0n)
    bad('a chain without parent has no parent contract');
  if (new TextEncoder().encode(g.name).length > LIMITS.nameBytes) bad(`name over ${LIMITS.nameBytes} bytes`);
  if (g.salt.length > LIMITS.saltBytes) bad(`salt over ${LIMITS.saltBytes} bytes`);
}

export function chainIdOf(bytes: Uint8Array): Uint8Array {
  return taggedHash('genesis', bytes);
}

export function makeGenesis(g: Omit<Genesis, 'version'> & { version?: number }): GenesisRecord {
  const full: Genesis = { version: PROTOCOL_VERSION, ...g };
  check(full);
  const bytes = encode(
    Pb,
    Pb.create({
      version: full.version,
      operatorKey: full.operatorKey,
      spaceStart: toLong(full.spaceStart),
      spaceEnd: toLong(full.spaceEnd),
      parentChain: full.parentChain,
      parentContract: toLong(full.parentContract),
      expiry: toLong(full.expiry, 'genesis: expiry'),
      amount: toLong(full.amount),
      name: full.name,
      salt: full.salt,
    }),
  );
  return { genesis: full, bytes, chainId: chainIdOf(bytes) };
}

export function decodeGenesis(bytes: Uint8Array): GenesisRecord {
  const m = decodeCanonical(Pb, bytes, LIMITS.genesisBytes, 'genesis');
  const genesis: Genesis = {
    version: m.version ?? 0,
    operatorKey: bytesOf(m.operatorKey),
    spaceStart: toBig(m.spaceStart),
    spaceEnd: toBig(m.spaceEnd),
    parentChain: bytesOf(m.parentChain),
    parentContract: toBig(m.parentContract),
    expiry: toSafeNumber(m.expiry, 'genesis: expiry'),
    amount: toBig(m.amount),
    name: m.name ?? '',
    salt: bytesOf(m.salt),
  };
  check(genesis);
  return { genesis, bytes, chainId: chainIdOf(bytes) };
}

export function isAnchor(g: Genesis): boolean {
  return g.parentChain.length === 0;
}
