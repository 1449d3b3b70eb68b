// Benchmark for issue 6: Dusk committee extraction, linear walk (rusk's scan) vs the O(log n) weighted-tree
// walk, over 10^3 / 10^5 / 10^6 provisioners, and Keep selectGroup of 100 from 10^4 operators.
// Prints timings only; correctness of both walks is asserted by test/sortition.

import {
  committee,
  CommitteeExtractor,
  extractCredits,
  DUSK_UNIT,
  type Provisioner,
} from '../src/sortition/dusk-committee.js';
import { WeightedTree } from '../src/sortition/weighted-tree.js';
import { SortitionPool } from '../src/sortition/keep-pool.js';

const CREDITS = 64;

/** xorshift32: deterministic inputs without pulling in a PRNG dependency. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function timeIt<T>(f: () => T): { ms: number; value: T } {
  const start = process.hrtime.bigint();
  const value = f();
  return { ms: ms(start), value };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function stakes(n: number): bigint[] {
  const next = rng(n);
  // 1,000 .. 10,000 DUSK in lux: a million of them stays under the reference's u64 total.
  return Array.from({ length: n }, () => BigInt(1000 + (next() % 9_001)) * DUSK_UNIT);
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

function benchDusk(): void {
  console.log(`Dusk committee extraction, ${CREDITS} credits (times in ms, median of runs)`);
  console.log(
    '  provisioners | linear walk | tree walk | linear/tree | reused tree | linear/reused | tree build | full committee() incl. sort',
  );
  const seed = new Uint8Array(48).fill(7);
  // Warm the JIT so the smallest size is not dominated by compilation.
  const warm = stakes(5_000);
  for (let i = 0; i < 20; i++) {
    for (const walk of ['linear', 'tree'] as const) {
      extractCredits(warm, { seed, round: BigInt(i), step: 0, credits: CREDITS, unit: DUSK_UNIT }, walk);
    }
  }
  for (const n of [1_000, 100_000, 1_000_000]) {
    const sorted = stakes(n);
    const params = { seed, round: 123_456n, step: 2, credits: CREDITS, unit: DUSK_UNIT };
    const linearRuns = n >= 1_000_000 ? 2 : 5;
    const linear: number[] = [];
    const tree: number[] = [];
    let a: number[] = [];
    let b: number[] = [];
    for (let i = 0; i < linearRuns; i++) {
      const r = timeIt(() => extractCredits(sorted, params, 'linear'));
      linear.push(r.ms);
      a = r.value;
    }
    for (let i = 0; i < 5; i++) {
      const r = timeIt(() => extractCredits(sorted, params, 'tree'));
      tree.push(r.ms);
      b = r.value;
    }
    if (a.join() !== b.join()) console.log('  !! walks disagree');
    const build = median([0, 1, 2].map(() => timeIt(() => new WeightedTree(sorted)).ms));
    const next = rng(n + 1);
    const provisioners: Provisioner[] = sorted.map((stake) => {
      const pubkey = new Uint8Array(32);
      for (let j = 0; j < 32; j += 4) new DataView(pubkey.buffer).setUint32(j, next());
      return { pubkey, stake };
    });
    const full = timeIt(() => committee(seed, 123_456n, 2, CREDITS, provisioners)).ms;
    // One extractor per provisioner set, as a consensus node keeps it: each draw is the walk alone. The steps of
    // one round, then the next rounds; the first draw must match the linear reference exactly.
    const ex = new CommitteeExtractor(provisioners);
    const ref = committee(seed, 123_456n, 2, CREDITS, provisioners, DUSK_UNIT, { walk: 'linear' });
    if (JSON.stringify(ex.committee(seed, 123_456n, 2, CREDITS)) !== JSON.stringify(ref))
      console.log('  !! reused extractor disagrees with the linear reference');
    const draws = 200;
    const reusedTotal = timeIt(() => {
      for (let i = 0; i < draws; i++) ex.picks(seed, 123_456n + BigInt(i >> 3), i & 7, CREDITS);
    }).ms;
    const r = reusedTotal / draws;
    const l = median(linear);
    const t = median(tree);
    console.log(
      `  ${String(n).padStart(12)} | ${fmt(l).padStart(11)} | ${fmt(t).padStart(9)} | ${(l / t).toFixed(1).padStart(11)} | ${fmt(r).padStart(11)} | ${(l / r).toFixed(0).padStart(13)} | ${fmt(build).padStart(10)} | ${fmt(full)}`,
    );
  }
}

function benchKeep(): void {
  const n = 10_000;
  const next = rng(42);
  const pool = new SortitionPool({ poolAddress: '0x' + '11'.repeat(20) });
  const insert = timeIt(() => {
    for (let i = 1; i <= n; i++)
      pool.insertOperatorWeight('0x' + i.toString(16).padStart(40, '0'), 1 + (next() % 5000));
  }).ms;
  pool.lock();
  const seed = new Uint8Array(32).fill(9);
  const group = median([0, 1, 2, 3, 4].map(() => timeIt(() => pool.selectGroup(100, seed)).ms));
  const set = median([0, 1, 2, 3, 4].map(() => timeIt(() => pool.selectSetGroup(100, seed)).ms));
  console.log(`Keep sortition pool, ${n} operators`);
  console.log(
    `  insert all: ${fmt(insert)} ms | selectGroup(100): ${fmt(group)} ms | selectSetGroup(100): ${fmt(set)} ms`,
  );
}

export async function benchSortition(): Promise<void> {
  benchDusk();
  benchKeep();
}
