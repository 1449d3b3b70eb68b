/**
 * Operator metrics on the injected prom-client registry, labelled by chain so that more than one operator (the
 * devnet anchor and a chain, say) can share a process and a registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface OperatorMetrics {
  readonly pendingTxs: Gauge<'chain'>;
  readonly blockBuildSeconds: Histogram<'chain'>;
  readonly storeBytes: Gauge<'chain'>;
  readonly blocksTotal: Counter<'chain'>;
  readonly requestsTotal: Counter<'chain' | 'kind' | 'result'>;
}

function get<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function operatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  return {
    pendingTxs: get(
      registry,
      'operator_pending_txs',
      () =>
        new Gauge({
          name: 'operator_pending_txs',
          help: 'acknowledged transactions waiting for the next block',
          labelNames: ['chain'],
          registers,
        }),
    ),
    blockBuildSeconds: get(
      registry,
      'operator_block_build_seconds',
      () =>
        new Histogram({
          name: 'operator_block_build_seconds',
          help: 'time to seal, sign and durably write one block',
          labelNames: ['chain'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    storeBytes: get(
      registry,
      'operator_store_bytes',
      () =>
        new Gauge({
          name: 'operator_store_bytes',
          help: "bytes the operator's database occupies on disk",
          labelNames: ['chain'],
          registers,
        }),
    ),
    blocksTotal: get(
      registry,
      'operator_blocks_total',
      () =>
        new Counter({
          name: 'operator_blocks_total',
          help: 'blocks sealed and durably written',
          labelNames: ['chain'],
          registers,
        }),
    ),
    requestsTotal: get(
      registry,
      'operator_requests_total',
      () =>
        new Counter({
          name: 'operator_requests_total',
          help: 'requests by kind and result (accepted, duplicate, or the error code)',
          labelNames: ['chain', 'kind', 'result'],
          registers,
        }),
    ),
  };
}
