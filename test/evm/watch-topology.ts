/**
 * An operator and a validator watching its one contract, as CLI processes on anvil: the topology the settlement
 * tests without an operator (settle-watch) and the watchtower's share.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { fromHex, toHex as hexOf } from '../../src/crypto/hash.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { createLogger } from '../../src/runtime/logger.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { waitFor } from '../helpers/net.js';
import { defer } from '../helpers/cleanup.js';
import { newAnchor, type Anchor } from './anchor-helpers.js';
import { devKey, startCli, stopCli, type CliProc, type EvmEnv } from './helpers.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'watch-topology');

export async function get<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return (await r.json()) as T;
}

export interface Topology {
  readonly anchor: Anchor;
  readonly evm: EvmAnchor;
  readonly dir: string;
  readonly op: CliProc;
  readonly val: CliProc;
  readonly chainId: Uint8Array;
  readonly holder: KeyPair;
  readonly holderFile: string;
  readonly expiry: number;
}

/**
 * An operator (chain [0, 1000) expiring soon, one contract held by `holder`) and a validator watching that
 * contract, both as processes, with the validator's watch current at the contract's committed height.
 */
export async function topology(
  env: EvmEnv,
  t: { after(f: () => Promise<void>): void },
  validatorArgs: (holderFile: string) => string[] = () => [],
  operatorArgs: (holderFile: string) => string[] = () => [],
  challengeWindow = 5n,
): Promise<Topology> {
  const anchor = await newAnchor(env, challengeWindow);
  const dir = await mkdtemp(join(tmpdir(), 'evm-settle-watch-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const holder = generateKeyPair();
  const holderFile = join(dir, 'holder.json');
  await writeKeyFile(holderFile, holder);
  const evmArgs = ['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', anchor.address];
  const expiry = Number(await env.pub.getBlockNumber()) + 40;
  const op = await startCli([
    'operator',
    '--data-dir',
    join(dir, 'op'),
    ...evmArgs,
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--evm-key',
    devKey(env, 7),
    '--amount',
    '1000',
    '--deposit',
    '4000000',
    '--expiry',
    String(expiry),
    '--block-interval-ms',
    '50',
    ...operatorArgs(holderFile),
  ]);
  defer(t, () => stopCli(op));
  // The operator's routes come up after the node's.
  await waitFor(async () => (await fetch(`${op.api}/v1/chain`)).status === 200, 'the operator API');
  const info = await get<{ chainId: string }>(`${op.api}/v1/chain`);
  const chainId = fromHex(info.chainId, 'chainId');
  const token = (await readFile(join(dir, 'op', 'api-token'), 'utf8')).trim();
  // The routes answer while the operator still checks its EVM registration (503 NOT_RUNNING): sold once it runs.
  let r!: Response;
  await waitFor(async () => {
    r = await fetch(`${op.api}/v1/contracts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ start: '0', end: '1000', owner: hexOf(holder.publicKey) }),
    });
    if (r.status !== 503) return true;
    await r.body?.cancel();
    return false;
  }, 'the operator running');
  assert.ok(r.status < 300, `create: ${r.status} ${await r.text()}`);
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 9),
    journal: fileJournal(join(dir, 'reader')),
    log,
  });
  await waitFor(async () => (await evm.chain(chainId)).height >= 1, 'the contract committed');
  const val = await startCli([
    'run',
    '--data-dir',
    join(dir, 'val'),
    ...evmArgs,
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--track',
    op.api,
    '--bootstrap',
    op.p2p,
    '--watch',
    `${op.api}/v1/contracts/0`,
    '--evm-poll-ms',
    '50',
    ...validatorArgs(holderFile),
  ]);
  defer(t, () => stopCli(val));
  await waitFor(async () => {
    const committed = (await evm.chain(chainId)).height;
    const ws = await get<{ status: string; height: number }[]>(`${val.api}/v1/watch`);
    return ws.length === 1 && ws[0].status === 'current' && ws[0].height === committed;
  }, "the validator's watch is current at the committed height");
  return { anchor, evm, dir, op, val, chainId, holder, holderFile, expiry };
}

/** Mines empty blocks up to `block`. */
export async function mineTo(env: EvmEnv, block: number): Promise<void> {
  const head = Number(await env.pub.getBlockNumber());
  if (block > head) await env.test.mine({ blocks: block - head });
}
