/**
 * The devnet's EVM service: anvil on a fixed address, the anchor contract deployed by anvil's first dev account
 * (nonce 0, so at an address the compose file can name before anything runs), and the operators' and reporters'
 * EVM accounts funded from it. A restart on the same state file finds the contract and the funds and does
 * nothing twice.
 */
import { getAddress, getContractAddress, isAddress, parseEther, toHex, type Address } from 'viem';
import { anvilAccount, startAnvil, type Anvil } from './anvil.js';
import { deployAnchor } from './anchor.js';
import { walletFor } from './client.js';
import type { Logger } from '../runtime/logger.js';

export interface DevnodeOptions {
  readonly host: string;
  readonly port: number;
  readonly stateFile?: string;
  readonly blockTime?: number;
  /** Addresses to fund from the dev account, each up to `fundWei`. */
  readonly fund: readonly Address[];
  readonly fundWei: bigint;
  readonly challengeWindow: bigint;
  readonly reporterBps: number;
  readonly log: Logger;
}

export interface Devnode {
  readonly anvil: Anvil;
  readonly rpcUrl: string;
  readonly anchorAddress: Address;
  readonly evmChainId: number;
  stop(): Promise<void>;
}

/**
 * Where the deployer's second contract lands (its first is the Ed25519 verifier): what docker-compose.yml passes as
 * SORTITION_ANCHOR_ADDRESS.
 */
export const DEVNET_ANCHOR_ADDRESS: Address = getContractAddress({
  from: anvilAccount(0).address,
  nonce: 1n,
});

export function parseAddresses(list: readonly string[]): Address[] {
  return list
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)
    .map((a) => {
      if (!isAddress(a)) throw new Error(`not an EVM address: ${a}`);
      return a;
    });
}

export async function startDevnode(o: DevnodeOptions): Promise<Devnode> {
  const anvil = await startAnvil({
    host: o.host,
    port: o.port,
    stateFile: o.stateFile,
    blockTime: o.blockTime,
  });
  try {
    const deployer = toHex(anvilAccount(0).getHdKey().privateKey!);
    const { pub, wallet } = await walletFor(anvil.rpcUrl, deployer);
    const code = await pub.getCode({ address: DEVNET_ANCHOR_ADDRESS });
    if (!code || code === '0x') {
      const nonce = await pub.getTransactionCount({ address: anvilAccount(0).address });
      if (nonce !== 0)
        throw new Error(
          `the deployer has sent ${nonce} transactions: the verifier and the anchor would not be at their addresses`,
        );
      const d = await deployAnchor(wallet, pub, {
        challengeWindow: o.challengeWindow,
        reporterBps: o.reporterBps,
      });
      if (getAddress(d.address) !== DEVNET_ANCHOR_ADDRESS)
        throw new Error(`the anchor landed at ${d.address}`);
      o.log.info({ address: d.address, gas: d.gasUsed }, 'deployed the anchor contract');
    } else o.log.info({ address: DEVNET_ANCHOR_ADDRESS }, 'the anchor contract is deployed already');
    for (const to of o.fund) {
      const have = await pub.getBalance({ address: to });
      if (have >= o.fundWei) continue;
      const hash = await wallet.sendTransaction({ to, value: o.fundWei - have });
      await pub.waitForTransactionReceipt({ hash });
      o.log.info({ address: to, wei: (o.fundWei - have).toString() }, 'funded an EVM account');
    }
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      anchorAddress: DEVNET_ANCHOR_ADDRESS,
      evmChainId: anvil.chainId,
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

export const DEFAULT_FUND_WEI = parseEther('1000');
