/**
 * gossipsub's own metrics (delivery, mesh, IDONTWANT, churn, score thresholds) in our prom-client registry: its
 * `metricsRegister` asks for gauges with collect hooks, histograms and avg/min/max gauges, which this builds.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricsRegister } from '@libp2p/gossipsub/metrics';

type Labels = Record<string, string | number>;
interface Config {
  name: string;
  help: string;
  labelNames?: readonly string[];
  buckets?: number[];
}

/**
 * gossipsub labels some gauges with the full topic name (`topicStr`), a series per topic: at 1,000 chains that
 * was most of a 3.0 MiB /metrics (issue 28). Those names are replaced by our short topic label (network-node.ts);
 * a topic without one of its own (past the cap, or one only peers subscribe to) is "other", which a counter
 * counts under and a gauge leaves unset (a gauge over many topics would hold whichever was set last).
 */
export type TopicLabelOf = (topicStr: string) => string | undefined;

const OTHER = 'other';

function relabel(labels: Labels, topicLabel: TopicLabelOf): Labels {
  const t = labels.topicStr;
  if (typeof t !== 'string') return labels;
  const own = topicLabel(t);
  return { ...labels, topicStr: own === undefined || own.endsWith(`/${OTHER}`) ? OTHER : own };
}

/** A prom-client gauge with gossipsub's `addCollect`: functions run before each scrape to set the value. */
class CollectingGauge {
  readonly #gauge: Gauge;
  readonly #collects: ((g: CollectingGauge) => void)[] = [];
  constructor(
    c: Config,
    registry: Registry,
    private readonly topicLabel: TopicLabelOf,
  ) {
    const collects = this.#collects;
    const self = (): CollectingGauge => this;
    this.#gauge = new Gauge({
      name: c.name,
      help: c.help,
      labelNames: c.labelNames ?? [],
      registers: [registry],
      collect() {
        for (const f of collects) f(self());
      },
    });
  }
  inc(a?: Labels | number, b?: number): void {
    if (typeof a === 'object') this.#gauge.inc(relabel(a, this.topicLabel), b ?? 1);
    else this.#gauge.inc(a ?? 1);
  }
  set(a: Labels | number, b?: number): void {
    if (typeof a === 'object') {
      const labels = relabel(a, this.topicLabel);
      if (labels.topicStr !== OTHER) this.#gauge.set(labels, b ?? 0);
    } else this.#gauge.set(a);
  }
  addCollect(f: (g: CollectingGauge) => void): void {
    this.#collects.push(f);
  }
}

class PromHistogram {
  readonly #h: Histogram;
  constructor(c: Config, registry: Registry) {
    this.#h = new Histogram({
      name: c.name,
      help: c.help,
      labelNames: c.labelNames ?? [],
      buckets: c.buckets,
      registers: [registry],
    });
  }
  startTimer(): () => void {
    const end = this.#h.startTimer();
    return () => void end();
  }
  observe(a: Labels | number, b?: number): void {
    if (typeof a === 'object') this.#h.observe(a, b ?? 0);
    else this.#h.observe(a);
  }
  reset(): void {
    this.#h.reset();
  }
}

/** Three gauges, `<name>_avg`, `_min` and `_max`, set from a list of values (0 for an empty list). */
class AvgMinMaxGauge {
  readonly #avg: Gauge;
  readonly #min: Gauge;
  readonly #max: Gauge;
  constructor(c: Config, registry: Registry) {
    const make = (suffix: string, what: string) =>
      new Gauge({
        name: `${c.name}_${suffix}`,
        help: `${c.help} (${what})`,
        labelNames: c.labelNames ?? [],
        registers: [registry],
      });
    this.#avg = make('avg', 'average');
    this.#min = make('min', 'minimum');
    this.#max = make('max', 'maximum');
  }
  set(a: Labels | number[], b?: number[]): void {
    const labels = Array.isArray(a) ? {} : a;
    const values = Array.isArray(a) ? a : (b ?? []);
    const n = values.length;
    const stats = {
      avg: n ? values.reduce((x, y) => x + y, 0) / n : 0,
      min: n ? Math.min(...values) : 0,
      max: n ? Math.max(...values) : 0,
    };
    this.#avg.set(labels, stats.avg);
    this.#min.set(labels, stats.min);
    this.#max.set(labels, stats.max);
  }
}

export function gossipsubMetricsRegister(
  registry: Registry,
  topicLabel: TopicLabelOf = () => undefined,
): MetricsRegister {
  const register = {
    gauge: (c: Config) => new CollectingGauge(c, registry, topicLabel),
    histogram: (c: Config) => new PromHistogram(c, registry),
    avgMinMax: (c: Config) => new AvgMinMaxGauge(c, registry),
  };
  // gossipsub types each metric by its label set; these classes take any label set, checked at run time.
  return register as unknown as MetricsRegister;
}
