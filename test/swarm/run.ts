/**
 * `npm run test:swarm`: the generated stack files on a real Docker Swarm (a single-node swarm, `docker swarm init`
 * when the engine is in none). Builds the image; deploys docker-stack.yml and checks that every validator is
 * healthy, that they hold the same block at a common height on every chain, and that the top chain is committed
 * in the contract and anchored on every validator; adds docker-stack.faulty.yml and checks that its watcher flags
 * the equivocation and that the contract slashed the faulty chain's deposit (read over JSON-RPC); then, on a fresh
 * stack with docker-stack.settle.yml, that the top chain expires and its prize is owed to the payout address.
 * Removes the stack and its volumes. Not part of `npm test`: CI has no engine (`../shared/tools/docker-engine up`).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Address } from 'viem';
import YAML from 'yaml';
import { agreeAtCommonHeight, anchorChain, type NodeApi } from '../../src/devnet/checks.js';
import { SETTLE_FILE, SETTLE_VARS, STACK_FILE, profileFile } from '../../src/devnet/stack.js';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { anvilAccount } from '../../src/evm/anvil.js';
import { anchorStatus, connect } from '../../src/evm/client.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STACK = 'sortition-swarm-check';
const FAULTY_FILE = profileFile('faulty');
/** Host-mode ports of the stack files (from docker-compose.yml). */
const API = {
  'operator-top': 8081,
  'operator-child': 8082,
  'validator-1': 8083,
  'validator-2': 8084,
  'validator-3': 8085,
  'validator-4': 8086,
  'operator-faulty': 8087,
  'validator-faulty-watch': 8088,
} as const;
type Service = keyof typeof API;
const VALIDATORS: Service[] = ['validator-1', 'validator-2', 'validator-3', 'validator-4'];
const RPC = 'http://127.0.0.1:8545';
/** docker-compose.yml: the top and faulty operators' SORTITION_DEPOSIT, 10 ether in gwei. */
const DEPOSIT_WEI = 10n ** 19n;
/**
 * The operator's safety share of the deposit (5000 bps by default): what a slash takes (10% of it credited to the
 * reporter, the rest burnt), and what settlement returns to the operator; the rest of the deposit is the prize.
 */
const SAFETY_WEI = DEPOSIT_WEI / 2n;
const PRIZE_WEI = DEPOSIT_WEI - SAFETY_WEI;
/**
 * The settle variant's expiry, an absolute EVM block: the stack starts a fresh anvil (one block a second), and the
 * top chain registers some 60-90 blocks in (the evm service needs a minute to be up on 2 loaded cores), so it
 * lives about a minute before it expires.
 */
const SETTLE_EXPIRY = 150;
const PAYOUT = anvilAccount(5).address;
const T0 = Date.now();

