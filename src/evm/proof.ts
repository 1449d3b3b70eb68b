/**
 * Checks what an EVM endpoint answers against hashes instead of taking its word (docs/protocol.md section 12, *Proven reads*):
 *
 * - a block header (`eth_getBlockByNumber`) must RLP-hash to the block hash it came with, so its state root is the
 *   one that block hash commits to;
 * - an account and its storage words (`eth_getProof`, EIP-1186) must be proven by Merkle-Patricia paths from that
 *   state root (`@ethereumjs/mpt` verifies them); the value the endpoint states beside a proof is never read.
 *
 * Which block hash to trust is the caller's question (src/evm/endpoints.ts: a quorum of endpoints, a checkpoint).
 * Every failure is a ProofError with a code, counted by the caller.
 */
import { verifyMerkleProof } from '@ethereumjs/mpt';
import {
  bytesToBigInt,
  fromRlp,
  hexToBytes,
  isHex,
  keccak256,
  toHex,
  toRlp,
  type Address,
  type Hex,
} from 'viem';
import { CodedError } from '../codec/errors.js';

export type ProofCode =
  /** The header is missing a field, carries a malformed one, or fields of a later fork without an earlier one's. */
  | 'HEADER_FIELDS'
  /** The header's fields do not hash to the block hash given with them (or asked for). */
  | 'HEADER_HASH'
  /** The account proof does not lead from the state root to the contract's account. */
  | 'ACCOUNT_PROOF'
  /** The proven state holds no contract at the address (or no code). */
  | 'NO_CONTRACT'
  /** A storage proof does not lead from the account's storage root to the slot asked for. */
  | 'STORAGE_PROOF';

export class ProofError extends CodedError<ProofCode> {
  override readonly name = 'ProofError';
}

/** A header's fields in hashing order; those from London on exist from their fork (each fork adds at the end). */
const BASE_FIELDS = [
  'parentHash',
  'sha3Uncles',
  'miner',
  'stateRoot',
  'transactionsRoot',
  'receiptsRoot',
  'logsBloom',
  'difficulty',
  'number',
  'gasLimit',
  'gasUsed',
  'timestamp',
  'extraData',
  'mixHash',
  'nonce',
] as const;
/** London (baseFeePerGas), Shanghai (withdrawalsRoot), Cancun (three), Prague (requestsHash; Osaka adds none). */
const FORK_FIELDS = [
  'baseFeePerGas',
  'withdrawalsRoot',
  'blobGasUsed',
  'excessBlobGas',
  'parentBeaconBlockRoot',
  'requestsHash',
] as const;
const QUANTITIES = new Set([
  'difficulty',
  'number',
  'gasLimit',
  'gasUsed',
  'timestamp',
  'baseFeePerGas',
  'blobGasUsed',
  'excessBlobGas',
]);

/** A block as `eth_getBlockByNumber` answers it (hex strings), before anything in it is believed. */
export type RpcBlock = Readonly<Record<string, unknown>>;

/** A header whose fields hash to its block hash. */
export interface CheckedHeader {
  readonly number: bigint;
  readonly hash: Hex;
  readonly parentHash: Hex;
  readonly stateRoot: Hex;
}

/**
 * The header of `block`, checked: its fields, RLP-encoded as the fork they belong to defines them, hash to its
 * `hash` (and to `expected`, when given). A fork's fields are taken when present, in order; a later fork's field
 * without an earlier one's is refused (no fork defines that header).
 * @throws ProofError HEADER_FIELDS or HEADER_HASH
 */
export function checkHeader(block: RpcBlock, expected?: Hex): CheckedHeader {
  const hash = headerHash(block);
  const claimed = hexField(block, 'hash').toLowerCase();
  if (hash !== claimed || (expected !== undefined && hash !== expected.toLowerCase()))
    throw new ProofError(
      'HEADER_HASH',
      `block ${BigInt(hexField(block, 'number'))}: its header hashes to ${hash}, not ${expected ?? claimed}`,
    );
  return {
    number: BigInt(hexField(block, 'number')),
    hash,
    parentHash: hexField(block, 'parentHash'),
    stateRoot: hexField(block, 'stateRoot'),
  };
}

function hexField(block: RpcBlock, f: string): Hex {
  const v = block[f];
  if (typeof v !== 'string' || !isHex(v, { strict: true }))
    throw new ProofError('HEADER_FIELDS', `the block's ${f} is not hex`);
  return v;
}

