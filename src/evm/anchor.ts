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
import { DrandBeacon, Ed25519Verifier, SortitionAnchor } from '../gen/contracts.js';
import { drandConstructorArgs, type DrandNetwork } from './drand.js';
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

/**
 * What a chain's operator key signs to register it (the contract's `registrationMessage`): the anchor, the chain,
 * its committer, the sender of the registration and the safety share. A copy sent by anyone else is refused.
 */
export function registrationMessage(
  anchorId: Uint8Array,
  chainId: Uint8Array,
  committer: Address,
  sender: Address,
  safetyBps: number,
): Uint8Array {
  const bps = new Uint8Array([safetyBps >> 8, safetyBps & 0xff]);
  return taggedHash(
    'register',
    anchorId,
    chainId,
    hexToBytes(getAddress(committer)),
    hexToBytes(getAddress(sender)),
    bps,
  );
}

/** The operator's signature over the registration (`register`'s last argument). */
export function signRegistration(
  secretKey: Uint8Array,
  anchorId: Uint8Array,
  chainId: Uint8Array,
  committer: Address,
  sender: Address,
  safetyBps: number,
): Hex {
  return toHex(sign(secretKey, registrationMessage(anchorId, chainId, committer, sender, safetyBps)));
}

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
  /** Blocks a claim stays open to challenge (the contract takes 2 to 2^20). */
  readonly challengeWindow?: bigint;
  /** Share of a slashed safety deposit paid to the reporter, in basis points (at most 5,000). */
  readonly reporterBps?: number;
  /** Blocks kept free of commits before expiry and between expiry and the beacon block (at most 128). */
  readonly finality?: bigint;
  /** Wei locked with every standing claim. */
  readonly claimBond?: bigint;
  /** An Ed25519Verifier already deployed (one serves any number of anchors); deployed first when absent. */
  readonly verifier?: Address;
  /** The drand network chains may draw from (its verifier deployed first); none when absent. */
  readonly drand?: DrandNetwork;
}

/** anvil's chain id, the devnet's. */
export const DEVNET_EVM_CHAIN_ID = 31337;

/** The devnet's defaults: a short window, no finality margin, a small bond. */
export const DEVNET_DEPLOY = { challengeWindow: 20n, reporterBps: 1000, finality: 0n, claimBond: 10n ** 16n };

/**
 * Any other chain's defaults: a window of 7 days of 12-second blocks (a holder must notice a stale claim and
 * answer it), 64 blocks of finality (two epochs of Ethereum's beacon chain), a 0.1 ether bond.
 */
export const PUBLIC_DEPLOY = {
  challengeWindow: 50_400n,
  reporterBps: 1000,
  finality: 64n,
  claimBond: 10n ** 17n,
};

async function deployed(
  pub: PublicClient<Transport, Chain>,
  hash: Hex,
  what: string,
): Promise<{ address: Address; gasUsed: bigint; blockNumber: bigint }> {
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new Error(`${what} deployment reverted`);
  return { address: receipt.contractAddress, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
}

/**
 * Deploys a fresh anchor contract (and its Ed25519 verifier unless one is given) with plain CREATE and waits for the
 * receipts: for tests and benchmarks, which want a new instance each time. `evm deploy` and the devnet go through
 * the CREATE2 factory instead (src/evm/deploy.ts), where the same parameters always give the same contract.
 */
export async function deployAnchor(
  wallet: WalletClient<Transport, Chain, Account>,
  pub: PublicClient<Transport, Chain>,
  opts: DeployOptions = {},
): Promise<{ address: Address; verifier: Address; drand: Address; gasUsed: bigint; blockNumber: bigint }> {
  let verifier = opts.verifier;
  let gas = 0n;
  let drand: Address = '0x0000000000000000000000000000000000000000';
  if (opts.drand) {
    const d = await deployed(
      pub,
      await wallet.deployContract({
        abi: DrandBeacon.abi,
        bytecode: DrandBeacon.bytecode,
        args: drandConstructorArgs(opts.drand),
      }),
      'drand verifier',
    );
    drand = d.address;
    gas += d.gasUsed;
  }
  if (!verifier) {
    const v = await deployed(
      pub,
      await wallet.deployContract({ abi: Ed25519Verifier.abi, bytecode: Ed25519Verifier.bytecode }),
      'Ed25519 verifier',
    );
    verifier = v.address;
    gas += v.gasUsed;
  }
  const a = await deployed(
    pub,
    await wallet.deployContract({
      abi: SortitionAnchor.abi,
      bytecode: SortitionAnchor.bytecode,
      args: [
        verifier,
        opts.challengeWindow ?? DEVNET_DEPLOY.challengeWindow,
        opts.reporterBps ?? DEVNET_DEPLOY.reporterBps,
        opts.finality ?? DEVNET_DEPLOY.finality,
        opts.claimBond ?? DEVNET_DEPLOY.claimBond,
        drand,
      ],
    }),
    'anchor',
  );
  return { ...a, verifier, drand, gasUsed: gas + a.gasUsed };
}
