/**
 * Finding the peers of the chains a validator follows (issue 28 item 2): it announces itself on the DHT as a
 * follower of each, and, for a chain it has no gossip mesh peer for, looks its followers up and dials them. One
 * chain per tick, round robin, so the work per minute does not grow with the chains followed.
 */
import type { ChainFinder } from '../p2p/chain-finder.js';
import { toHex } from '../crypto/hash.js';

export interface DiscoveryOptions {
  readonly finder: ChainFinder;
  readonly tracked: () => readonly Uint8Array[];
  readonly meshPeers: (chainId: Uint8Array) => number;
  readonly intervalMs?: number;
}

export class ChainDiscovery {
  private readonly announced = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly abort = new AbortController();
  private next = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly o: DiscoveryOptions) {}

  start(): this {
    const tick = (): void => {
      this.running = this.step().finally(() => {
        this.running = null;
        if (!this.abort.signal.aborted) this.timer = setTimeout(tick, this.o.intervalMs ?? 2000);
      });
    };
    this.timer = setTimeout(tick, 0);
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One chain: announce it until the DHT took the record, find its followers while no mesh peer has it. */
  async step(): Promise<void> {
    const ids = this.o.tracked();
    if (ids.length === 0) return;
    const id = ids[this.next++ % ids.length];
    const key = toHex(id);
    const signal = this.abort.signal;
    if (!this.announced.has(key) && (await this.o.finder.provide(id, signal))) this.announced.add(key);
    if (this.o.meshPeers(id) === 0 && !signal.aborted) await this.o.finder.find(id, signal);
  }
}
