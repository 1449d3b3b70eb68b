/**
 * A local EVM node (anvil, from the `@foundry-rs/anvil` npm package, whose platform package ships the binary) for
 * tests, benchmarks and devnets. It listens on 127.0.0.1 on a port the kernel picks, so parallel runs never
 * collide, and is ready once its JSON-RPC answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';

/** anvil's default dev mnemonic: its accounts are funded at genesis (public keys: for local chains only). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export function anvilAccount(index: number): HDAccount {
  // Derived once: each derivation is a 2048-round PBKDF2 (tens of ms), and tests ask per transaction.
  let a = derived.get(index);
  if (!a) derived.set(index, (a = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index })));
  return a;
}

const derived = new Map<number, HDAccount>();

/** Path of the anvil binary shipped by the platform package for this machine. */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`anvil: package ${pkg} is not installed (npm install @foundry-rs/anvil)`);
  }
  const bin = join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(bin)) throw new Error(`anvil: ${bin} is missing`);
  return bin;
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface AnvilOptions {
  readonly chainId?: number;
  readonly accounts?: number;
  /** Milliseconds to wait for the RPC to answer. */
  readonly timeoutMs?: number;
  /** Block gas limit (anvil's default is 30M; the Ed25519 verifications of a settlement need more headroom). */
  readonly gasLimit?: bigint;
  /** Address to listen on (default 127.0.0.1) and port (default 0: the kernel picks). */
  readonly host?: string;
  readonly port?: number;
  /** Seal a block every this many seconds even without transactions (default: only when one arrives). */
  readonly blockTime?: number;
  /** File anvil loads its chain from at start and writes it to on exit: a restarted devnet keeps its chain. */
  readonly stateFile?: string;
  /** Start without the CREATE2 factory anvil otherwise has from genesis (src/evm/create2.ts): a chain lacking it. */
  readonly noCreate2Factory?: boolean;
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts anvil and resolves once its RPC answers; rejects (and kills it) past the deadline. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? 31337;
  const host = opts.host ?? '127.0.0.1';
  const args = ['--host', host, '--port', String(opts.port ?? 0), '--chain-id', String(chainId)];
  args.push('--accounts', String(opts.accounts ?? 10), '--mnemonic', ANVIL_MNEMONIC);
  args.push('--gas-limit', String(opts.gasLimit ?? 100_000_000n));
  if (opts.blockTime) args.push('--block-time', String(opts.blockTime));
  if (opts.stateFile) args.push('--state', opts.stateFile);
  if (opts.noCreate2Factory) args.push('--disable-default-create2-deployer');
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // If this process ends without stopping it (an uncaught error, process.exit), anvil goes with it.
  const onExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', onExit);
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`anvil did not listen in time:\n${output}`)),
        deadline - Date.now(),
      );
      const onData = (d: Buffer): void => {
        output = (output + d.toString()).slice(-16_384);
        const m = /Listening on [0-9a-fA-F.:[\]]+:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`anvil exited (${code}) before listening:\n${output}`));
      });
    });
    // Keep draining its log so a full pipe never blocks it.
    child.stdout.resume();
    child.stderr.resume();
    const rpcUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    while (!(await rpcAnswers(rpcUrl))) {
      if (Date.now() > deadline) throw new Error(`anvil RPC at ${rpcUrl} did not answer in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { rpcUrl, chainId, process: child, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
