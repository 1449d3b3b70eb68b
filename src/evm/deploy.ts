/**
 * The anchor's deployment through the CREATE2 factory (`evm deploy`, the devnet's `evm node`): the verifier, then
 * the anchor naming it, each at CREATE2(factory, salt, keccak(initcode)). So the parameters and the salt fix both
 * addresses and the anchor id before anything is sent (`predictAnchor`), a dry run can say what a deployment would
 * cost (`planAnchor`), and deploying twice finds the contracts there. Tests that need a fresh anchor each use
 * `deployAnchor` (plain CREATE) instead.
 */
import {
  encodeAbiParameters,
  encodeDeployData,
  formatEther,
  stringToHex,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { CodedError } from '../codec/errors.js';
import { DrandBeacon, Ed25519Verifier, SortitionAnchor } from '../gen/contracts.js';
import { DEVNET_DEPLOY, DEVNET_EVM_CHAIN_ID, PUBLIC_DEPLOY, evmAnchorId } from './anchor.js';
import {
  CREATE2_FACTORY,
  Create2Error,
  create2Address,
  deployCreate2,
  factoryCalldata,
  hasCode,
  requireFactory,
} from './create2.js';
import { DEFAULT_BLOCK_SECONDS, type AnchorParams } from './deploy-params.js';
import { DEV_DRAND, QUICKNET, drandConstructorArgs, type DrandNetwork } from './drand.js';

export type { AnchorParams } from './deploy-params.js';

/** The salt unless `--salt` says otherwise: readable in an explorer's view of the factory call. */
export const DEFAULT_SALT: Hex = stringToHex('sortition-anchor/v1', { size: 32 });

/**
 * `--salt`: 0x and 64 hex digits as they are, or a text of at most 32 UTF-8 bytes, right-padded with zeros (as the
 * default salt is made).
 */
export function parseSalt(v: string): Hex {
  if (/^0x[0-9a-fA-F]{64}$/.test(v)) return v.toLowerCase() as Hex;
  if (v.startsWith('0x')) throw new Error('--salt: 0x and 64 hex digits, or a text of at most 32 bytes');
  if (new TextEncoder().encode(v).length > 32) throw new Error('--salt: a text salt has at most 32 bytes');
  return stringToHex(v, { size: 32 });
}

/** The defaults of a chain: the devnet's on its chain id, else a 7-day window at the chain's block time. */
export function defaultParams(evmChainId: number, blockSeconds = DEFAULT_BLOCK_SECONDS): AnchorParams {
  if (evmChainId === DEVNET_EVM_CHAIN_ID) return DEVNET_DEPLOY;
  const week = BigInt(Math.ceil((7 * 86_400) / Math.max(blockSeconds, 0.01)));
  return { ...PUBLIC_DEPLOY, challengeWindow: week < 1n << 20n ? week : 1n << 20n };
}

/**
 * The drand network an anchor on `evmChainId` draws from unless told otherwise: the devnet's own signer on the
 * devnet's chain id, quicknet elsewhere (its verification needs the EIP-2537 precompiles: Ethereum since Pectra).
 */
export function defaultDrand(evmChainId: number): DrandNetwork {
  return evmChainId === DEVNET_EVM_CHAIN_ID ? DEV_DRAND : QUICKNET;
}

const NO_DRAND: Address = '0x0000000000000000000000000000000000000000';

/** The anchor constructor's arguments, ABI-encoded: what a block explorer asks for beside the source. */
export function anchorConstructorArgs(verifier: Address, p: AnchorParams, drand: Address = NO_DRAND): Hex {
  const ctor = SortitionAnchor.abi.find((e) => e.type === 'constructor')!;
  return encodeAbiParameters(ctor.inputs, [
    verifier,
    p.challengeWindow,
    p.reporterBps,
    p.finality,
    p.claimBond,
    drand,
  ]);
}

export interface AnchorPrediction {
  readonly evmChainId: number;
  readonly factory: Address;
  readonly salt: Hex;
  readonly params: AnchorParams;
  readonly verifier: Address;
  /** The drand network and its verifier contract (null: an anchor whose chains draw from block hashes only). */
  readonly drandNetwork: DrandNetwork | null;
  readonly drand: Address;
  readonly anchor: Address;
  /** evmAnchorId(evmChainId, anchor). */
  readonly anchorId: Hex;
  readonly verifierInitcode: Hex;
  readonly drandInitcode: Hex | null;
  readonly anchorInitcode: Hex;
  readonly anchorConstructorArgs: Hex;
}

/** Where `params` deployed with `salt` land on EVM chain `evmChainId`, and the anchor's id; sends nothing. */
export function predictAnchor(
  evmChainId: number,
  params: AnchorParams,
  salt: Hex = DEFAULT_SALT,
  drandNetwork: DrandNetwork | null = defaultDrand(evmChainId),
): AnchorPrediction {
  const verifierInitcode = Ed25519Verifier.bytecode;
  const verifier = create2Address(salt, verifierInitcode);
  const drandInitcode = drandNetwork
    ? encodeDeployData({
        abi: DrandBeacon.abi,
        bytecode: DrandBeacon.bytecode,
        args: drandConstructorArgs(drandNetwork),
      })
    : null;
  const drand = drandInitcode ? create2Address(salt, drandInitcode) : NO_DRAND;
  const anchorInitcode = encodeDeployData({
    abi: SortitionAnchor.abi,
    bytecode: SortitionAnchor.bytecode,
    args: [verifier, params.challengeWindow, params.reporterBps, params.finality, params.claimBond, drand],
  });
  const anchor = create2Address(salt, anchorInitcode);
  return {
    evmChainId,
    factory: CREATE2_FACTORY,
    salt,
    params,
    verifier,
    drandNetwork,
    drand,
    anchor,
    anchorId: toHex(evmAnchorId(evmChainId, anchor)),
    verifierInitcode,
    drandInitcode,
    anchorInitcode,
    anchorConstructorArgs: anchorConstructorArgs(verifier, params, drand),
  };
}

export interface StepPlan {
  readonly address: Address;
  readonly deployed: boolean;
  /** Gas of the factory call (0 when deployed). */
  readonly gas: bigint;
}

export interface AnchorPlan {
  readonly prediction: AnchorPrediction;
  readonly verifier: StepPlan;
  readonly drand: StepPlan | null;
  readonly anchor: StepPlan;
  readonly gas: bigint;
  /** The fee per gas the estimate assumes: the node's EIP-1559 max fee (or gas price), wei. */
  readonly feePerGas: bigint;
  /** gas x feePerGas: an upper bound at current fees. */
  readonly costWei: bigint;
}

/**
 * What deploying `prediction` on the chain behind `pub` would send and cost, from the node's gas estimates and
 * fees; sends nothing. The anchor's constructor refuses a verifier without code, so while the verifier is not
 * deployed its gas is estimated with the factory standing in for it (any contract passes that check; the calldata
 * differs in 20 bytes, a few hundred gas).
 */
export async function planAnchor(
  pub: PublicClient<Transport, Chain>,
  prediction: AnchorPrediction,
  from?: Address,
): Promise<AnchorPlan> {
  const p = prediction;
  const [verifierThere, drandThere, anchorThere] = await Promise.all([
    hasCode(pub, p.verifier),
    p.drandInitcode ? hasCode(pub, p.drand) : Promise.resolve(true),
    hasCode(pub, p.anchor),
  ]);
  if (!verifierThere || !drandThere || !anchorThere) await requireFactory(pub);
  const estimate = async (initcode: Hex, what: string): Promise<bigint> => {
    try {
      return await pub.estimateGas({
        account: from,
        to: CREATE2_FACTORY,
        data: factoryCalldata(p.salt, initcode),
      });
    } catch (e) {
      throw new Create2Error(
        'CREATE2_FAILED',
        `${what}: the deployment would revert (${(e as Error).message.split('\n')[0]})`,
      );
    }
  };
  const verifierGas = verifierThere ? 0n : await estimate(p.verifierInitcode, 'the Ed25519 verifier');
  const drandGas =
    drandThere || !p.drandInitcode ? 0n : await estimate(p.drandInitcode, 'the drand verifier');
  const anchorGas = anchorThere
    ? 0n
    : await estimate(
        verifierThere
          ? p.anchorInitcode
          : encodeDeployData({
              abi: SortitionAnchor.abi,
              bytecode: SortitionAnchor.bytecode,
              args: [
                CREATE2_FACTORY,
                p.params.challengeWindow,
                p.params.reporterBps,
                p.params.finality,
                p.params.claimBond,
                p.drand,
              ],
            }),
        'the anchor',
      );
  const feePerGas = await fee(pub);
  const gas = verifierGas + drandGas + anchorGas;
  return {
    prediction: p,
    verifier: { address: p.verifier, deployed: verifierThere, gas: verifierGas },
    drand: p.drandInitcode ? { address: p.drand, deployed: drandThere, gas: drandGas } : null,
    anchor: { address: p.anchor, deployed: anchorThere, gas: anchorGas },
    gas,
    feePerGas,
    costWei: gas * feePerGas,
  };
}

async function fee(pub: PublicClient<Transport, Chain>): Promise<bigint> {
  try {
    return (await pub.estimateFeesPerGas()).maxFeePerGas;
  } catch {
    // A chain without EIP-1559 (no base fee in its blocks).
    return await pub.getGasPrice();
  }
}

export interface AnchorDeployment {
  readonly prediction: AnchorPrediction;
  /** Whether this call sent each contract's deployment (false: its code was there already). */
  readonly verifierSent: boolean;
  readonly anchorSent: boolean;
  readonly gasUsed: bigint;
  readonly transactions: Hex[];
  /** Block of the anchor's deployment when this call sent it. */
  readonly blockNumber?: bigint;
}

export type DeployErrorCode = 'DEPLOY_UNDERFUNDED';

export class DeployError extends CodedError<DeployErrorCode> {
  override readonly name = 'DeployError';
}

/**
 * Deploys what of `prediction` is missing, the verifier first (the anchor's constructor checks it has code), and
 * checks each address. With `plan`, refuses up front (`DEPLOY_UNDERFUNDED`) a sender that cannot pay its cost.
 */
export async function deployAnchorCreate2(
  wallet: WalletClient<Transport, Chain, Account>,
  pub: PublicClient<Transport, Chain>,
  prediction: AnchorPrediction,
  plan?: AnchorPlan,
): Promise<AnchorDeployment> {
  if (plan && plan.gas > 0n) {
    const balance = await pub.getBalance({ address: wallet.account.address });
    if (balance < plan.costWei)
      throw new DeployError(
        'DEPLOY_UNDERFUNDED',
        `${wallet.account.address} holds ${formatEther(balance)} ether; the deployment may cost up to ` +
          `${formatEther(plan.costWei)} (${plan.gas} gas at ${plan.feePerGas} wei)`,
      );
  }
  const v = await deployCreate2(
    wallet,
    pub,
    prediction.salt,
    prediction.verifierInitcode,
    'the Ed25519 verifier',
  );
  const d = prediction.drandInitcode
    ? await deployCreate2(wallet, pub, prediction.salt, prediction.drandInitcode, 'the drand verifier')
    : null;
  const a = await deployCreate2(wallet, pub, prediction.salt, prediction.anchorInitcode, 'the anchor');
  if (
    v.address !== prediction.verifier ||
    a.address !== prediction.anchor ||
    (d && d.address !== prediction.drand)
  )
    throw new Create2Error('CREATE2_FAILED', 'deployed addresses differ from the prediction'); // a bug, not a chain
  return {
    prediction,
    verifierSent: v.sent,
    anchorSent: a.sent,
    gasUsed: v.gasUsed + (d?.gasUsed ?? 0n) + a.gasUsed,
    transactions: [v.hash, d?.hash, a.hash].filter((h): h is Hex => h !== undefined),
    blockNumber: a.blockNumber,
  };
}
