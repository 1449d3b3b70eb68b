/** A real anvil per test file, with viem clients for its funded dev accounts; stopped in `after`. */
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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
import { toHex } from 'viem';
import { foundry } from 'viem/chains';
import { anvilAccount, startAnvil, type Anvil } from '../../src/evm/anvil.js';
import { waitFor } from '../helpers/net.js';

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

/** anvil's dev account `i`'s private key (public: for local chains only). */
export function devKey(env: EvmEnv, i: number): Hex {
  return toHex(env.account(i).getHdKey().privateKey!);
}

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');

/** A `sortition-node` process serving its API and p2p. */
export interface CliProc {
  readonly proc: ChildProcess;
  readonly api: string;
  readonly p2p: string;
  readonly exited: Promise<unknown>;
}

/**
 * Starts a CLI node (`args` after `sortition-node`, API on port 0) and resolves with its API URL and p2p address,
 * read from its JSON log; TEST_LOG_LEVEL echoes that log to stderr.
 */
export async function startCli(args: string[]): Promise<CliProc> {
  const proc = spawn(process.execPath, [MAIN, ...args, '--api-port', '0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let api = '';
  let p2p = '';
  const lines = createInterface({ input: proc.stdout! });
  lines.on('line', (l) => {
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`${l}\n`);
  });
  await Promise.race([
    new Promise<void>((resolve) =>
      lines.on('line', (l) => {
        let j: { msg?: string; api?: string; addrs?: string[] };
        try {
          j = JSON.parse(l) as typeof j;
        } catch {
          return;
        }
        if (j.msg === 'network node started' && j.addrs) p2p = j.addrs[0];
        if (j.msg === 'HTTP API listening' && j.api) api = j.api;
        if (api && p2p) resolve();
      }),
    ),
    exited.then((c) => Promise.reject(new Error(`node exited (${String(c)}) before serving`))),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('node did not start in 30 s')), 30_000).unref(),
    ),
  ]);
  return { proc, api, p2p, exited };
}

/** SIGTERM (if still running) and wait for the exit. */
export async function stopCli(p: CliProc): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
  await p.exited;
}

/** The operator reveals its beacon seed once the beacon block is past (its SeedRevealer): what a draw waits for. */
export async function seedRevealed(
  evm: { revealedSeed(chainId: Uint8Array): Promise<unknown> },
  chainId: Uint8Array,
): Promise<void> {
  await waitFor(
    async () => (await evm.revealedSeed(chainId)) !== undefined,
    "the operator's beacon seed revealed",
  );
}

/** A transaction waiting in anvil's pool (`txpool_content`), as a mempool watcher sees it. */
export interface PoolTx {
  readonly from: string;
  readonly to: string | null;
  readonly input: Hex;
}

/** The transactions waiting in anvil's pool (automine off), from every sender. */
export async function poolTransactions(env: EvmEnv): Promise<PoolTx[]> {
  const pool = (await env.pub.request({ method: 'txpool_content' as never })) as {
    pending: Record<string, Record<string, PoolTx>>;
  };
  return Object.values(pool.pending).flatMap((bySender) => Object.values(bySender));
}
