/**
 * Anchoring up the hierarchy: after every sealed block, a chain's operator submits its signed header to the
 * operator of its parent chain (`POST <parent-api>/v1/child-roots`); the parent commits it into the contract that
 * holds the chain in its next block, and its own block goes up the same way, to the anchor. Only the newest
 * header matters (a commit covers every height before it through the hash chain), so submissions coalesce:
 * while one is in flight or backing off, newer headers replace older ones. Submitting is idempotent on the parent.
 *
 * Retried with exponential backoff: the parent unreachable or failing (5xx), and UNKNOWN_CHAIN (the parent has
 * not applied this chain's open-child yet). Given up for that header: other rejections (logged), and
 * CHILD_HEIGHT_NOT_INCREASING (the parent already holds a later header). EXPIRED (the parent's chain is over)
 * gives up the header and expires this chain as well (see parent.ts, which learns it without a header to send).
 */
import { toHex } from '../crypto/hash.js';
import type { SignedHeader } from '../chain/header.js';
import type { Logger } from '../runtime/logger.js';
import { ApiError, apiRequest, backoff, sleep } from '../runtime/http-client.js';
import type { OperatorService } from './service.js';
import type { UpstreamStatus } from '../api/operator.js';

export interface UpstreamOptions {
  /** Base URL of the parent operator's (or the anchor's) API. */
  readonly parentApi: string;
  readonly log: Logger;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly timeoutMs?: number;
}

export class Upstream {
  private latest: SignedHeader | null = null;
  private acceptedHeight = 0;
  private skipThrough = 0;
  private parentExpired = false;
  private svc: OperatorService | null = null;
  private lastError: string | null = null;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly waiters: { height: number; resolve: () => void }[] = [];

  constructor(private readonly o: UpstreamOptions) {}

  /** Submits every header the service seals, and reports on the service's chain info. */
  attach(svc: OperatorService): this {
    svc.onSealed((s) => this.submit(s.signed));
    svc.setUpstreamStatus(() => this.status());
    this.svc = svc;
    return this;
  }

  submit(h: SignedHeader): void {
    if (this.latest && h.header.height <= this.latest.header.height) return;
    this.latest = h;
    this.wake?.();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  status(): UpstreamStatus {
    return {
      url: this.o.parentApi,
      acceptedHeight: this.acceptedHeight,
      latestHeight: this.latest?.header.height ?? 0,
      lastError: this.lastError,
    };
  }

  /** Resolves once the parent has accepted a header at `height` or above (or the submitter stops). */
  accepted(height: number): Promise<void> {
    if (this.acceptedHeight >= height || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ height, resolve }));
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      const h = this.latest;
      const height = h?.header.height ?? 0;
      if (!h || height <= Math.max(this.acceptedHeight, this.skipThrough)) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      try {
        await apiRequest(
          this.o.parentApi,
          'POST',
          '/v1/child-roots',
          { childHeader: toHex(h.bytes) },
          { signal, timeoutMs: this.o.timeoutMs ?? 10_000 },
        );
        this.acceptedHeight = Math.max(this.acceptedHeight, height);
        this.lastError = null;
        attempt = 0;
        this.o.log.debug({ height }, 'header committed upstream');
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          if (this.waiters[i].height <= this.acceptedHeight) this.waiters.splice(i, 1)[0].resolve();
        }
      } catch (e) {
        if (signal.aborted) break;
        const err = e instanceof ApiError ? e : new ApiError(0, 'UNREACHABLE', (e as Error).message);
        this.lastError = `${err.code}: ${err.message}`;
        if (err.code === 'CHILD_HEIGHT_NOT_INCREASING') {
          this.skipThrough = height;
          this.o.log.warn({ height }, 'the parent already holds a later header of this chain');
          continue;
        }
        if (err.code === 'EXPIRED') {
          // The parent's chain is over: no header of this chain will be taken again. Said once, not per block.
          if (!this.parentExpired)
            this.o.log.warn(
              { height, err: err.message },
              'the parent chain expired: headers no longer go up',
            );
          this.parentExpired = true;
          this.skipThrough = height;
          // A chain expires with its parent: nothing it seals from now on could be committed anywhere.
          const parent = this.svc ? toHex(this.svc.genesis.genesis.parentChain).slice(0, 16) : '';
          this.svc?.expire(`the parent chain ${parent} expired: it refuses this chain's headers`);
          continue;
        }
        if (!err.retryable && err.code !== 'UNKNOWN_CHAIN') {
          this.skipThrough = height;
          this.o.log.error({ height, code: err.code, err: err.message }, 'the parent refused this header');
          continue;
        }
        if (attempt % 10 === 0)
          this.o.log.warn(
            { height, attempt, code: err.code },
            'submitting the header upstream failed; retrying',
          );
        await sleep(backoff(attempt++, this.o.minBackoffMs ?? 100, this.o.maxBackoffMs ?? 10_000), signal);
      }
    }
  }
}
