/**
 * `npm run bench -- fuzz`: the mutation campaign (bench/fuzz/), seeded and bounded in time. FUZZ_SEED (default:
 * random, printed), FUZZ_SECONDS (default 300), and FUZZ_WIRE / FUZZ_SEMANTIC / FUZZ_ROOTS / FUZZ_EVIDENCE (inputs
 * per family, and FUZZ_MULTIPROOF; the clock may stop a family first). Prints inputs, crashes, hangs, accepted-invalid, rejected-valid
 * and throughput per kind; all four finding columns must be 0.
 */
import { runCampaign } from './fuzz/campaign.js';
import { heading, table } from './util.js';

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

export async function benchFuzz(): Promise<void> {
  const seed = envInt('FUZZ_SEED', Math.floor(Math.random() * 2 ** 32)) >>> 0;
  const seconds = envInt('FUZZ_SECONDS', 300);
  heading(`fuzz: mutation campaign, seed ${seed} (FUZZ_SEED=${seed} replays it), at most ${seconds} s`);
  const r = runCampaign({
    seed,
    seconds,
    wire: envInt('FUZZ_WIRE', 120_000),
    semantic: envInt('FUZZ_SEMANTIC', 120_000),
    roots: envInt('FUZZ_ROOTS', 20_000),
    evidence: envInt('FUZZ_EVIDENCE', 20_000),
    multiproof: envInt('FUZZ_MULTIPROOF', 20_000),
  });
  const rows: Record<string, string | number>[] = [];
  const row = (
    kind: string,
    s: {
      inputs: number;
      crashes: number;
      hangs: number;
      acceptedInvalid: number;
      rejectedValid: number;
      accepted: number;
      ms: number;
    },
  ) => ({
    kind,
    inputs: s.inputs,
    accepted: s.accepted,
    crashes: s.crashes,
    hangs: s.hangs,
    'accepted-invalid': s.acceptedInvalid,
    'rejected-valid': s.rejectedValid,
    'judged/s': s.ms > 0 ? Math.round((s.inputs / s.ms) * 1000) : 0,
  });
  for (const [kind, s] of [...r.tally.kinds.entries()].sort()) if (s.inputs > 0) rows.push(row(kind, s));
  rows.push(row('total', r.tally.total()));
  table(rows);
  console.log(
    `families: wire ${r.counts.wire}, semantic ${r.counts.semantic}, adversarial roots ${r.counts.roots}, forged evidence ${r.counts.evidence}, multiproof ${r.counts.multiproof}; ` +
      `${r.seconds.toFixed(1)} s wall, ${Math.round(r.tally.total().inputs / r.seconds)} inputs/s overall, crypto ${r.backend}`,
  );
  for (const [kind, s] of r.tally.kinds) for (const x of s.samples) console.log(`  ${kind}: ${x}`);
}
