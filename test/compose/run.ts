/**
 * `npm run test:compose`: the compose testnet in a real Docker engine (Compose v2). Builds the image, brings the
 * topology up (on its anvil `evm` service), checks that the validators agree on every chain at a common height, that
 * peer exchange connected them, and that the top chain is registered with its deposit and committed in the
 * contract and anchored on every validator (GET /v1/anchor, /v1/status), then adds the faulty profile and checks that its watcher flags the equivocation, and tears everything down.
 * Not part of `npm test`: CI has no engine. On a machine without one, `../shared/tools/docker-engine up` starts one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agreeAtCommonHeight } from '../../src/devnet/checks.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROJECT = 'sortition-compose-check';
/** Published API ports (docker-compose.yml). */
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

interface Status {
  peers: number;
  chains: { chainId: string; height: number; faulty: boolean; anchoredHeight: number }[];
}

interface AnchorView {
  kind: string;
  chains: { chainId: string; depositWei: string; slashed: boolean; committedHeight: number }[];
}

/** docker-compose.yml: operator-top's SORTITION_DEPOSIT, 10 ether in gwei. */
const TOP_DEPOSIT_WEI = 10n ** 19n;

function say(msg: string): void {
  process.stdout.write(`test:compose: ${msg}\n`);
}

async function compose(args: string[], timeoutMs = 20 * 60_000): Promise<string> {
  const { stdout } = await run('docker', ['compose', '-p', PROJECT, ...args], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function getJson<T>(service: Service, path: string): Promise<T | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${API[service]}${path}`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? ((await r.json()) as T) : null;
  } catch {
    return null;
  }
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  say(`${what} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

/** The validators hold the same block at a common height (at least 3) on every chain: the devnet's own check. */
async function agreeAtCommon(): Promise<string[]> {
  const a = await agreeAtCommonHeight(
    VALIDATORS.map((v) => ({ name: v, apiUrl: `http://127.0.0.1:${API[v]}` })),
  );
  if (!a.ok) throw new Error(a.problems.join('; '));
  return Object.entries(a.chains).map(([id, c]) => {
    if (c.common < 3) throw new Error(`chain ${id.slice(0, 16)} only at ${c.common}`);
    return `chain ${id.slice(0, 16)}: ${VALIDATORS.length} validators hold the same block at ${c.common} (heads ${Object.values(c.heads)})`;
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await compose(['--profile', 'faulty', 'down', '-v', '--remove-orphans']);
  say('building the image');
  await compose(['build']);
  say('docker compose up -d');
  await compose(['up', '-d']);
  try {
    for (const s of ['operator-top', 'operator-child', ...VALIDATORS] as Service[]) {
      await waitFor(
        `${s} healthy`,
        async () =>
          (await getJson(s, s === 'operator-top' ? '/v1/health?minPeers=0' : '/v1/health')) !== null,
        5 * 60_000,
      );
    }
    let agreed: string[] = [];
    await waitFor(
      'validators agree at a common height on every chain',
      async () => {
        try {
          agreed = await agreeAtCommon();
          return true;
        } catch {
          return false;
        }
      },
      5 * 60_000,
    );
    for (const l of agreed) say(l);
    // Peer exchange: each validator bootstraps to two or three nodes and should learn others from them.
    const peers = await Promise.all(
      VALIDATORS.map(async (v) => (await getJson<Status>(v, '/v1/status'))!.peers),
    );
    say(`validator peers: ${peers.join(', ')}`);
    if (peers.some((p) => p < 3)) throw new Error(`a validator has fewer than 3 peers: ${peers}`);

    // On chain: the top chain registered in the contract with its deposit, its headers committed there, and every
    // validator counting them as anchored (read from the contract through its own RPC connection).
    const top = (await getJson<{ chainId: string }>('operator-top', '/v1/chain'))!.chainId;
    let committed = 0;
    await waitFor(
      'the top chain is committed in the contract and anchored on every validator',
      async () => {
        const views = await Promise.all(VALIDATORS.map((v) => getJson<AnchorView>(v, '/v1/anchor')));
        const sts = await Promise.all(VALIDATORS.map((v) => getJson<Status>(v, '/v1/status')));
        const mine = views.map((a) => a?.chains.find((c) => c.chainId === top));
        if (mine.some((c) => !c || BigInt(c.depositWei) !== TOP_DEPOSIT_WEI || c.slashed)) return false;
        committed = Math.min(...mine.map((c) => c!.committedHeight));
        const anchored = sts.map((st) => st?.chains.find((c) => c.chainId === top)?.anchoredHeight ?? 0);
        return committed >= 3 && anchored.every((h) => h >= 1);
      },
      5 * 60_000,
    );
    say(`top chain ${top.slice(0, 16)}: deposit 10 ether, committed up to ${committed} in the contract`);

    say('docker compose --profile faulty up -d');
    await compose(['--profile', 'faulty', 'up', '-d']);
    const faulty = await (async () => {
      let id: string | undefined;
      await waitFor(
        'operator-faulty serves its chain',
        async () => {
          id = (await getJson<{ chainId: string }>('operator-faulty', '/v1/chain'))?.chainId;
          return id !== undefined;
        },
        5 * 60_000,
      );
      return id!;
    })();
    await waitFor(
      'validator-faulty-watch flags the faulty chain with evidence',
      async () => {
        const st = await getJson<Status>('validator-faulty-watch', '/v1/status');
        const ev = await getJson<{ chainId: string; kind: string }[]>(
          'validator-faulty-watch',
          '/v1/evidence',
        );
        return (
          !!st?.chains.some((c) => c.chainId === faulty && c.faulty) &&
          !!ev?.some((e) => e.chainId === faulty && e.kind === 'equivocation')
        );
      },
      5 * 60_000,
    );
    for (const l of await agreeAtCommon()) say(`after the fault: ${l}`);
    say(`passed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (e) {
    say(`FAILED: ${(e as Error).message}`);
    const ps = await compose(['--profile', 'faulty', 'ps', '-a']).catch(() => '');
    process.stdout.write(ps);
    process.exitCode = 1;
  } finally {
    say('docker compose down -v');
    await compose(['--profile', 'faulty', 'down', '-v', '--remove-orphans']).catch((e: unknown) =>
      say(`down failed: ${(e as Error).message}`),
    );
  }
}

await main();
