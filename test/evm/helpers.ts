/** A real anvil per test file, with viem clients for its funded dev accounts; stopped in `after`. */
import { after, before } from 'node:test';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TestClient,
  type WalletClient,
  type Chain,
  type HDAccount,
  type Transport,
} from 'viem';
import { foundry } from 'viem/chains';
import { anvilAccount, startAnvil, type Anvil } from '../../src/evm/anvil.js';

export interface EvmEnv {
  anvil: Anvil;
  pub: PublicClient<Transport, Chain>;
  test: TestClient<'anvil', Transport, Chain>;
  wallet(index: number): WalletClient<Transport, Chain, HDAccount>;
  account(index: number): HDAccount;
}

/** Starts anvil before the file's tests and stops it after them; the returned object is filled in `before`. */
export function useAnvil(): EvmEnv {
  const env = {} as EvmEnv;
  before(async () => {
    const anvil = await startAnvil();
    const transport = http(anvil.rpcUrl, { timeout: 60_000 });
    env.anvil = anvil;
    env.pub = createPublicClient({ chain: foundry, transport, cacheTime: 0 });
    env.test = createTestClient({ chain: foundry, mode: 'anvil', transport });
    env.account = (i) => anvilAccount(i);
    env.wallet = (i) => createWalletClient({ chain: foundry, transport, account: anvilAccount(i) });
  });
  after(async () => {
    await env.anvil?.stop();
  });
  return env;
}

/** Deploys a compiled contract and waits for its receipt. */
export async function deploy(env: EvmEnv, artifact: { abi: Abi; bytecode: Hex }, from = 0): Promise<Address> {
  const hash = await env.wallet(from).deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
  const receipt = await env.pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error('deployment failed');
  return receipt.contractAddress;
}
