/**
 * Alerts for a holder: a watched contract superseded or closed, or evidence against a watched chain (or one of its
 * ancestors); and from the EVM anchor's watcher (src/evm/alerts.ts), a commit naming a header this node did not
 * accept, a commit it never saw, a watched contract a committed path shows removed, a data request left
 * unanswered; and a tracked chain its parent's contract does not hold (orphan) or whose parent expired
 * (parent-expired), raised by ValidatorNode.checkLineage. Each alert is logged at warn and counted; with a webhook (`--alert-url`) it is also POSTed as JSON,
 * one at a time in order, retried with exponential backoff. The queue is bounded: when it is full the oldest
 * undelivered alert is dropped (and counted), so a dead webhook never grows memory.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';

export type AlertKind =
  | 'superseded'
  | 'closed'
  | 'evidence'
  | 'commit-mismatch'
  | 'commit-unseen'
  | 'watch-removed'
  | 'data-withheld'
  | 'orphan'
  | 'parent-expired';

export interface Alert {
  readonly kind: AlertKind;
  /** The watched chain (hex). */
  readonly chainId: string;
  readonly height: number;
  /** Watch fields: the watch, the contract's start, the transaction (hash, index) and operation. */
  readonly watchId?: string;
  readonly start?: string;
  readonly tx?: string;
  readonly txIndex?: number;
  readonly op?: string;
  /** Evidence fields: its kind, id and the chain it proves something about (the watched one or an ancestor). */
  readonly evidence?: { readonly kind: string; readonly id: string; readonly chainId: string };
  /** Watches on the chain the evidence or the commit touches. */
  readonly watches?: string[];
  /** Anchor fields: the header hash committed at `height`, and (commit-mismatch) the one this node accepted. */
  readonly committed?: string;
  readonly seen?: string;
  /** commit-unseen: this node's height on the chain. */
  readonly seenHeight?: number;
  /** orphan, parent-expired: the chain's parent. */
  readonly parentChain?: string;
  /** orphan: the chain the parent's contract holds instead. */
  readonly heldChain?: string;
  /** parent-expired: the earliest expiry of the chain's line (an anchor height). */
  readonly expiry?: number;
  /** watch-removed, data-withheld: the data request's id. */
  readonly request?: string;
  /** watch-removed: what the committed path shows at the watched contract's start (a gap, or another contract). */
  readonly found?: {
    readonly kind: 'gap' | 'contract';
    readonly start: string;
    readonly end: string;
    readonly owner?: string;
    readonly nonce?: number;
    readonly digest?: string;
  };
}

export interface AlerterOptions {
  readonly url?: string;
  readonly log: Logger;
  readonly registry: Registry;
  readonly maxQueue?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly timeoutMs?: number;
}

export class Alerter {
  private readonly queue: (Alert & { readonly at: string })[] = [];
  private pump: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly raised: Counter<'kind'>;
  private readonly webhook: Counter<'result'>;
  private readonly queued: Gauge;

  constructor(private readonly o: AlerterOptions) {
    const registers = [o.registry];
    this.raised = new Counter({
      name: 'sortition_watch_alerts_total',
      help:
        'Alerts raised for watched contracts and chains, by kind (superseded, closed, evidence, commit-mismatch, ' +
        'commit-unseen, watch-removed, data-withheld, orphan, parent-expired)',
      labelNames: ['kind'],
      registers,
    });
    this.webhook = new Counter({
      name: 'sortition_alert_webhook_total',
      help: 'Alert webhook deliveries, by result (delivered, retried, failed, dropped)',
      labelNames: ['result'],
      registers,
    });
    this.queued = new Gauge({
      name: 'sortition_alert_webhook_queue',
      help: 'Alerts waiting for the webhook',
      registers,
    });
  }

  raise(a: Alert): void {
    this.o.log.warn({ alert: a }, `alert: ${a.kind}`);
    this.raised.inc({ kind: a.kind });
    if (!this.o.url || this.abort.signal.aborted) return;
    if (this.queue.length >= (this.o.maxQueue ?? 1000)) {
      this.queue.shift();
      this.webhook.inc({ result: 'dropped' });
    }
    this.queue.push({ ...a, at: new Date().toISOString() });
    this.queued.set(this.queue.length);
    this.pump ??= this.drain().finally(() => (this.pump = null));
  }

  /** Stops delivering; undelivered alerts are dropped (they were logged and counted). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.pump;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      // Taken off the queue while it is delivered, so a full queue drops the next one, not the one in flight.
      const a = this.queue.shift()!;
      this.queued.set(this.queue.length);
      const ok = await this.deliver(a);
      this.webhook.inc({ result: ok ? 'delivered' : 'failed' });
    }
  }

  private async deliver(a: Alert): Promise<boolean> {
    const url = this.o.url!;
    const attempts = this.o.maxAttempts ?? 6;
    const base = this.o.baseDelayMs ?? 500;
    const cap = this.o.maxDelayMs ?? 30_000;
    const signal = this.abort.signal;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(a),
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs ?? 5000)]),
        });
        await res.body?.cancel();
        if (res.ok) return true;
        why = `HTTP ${res.status}`;
        // The receiver refused this alert itself; sending it again would get the same answer.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.o.log.warn({ url, status: res.status, kind: a.kind }, 'alert webhook refused the alert');
          return false;
        }
      } catch (e) {
        if (signal.aborted) return false;
        why = (e as Error).message;
      }
      if (attempt >= attempts) {
        this.o.log.warn({ url, attempts, err: why, kind: a.kind }, 'alert webhook failed; alert dropped');
        return false;
      }
      this.webhook.inc({ result: 'retried' });
      // Full jitter: webhooks that fail together do not retry together.
      const delay = Math.random() * Math.min(cap, base * 2 ** (attempt - 1));
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return false;
      }
    }
  }
}
