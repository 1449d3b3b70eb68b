/**
 * `npm run bench -- chains`: one validator process (`sortition-node run`) following 10, 100 and 1,000 chains
 * (BENCH_CHAINS=10,100,1000) against one publisher (a ValidatorNode in this process that follows the same chains
 * and holds BLOCKS blocks of each waiting). Per size: track time (start to every chain tracked), sync time (start to
 * every block waiting judged), topics meshed, idle CPU (% of a core over IDLE_MS once synced), RSS, CPU per block
 * (one more block on every chain, gossiped at 200/s: the process's CPU less its idle share, per block), the judging CPU per
 * block (sortition_block_judge_cpu_seconds), and the size of /metrics. Then each figure's exponent in the number of
 * chains (the slope of log figure over log chains, least squares).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { toHex } from '../src/codec/bytes.js';
import { makeGenesis, type GenesisRecord } from '../src/chain/genesis.js';
import { ChainProducer } from '../src/chain/producer.js';
import { generateKeyPair } from '../src/crypto/keys.js';
import { ValidatorNode } from '../src/node/validator.js';
import { createLogger } from '../src/runtime/logger.js';
import { benchHost } from './hosts.js';
import { cpuSeconds, heading, table } from './util.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const BLOCKS = 2;
const IDLE_MS = Number(process.env.BENCH_CHAINS_IDLE_MS ?? 20_000);
const SYNC_TIMEOUT_MS = 300_000;
const SPACE = 1n << 40n;
const PUBLISH_PER_S = 200;

interface Chain {
  readonly genesis: GenesisRecord;
  readonly producer: ChainProducer;
}

function genesisOf(
  operatorKey: Uint8Array,
  parent: Uint8Array,
  start: bigint,
  end: bigint,
  name: string,
): GenesisRecord {
  return makeGenesis({
    operatorKey,
    spaceStart: start,
    spaceEnd: end,
    parentChain: parent,
    parentContract: start,
    expiry: parent.length ? 1_000_000 : 0,
    amount: parent.length ? end - start : 0n,
    name,
    salt: new Uint8Array(0),
  });
}

function chainsOf(n: number): { anchor: Chain; chains: Chain[] } {
  const ak = generateKeyPair();
  const ag = genesisOf(ak.publicKey, new Uint8Array(0), 0n, (1n << 64n) - 1n, 'anchor');
  const anchor = { genesis: ag, producer: new ChainProducer(ag, ak.secretKey) };
  const chains = Array.from({ length: n }, (_, i) => {
    const k = generateKeyPair();
    const g = genesisOf(k.publicKey, ag.chainId, BigInt(i) * SPACE, BigInt(i + 1) * SPACE, `c${i}`);
    return { genesis: g, producer: new ChainProducer(g, k.secretKey) };
  });
  return { anchor, chains };
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function rssMiB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function until(cond: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`bench chains: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One Prometheus sample's value (summed over its label sets) from /metrics text. */
function sample(text: string, name: string, ...filters: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const at = line[name.length];
    if (!line.startsWith(name) || (at !== ' ' && at !== '{') || !filters.every((f) => line.includes(f)))
      continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Row {
  chains: number;
  trackS: number;
  syncS: number;
  meshed: string;
  idlePct: number;
  rssMiB: number;
  cpuPerBlockMs: number;
  judgeMs: number;
  /** Of the blocks published after sync, the share accepted from gossip (the rest came by sync). */
  gossipPct: number;
  metricsKB: number;
}

async function runSize(n: number, root: string): Promise<Row> {
  const dir = join(root, `n${n}`);
  await mkdir(dir, { recursive: true });
  const { anchor, chains } = chainsOf(n);
  const ids = chains.map((c) => c.genesis.chainId);
  const genesis = [anchor.genesis, ...chains.map((c) => c.genesis)];
  const pub = new ValidatorNode({
    dataDir: join(dir, 'publisher'),
    listen: [`/ip4/${benchHost(200)}/tcp/0`],
    bootstrap: [],
    anchorId: anchor.genesis.chainId,
    track: ids,
    genesis,
    registry: new Registry(),
    log: createLogger('silent', 'publisher'),
  });
  let child: ChildProcess | null = null;
  try {
    await pub.start();
    await until(() => ids.every((id) => pub.tracker.isTracked(id)), 'the publisher tracking', 120_000);
    for (const c of chains)
      for (let h = 1; h <= BLOCKS; h++)
        await pub.publishBlock(c.genesis.chainId, c.producer.seal(h).block.bytes);

    const files = await Promise.all(
      genesis.map(async (g, i) => {
        const f = join(dir, `g${i}.hex`);
        await writeFile(f, toHex(g.bytes));
        return f;
      }),
    );
    const host = benchHost(201);
    const apiPort = await freePort(host);
    const api = `http://${host}:${apiPort}`;
    const t0 = Date.now();
    child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--listen',
        `/ip4/${host}/tcp/0`,
        '--bootstrap',
        pub.multiaddrs()[0],
        '--anchor',
        toHex(anchor.genesis.chainId),
        '--track',
        ...ids.map(toHex),
        '--genesis',
        ...files,
        '--data-dir',
        join(dir, 'validator'),
        '--api-host',
        host,
        '--api-port',
        String(apiPort),
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const stderr: string[] = [];
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const pid = child.pid;
    const alive = (): boolean => {
      if (child!.exitCode !== null)
        throw new Error(`validator exited ${child!.exitCode}: ${stderr.join('')}`);
      return true;
    };
    const status = async (): Promise<{ chainId: string; height: number }[]> => {
      try {
        const r = await fetch(`${api}/v1/status`);
        return ((await r.json()) as { chains: { chainId: string; height: number }[] }).chains;
      } catch {
        return [];
      }
    };
    const want = new Set(ids.map(toHex));
    let trackS = NaN;
    const heightsAtLeast = async (h: number): Promise<boolean> => {
      alive();
      const s = (await status()).filter((c) => want.has(c.chainId));
      if (s.length === n && Number.isNaN(trackS)) trackS = (Date.now() - t0) / 1000;
      return s.length === n && s.every((c) => c.height >= h);
    };
    await until(() => heightsAtLeast(BLOCKS), `${n} chains synced`, SYNC_TIMEOUT_MS);
    const syncS = (Date.now() - t0) / 1000;
    const metrics = async (): Promise<string> => (await fetch(`${api}/metrics`)).text();
    await until(
      async () => sample(await metrics(), 'gossip_topics_unmeshed') === 0,
      'every topic meshed',
      60_000,
    ).catch(() => undefined);
    const m0 = await metrics();
    const meshed = `${sample(m0, 'gossip_topics_subscribed') - sample(m0, 'gossip_topics_unmeshed')}/${sample(m0, 'gossip_topics_subscribed')}`;

    // Idle: nothing published, every chain at its head.
    const c0 = cpuSeconds(pid);
    const i0 = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleShare = (cpuSeconds(pid) - c0) / ((Date.now() - i0) / 1000);
    const rss = rssMiB(pid);

    // One block on every chain, gossiped at PUBLISH_PER_S (a burst of 1,000 at once is more than the 512
    // validations gossip runs at a time: the rest would be ignored and fetched by sync, another cost).
    const judge0 = sample(m0, 'sortition_block_judge_cpu_seconds_sum');
    const count0 = sample(m0, 'sortition_block_judge_cpu_seconds_count');
    const gossip0 = sample(m0, 'sortition_blocks_total', 'result="accept"', 'source="gossip"');
    const p0 = cpuSeconds(pid);
    const b0 = Date.now();
    for (const [i, c] of chains.entries()) {
      await pub.publishBlock(c.genesis.chainId, c.producer.seal(BLOCKS + 1).block.bytes);
      const ahead = b0 + ((i + 1) * 1000) / PUBLISH_PER_S - Date.now();
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    // Polled on /metrics, which costs the same at any number of chains (/v1/status lists every chain).
    const accepted = async (): Promise<number> =>
      sample(await metrics(), 'sortition_blocks_total', 'result="accept"');
    const target = sample(m0, 'sortition_blocks_total', 'result="accept"') + n;
    await until(async () => alive() && (await accepted()) >= target, `${n} blocks judged`, SYNC_TIMEOUT_MS);
    const busy = cpuSeconds(pid) - p0 - idleShare * ((Date.now() - b0) / 1000);
    const m1 = await metrics();
    const judged = sample(m1, 'sortition_block_judge_cpu_seconds_count') - count0;
    const byGossip = sample(m1, 'sortition_blocks_total', 'result="accept"', 'source="gossip"') - gossip0;
    return {
      chains: n,
      trackS,
      syncS,
      meshed,
      idlePct: idleShare * 100,
      rssMiB: rss,
      cpuPerBlockMs: (busy / n) * 1000,
      judgeMs:
        judged > 0 ? ((sample(m1, 'sortition_block_judge_cpu_seconds_sum') - judge0) / judged) * 1000 : NaN,
      gossipPct: (byGossip / n) * 100,
      metricsKB: Buffer.byteLength(m1) / 1000,
    };
  } finally {
    if (child && child.exitCode === null) {
      const done = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await done;
    }
    await pub.stop();
  }
}

/** Least-squares slope of log(y) over log(x). */
function exponent(xs: number[], ys: number[]): number {
  const pts = xs.map((x, i) => [Math.log(x), Math.log(ys[i])]).filter(([, y]) => Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((s, [x]) => s + x, 0) / pts.length;
  const my = pts.reduce((s, [, y]) => s + y, 0) / pts.length;
  const num = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return num / den;
}

export async function benchChains(): Promise<void> {
  const sizes = (process.env.BENCH_CHAINS ?? '10,100,1000').split(',').map(Number);
  heading(`chains: one validator following ${sizes.join(', ')} chains, ${BLOCKS} blocks waiting on each`);
  const root = await mkdtemp(join(tmpdir(), 'bench-chains-'));
  const rows: Row[] = [];
  try {
    for (const n of sizes) rows.push(await runSize(n, root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
  table(
    rows.map((r) => ({
      chains: r.chains,
      'track s': f(r.trackS, 1),
      'sync s': f(r.syncS, 1),
      meshed: r.meshed,
      'idle CPU %': f(r.idlePct, 1),
      'RSS MiB': f(r.rssMiB, 0),
      'CPU/block ms': f(r.cpuPerBlockMs),
      'judge/block ms': f(r.judgeMs),
      'by gossip %': f(r.gossipPct, 0),
      '/metrics KB': f(r.metricsKB, 1),
    })),
  );
  if (rows.length < 2) return;
  const xs = rows.map((r) => r.chains);
  const e = (k: keyof Row): string =>
    f(
      exponent(
        xs,
        rows.map((r) => Number(r[k])),
      ),
    );
  console.log(
    `exponents in chains: track ${e('trackS')}, sync ${e('syncS')}, idle CPU ${e('idlePct')}, RSS ${e('rssMiB')}, ` +
      `CPU/block ${e('cpuPerBlockMs')}, judge/block ${e('judgeMs')}, /metrics ${e('metricsKB')}`,
  );
}
