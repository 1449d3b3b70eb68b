/**
 * The validator's Prometheus metrics, on the node's own registry. Chain labels are the first 16 hex digits, for
 * the first `metricChains` chains tracked (default DEFAULT_METRIC_CHAINS): a node following 1,000 chains exported
 * 3.0 MiB a scrape with a series set per chain (issue 28). Past the cap, counters count under chain="other" and
 * per-chain gauges are not exported; the chain's state stays in GET /v1/status.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface NodeMetrics {
  readonly blocks: Counter<'chain' | 'result' | 'code' | 'source'>;
  readonly evidence: Counter<'kind' | 'source'>;
  readonly height: Gauge<'chain'>;
  readonly anchoredHeight: Gauge<'chain'>;
  readonly faulty: Gauge<'chain'>;
  readonly orphan: Gauge<'chain'>;
  readonly parentExpired: Gauge<'chain'>;
  readonly syncTarget: Gauge<'chain'>;
  readonly syncBlocks: Counter<'chain'>;
  readonly validationSeconds: Histogram<'source'>;
  readonly judgeCpuSeconds: Histogram<'source'>;
  readonly queueWaitSeconds: Histogram<'source'>;
  readonly delaySeconds: Histogram<'source'>;
  readonly chainsTracked: Gauge;
  /** The chain's label if it has series of its own, else undefined (past the cap). */
  chain(hex: string): string | undefined;
  /** The label a counter counts the chain under: its own, or "other". */
  chainOrOther(hex: string): string;
}

/** Chains with series of their own by default; `--metrics-chains` raises it. */
export const DEFAULT_METRIC_CHAINS = 32;

export const chainLabel = (hex: string): string => hex.slice(0, 16);

/**
 * CPU seconds (user + system) of the process. Judging is synchronous on the main thread, so around it this is that
 * thread plus the collector threads its garbage wakes. Not `process.threadCpuUsage`: Linux bills a thread's time
 * (getrusage RUSAGE_THREAD) in scheduler ticks, so a sub-millisecond judgement reads 0 or a whole tick, and only
 * the mean over many blocks would be right, not the histogram.
 */
export function judgeCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function createNodeMetrics(registry: Registry, metricChains = DEFAULT_METRIC_CHAINS): NodeMetrics {
  const registers = [registry];
  const labelled = new Set<string>();
  const chain = (hex: string): string | undefined => {
    const label = chainLabel(hex);
    if (labelled.has(label)) return label;
    if (labelled.size >= metricChains) return undefined;
    labelled.add(label);
    return label;
  };
  return {
    chain,
    chainOrOther: (hex) => chain(hex) ?? 'other',
    chainsTracked: new Gauge({
      name: 'sortition_chains_tracked',
      help: 'Chains this node follows',
      registers,
    }),
    blocks: new Counter({
      name: 'sortition_blocks_total',
      help: 'Blocks judged, by chain, result (accept, ignore, reject), reason code and source',
      labelNames: ['chain', 'result', 'code', 'source'],
      registers,
    }),
    evidence: new Counter({
      name: 'sortition_evidence_total',
      help: 'New fraud evidence, by kind and source (found here, or received and verified)',
      labelNames: ['kind', 'source'],
      registers,
    }),
    height: new Gauge({
      name: 'sortition_chain_height',
      help: 'Validated head height',
      labelNames: ['chain'],
      registers,
    }),
    anchoredHeight: new Gauge({
      name: 'sortition_chain_anchored_height',
      help: 'Highest height committed by a valid parent block and matching what this chain gossiped',
      labelNames: ['chain'],
      registers,
    }),
    faulty: new Gauge({
      name: 'sortition_chain_faulty',
      help: '1 when evidence shows the operator cheated',
      labelNames: ['chain'],
      registers,
    }),
    orphan: new Gauge({
      name: 'sortition_chain_orphan',
      help: "1 when the parent's contract holds another chain: nothing on this one can ever be anchored",
      labelNames: ['chain'],
      registers,
    }),
    parentExpired: new Gauge({
      name: 'sortition_chain_parent_expired',
      help: '1 when an ancestor is past its expiry (at the anchor height this node sees): the chain is over too',
      labelNames: ['chain'],
      registers,
    }),
    syncTarget: new Gauge({
      name: 'sortition_sync_target_height',
      help: 'Highest head height peers report for the chain',
      labelNames: ['chain'],
      registers,
    }),
    syncBlocks: new Counter({
      name: 'sortition_sync_blocks_total',
      help: 'Blocks fetched by backfill',
      labelNames: ['chain'],
      registers,
    }),
    validationSeconds: new Histogram({
      name: 'sortition_block_validation_seconds',
      help: 'Time to judge and apply one block',
      labelNames: ['source'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    // On shared cores wall time measures waiting for a core; the judging thread's CPU time is what a block costs.
    judgeCpuSeconds: new Histogram({
      name: 'sortition_block_judge_cpu_seconds',
      help: 'CPU time (user + system) of judging one block: the main thread and the collector threads it wakes',
      labelNames: ['source'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256],
      registers,
    }),
    queueWaitSeconds: new Histogram({
      name: 'sortition_block_queue_wait_seconds',
      help: 'Time a block waited behind earlier blocks before it was judged',
      labelNames: ['source'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    delaySeconds: new Histogram({
      name: 'sortition_block_delay_seconds',
      help: 'From first seen (gossip arrival, a sync response, a publish) to the verdict: queue wait plus judging',
      labelNames: ['source'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
