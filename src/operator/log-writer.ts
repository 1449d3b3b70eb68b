/**
 * The request log's writer: a request is acknowledged only once it is durable, and every append that arrives
 * while a write is in flight goes into the next single fsync (group commit), in arrival order.
 */
import { OperatorError } from './errors.js';
import type { AuxWrite, LogEntry, OperatorStore } from './store.js';

/** Group commit of the request log: every append that arrives during a write goes into the next single fsync. */
export class LogWriter {
  private queue: { entry: LogEntry; aux: readonly AuxWrite[]; done: (e?: Error) => void }[] = [];
  private running = false;
  private last: Promise<void> = Promise.resolve();
  private failed: Error | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: OperatorStore,
    private readonly onFail: (e: Error) => void,
  ) {}

  append(entry: LogEntry, aux: readonly AuxWrite[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const p = new Promise<void>((resolve, reject) =>
      this.queue.push({ entry, aux, done: (e) => (e ? reject(e) : resolve()) }),
    );
    this.last = p;
    if (!this.running) void this.drain();
    return p;
  }

  /** Resolves once everything appended so far is durable. */
  flushed(): Promise<void> {
    return this.last;
  }

  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length) {
      const group = this.queue.splice(0);
      try {
        await this.store.appendLog(
          group.map((g) => g.entry),
          group.flatMap((g) => g.aux),
        );
        for (const g of group) g.done();
      } catch (e) {
        const err = new OperatorError('STORE_FAILED', `request log write failed: ${(e as Error).message}`);
        this.failed = err;
        for (const g of [...group, ...this.queue.splice(0)]) g.done(err);
        this.onFail(err);
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
