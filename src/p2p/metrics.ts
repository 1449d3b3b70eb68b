// Prometheus metrics of the network layer, created in a Registry that the caller passes in (one registry
// per node; prom-client refuses two metrics of one name in a registry).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface GossipMetrics {
  /** gossip_messages_total{topic_kind, result, code}: validation outcomes. result: accept | ignore | reject. */
  messages: Counter<'topic_kind' | 'result' | 'code'>;
  /** peers: connected peers. */
  peers: Gauge;
  /** gossip_mesh_peers{topic}: mesh size per subscribed topic (the first ones, up to the service's cap). */
  meshPeers: Gauge<'topic'>;
  /** gossip_topics_subscribed / gossip_topics_unmeshed: however many topics, whether each has a mesh. */
  topicsSubscribed: Gauge;
  topicsUnmeshed: Gauge;
  /** gossip_validation_seconds{topic_kind}: time spent in validators. */
  validationSeconds: Histogram<'topic_kind'>;
  /** gossip_validation_errors_total{topic_kind}: validators that threw something unexpected (our bugs). */
  validationErrors: Counter<'topic_kind'>;
}

export function createGossipMetrics(registry: Registry): GossipMetrics {
  return {
    messages: new Counter({
      name: 'gossip_messages_total',
      help: 'Gossip messages received, by topic kind, validation result and reason code',
      labelNames: ['topic_kind', 'result', 'code'],
      registers: [registry],
    }),
    peers: new Gauge({ name: 'peers', help: 'Connected libp2p peers', registers: [registry] }),
    meshPeers: new Gauge({
      name: 'gossip_mesh_peers',
      help: 'Gossipsub mesh peers per subscribed topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    topicsSubscribed: new Gauge({
      name: 'gossip_topics_subscribed',
      help: 'Gossip topics this node subscribes to',
      registers: [registry],
    }),
    topicsUnmeshed: new Gauge({
      name: 'gossip_topics_unmeshed',
      help: 'Subscribed gossip topics with no mesh peer (their messages reach this node only by gossip or sync)',
      registers: [registry],
    }),
    validationSeconds: new Histogram({
      name: 'gossip_validation_seconds',
      help: 'Time spent validating a gossip message',
      labelNames: ['topic_kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    validationErrors: new Counter({
      name: 'gossip_validation_errors_total',
      help: 'Gossip validators that failed with an unexpected error (a bug here; the message was ignored)',
      labelNames: ['topic_kind'],
      registers: [registry],
    }),
  };
}

export interface ReqRespMetrics {
  /** reqresp_requests_total{protocol, direction, result}: direction inbound | outbound; result OK or an error code. */
  requests: Counter<'protocol' | 'direction' | 'result'>;
  /** reqresp_rate_limited_total{protocol}: inbound requests refused by the per-peer rate limit. */
  rateLimited: Counter<'protocol'>;
  /** reqresp_request_seconds{protocol, direction}. */
  requestSeconds: Histogram<'protocol' | 'direction'>;
}

export function createReqRespMetrics(registry: Registry): ReqRespMetrics {
  return {
    requests: new Counter({
      name: 'reqresp_requests_total',
      help: 'Request/response exchanges, by protocol, direction and result',
      labelNames: ['protocol', 'direction', 'result'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'reqresp_rate_limited_total',
      help: 'Inbound requests refused by the per-peer rate limit',
      labelNames: ['protocol'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'reqresp_request_seconds',
      help: 'Duration of request/response exchanges',
      labelNames: ['protocol', 'direction'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** Current value of one labelled series of a counter or gauge (0 when absent). */
export async function metricValue<L extends string>(
  metric: Counter<L> | Gauge<L>,
  labels: Partial<Record<L, string>> = {},
): Promise<number> {
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    const vl = v.labels as Record<string, string | number | undefined>;
    if (Object.entries(labels).every(([k, want]) => String(vl[k]) === want)) sum += v.value;
  }
  return sum;
}
