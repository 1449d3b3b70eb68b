/**
 * Propagation benchmark: block latency and throughput over a local network of validator processes.
 *
 * Each validator is a separate `sortition-node run` process on its own loopback address (127.0.0.101, ... or the
 * `--base` of bench/hosts.ts),
 * logging at debug level; one publisher process (bench/publisher.ts, the operator's node, on 127.0.0.100)
 * publishes blocks of owner-signed transfers and creates at a fixed rate and prints when it handed each block to
 * gossip. Validator i bootstraps to 2 or 3 earlier nodes (the publisher is node 0) picked with a fixed seed, which
 * makes a connected random graph. Latency is, per (validator, height), the `time` of its first 'block accepted'
 * log line minus the publication time: a validator only relays a block after judging it, so this includes the
 * judgement of every hop. Each size runs three times: full validation; `--bench-accept-all`, the baseline: the
 * same node with an accept-everything validator, which takes each decoded block as the head and then relays,
 * stores and logs it exactly as an accepted block, so that the difference is the judging alone; and
 * `--bench-signatures-only`, which checks every signature in the block and nothing else, the least any validator
 * can do, so that its ratio to the baseline is a floor for full validation's on the same machine. Periodic head
 * comparison is off in every process: gossip alone carries the blocks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadOrCreateIdentity } from '../src/p2p/identity.js';
import type { PublishCommand, PublishedLine, PublisherCommand, PublisherReady } from './publisher.js';
import { cpuSeconds, getText, heading, metric, table } from './util.js';
import { benchHost } from './hosts.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/bench -> dist/src/cli/main.js */
const CLI = join(here, '..', 'src', 'cli', 'main.js');
const PUBLISHER = join(here, 'publisher.js');

/** What each validator checks before it relays: everything, signatures only, or nothing (the baseline). */
export type JudgeMode = 'full' | 'signatures' | 'baseline';

const MODE_FLAGS: Record<JudgeMode, string[]> = {
  full: [],
  signatures: ['--bench-signatures-only'],
  baseline: ['--bench-accept-all'],
};

export interface NetworkRunConfig {
  readonly nodes: number;
  readonly mode: JudgeMode;
  /** Measured blocks, published at `rate` per second after one warm-up block. */
  readonly blocks: number;
  readonly rate: number;
  readonly transfers: number;
  readonly creates: number;
  readonly seed: number;
}

export interface NetworkRunResult {
  readonly config: NetworkRunConfig;
  /** Every (validator, block) latency in ms, sorted. */
  readonly latencies: readonly number[];
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly delivery: number;
  readonly blocksPerSec: number;
  readonly txPerSec: number;
  readonly viaSync: number;
  readonly maxHops: number;
  /** Mean time a validator spent judging and storing one gossiped block (0 in the baseline). */
  readonly validateMs: number;
  /** Mean thread CPU of one judgement: what a hop costs on any machine (the headline figure). */
  readonly judgeCpuMs: number;
  /** Mean time a gossiped block waited behind earlier ones, and from first seen to the verdict. */
  readonly queueWaitMs: number;
  readonly delayMs: number;
  /** CPU seconds all validator processes used per second of the measured window. */
  readonly cpuCores: number;
  /** The same with nothing published, before the warm-up. */
  readonly idleCores: number;
}

/** Blocks published before measuring (heights 1..WARMUP). */
const WARMUP = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic PRNG (mulberry32) for the topology. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** For nodes 1..n (0 is the publisher): the earlier nodes each one bootstraps to. */
export function topology(n: number, seed: number): number[][] {
  const rand = rng(seed);
  const out: number[][] = [[]];
  for (let i = 1; i <= n; i++) {
    const k = Math.min(i, rand() < 0.5 ? 2 : 3);
    const pool = Array.from({ length: i }, (_, j) => j);
    const pick: number[] = [];
    while (pick.length < k) pick.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]);
    out.push(pick.sort((a, b) => a - b));
  }
  return out;
}

/** Hop distance from node 0 over the (undirected) bootstrap graph. */
function hopsFrom0(edges: number[][]): number[] {
  const adj = edges.map(() => [] as number[]);
  edges.forEach((to, i) =>
    to.forEach((j) => {
      adj[i].push(j);
      adj[j].push(i);
    }),
  );
  const dist = edges.map(() => -1);
  dist[0] = 0;
  const queue = [0];
  while (queue.length) {
    const u = queue.shift()!;
    for (const v of adj[u]) {
      if (dist[v] >= 0) continue;
      dist[v] = dist[u] + 1;
      queue.push(v);
    }
  }
  return dist;
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

/** Nearest-rank percentile of sorted values. */
function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** The latency fields of a result, from sorted samples. */
function latencyStats(lat: readonly number[]): Pick<NetworkRunResult, 'latencies' | 'p50' | 'p99' | 'max'> {
  return {
    latencies: lat,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    max: lat.length ? lat[lat.length - 1] : NaN,
  };
}

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly stderr: string[];
}

