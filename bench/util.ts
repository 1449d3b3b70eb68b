/** Small helpers shared by the benchmarks: timing, tables, synthetic trees, scraping /metrics. */
import { readFileSync } from 'node:fs';
import { makeGenesis, type GenesisRecord } from '../src/chain/genesis.js';
import { makeLeaf, type Leaf } from '../src/tree/contract.js';

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs f repeatedly for at least `minMs` (and at least `minRuns` times); returns ms per run. */
export function timeIt(f: () => void, minMs = 300, minRuns = 3): number {
  f();
  let runs = 0;
  const t0 = now();
  while (runs < minRuns || now() - t0 < minMs) {
    f();
    runs++;
  }
  return (now() - t0) / runs;
}

export function table(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i])).join('  ');
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function heading(s: string): void {
  console.log(`\n== ${s}`);
}

/**
 * n contracts of width `width / 2` with jittered starts spread over [0, spaceEnd): a trie that is not perfectly
 * balanced, as a real chain's would not be. Deterministic.
 */
export function jitteredLeaves(
  n: number,
  owner: Uint8Array,
  spaceEnd: bigint,
): { leaves: Leaf[]; width: bigint } {
  const width = spaceEnd / BigInt(n + 1);
  const leaves: Leaf[] = new Array<Leaf>(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const start = BigInt(i) * width + (BigInt(seed) % (width / 4n));
    leaves[i] = makeLeaf({ start, end: start + width / 2n, owner, nonce: 0, terms: new Uint8Array(0) });
  }
  return { leaves, width };
}

export async function getText(url: string, timeoutMs = 3000): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/** The value of one Prometheus sample line `name{labels} value` whose labels contain `match`. */
export function metric(text: string, name: string, match: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') && line.includes(match))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** A chain for benchmarks: space [0, spaceEnd), a made-up parent, no expiry. */
export function benchGenesis(operatorKey: Uint8Array, spaceEnd: bigint, name = 'bench'): GenesisRecord {
  return makeGenesis({
    operatorKey,
    spaceStart: 0n,
    spaceEnd,
    parentChain: new Uint8Array(32).fill(1),
    parentContract: 0n,
    expiry: 0,
    amount: 0n,
    name,
    salt: new Uint8Array(0),
  });
}

/** User + system CPU seconds of a process (Linux /proc; 0 elsewhere). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
