/**
 * The page counts nothing for Prometheus: the bundle (scripts/build-web.mjs) puts this in place of prom-client,
 * which needs Node, under the network layer's request/response code. Only what that code calls is here.
 */
const timer = (): (() => number) => () => 0;

class Metric {
  inc(): void {}
  set(): void {}
  observe(): void {}
  startTimer(): () => number {
    return timer();
  }
  labels(): this {
    return this;
  }
}

export class Registry {}
export class Counter extends Metric {}
export class Gauge extends Metric {}
export class Histogram extends Metric {}
