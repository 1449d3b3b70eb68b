/**
 * The propagation benchmark's baselines as a validator's judge (`--bench-accept-all`, `--bench-signatures-only`):
 * gossiped blocks are accepted (relayed, stored, logged) after decoding and judged by nothing, or by their
 * signatures alone (src/light/baseline.ts); blocks from sync or the local operator are judged in full. The
 * benchmark (bench/network.ts) compares both with full validation. Never used on a network.
 */
import { trustBlock } from '../light/baseline.js';
import type { BlockJudge } from '../node/ingest.js';

export type BenchBaseline = 'accept-all' | 'signatures-only';

export function baselineJudge(baseline: BenchBaseline): BlockJudge {
  const signatures = baseline === 'signatures-only';
  return (tracker, chainId, bytes, source) =>
    source === 'gossip'
      ? trustBlock(tracker, chainId, bytes, { signatures })
      : tracker.onBlock(chainId, bytes);
}
