/**
 * Per-client request budgets for a public API (issue 27 item 5): a token bucket per client address, refilled at
 * `perSecond` up to `burst`. A request costs one token; work whose cost depends on the input (a proof check that
 * replays stored blocks) is charged before it is done, so no client can buy more CPU than its budget whatever it
 * sends. The table of clients is bounded: past `maxClients` the longest idle one is forgotten (a forgotten client
 * starts again with a full bucket, which costs at most one burst).
 */

export interface BudgetLimits {
  /** Tokens a client earns per second. */
  readonly perSecond: number;
  /** Tokens a client can hold (the most it can spend at once). */
  readonly burst: number;
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class ClientBudgets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limits: BudgetLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limits.perSecond > 0) || !(limits.burst >= 1))
      throw new RangeError('a budget needs perSecond > 0 and burst >= 1');
  }

  private bucket(client: string): Bucket {
    const t = this.now();
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = Math.min(this.limits.burst, b.tokens + ((t - b.at) / 1000) * this.limits.perSecond);
      b.at = t;
      // Most recently used last: the first entry is the longest idle.
      this.buckets.delete(client);
    } else {
      b = { tokens: this.limits.burst, at: t };
      if (this.buckets.size >= (this.limits.maxClients ?? 10_000))
        this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(client, b);
    return b;
  }

  /**
   * Takes `cost` tokens from `client`'s bucket; when it holds fewer, takes nothing and answers the seconds until it
   * would hold them (never more than a burst's worth of waiting: a cost above the burst is capped at the burst).
   */
  take(client: string, cost = 1): { ok: true } | { ok: false; retryAfterS: number } {
    const b = this.bucket(client);
    const need = Math.min(cost, this.limits.burst);
    if (b.tokens >= need) {
      b.tokens -= need;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.ceil((need - b.tokens) / this.limits.perSecond) };
  }

  get clients(): number {
    return this.buckets.size;
  }
}
