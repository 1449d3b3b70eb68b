/**
 * Clients for an EVM JSON-RPC endpoint and the anchor contract's state as JSON (the `evm status` command): every
 * registration with its live state, and the commits, slashings, existence records and settlements from its events.
 */
import { readFile, stat } from 'node:fs/promises';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  isHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ANCHOR_ABI } from './anchor.js';
import { decryptKeystore, isKeystore } from './keystore.js';

/** A viem chain for whatever EVM answers at `rpcUrl` (its id read from the node). */
export async function connect(
  rpcUrl: string,
  /** How often receipts and blocks are polled (viem's default: 4 s, too slow for a local chain's 1-s blocks). */
  pollingMs?: number,
): Promise<{ pub: PublicClient<Transport, Chain>; chain: Chain }> {
  if (!/^https?:\/\//.test(rpcUrl))
    throw new Error(`--rpc must be an http(s) URL, got ${JSON.stringify(rpcUrl)}`);
  const transport = http(rpcUrl, { timeout: 30_000, retryCount: 0 });
  let id: number;
  try {
    id = await createPublicClient({ transport }).getChainId();
  } catch (e) {
    throw new Error(`no EVM JSON-RPC answers at ${rpcUrl}: ${(e as Error).message.split('\n')[0]}`);
  }
  const chain = defineChain({
    id,
    name: `evm-${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const polling = pollingMs === undefined ? {} : { pollingInterval: pollingMs };
  return { pub: createPublicClient({ chain, transport, cacheTime: 0, ...polling }), chain };
}

/** Whether `--evm-key` is a key itself rather than a file holding one. */
export function isRawEvmKey(spec: string): boolean {
  return /^0x[0-9a-fA-F]{64}$/.test(spec.trim());
}

export interface EvmKeyOptions {
  /** The password of an encrypted keystore file. */
  readonly password?: string;
  /** Told what is risky but allowed: a key file others can read. */
  readonly warn?: (message: string) => void;
}

/**
 * An EVM account from a file holding `0x` + 64 hex digits, or an encrypted JSON keystore (Web3 Secret Storage v3,
 * with `password`), or from the key itself given as `0x` + 64 hex digits.
 */
export async function loadEvmKey(spec: string, opts: EvmKeyOptions = {}): Promise<Account> {
  let text = spec.trim();
  if (!text.startsWith('0x')) {
    try {
      text = (await readFile(spec, 'utf8')).trim();
      if (((await stat(spec)).mode & 0o077) !== 0)
        opts.warn?.(`${spec} is readable by other users of this machine: chmod 600 ${spec}`);
    } catch (e) {
      throw new Error(`--evm-key: neither a 0x hex key nor a readable file: ${(e as Error).message}`);
    }
    if (text.startsWith('{')) return privateKeyToAccount(keystoreKey(spec, text, opts.password));
  }
  if (!isHex(text) || text.length !== 66) throw new Error('--evm-key: expected 0x followed by 64 hex digits');
  return privateKeyToAccount(text as Hex);
}

function keystoreKey(path: string, text: string, password: string | undefined): Hex {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`--evm-key: ${path} is neither a 0x hex key nor JSON: ${(e as Error).message}`);
  }
  if (!isKeystore(j)) throw new Error(`--evm-key: ${path} is JSON but not an encrypted keystore`);
  if (password === undefined)
    throw new Error(
      `--evm-key: ${path} is an encrypted keystore: give its password with --evm-password-file`,
    );
  return decryptKeystore(j, password);
}

export interface EvmWallet {
  readonly pub: PublicClient<Transport, Chain>;
  readonly wallet: WalletClient<Transport, Chain, Account>;
  readonly account: Account;
}

export async function walletFor(
  rpcUrl: string,
  keySpec: string,
  keyOpts: EvmKeyOptions = {},
  pollingMs?: number,
): Promise<EvmWallet> {
  const { pub, chain } = await connect(rpcUrl, pollingMs);
  const account = await loadEvmKey(keySpec, keyOpts);
  const wallet: WalletClient<Transport, Chain, Account> = createWalletClient({
    chain,
    account,
    transport: http(rpcUrl, { timeout: 30_000, retryCount: 0 }),
  });
  return { pub, wallet, account };
}

const PHASES = ['none', 'active', 'settling', 'settled'] as const;

type Jsonish = string | number | boolean | null | Jsonish[] | { [k: string]: Jsonish };

function json(v: unknown): Jsonish {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(json);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]));
  return v as Jsonish;
}

export interface AnchorStatus {
  readonly address: Address;
  readonly evmChainId: number;
  readonly anchorId: Hex;
  readonly registrations: Jsonish[];
  readonly commits: Jsonish[];
  readonly existence: Jsonish[];
  readonly slashings: Jsonish[];
  readonly settlements: {
    readonly claims: Jsonish[];
    readonly defeated: Jsonish[];
    readonly settled: Jsonish[];
  };
  readonly locked: string;
  readonly owed: string;
  readonly balance: string;
}

/** Everything the anchor at `address` holds, from its events and storage (amounts in wei, as strings). */
export async function anchorStatus(
  pub: PublicClient<Transport, Chain>,
  address: Address,
): Promise<AnchorStatus> {
  const code = await pub.getCode({ address });
  if (!code || code === '0x') throw new Error(`no contract at ${address}`);
  const call = { address, abi: ANCHOR_ABI } as const;
  const anchorId = await pub.readContract({ ...call, functionName: 'anchorId' });
  const events = await pub.getContractEvents({ ...call, fromBlock: 0n, toBlock: 'latest' });
  const of = (name: string) =>
    events
      .filter((e) => e.eventName === name)
      .map((e) =>
        json({ ...(e.args as Record<string, unknown>), block: e.blockNumber, tx: e.transactionHash }),
      );
  const registrations: Jsonish[] = [];
  for (const e of events) {
    if (e.eventName !== 'Registered') continue;
    const c = await pub.readContract({ ...call, functionName: 'chains', args: [e.args.chainId!] });
    registrations.push(
      json({
        ...e.args,
        block: e.blockNumber,
        phase: PHASES[c[2]] ?? String(c[2]),
        slashed: c[3],
        height: c[8],
        liveDeposit: c[10],
        safety: c[11],
        beacon: c[12],
        beaconRound: c[14],
        beaconTime: c[15],
      }),
    );
  }
  const [locked, owed, balance] = await Promise.all([
    pub.readContract({ ...call, functionName: 'locked' }),
    pub.readContract({ ...call, functionName: 'totalOwed' }),
    pub.getBalance({ address }),
  ]);
  return {
    address,
    evmChainId: await pub.getChainId(),
    anchorId,
    registrations,
    commits: of('Committed'),
    existence: of('Existence'),
    slashings: of('Slashed'),
    settlements: { claims: of('Claimed'), defeated: of('ClaimDefeated'), settled: of('Settled') },
    locked: locked.toString(),
    owed: owed.toString(),
    balance: balance.toString(),
  };
}