function startProc(name: string, args: string[], onLine: (line: string) => void): Proc {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  // Set BENCH_NET_LOGS=DIR to keep every process's stdout there (the run's own directory is removed).
  const keep = process.env.BENCH_NET_LOGS;
  const log = keep ? createWriteStream(join(keep, name.replace(/\W+/g, '_') + '.log')) : null;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    log?.write(l + '\n');
    try {
      onLine(l);
    } catch {
      // A line that is not the JSON it looked like: not a measurement.
    }
  });
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 20) stderr.shift();
  });
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  return { name, child, exited, stderr };
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

/** SIGTERM, then SIGKILL whatever has not exited after `graceMs`. */
async function stopAll(procs: Proc[], graceMs = 5000): Promise<void> {
  for (const p of procs) if (running(p)) p.child.kill('SIGTERM');
  const all = Promise.all(procs.map((p) => p.exited));
  const timer = sleep(graceMs).then(() => 'timeout' as const);
  if ((await Promise.race([all, timer])) === 'timeout') {
    for (const p of procs) if (running(p)) p.child.kill('SIGKILL');
    await Promise.race([all, sleep(2000)]);
  }
}

async function getJson<T>(url: string): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

/** Per-hop sums over the validators' /metrics for gossiped blocks: judging wall time, thread CPU, queue wait, delay. */
interface Judged {
  readonly count: number;
  readonly wall: number;
  readonly cpu: number;
  readonly wait: number;
  readonly delay: number;
}

function judged(texts: string[]): Judged {
  const total = (name: string) => texts.reduce((s, t) => s + metric(t, name, 'source="gossip"'), 0);
  return {
    count: total('sortition_block_validation_seconds_count'),
    wall: total('sortition_block_validation_seconds_sum'),
    cpu: total('sortition_block_judge_cpu_seconds_sum'),
    wait: total('sortition_block_queue_wait_seconds_sum'),
    delay: total('sortition_block_delay_seconds_sum'),
  };
}

