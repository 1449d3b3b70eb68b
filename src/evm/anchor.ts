/**
 * The EVM anchor contract (contracts/SortitionAnchor.sol) from TypeScript: its id as a parent chain, genesis
 * records of chains registered on it, deployment, and the encodings its functions take. docs/protocol.md section
 * 12 is the specification.
 */
import {
  getAddress,
  hexToBytes,
  toHex,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Account,
} from 'viem';
import { SortitionAnchor } from '../gen/contracts.js';
import { makeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { taggedHash } from '../crypto/hash.js';
import { sign } from '../crypto/keys.js';
import { encodeLookupPath, type WinnerLevel } from '../sortition/lottery.js';

export { SortitionAnchor };
export const ANCHOR_ABI = SortitionAnchor.abi;

function u64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** The anchor's id as a parent chain: H(evm-anchor, u64be(EVM chain id) || contract address). */
export function evmAnchorId(evmChainId: number | bigint, address: Address): Uint8Array {
  return taggedHash('evmAnchor', u64be(BigInt(evmChainId)), hexToBytes(getAddress(address)));
}

export interface EvmChainParams {
  readonly operatorKey: Uint8Array;
  readonly spaceStart: bigint;
  readonly spaceEnd: bigint;
  /** EVM block number at which the chain settles. */
  readonly expiry: number;
  /** Deposit, in gwei. */
  readonly amountGwei: bigint;
  readonly name?: string;
  readonly salt?: Uint8Array;
}

/** The genesis record of a top-level chain on the anchor at `anchorId`: its parent contract is its space start. */
export function evmGenesis(anchorId: Uint8Array, p: EvmChainParams): GenesisRecord {
  return makeGenesis({
    operatorKey: p.operatorKey,
    spaceStart: p.spaceStart,
    spaceEnd: p.spaceEnd,
    parentChain: anchorId,
    parentContract: p.spaceStart,
    expiry: p.expiry,
    amount: p.amountGwei,
    name: p.name ?? '',
    salt: p.salt ?? new Uint8Array(0),
  });
}

/** Sentinel for `register`'s predecessor hint: no registration starts before the new one. */
export const NO_PREDECESSOR = 1n << 64n;

/** The message a lottery winner signs to name where the prize goes. */
export function payoutMessage(anchorId: Uint8Array, chainId: Uint8Array, payout: Address): Uint8Array {
  return taggedHash('payout', anchorId, chainId, hexToBytes(getAddress(payout)));
}

export function signPayout(
  secretKey: Uint8Array,
  anchorId: Uint8Array,
  chainId: Uint8Array,
  payout: Address,
): Hex {
  return toHex(sign(secretKey, payoutMessage(anchorId, chainId, payout)));
}

/** A winner proof's levels as the contract takes them: each level's encoded lookup path. */
export function encodeLevels(levels: readonly WinnerLevel[]): Hex[] {
  return levels.map((l) => toHex(encodeLookupPath(l.path)));
}

export interface DeployOptions {
  /** Blocks a claim stays open to challenge. */
  readonly challengeWindow?: bigint;
  /** Share of a slashed safety deposit paid to the reporter, in basis points. */
  readonly reporterBps?: number;
}

/** Deploys the anchor contract and waits for its receipt. */
export async function deployAnchor(
  wallet: WalletClient<Transport, Chain, Account>,
  pub: PublicClient<Transport, Chain>,
  opts: DeployOptions = {},
): Promise<{ address: Address; gasUsed: bigint; blockNumber: bigint }> {
  const hash = await wallet.deployContract({
    abi: SortitionAnchor.abi,
    bytecode: SortitionAnchor.bytecode,
    args: [opts.challengeWindow ?? 20n, opts.reporterBps ?? 1000],
  });
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error('anchor deployment reverted');
  return { address: receipt.contractAddress, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
}
