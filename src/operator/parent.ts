/**
 * A nested chain follows its parent's state: a chain expires with its parent, whatever level it sits at (a point of
 * a child chain is only ever drawn through its parent's settlement, so a contract sold after the parent is over can
 * never win). The watch reads the parent operator's `GET /v1/chain` every `pollMs`: the parent's effective expiry
 * (the earliest of its own and its ancestors') bounds this chain's, and once the parent says `expired` (it expired
 * on its anchor, or its own parent did: the flag travels down level by level) this chain expires too: it stops
 * sealing and refuses requests with EXPIRED, as a top-level chain does at its own expiry. The anchor's height
 * travels down the same way (the devnet anchor's head, read by its top-level chains from the anchor's
 * `/v1/chain`): a chain whose own expiry it reaches expires too.
 *
 * The parent being unreachable changes nothing (logged once per outage): the chain goes on as long as its parent
 * was last seen going on. A parent API serving another chain than the genesis names is logged at error.
 */
import { toHex } from '../crypto/hash.js';
import { apiRequest, sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import type { ChainInfo } from '../api/operator.js';
import type { OperatorService } from './service.js';

export interface ParentWatchOptions {
  readonly parentApi: string;
  readonly log: Logger;
  /** How often the parent's chain info is read. Default 1000 ms. */
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}

export class ParentWatch {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private svc: OperatorService | null = null;
  private unreachable = false;
  private wrongChain = false;

  constructor(private readonly o: ParentWatchOptions) {}

  attach(svc: OperatorService): this {
    this.svc = svc;
    return this;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Reads the parent once and applies what it says; returns false when it could not be read. */
  async poll(): Promise<boolean> {
    const svc = this.svc;
    if (!svc) return false;
    let info: Partial<ChainInfo>;
    try {
      info = await apiRequest<Partial<ChainInfo>>(this.o.parentApi, 'GET', '/v1/chain', undefined, {
        signal: this.abort.signal,
        timeoutMs: this.o.timeoutMs ?? 5000,
      });
    } catch (e) {
      if (!this.unreachable && !this.abort.signal.aborted)
        this.o.log.warn({ err: (e as Error).message }, "reading the parent's chain failed; retrying");
      this.unreachable = true;
      return false;
    }
    this.unreachable = false;
    const parentId = toHex(svc.genesis.genesis.parentChain);
    if (info.chainId !== parentId) {
      if (!this.wrongChain)
        this.o.log.error(
          { parentApi: this.o.parentApi, serves: info.chainId, parentChain: parentId },
          'the parent API serves another chain than the genesis names as parent',
        );
      this.wrongChain = true;
      return false;
    }
    this.wrongChain = false;
    const expiry = info.effectiveExpiry ?? info.expiry;
    if (typeof expiry === 'number' && Number.isSafeInteger(expiry) && expiry >= 0)
      svc.setAncestorExpiry(expiry);
    // The devnet anchor's head, passed down: this chain's own expiry is an anchor height.
    const anchorHeight = info.parentChain === null ? info.head?.height : info.anchorHeight;
    if (typeof anchorHeight === 'number' && Number.isSafeInteger(anchorHeight))
      svc.setAnchorHeight(anchorHeight);
    if (info.expired === true) {
      const why = info.expiredReason ? `: ${info.expiredReason}` : '';
      svc.expire(`the parent chain ${parentId.slice(0, 16)} expired${why}`);
    }
    return true;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted && !(this.svc?.expired ?? false)) {
      await this.poll();
      await sleep(this.o.pollMs ?? 1000, signal).catch(() => undefined);
    }
  }
}