function say(msg: string): void {
  process.stdout.write(`test:swarm [${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

async function docker(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('docker', args, {
    cwd: ROOT,
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

const api = (s: Service): NodeApi => ({ name: s, apiUrl: `http://127.0.0.1:${API[s]}` });

async function getJson<T>(s: Service, path: string): Promise<T | null> {
  try {
    const r = await fetch(`${api(s).apiUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? ((await r.json()) as T) : null;
  } catch {
    return null;
  }
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 5 * 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  say(`${what} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

/** Swarm's own verdict: the service's task runs and its stack-file healthcheck passes. */
async function healthy(s: Service): Promise<boolean> {
  const ids = await docker([
    'ps',
    '-q',
    '--filter',
    `label=com.docker.swarm.service.name=${STACK}_${s}`,
    '--filter',
    'health=healthy',
  ]);
  return ids !== '';
}

async function deploy(files: string[], env: Record<string, string> = {}): Promise<void> {
  say(`docker stack deploy ${files.map((f) => `-c ${f}`).join(' ')}`);
  await docker(
    ['stack', 'deploy', '--resolve-image', 'never', ...files.flatMap((f) => ['-c', f]), STACK],
    env,
  );
}

/** `docker stack rm` returns before its containers and network are gone; the volumes go once they have. */
async function remove(): Promise<void> {
  await docker(['stack', 'rm', STACK]).catch(() => '');
  const left = async (kind: string) =>
    docker([kind, 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`]);
  await waitFor(
    'stack removed',
    async () => (await docker(['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${STACK}`])) === '',
    3 * 60_000,
  );
  await waitFor('stack network removed', async () => (await left('network')) === '', 60_000);
  const volumes = (await left('volume')).split('\n').filter(Boolean);
  if (volumes.length) await docker(['volume', 'rm', ...volumes]);
}

/** The anchor's address as the generated stack file names it (so from docker-compose.yml). */
function anchorAddress(): Address {
  const doc = YAML.parse(readFileSync(join(ROOT, STACK_FILE), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const a = doc.services['operator-top'].environment?.SORTITION_ANCHOR_ADDRESS;
  if (!a) throw new Error(`${STACK_FILE} names no SORTITION_ANCHOR_ADDRESS`);
  return a as Address;
}

/** `anchorStatus` rows (events and registrations, amounts as strings) as plain records. */
type Row = Record<string, unknown>;
const rows = (xs: readonly unknown[]): Row[] => xs as Row[];

async function chainOf(s: Service): Promise<string> {
  let id: string | undefined;
  await waitFor(`${s} serves its chain`, async () => {
    id = (await getJson<{ chainId: string }>(s, '/v1/chain'))?.chainId;
    return id !== undefined;
  });
  return id!;
}

async function honestPhase(): Promise<void> {
  await deploy([STACK_FILE]);
  for (const s of ['operator-top', 'operator-child', ...VALIDATORS] as Service[])
    await waitFor(`${s} healthy (Swarm healthcheck)`, () => healthy(s));
  let lines: string[] = [];
  await waitFor('validators hold the same block at a common height on every chain', async () => {
    const a = await agreeAtCommonHeight(VALIDATORS.map(api));
    lines = Object.entries(a.chains).map(
      ([id, c]) => `chain ${id.slice(0, 16)}: same block at ${c.common} (heads ${Object.values(c.heads)})`,
    );
    return a.ok && Object.values(a.chains).every((c) => c.common >= 3) && lines.length === 2;
  });
  for (const l of lines) say(l);
  const top = await chainOf('operator-top');
  let committed = 0;
  await waitFor('the top chain is committed in the contract and anchored on every validator', async () => {
    const views = await Promise.all(VALIDATORS.map((v) => anchorChain(api(v), top)));
    const sts = await Promise.all(
      VALIDATORS.map((v) =>
        getJson<{ chains: { chainId: string; anchoredHeight: number }[] }>(v, '/v1/status'),
      ),
    );
    if (views.some((c) => !c || BigInt(c.depositWei) !== DEPOSIT_WEI || c.slashed)) return false;
    committed = Math.min(...views.map((c) => c!.committedHeight));
    const anchored = sts.map((st) => st?.chains.find((c) => c.chainId === top)?.anchoredHeight ?? 0);
    return committed >= 3 && anchored.every((h) => h >= 1);
  });
  say(`top chain ${top.slice(0, 16)}: deposit 10 ether, committed up to ${committed} in the contract`);
}

async function faultyPhase(anchor: Address): Promise<void> {
  await deploy([STACK_FILE, FAULTY_FILE]);
  const faulty = await chainOf('operator-faulty');
  await waitFor('validator-faulty-watch flags the equivocation with evidence', async () => {
    const st = await getJson<{ chains: { chainId: string; faulty: boolean }[] }>(
      'validator-faulty-watch',
      '/v1/status',
    );
    const ev = await getJson<{ chainId: string; kind: string }[]>('validator-faulty-watch', '/v1/evidence');
    return (
      !!st?.chains.some((c) => c.chainId === faulty && c.faulty) &&
      !!ev?.some((e) => e.chainId === faulty && e.kind === 'equivocation')
    );
  });
  const { pub } = await connect(RPC);
  let slash: Row | undefined;
  await waitFor('the contract slashed the faulty chain (eth_call and logs over JSON-RPC)', async () => {
    const st = await anchorStatus(pub, anchor);
    const reg = rows(st.registrations).find((r) => String(r.chainId) === `0x${faulty}`);
    slash = rows(st.slashings).find((e) => String(e.chainId) === `0x${faulty}`);
    return reg?.slashed === true && slash !== undefined;
  });
  const burnt = BigInt(String(slash!.burnt));
  const reward = BigInt(String(slash!.reward));
  const reporter = String(slash!.reporter) as Address;
  const owed = await pub.readContract({
    address: anchor,
    abi: ANCHOR_ABI,
    functionName: 'owed',
    args: [reporter],
  });
  say(
    `faulty chain ${faulty.slice(0, 16)}: slashed ${reward + burnt} wei of its ${DEPOSIT_WEI} deposit, ${burnt} burnt, ${reward} owed to the reporter ${reporter} (owed: ${owed})`,
  );
  if (reward + burnt !== SAFETY_WEI || reward !== SAFETY_WEI / 10n || owed !== reward)
    throw new Error(`expected the ${SAFETY_WEI} wei safety share slashed, a tenth owed to the reporter`);
  const a = await agreeAtCommonHeight(VALIDATORS.map(api));
  if (!a.ok) throw new Error(`after the fault: ${a.problems.join('; ')}`);
  say(`after the fault: the 4 validators still agree on ${Object.keys(a.chains).length} chains`);
}

async function settlePhase(anchor: Address): Promise<void> {
  await deploy([STACK_FILE, SETTLE_FILE], {
    [SETTLE_VARS.expiry]: String(SETTLE_EXPIRY),
    [SETTLE_VARS.payout]: PAYOUT,
  });
  const top = await chainOf('operator-top');
  const { pub } = await connect(RPC);
  const reg = rows((await anchorStatus(pub, anchor)).registrations).find(
    (r) => String(r.chainId) === `0x${top}`,
  );
  if (!reg) throw new Error(`top chain ${top} is not registered in the contract`);
  say(
    `top chain ${top.slice(0, 16)} registered at EVM block ${String(reg.block)}, expires at ${String(reg.expiry)}`,
  );
  let settled: Row | undefined;
  await waitFor(
    'the top chain expired and settled in the contract (over JSON-RPC)',
    async () => {
      const st = await anchorStatus(pub, anchor);
      settled = rows(st.settlements.settled).find((e) => String(e.chainId) === `0x${top}`);
      return settled !== undefined;
    },
    8 * 60_000,
  );
  const owed = await pub.readContract({
    address: anchor,
    abi: ANCHOR_ABI,
    functionName: 'owed',
    args: [PAYOUT],
  });
  say(
    `settled: prize ${String(settled!.prize)} wei to payout ${String(settled!.payout)}, owed(payout) = ${owed} wei`,
  );
  if (String(settled!.payout).toLowerCase() !== PAYOUT.toLowerCase())
    throw new Error(`the prize went to ${String(settled!.payout)}, not ${PAYOUT}`);
  if (BigInt(String(settled!.prize)) !== PRIZE_WEI || owed !== PRIZE_WEI)
    throw new Error(`expected a prize of ${PRIZE_WEI} wei owed to the payout address`);
  await waitFor('every validator reads the settlement from the contract', async () => {
    const views = await Promise.all(VALIDATORS.map((v) => anchorChain(api(v), top)));
    return views.every((c) => c?.phase === 'settled' && BigInt(c.settlement?.paidWei ?? -1) === PRIZE_WEI);
  });
}

async function main(): Promise<void> {
  let joined = false;
  if ((await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])) !== 'active') {
    say('docker swarm init');
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    joined = true;
  }
  try {
    await remove();
    say('building the image (docker compose build evm)');
    await docker(['compose', '-p', STACK, 'build', 'evm']);
    const anchor = anchorAddress();
    await honestPhase();
    await faultyPhase(anchor);
    say('docker stack rm (and its volumes), then the settle variant on a fresh chain');
    await remove();
    await settlePhase(anchor);
    say(`passed in ${((Date.now() - T0) / 1000).toFixed(0)} s`);
  } catch (e) {
    say(`FAILED: ${(e as Error).message}`);
    process.stdout.write(`${await docker(['stack', 'ps', STACK, '--no-trunc']).catch(() => '')}\n`);
    process.exitCode = 1;
  } finally {
    say('docker stack rm');
    await remove().catch((e: unknown) => say(`remove failed: ${(e as Error).message}`));
    if (joined) await docker(['swarm', 'leave', '--force']).catch(() => '');
  }
}

await main();
