/**
 * Devnet benchmark: the docker-compose topology (anchor, operator-top, operator-child nested in it, N validators
 * tracking the child chain, the `load` service trading contracts on it) run as local processes by the devnet
 * runner, on 127.0.3.x (the runner's 127.0.2.x moved aside, see onBenchAddresses).
 *
 * Propagation: with operator-child and every validator at debug level, once all validators are healthy and caught
 * up the load runs for a fixed window; the logs are parsed afterwards. A child block's publish time is
 * operator-child's own 'block accepted' line (source 'local': it judges its block just before gossiping it); its
 * latency at a validator is the `time` of that validator's first 'block accepted' line for the height (gossip or
 * sync) minus the publish time. Both sides log after judging and storing, so this includes every hop's judgement.
 *
 * Convergence: on the 4-validator devnet, validator-2 is partitioned (every connection dropped, peers refused) for
 * 10 s; from the moment the partition ends, both validator-2's and operator-child's /v1/status are polled every
 * 100 ms until validator-2's head of the child chain equals operator-child's.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainOf } from '../src/devnet/checks.js';
import { loadCompose, planServices, scaleValidators, type ServicePlan } from '../src/devnet/compose.js';
import { Devnet, type RunningService } from '../src/devnet/runner.js';
import { createLogger } from '../src/runtime/logger.js';
import { cpuSeconds, getText, heading, metric, table } from './util.js';

/** dist/bench -> the repository's docker-compose.yml */
const COMPOSE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
const OPERATOR = 'operator-child';
const PARTITIONED = 'validator-2';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of sorted values. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function median(values: number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`devnet bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** CPU seconds the whole machine spent busy since boot (Linux /proc/stat; 0 elsewhere). */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) / 100; // minus idle and iowait, in USER_HZ ticks
  } catch {
    return 0;
  }
}

interface Accepted {
  readonly time: number;
  readonly source: string;
}

/** height -> first 'block accepted' (epoch ms, source) of the chain labelled `label` in one pino log file. */
async function acceptedIn(file: string, label: string): Promise<Map<number, Accepted>> {
  const out = new Map<number, Accepted>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.includes('"block accepted"') || !line.includes(label)) continue;
    try {
      const o = JSON.parse(line) as { chain?: string; height?: number; source?: string; time?: string };
      if (o.chain !== label || typeof o.height !== 'number' || !o.time) continue;
      if (!out.has(o.height)) out.set(o.height, { time: Date.parse(o.time), source: o.source ?? '?' });
    } catch {
      // A partial last line (the file is still being written) or a non-JSON line: not a measurement.
    }
  }
  return out;
}

interface Head {
  readonly height: number;
  readonly hash: string;
  readonly peers: number;
}

async function headOf(devnet: Devnet, s: RunningService, chainId: string): Promise<Head | null> {
  const st = await devnet.status(s);
  const c = st?.chains.find((x) => x.chainId === chainId);
  return st && c ? { height: c.height, hash: c.headHash, peers: st.peers } : null;
}

export interface PropagationResult {
  readonly validators: number;
  readonly startupS: number;
  readonly catchUpS: number;
  /** Child heights published by operator-child in the window. */
  readonly blocks: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Median over heights of the first validator's latency: the first hop. */
  readonly firstP50: number;
  readonly delivery: number;
  /** Share of (validator, height) arrivals that came by sync (backfill) rather than gossip. */
  readonly syncShare: number;
  /** Validators that took every block of the window by sync: behind, they ignore gossip (blocks from the future). */
  readonly syncOnly: number;
  readonly syncP50: number;
  readonly gossipP50: number;
  /** Mean judge time of a gossiped block in a validator (all chains: the metric has no chain label). */
  readonly judgeMs: number;
  /** CPU of every devnet process over the window, in cores (the machine has what `nproc` says). */
  readonly cpuCores: number;
  readonly operatorPeers: number;
  /** Whether every validator was within a block of the operator before the window (see waitCaughtUp). */
  readonly caughtUp: boolean;
  /** Whether every validator had taken a child block from gossip before the window. */
  readonly gossipReady: boolean;
  /** CPU the rest of the machine used over the window, in cores: anything else running skews the figures. */
  readonly otherCores: number;
}

export interface ConvergenceTrial {
  /** From the partition's end to validator-2's child head equal to operator-child's (100 ms polls). */
  readonly convergeMs: number;
  /** From the end to the first poll where validator-2 has a peer again. */
  readonly reconnectMs: number;
  /** From the end to validator-2's first accepted child block (its log). */
  readonly firstBlockMs: number;
  readonly firstBlockSource: string;
  /** Child blocks validator-2 lacked when the partition ended. */
  readonly behind: number;
}

export interface DevnetBenchOptions {
  readonly sizes?: readonly number[];
  readonly windowMs?: number;
  readonly partitionMs?: number;
  readonly trials?: number;
}

/**
 * The plan moved from 127.0.2.x to 127.0.3.x (same last octets): the devnet tests and `sortition-node devnet`
 * use 127.0.2.x with fixed ports, and the benchmark must not collide with one of them running meanwhile.
 */
function onBenchAddresses(p: ServicePlan): ServicePlan {
  const move = (v: string) => v.replaceAll('127.0.2.', '127.0.3.');
  return {
    ...p,
    address: move(p.address),
    args: p.args.map(move),
    env: Object.fromEntries(Object.entries(p.env).map(([k, v]) => [k, move(v)])),
    healthUrl: p.healthUrl === null ? null : move(p.healthUrl),
  };
}

/** Starts the compose topology with `n` validators in `workDir`; stops it (and every process) after `f`. */
async function withDevnet<T>(
  n: number,
  workDir: string,
  f: (devnet: Devnet, child: string, startupMs: number) => Promise<T>,
): Promise<T> {
  const raw = scaleValidators(loadCompose(COMPOSE), n);
  const plans = planServices(raw, { workDir }).map(onBenchAddresses);
  const debug = { SORTITION_LOG_LEVEL: 'debug' };
  const overrides: Record<string, Record<string, string>> = { [OPERATOR]: debug };
  for (const p of plans) if (p.role === 'validator') overrides[p.name] = debug;
  const devnet = new Devnet({
    plans,
    workDir,
    log: createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent', 'bench-devnet'),
    overrides,
    healthTimeoutMs: 120_000,
  });
  try {
    const t0 = Date.now();
    await devnet.start();
    const startupMs = Date.now() - t0;
    const child = await chainOf(devnet.service(OPERATOR));
    if (!child) throw new Error(`devnet bench: ${OPERATOR} has no chain`);
    return await f(devnet, child, startupMs);
  } finally {
    await devnet.stop();
    // Set BENCH_DEVNET_LOGS=DIR to keep every service's log there (the work dir is removed).
    const keep = process.env.BENCH_DEVNET_LOGS;
    if (keep)
      await cp(join(workDir, 'logs'), join(keep, `n${n}`), { recursive: true }).catch(() => undefined);
  }
}

function validatorsOf(devnet: Devnet): RunningService[] {
  return devnet.nodes().filter((s) => s.plan.role === 'validator');
}

/** Child blocks a node accepted from gossip (its /metrics): > 0 once it is in the child topic's mesh. */
async function gossipAccepted(s: RunningService, label: string): Promise<number> {
  const text = await getText(`${s.apiUrl}/metrics`);
  let n = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('sortition_blocks_total{') &&
      line.includes(`chain="${label}"`) &&
      line.includes('result="accept"') &&
      line.includes('source="gossip"')
    )
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/**
 * Caught up: every validator within one block of operator-child on the child chain (the chain past height 3),
 * and every validator has taken a child block from gossip, so that the initial backfill is over and the window
 * measures steady propagation. Waited for at most `timeoutMs`; what did not hold then is reported, and the window
 * is measured anyway (validators that cannot keep up are a result, not an error).
 */
async function waitCaughtUp(
  devnet: Devnet,
  child: string,
  timeoutMs: number,
): Promise<{ caughtUp: boolean; gossip: boolean }> {
  const op = devnet.service(OPERATOR);
  const vals = validatorsOf(devnet);
  const label = child.slice(0, 16);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o = await headOf(devnet, op, child);
    const hs = await Promise.all(vals.map((v) => headOf(devnet, v, child)));
    const caughtUp = !!o && o.height >= 3 && hs.every((h) => h !== null && h.height >= o.height - 1);
    const gossip =
      caughtUp && (await Promise.all(vals.map((v) => gossipAccepted(v, label)))).every((x) => x > 0);
    if ((caughtUp && gossip) || Date.now() > deadline) return { caughtUp, gossip };
    // Once a second: 25 status requests (and 24 metric scrapes) are CPU the validators are short of.
    await sleep(1000);
  }
}

async function measurePropagation(
  devnet: Devnet,
  child: string,
  startupMs: number,
  windowMs: number,
): Promise<PropagationResult> {
  const op = devnet.service(OPERATOR);
  const vals = validatorsOf(devnet);
  const label = child.slice(0, 16);
  const t0 = Date.now();
  const ready = await waitCaughtUp(devnet, child, 90_000);
  const catchUpMs = Date.now() - t0;

  const judged = async () => {
    const texts = await Promise.all(vals.map((v) => getText(`${v.apiUrl}/metrics`)));
    const total = (name: string) => texts.reduce((s, t) => s + metric(t, name, 'source="gossip"'), 0);
    return {
      sum: total('sortition_block_validation_seconds_sum'),
      count: total('sortition_block_validation_seconds_count'),
    };
  };
  const cpu = () => devnet.services.reduce((s, x) => s + cpuSeconds(x.child?.pid), 0);

  const h0 = (await headOf(devnet, op, child))!.height;
  const j0 = await judged();
  const c0 = cpu();
  const busy0 = machineBusySeconds();
  const w0 = Date.now();
  await sleep(windowMs);
  const c1 = cpu();
  const busy1 = machineBusySeconds();
  const wall = (Date.now() - w0) / 1000;
  const j1 = await judged();
  const end = (await headOf(devnet, op, child))!;
  const h1 = end.height;
  // Drain: the window's last blocks reach every validator (or 10 s pass; what is missing then is undelivered).
  const drain = Date.now() + 10_000;
  while (Date.now() < drain) {
    const hs = await Promise.all(vals.map((v) => headOf(devnet, v, child)));
    if (hs.every((h) => h !== null && h.height >= h1)) break;
    await sleep(200);
  }
  await sleep(500); // the log streams flush

  const published = await acceptedIn(op.logFile, label);
  const arrivals = await Promise.all(vals.map((v) => acceptedIn(v.logFile, label)));
  const lat: number[] = [];
  const bySync: number[] = [];
  const byGossip: number[] = [];
  const first: number[] = [];
  let heights = 0;
  const gossiped = new Set<number>();
  for (let h = h0 + 1; h <= h1; h++) {
    const p = published.get(h);
    if (!p || p.source !== 'local') continue;
    heights++;
    let earliest = Infinity;
    for (const [i, a] of arrivals.entries()) {
      const x = a.get(h);
      if (!x) continue;
      if (x.source === 'gossip') gossiped.add(i);
      const d = x.time - p.time;
      lat.push(d);
      (x.source === 'sync' ? bySync : byGossip).push(d);
      earliest = Math.min(earliest, d);
    }
    if (earliest < Infinity) first.push(earliest);
  }
  for (const a of [lat, bySync, byGossip, first]) a.sort((x, y) => x - y);
  return {
    validators: vals.length,
    startupS: startupMs / 1000,
    catchUpS: catchUpMs / 1000,
    blocks: heights,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    max: lat.length ? lat[lat.length - 1] : NaN,
    firstP50: pct(first, 0.5),
    delivery: heights ? lat.length / (heights * vals.length) : NaN,
    syncShare: lat.length ? bySync.length / lat.length : NaN,
    syncOnly: vals.length - gossiped.size,
    syncP50: pct(bySync, 0.5),
    gossipP50: pct(byGossip, 0.5),
    judgeMs: j1.count > j0.count ? ((j1.sum - j0.sum) / (j1.count - j0.count)) * 1000 : NaN,
    cpuCores: (c1 - c0) / wall,
    operatorPeers: end.peers,
    caughtUp: ready.caughtUp,
    gossipReady: ready.gossip,
    otherCores: (busy1 - busy0) / wall - (c1 - c0) / wall,
  };
}

/** Epoch ms of the last 'peer banned' line of a devnet partition at or after `since` in a log (NaN if none). */
async function lastBanAt(file: string, since: number): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  let last = NaN;
  for (const line of text.split('\n')) {
    if (!line.includes('"peer banned"') || !line.includes('"devnet partition"')) continue;
    try {
      const t = Date.parse((JSON.parse(line) as { time: string }).time);
      if (t >= since && !(t <= last)) last = t;
    } catch {
      // A partial line.
    }
  }
  return last;
}

async function measureConvergence(
  devnet: Devnet,
  child: string,
  partitionMs: number,
  trials: number,
): Promise<ConvergenceTrial[]> {
  const op = devnet.service(OPERATOR);
  const v = devnet.service(PARTITIONED);
  const label = child.slice(0, 16);
  const out: ConvergenceTrial[] = [];
  const same = async () => {
    const [a, b] = await Promise.all([headOf(devnet, op, child), headOf(devnet, v, child)]);
    return a !== null && b !== null && a.height === b.height && a.hash === b.hash;
  };
  for (let i = 0; i < trials; i++) {
    // Start from a validator in step with the operator and with its connections settled.
    await until(same, `${PARTITIONED} in step with ${OPERATOR}`, 60_000);
    await sleep(3000);
    const sent = Date.now();
    await devnet.partition(PARTITIONED, partitionMs);
    // Polls count from the reply + the duration, when every ban has surely expired; the figures are then taken
    // from the last ban's own log time + the duration (see below), the partition's actual end.
    const soonest = Date.now() + partitionMs;
    let behind = NaN;
    let reconnectAt = NaN;
    let convergedAt = NaN;
    const deadline = soonest + 60_000;
    for (let tick = Date.now(); Date.now() < deadline;) {
      const [a, b] = await Promise.all([headOf(devnet, op, child), headOf(devnet, v, child)]);
      const t = Date.now();
      if (t >= soonest && a && b) {
        if (Number.isNaN(behind)) behind = a.height - b.height;
        if (Number.isNaN(reconnectAt) && b.peers > 0) reconnectAt = t;
        if (a.height === b.height && a.hash === b.hash) {
          convergedAt = t;
          break;
        }
      }
      tick += 100;
      await sleep(Math.max(0, tick - Date.now()));
    }
    await sleep(300); // the log stream flushes
    const end = (await lastBanAt(v.logFile, sent)) + partitionMs || soonest;
    const acc = await acceptedIn(v.logFile, label);
    const after = [...acc.values()].filter((x) => x.time >= end).sort((x, y) => x.time - y.time)[0];
    out.push({
      convergeMs: convergedAt - end,
      reconnectMs: reconnectAt - end,
      firstBlockMs: after ? after.time - end : NaN,
      firstBlockSource: after?.source ?? '-',
      behind,
    });
  }
  return out;
}

export async function benchDevnet(opts: DevnetBenchOptions = {}): Promise<void> {
  const sizes = opts.sizes ?? [4, 12, 24];
  const windowMs = opts.windowMs ?? 30_000;
  const partitionMs = opts.partitionMs ?? 10_000;
  const trials = opts.trials ?? 3;
  heading(
    `devnet: child-chain block propagation on the compose topology (1 block/s, load trading), ` +
      `${windowMs / 1000} s window per size, N validators tracking the child chain`,
  );
  const root = await mkdtemp(join(tmpdir(), 'sortition-bench-devnet-'));
  const results: (PropagationResult | { validators: number; error: string })[] = [];
  let convergence: ConvergenceTrial[] = [];
  let convergenceError = '';
  try {
    for (const n of sizes) {
      try {
        results.push(
          await withDevnet(n, join(root, `n${n}`), async (devnet, child, startupMs) => {
            const r = await measurePropagation(devnet, child, startupMs, windowMs);
            // The partition drill runs on the 4-validator devnet once its propagation window is over.
            if (n === 4 && trials > 0) {
              try {
                convergence = await measureConvergence(devnet, child, partitionMs, trials);
              } catch (e) {
                convergenceError = (e as Error).message;
              }
            }
            return r;
          }),
        );
      } catch (e) {
        // No asserts: a size that could not run is reported as such and the others still run.
        results.push({ validators: n, error: (e as Error).message });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const ok = results.filter((r): r is PropagationResult => !('error' in r));
  table(
    ok.map((r) => ({
      validators: r.validators,
      'startup s': r.startupS,
      'catch-up s': r.catchUpS,
      blocks: r.blocks,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'max ms': r.max,
      'first-hop p50': r.firstP50,
      delivery: r.delivery,
      'via sync': r.syncShare,
      'sync-only': r.syncOnly,
      'gossip p50': r.gossipP50,
      'sync p50': r.syncP50,
      'judge ms': r.judgeMs,
      'CPU cores': r.cpuCores,
      'other cores': r.otherCores,
      'op peers': r.operatorPeers,
      ready: r.caughtUp && r.gossipReady ? 'yes' : r.caughtUp ? 'no mesh' : 'behind',
    })),
  );
  for (const r of results) if ('error' in r) console.log(`${r.validators} validators: failed: ${r.error}`);
  console.log(
    'latency: first acceptance at each validator minus operator-child accepting its own block (source local); ' +
      'first-hop p50: per height, the fastest validator. via sync: share of arrivals by backfill; sync-only: ' +
      'validators that took no block of the window from gossip. judge ms: ' +
      'mean judgement of a gossiped block in a validator (every chain). CPU cores: all devnet processes; other ' +
      'cores: the rest of the machine. ready: every validator within a block and fed by gossip before the window.',
  );
  if (convergenceError) console.log(`convergence: failed: ${convergenceError}`);
  if (convergence.length) {
    heading(
      `devnet: convergence after a ${partitionMs / 1000} s partition of ${PARTITIONED} (4 validators), ` +
        `${OPERATOR} and ${PARTITIONED} /v1/status polled every 100 ms`,
    );
    table(
      convergence.map((c, i) => ({
        trial: i + 1,
        'converged ms': c.convergeMs,
        'reconnected ms': c.reconnectMs,
        'first block ms': c.firstBlockMs,
        'first block via': c.firstBlockSource,
        'blocks behind': c.behind,
      })),
    );
    console.log(
      `median convergence: ${median(convergence.map((c) => c.convergeMs)).toFixed(0)} ms ` +
        '(times from the partition end: the last ban in validator-2 log + its duration)',
    );
  }
}