/**
 * keccak256 of the header's RLP: its fields, as the fork they belong to defines them.
 * @throws ProofError HEADER_FIELDS
 */
export function headerHash(block: RpcBlock): Hex {
  const item = (f: string): Hex => {
    const v = hexField(block, f);
    if (!QUANTITIES.has(f)) return v;
    const n = BigInt(v);
    return n === 0n ? '0x' : toHex(n);
  };
  const fields: Hex[] = BASE_FIELDS.map(item);
  let ended = false;
  for (const f of FORK_FIELDS) {
    if (block[f] === undefined || block[f] === null) {
      ended = true;
      continue;
    }
    if (ended) throw new ProofError('HEADER_FIELDS', `the block has ${f} without an earlier fork's fields`);
    fields.push(item(f));
  }
  return keccak256(toRlp(fields));
}

/** What `eth_getProof` answers, before anything in it is believed (only the proofs are read). */
export interface RpcProof {
  readonly accountProof: readonly Hex[];
  readonly storageProof: readonly { readonly key: Hex; readonly proof: readonly Hex[] }[];
}

/** Words proven at one state root: slot -> value (0 for a slot never written). */
export type ProvenWords = ReadonlyMap<bigint, bigint>;

/**
 * The storage words `slots` of the contract at `address`, proven from `stateRoot`: the account from the account
 * proof (its storage root), each word from its storage proof.
 * @throws ProofError ACCOUNT_PROOF, NO_CONTRACT or STORAGE_PROOF
 */
export async function provenWords(
  stateRoot: Hex,
  address: Address,
  slots: readonly bigint[],
  proof: RpcProof,
): Promise<ProvenWords> {
  const account = await verified(
    'ACCOUNT_PROOF',
    stateRoot,
    hexToBytes(address),
    proof.accountProof,
    `the account of ${address}`,
  );
  if (!account) throw new ProofError('NO_CONTRACT', `no account at ${address} in state ${stateRoot}`);
  const fields = fromRlp(account, 'hex');
  if (!Array.isArray(fields) || fields.length !== 4 || fields.some((f) => typeof f !== 'string'))
    throw new ProofError('ACCOUNT_PROOF', `the account of ${address} is not [nonce, balance, root, code]`);
  const [, , storageRoot, codeHash] = fields as Hex[];
  if (codeHash === EMPTY_CODE)
    throw new ProofError('NO_CONTRACT', `no code at ${address} in state ${stateRoot}`);
  const out = new Map<bigint, bigint>();
  for (const slot of slots) {
    const key = toHex(slot, { size: 32 });
    const p = proof.storageProof.find((s) => isHex(s.key) && BigInt(s.key) === slot);
    if (!p) throw new ProofError('STORAGE_PROOF', `no storage proof of slot ${key}`);
    const v = await verified('STORAGE_PROOF', storageRoot, hexToBytes(key), p.proof, `slot ${key}`);
    // A stored word is the RLP of its value without leading zeros; absent is zero.
    out.set(slot, v ? wordOf(v, key) : 0n);
  }
  return out;
}

const EMPTY_CODE = keccak256(new Uint8Array(0));

function wordOf(leaf: Uint8Array, key: Hex): bigint {
  let v: unknown;
  try {
    v = fromRlp(leaf, 'bytes');
  } catch {
    v = null;
  }
  if (!(v instanceof Uint8Array) || v.length > 32)
    throw new ProofError('STORAGE_PROOF', `slot ${key}: the proven leaf is not a storage word`);
  return v.length === 0 ? 0n : bytesToBigInt(v);
}

/** The value under keccak256(key) in the trie of `root`, proven by `nodes`; null: proven absent. */
async function verified(
  code: 'ACCOUNT_PROOF' | 'STORAGE_PROOF',
  root: Hex,
  key: Uint8Array,
  nodes: readonly Hex[],
  what: string,
): Promise<Uint8Array | null> {
  // An empty list would "prove" any key absent (the library checks a root only against a first node).
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.some((n) => !isHex(n, { strict: true })))
    throw new ProofError(code, `the proof of ${what} is not a list of hex nodes`);
  try {
    return await verifyMerkleProof(
      key,
      nodes.map((n) => hexToBytes(n)),
      { root: hexToBytes(root), useKeyHashing: true },
    );
  } catch (e) {
    throw new ProofError(
      code,
      `the proof of ${what} does not lead from root ${root}: ${(e as Error).message}`,
    );
  }
}
