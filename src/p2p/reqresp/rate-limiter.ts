// Token buckets per (protocol, peer): each request takes one token; tokens refill continuously.

export interface RateLimit {
  /** Burst size: requests allowed at once. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  readonly #limits: ReadonlyMap<string, RateLimit>;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxBuckets: number;

  /** `limits` by protocol id; protocols without an entry are not limited. */
  constructor(limits: ReadonlyMap<string, RateLimit>, maxBuckets = 10_000) {
    for (const [protocol, l] of limits) {
      if (!(l.capacity >= 1) || !(l.refillPerSecond > 0))
        throw new RangeError(`bad rate limit for ${protocol}`);
    }
    this.#limits = limits;
    this.#maxBuckets = maxBuckets;
  }

  /** Takes `cost` tokens from the peer's bucket for the protocol; false (and nothing taken) if too few. */
  tryConsume(protocol: string, peer: string, cost = 1, now = Date.now()): boolean {
    const limit = this.#limits.get(protocol);
    if (limit === undefined) return true;
    const key = `${protocol} ${peer}`;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxBuckets) this.prune(now);
      bucket = { tokens: limit.capacity, updatedMs: now };
      this.#buckets.set(key, bucket);
    } else {
      const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(limit.capacity, bucket.tokens + elapsed * limit.refillPerSecond);
      bucket.updatedMs = now;
    }
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  /** Forgets buckets that have refilled completely (they behave like new ones); then the oldest if still full. */
  prune(now = Date.now()): void {
    for (const [key, b] of this.#buckets) {
      const limit = this.#limits.get(key.slice(0, key.indexOf(' ')));
      if (
        limit === undefined ||
        b.tokens + ((now - b.updatedMs) / 1000) * limit.refillPerSecond >= limit.capacity
      ) {
        this.#buckets.delete(key);
      }
    }
    while (this.#buckets.size >= this.#maxBuckets) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
