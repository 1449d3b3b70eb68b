/**
 * The mutation campaign: every family under one seed and one clock, with one tally. `npm run bench -- fuzz` runs
 * it at scale (bench/fuzz.ts); test/fuzz/campaign.test.ts runs it small with a fixed seed.
 */
import { installNativeCrypto, type CryptoBackend } from '../../src/runtime/native-crypto.js';
import { Tally } from './judge.js';
import { Rng } from './prng.js';
import { semanticCampaign } from './semantic.js';
import { wireCampaign } from './wire.js';
import { evidenceCampaign } from './evidence.js';
import { rootsCampaign } from './roots.js';
import { multiproofCampaign } from './multiproof.js';

export interface CampaignOptions {
  readonly seed: number;
  /** Wall-clock budget for the whole campaign; families share it in proportion to their counts. */
  readonly seconds: number;
  readonly wire: number;
  readonly semantic: number;
  readonly roots: number;
  readonly evidence: number;
  /** Version 2 blocks: honest controls and multiproof mutations (0 when unset). */
  readonly multiproof?: number;
}

export interface CampaignReport {
  readonly seed: number;
  readonly backend: CryptoBackend;
  readonly tally: Tally;
  readonly seconds: number;
  readonly counts: { wire: number; semantic: number; roots: number; evidence: number; multiproof: number };
}

export function runCampaign(o: CampaignOptions): CampaignReport {
  // Judging costs a signature check per owner action: the pure-JS one would make the campaign 30 times slower.
  const { backend } = installNativeCrypto('libsodium');
  const tally = new Tally();
  const rng = new Rng(o.seed);
  const t0 = performance.now();
  const mp = o.multiproof ?? 0;
  const total = o.wire + o.semantic + o.roots + o.evidence + mp || 1;
  let used = 0;
  const slice = (n: number) => {
    used += n;
    return t0 + (o.seconds * 1000 * used) / total;
  };
  const counts = { wire: 0, semantic: 0, roots: 0, evidence: 0, multiproof: 0 };
  counts.wire = wireCampaign(rng.fork(1), tally, o.wire, slice(o.wire));
  counts.semantic = semanticCampaign(rng.fork(2), tally, o.semantic, slice(o.semantic));
  counts.roots = rootsCampaign(rng.fork(3), tally, o.roots, slice(o.roots));
  counts.evidence = evidenceCampaign(rng.fork(4), tally, o.evidence, slice(o.evidence));
  counts.multiproof = multiproofCampaign(rng.fork(5), tally, mp, slice(mp));
  return { seed: o.seed, backend, tally, seconds: (performance.now() - t0) / 1000, counts };
}