/** Mean ms per gossiped block of one per-hop figure over the measured window (0 when nothing was judged). */
function perBlockMs(j0: Judged, j1: Judged, k: Exclude<keyof Judged, 'count'>): number {
  return j1.count > j0.count ? ((j1[k] - j0[k]) / (j1.count - j0.count)) * 1000 : 0;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`network bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

interface Validator {
  readonly index: number;
  readonly ip: string;
  readonly dir: string;
  readonly addr: string;
  /** height -> first acceptance time (epoch ms) and source. */
  readonly arrivals: Map<number, { time: number; source: string }>;
  api: string | null;
  proc: Proc | null;
}

export async function runNetwork(cfg: NetworkRunConfig, root: string): Promise<NetworkRunResult> {
  const label = `n${cfg.nodes}-t${cfg.transfers}c${cfg.creates}-${cfg.mode}`;
  const dir = join(root, label);
  await mkdir(dir, { recursive: true });
  const procs: Proc[] = [];
  try {
    // Addresses and identities are fixed before anything starts, so all validators can start at once.
    const pubIp = benchHost(100);
    const pubAddr = `/ip4/${pubIp}/tcp/${await freePort(pubIp)}`;
    const vals: Validator[] = [];
    for (let i = 1; i <= cfg.nodes; i++) {
      const ip = benchHost(100 + i);
      const vdir = join(dir, `v${i}`);
      const { peerId } = await loadOrCreateIdentity(vdir);
      const addr = `/ip4/${ip}/tcp/${await freePort(ip)}/p2p/${peerId.toString()}`;
      vals.push({ index: i, ip, dir: vdir, addr, arrivals: new Map(), api: null, proc: null });
    }

    const published = new Map<number, PublishedLine>();
    const st: { ready: PublisherReady | null; done: number } = { ready: null, done: 0 };
    const pub = startProc(`${label} publisher`, [PUBLISHER, '--dir', dir, '--listen', pubAddr], (line) => {
      if (!line.startsWith('{"')) return;
      const o = JSON.parse(line) as Partial<PublishedLine & PublisherReady & { count: number }>;
      if (o.bench === 'ready') st.ready = o as PublisherReady;
      else if (o.bench === 'done') st.done++;
      else if (typeof o.published === 'number') published.set(o.height!, o as PublishedLine);
    });
    procs.push(pub);
    const send = (c: PublisherCommand) => pub.child.stdin!.write(JSON.stringify(c) + '\n');
    const alive = () => {
      for (const p of procs)
        if (!running(p) && p.child.exitCode !== 0)
          throw new Error(
            `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}): ${p.stderr.join('\n')}`,
          );
      return true;
    };
    await until(() => alive() && st.ready !== null, 'the publisher to start', 60_000);
    const r = st.ready!;
    const pubFull = `${pubAddr}/p2p/${r.peerId}`;

    const edges = topology(cfg.nodes, cfg.seed);
    const addrOf = (j: number) => (j === 0 ? pubFull : vals[j - 1].addr);
    const degree = edges.map((to, i) => to.length + edges.filter((e) => e.includes(i)).length);
    for (const v of vals) {
      const args = [
        CLI,
        'run',
        '--listen',
        `/ip4/${v.ip}/tcp/${v.addr.split('/')[4]}`,
        '--bootstrap',
        ...edges[v.index].map(addrOf),
        '--anchor',
        r.anchor,
        '--track',
        r.top,
        '--genesis',
        ...r.genesisFiles,
        '--data-dir',
        v.dir,
        '--api-port',
        '0',
        '--log-level',
        'debug',
        // No periodic head comparison: a backfilled block is judged in full in both modes, so gossip alone
        // carries the blocks.
        '--sync-interval-ms',
        '600000',
        // The topology is the experiment: no DHT dials between nodes the edges do not join.
        '--no-dht',
        ...MODE_FLAGS[cfg.mode],
      ];
      v.proc = startProc(`${label} validator ${v.ip}`, args, (line) => {
        if (line.includes('"block accepted"')) {
          const o = JSON.parse(line) as { time: string; height: number; source: string };
          if (!v.arrivals.has(o.height))
            v.arrivals.set(o.height, { time: Date.parse(o.time), source: o.source });
        } else if (v.api === null && line.includes('"HTTP API listening"')) {
          v.api = (JSON.parse(line) as { api: string }).api;
        }
      });
      procs.push(v.proc);
    }

    // Every validator connected (>= 2 peers, or its whole degree) and in a block-topic mesh.
    const topic = `/sortition/1/${r.top}/blocks/proto`;
    await until(() => alive() && vals.every((v) => v.api !== null), 'validator APIs', 60_000);
    await until(
      async () => {
        alive();
        const ok = await Promise.all(
          vals.map(async (v) => {
            const s = await getJson<{ peers: number; chains: { chainId: string }[] }>(`${v.api}/v1/status`);
            if (!s || s.peers < Math.min(2, degree[v.index]) || !s.chains.some((c) => c.chainId === r.top))
              return false;
            return metric(await getText(`${v.api}/metrics`), 'gossip_mesh_peers', topic) >= 1;
          }),
        );
        return ok.every(Boolean);
      },
      'peers and meshes',
      60_000,
    );

    // What the idle network costs (heartbeats, metrics): 1 s with nothing published.
    const idle0 = vals.reduce((s, v) => s + cpuSeconds(v.proc?.child.pid), 0);
    await sleep(1000);
    const idleCores = vals.reduce((s, v) => s + cpuSeconds(v.proc?.child.pid), 0) - idle0;

    // Warm-up, delivered everywhere before measuring: contracts to transfer later, then a few blocks of the
    // measured kind so that no process is measured while its JIT and the signature tables are cold.
    send({ cmd: 'publish', count: 1, rate: 1, transfers: 0, creates: 32 });
    send({
      cmd: 'publish',
      count: WARMUP - 1,
      rate: 2,
      transfers: cfg.transfers,
      creates: cfg.creates,
    });
    await until(
      () => alive() && st.done === 2 && vals.every((v) => v.arrivals.has(WARMUP)),
      'the warm-up blocks everywhere',
      60_000,
    );

    const j0 = judged(await Promise.all(vals.map((v) => getText(`${v.api}/metrics`))));
    const cpu0 = vals.reduce((s, v) => s + cpuSeconds(v.proc?.child.pid), 0);
    const t0 = Date.now();
    const cmd: PublishCommand = {
      cmd: 'publish',
      count: cfg.blocks,
      rate: cfg.rate,
      transfers: cfg.transfers,
      creates: cfg.creates,
    };
    send(cmd);
    const heights = Array.from({ length: cfg.blocks }, (_, i) => WARMUP + 1 + i);
    const complete = () => vals.every((v) => heights.every((h) => v.arrivals.has(h)));
    await until(
      () => alive() && st.done === 3,
      'the publisher to publish',
      60_000 + (cfg.blocks / cfg.rate) * 1000,
    );
    const drain = Date.now() + 20_000;
    while (!complete() && Date.now() < drain) await sleep(100);
    const cpu1 = vals.reduce((s, v) => s + cpuSeconds(v.proc?.child.pid), 0);
    const wall = (Date.now() - t0) / 1000;

    // Latency per (node, height); throughput between the first and the last block delivered to every node.
    const lat: number[] = [];
    let viaSync = 0;
    const fullAt: { h: number; t: number }[] = [];
    for (const h of heights) {
      const p = published.get(h);
      if (!p) continue;
      let last = 0;
      let all = true;
      for (const v of vals) {
        const a = v.arrivals.get(h);
        if (!a) {
          all = false;
          continue;
        }
        lat.push(a.time - p.published);
        if (a.source !== 'gossip') viaSync++;
        last = Math.max(last, a.time);
      }
      if (all) fullAt.push({ h, t: last });
    }
    lat.sort((a, b) => a - b);
    let blocksPerSec = 0;
    let txPerSec = 0;
    if (fullAt.length >= 2) {
      const span = (fullAt[fullAt.length - 1].t - fullAt[0].t) / 1000;
      const txs = fullAt.slice(1).reduce((s, f) => s + (published.get(f.h)?.txs ?? 0), 0);
      blocksPerSec = (fullAt.length - 1) / span;
      txPerSec = txs / span;
    }
    const j1 = judged(await Promise.all(vals.map((v) => getText(`${v.api}/metrics`))));
    send({ cmd: 'stop' });
    return {
      config: cfg,
      ...latencyStats(lat),
      delivery: lat.length / (cfg.nodes * cfg.blocks),
      blocksPerSec,
      txPerSec,
      viaSync,
      maxHops: Math.max(...hopsFrom0(edges)),
      validateMs: perBlockMs(j0, j1, 'wall'),
      judgeCpuMs: perBlockMs(j0, j1, 'cpu'),
      queueWaitMs: perBlockMs(j0, j1, 'wait'),
      delayMs: perBlockMs(j0, j1, 'delay'),
      cpuCores: (cpu1 - cpu0) / wall,
      idleCores,
    };
  } finally {
    await stopAll(procs);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One network size and the rate it is driven at. */
export interface NetworkSize {
  readonly nodes: number;
  /** Blocks per second: every validator judges every block, and the machine has 2 cores for all of them. */
  readonly rate: number;
}

/**
 * Each size is driven at a rate under which all validators' work per block (about 15 ms of CPU each, of which
 * libp2p is most) stays well under the machine's 2 cores, so that latency measures propagation and judging
 * rather than a run queue that only grows.
 */
export const DEFAULT_SIZES: readonly NetworkSize[] = [
  { nodes: 10, rate: 2 },
  { nodes: 25, rate: 1 },
];

/** What each block carries: owner-signed transfers (a signature check each) and operator creates. */
export interface BlockShape {
  readonly transfers: number;
  readonly creates: number;
}

/**
 * Judging cost grows with the transactions in a block while a hop's libp2p cost hardly does, so the ratio is
 * reported for two block sizes: 16 transactions (11 signature checks with the header's) and 4 (3 checks).
 */
export const DEFAULT_SHAPES: readonly BlockShape[] = [
  { transfers: 10, creates: 6 },
  { transfers: 2, creates: 2 },
];

/** Runs of one configuration taken as one: latencies pooled, rates and CPU averaged. */
export function pooled(runs: readonly NetworkRunResult[]): NetworkRunResult {
  const lat = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const mean = (f: (r: NetworkRunResult) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  return {
    config: runs[0].config,
    ...latencyStats(lat),
    delivery: mean((r) => r.delivery),
    blocksPerSec: mean((r) => r.blocksPerSec),
    txPerSec: mean((r) => r.txPerSec),
    viaSync: runs.reduce((s, r) => s + r.viaSync, 0),
    maxHops: Math.max(...runs.map((r) => r.maxHops)),
    validateMs: mean((r) => r.validateMs),
    judgeCpuMs: mean((r) => r.judgeCpuMs),
    queueWaitMs: mean((r) => r.queueWaitMs),
    delayMs: mean((r) => r.delayMs),
    cpuCores: mean((r) => r.cpuCores),
    idleCores: mean((r) => r.idleCores),
  };
}

const MODES: readonly JudgeMode[] = ['full', 'signatures', 'baseline'];

/**
 * `rounds` (default: BENCH_NETWORK_ROUNDS, else 1) repeats the three modes of each configuration in turn and
 * pools their latencies: the ratios move by tenths between single runs on a shared machine, and interleaving
 * spreads its changing load evenly over the modes.
 */
export async function benchNetwork(
  sizes: readonly NetworkSize[] = DEFAULT_SIZES,
  shapes: readonly BlockShape[] = DEFAULT_SHAPES,
  opts: Partial<Pick<NetworkRunConfig, 'blocks' | 'seed'>> & { rounds?: number } = {},
): Promise<void> {
  const rounds = opts.rounds ?? Math.max(1, Number(process.env.BENCH_NETWORK_ROUNDS ?? 1) || 1);
  // 30 s of blocks per run, so the faster rate also gets more samples for its p99.
  const seconds = 30;
  const blocksAt = (rate: number) => opts.blocks ?? Math.round(seconds * rate);
  heading(
    `network: propagation over local validator processes, ${opts.blocks ?? `${seconds} s of`} blocks per run, ` +
      `${rounds} round(s) of each mode pooled, ` +
      shapes.map((b) => `${b.transfers} owner-signed transfers + ${b.creates} creates`).join(' or ') +
      ' per block; full validation and signatures only vs --bench-accept-all',
  );
  const root = await mkdtemp(join(tmpdir(), 'sortition-bench-net-'));
  const results: NetworkRunResult[] = [];
  try {
    for (const { nodes, rate } of sizes)
      for (const shape of shapes) {
        const runs = new Map<JudgeMode, NetworkRunResult[]>(MODES.map((m) => [m, []]));
        for (let r = 0; r < rounds; r++)
          for (const mode of MODES) {
            const cfg = { blocks: blocksAt(rate), seed: opts.seed ?? 7, ...shape, nodes, rate, mode };
            runs.get(mode)!.push(await runNetwork(cfg, root));
          }
        for (const mode of MODES) results.push(pooled(runs.get(mode)!));
      }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const txs = (c: NetworkRunConfig) => c.transfers + c.creates;
  table(
    results.map((r) => ({
      nodes: r.config.nodes,
      'tx/block': txs(r.config),
      mode: r.config.mode,
      'rate/s': r.config.rate,
      blocks: r.config.blocks,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'max ms': r.max,
      delivery: r.delivery,
      'blocks/s': r.blocksPerSec,
      'tx/s': r.txPerSec,
      'via sync': r.viaSync,
      'max hops': r.maxHops,
      'judge CPU ms': r.judgeCpuMs,
      'judge ms/block': r.validateMs,
      'wait ms': r.queueWaitMs,
      'delay ms': r.delayMs,
      'CPU cores': r.cpuCores,
      'idle cores': r.idleCores,
    })),
  );
  const baselineOf = (c: NetworkRunConfig) =>
    results.find(
      (r) =>
        r.config.mode === 'baseline' &&
        r.config.nodes === c.nodes &&
        r.config.transfers === c.transfers &&
        r.config.creates === c.creates,
    )!;
  const ratios = results
    .filter((r) => r.config.mode !== 'baseline')
    .map((run) => {
      const baseline = baselineOf(run.config);
      return {
        nodes: run.config.nodes,
        'tx/block': txs(run.config),
        mode: run.config.mode,
        'p50 /baseline': run.p50 / baseline.p50,
        // The headline: the CPU of judging a block, which holds on any machine; latency ratios beside it.
        'judge CPU ms': run.judgeCpuMs,
        'delay ms': run.delayMs,
        'p99 /baseline': run.p99 / baseline.p99,
        'p99 added ms': run.p99 - baseline.p99,
        // Validator CPU the checks added, per checked block (the wall time above also waits for the cores).
        'checks CPU ms/block':
          ((run.cpuCores - baseline.cpuCores) * 1000) / (run.config.nodes * run.config.rate),
      };
    });
  table(ratios);
  console.log(
    'target: validation adds under 25% to p99 (p99 full/baseline < 1.25); signatures/baseline is the floor of ' +
      'any validator on this machine. judge ms/block: wall time of one ' +
      'judgement in a validator (gossip source; decoding only in the baseline), CPU cores: all validators ' +
      'together over the measured window; every process shares the same 2 cores',
  );
}
