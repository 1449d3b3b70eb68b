/**
 * The devnet's EVM service: anvil on a fixed address, the anchor contract deployed through the CREATE2 factory
 * (anvil has it from genesis) with the devnet's parameters, so at an address that follows from the contracts'
 * bytecode and those parameters alone and that the compose file can name before anything runs, and the operators'
 * and reporters' EVM accounts funded from anvil's first dev account. A restart on the same state file finds the
 * contract and the funds and does nothing twice.
 */
import { isAddress, parseEther, toHex, type Address, type Hex } from 'viem';
import { anvilAccount, startAnvil, type Anvil } from './anvil.js';
import { DEVNET_DEPLOY, DEVNET_EVM_CHAIN_ID } from './anchor.js';
import { walletFor } from './client.js';
import { deployAnchorCreate2, predictAnchor } from './deploy.js';
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
 * The devnet's anchor with the default salt: what docker-compose.yml passes as SORTITION_ANCHOR_ADDRESS. It moves
 * with every change of the contracts' bytecode; `npm run devnet-address` puts the new one in the compose file, and
 * test/devnet/compose.test.ts fails, naming it, until that is done.
 */
export const DEVNET_ANCHOR_ADDRESS: Address = predictAnchor(DEVNET_EVM_CHAIN_ID, DEVNET_DEPLOY).anchor;

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
    // Its own chain on this machine: receipts polled every 200 ms, not viem's 4 s (12 s of every devnet start).
    const { pub, wallet } = await walletFor(anvil.rpcUrl, deployer, {}, 200);
    // `evm node --challenge-window` other than the default moves the anchor away from the compose file's address.
    const prediction = predictAnchor(anvil.chainId, {
      ...DEVNET_DEPLOY,
      challengeWindow: o.challengeWindow,
      reporterBps: o.reporterBps,
    });
    const d = await deployAnchorCreate2(wallet, pub, prediction);
    if (d.anchorSent)
      o.log.info({ address: prediction.anchor, gas: d.gasUsed }, 'deployed the anchor contract');
    else o.log.info({ address: prediction.anchor }, 'the anchor contract is deployed already');
    if (prediction.anchor !== DEVNET_ANCHOR_ADDRESS)
      o.log.warn(
        { address: prediction.anchor, composeAddress: DEVNET_ANCHOR_ADDRESS },
        'the anchor is not at the address docker-compose.yml names: its parameters differ from the defaults',
      );
    // Every transfer sent, then every receipt awaited: one block for all of them, not one each.
    const sent: { to: Address; wei: bigint; hash: Hex }[] = [];
    let nonce = await pub.getTransactionCount({ address: wallet.account.address, blockTag: 'pending' });
    for (const to of o.fund) {
      const have = await pub.getBalance({ address: to });
      if (have >= o.fundWei) continue;
      const hash = await wallet.sendTransaction({ to, value: o.fundWei - have, nonce: nonce++ });
      sent.push({ to, wei: o.fundWei - have, hash });
    }
    for (const s of sent) {
      await pub.waitForTransactionReceipt({ hash: s.hash });
      o.log.info({ address: s.to, wei: s.wei.toString() }, 'funded an EVM account');
    }
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      anchorAddress: prediction.anchor,
      evmChainId: anvil.chainId,
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

export const DEFAULT_FUND_WEI = parseEther('1000');
