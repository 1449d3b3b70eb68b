/**
 * Commits a top-level chain's headers to the EVM anchor every `every` blocks (and the head at start when the
 * contract is behind it). Only the newest header matters: a commit covers the heights below it through the hash
 * chain, so headers sealed while a commit is in flight coalesce into the next one.
 *
 * Restart-safe through the anchor's journal: at start a journaled commit is driven to its end (mined, or the very
 * same signed bytes sent again) before anything new is signed, and the committed height is read from the contract,
 * never assumed. So after kill -9 a commit the chain accepted is neither lost nor sent twice.
 *
 * Reorg-safe: the contract's committed height is read every `reorgPollMs`; when it is below the height this
 * committer believes committed on two reads in a row (an EVM reorg dropped confirmed commits), it believes the
 * contract and commits its newest header again.
 */
import type { SignedHeader } from '../chain/header.js';
import { toHex } from '../crypto/hash.js';
import { sleep } from '../runtime/http-client.js';
import type { UpstreamStatus } from '../api/operator.js';
import type { Logger } from '../runtime/logger.js';
import { NO_EXPIRY, type EvmAnchor } from './node-anchor.js';
import { AnchorRevert, EvmFundsError } from './sender.js';

export interface CommitterOptions {
  readonly anchor: EvmAnchor;
  readonly chainId: Uint8Array;
  /** Commit when the head is this many blocks above the last commit. */
  readonly every: number;
  readonly log: Logger;
  /** How often the EVM head is read while waiting for the chain's expiry. Default 1000 ms. */
  readonly expiryPollMs?: number;
  /** How often the contract's committed height is read to find commits a reorg dropped. Default 2000 ms. */
  readonly reorgPollMs?: number;
}

/** What the committer tells the operator: the chain expired (it stops sealing; see OperatorService.expire). */
interface Expirable {
  expire(why: string): void;
  readonly expired: boolean;
}

/** The operator of the top-level chain as the committer sees it; an OperatorService is one (src/app wires them). */
export interface CommittedChain extends Expirable {
  /** The newest sealed header, if any block was sealed. */
  readonly headHeader: SignedHeader | null;
  onSealed(f: (sealed: { readonly signed: SignedHeader }) => void): void;
  /** Where the operator's API reads its upstream status (`GET /v1/chain`) from. */
  setUpstreamStatus(f: () => UpstreamStatus): void;
}

export class EvmCommitter {
  private latest: SignedHeader | null = null;
  private committedHeight = 0;
  private skipThrough = 0;
  private lastError: string | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private svc: Expirable | null = null;
  /** A reorg dropped commits: the newest header is committed again even if fewer than `every` blocks above. */
  private recommit = false;
  /** Commit transactions mined by this process (the restart test counts them). */
  sent = 0;

  constructor(private readonly o: CommitterOptions) {}

  attach(svc: CommittedChain): this {
    this.svc = svc;
    svc.onSealed((s) => this.submit(s.signed));
    svc.setUpstreamStatus(() => this.status());
    if (svc.headHeader) this.submit(svc.headHeader);
    return this;
  }

  /** The transaction broadcast and awaiting its receipt (e.g. `commit:7`), if any. */
  get inFlight(): string | null {
    return this.o.anchor.inFlight;
  }

  submit(h: SignedHeader): void {
    if (this.latest && h.header.height <= this.latest.header.height) return;
    this.latest = h;
    this.wake?.();
  }

  start(): void {
    this.loop ??= this.run().catch((e: unknown) => {
      if (!this.abort.signal.aborted)
        this.o.log.error({ err: (e as Error).message }, 'EVM committer stopped');
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  status(): UpstreamStatus {
    return {
      url: `evm:${this.o.anchor.o.rpcUrl}/${this.o.anchor.address}`,
      acceptedHeight: this.committedHeight,
      latestHeight: this.latest?.header.height ?? 0,
      lastError: this.lastError,
    };
  }

  private due(): SignedHeader | null {
    const h = this.latest;
    if (!h) return null;
    const height = h.header.height;
    if (height <= Math.max(this.committedHeight, this.skipThrough)) return null;
    return this.recommit || height - this.committedHeight >= this.o.every ? h : null;
  }

  /**
   * The contract takes a commit only in a block more than `finality` blocks below the chain's expiry: once the next
   * block is there, no
   * later header can ever be committed, and the operator is told to stop sealing (its tree then stays where the
   * settlement proof is taken, at most the commits in flight above the contract's last committed height).
   */
  private async watchExpiry(expiry: bigint): Promise<void> {
    const signal = this.abort.signal;
    if (expiry >= BigInt(NO_EXPIRY)) return;
    let finality: bigint | null = null;
    while (!signal.aborted && this.svc && !this.svc.expired) {
      try {
        finality ??= await this.o.anchor.finality();
        const head = await this.o.anchor.head();
        if (head + 1n + finality >= expiry) {
          this.svc.expire(
            `EVM block ${head}: no commit lands within ${finality} blocks of the expiry block ${expiry}`,
          );
          return;
        }
      } catch {
        // The RPC is down: the commits report it; the next poll tries again.
      }
      await sleep(this.o.expiryPollMs ?? 1000, signal).catch(() => undefined);
    }
  }

  /** Reads the contract's committed height; a drop below what was committed (twice in a row) is a reorg. */
  private async watchDrops(): Promise<void> {
    const signal = this.abort.signal;
    let lower = false;
    while (!signal.aborted) {
      await sleep(this.o.reorgPollMs ?? 2000, signal).catch(() => undefined);
      if (signal.aborted) return;
      try {
        const on = (await this.o.anchor.chain(this.o.chainId)).height;
        if (on >= this.committedHeight) {
          lower = false;
          continue;
        }
        // One low read may be a lagging RPC backend: a second one in a row is believed.
        if (!lower) {
          lower = true;
          continue;
        }
        lower = false;
        this.o.log.warn(
          { chain: toHex(this.o.chainId), committed: this.committedHeight, onChain: on },
          'an EVM reorg dropped commits: committing again',
        );
        this.committedHeight = on;
        this.recommit = true;
        this.wake?.();
      } catch {
        // The RPC is down: the commits report it; the next read tries again.
      }
    }
  }

  private async run(): Promise<void> {
    const a = this.o.anchor;
    const resumed = await a.resumeCommit();
    const registered = await a.chain(this.o.chainId);
    this.committedHeight = registered.height;
    void this.watchExpiry(registered.expiry);
    void this.watchDrops();
    if (resumed !== undefined)
      this.o.log.info(
        { resumed, committed: this.committedHeight },
        'journaled commit resumed after a restart',
      );
    while (!this.closed) {
      const h = this.due();
      if (!h) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      const height = h.header.height;
      const t0 = performance.now();
      try {
        const r = await a.commitRoot(h.bytes);
        this.lastError = null;
        if (r.status === 'accepted') this.sent++;
        this.recommit = false;
        this.committedHeight = Math.max(this.committedHeight, (await a.chain(this.o.chainId)).height);
        this.o.log.debug(
          { height, status: r.status, ms: Math.round(performance.now() - t0) },
          'header committed to the EVM anchor',
        );
      } catch (e) {
        if (this.abort.signal.aborted) break;
        this.lastError = (e as Error).message.split('\n')[0];
        if (e instanceof AnchorRevert) {
          // Expired, slashed, or a refusal that will not change for this header: do not send it again.
          this.skipThrough = height;
          if (e.errorName === 'WrongPhase' || e.errorName === 'CommitTooLate')
            this.svc?.expire('the anchor refuses commits: the chain expired');
          if (e.errorName === 'AlreadySlashed')
            this.svc?.expire('the anchor refuses commits: the chain was slashed');
          this.o.log.error(
            { height, chain: toHex(this.o.chainId), err: e.errorName },
            'the anchor refused the commit',
          );
          continue;
        }
        this.o.log.warn({ height, err: this.lastError }, 'committing to the EVM anchor failed; retrying');
        // An unfunded account waits for someone to fund it: no point asking the RPC twice a second.
        await sleep(e instanceof EvmFundsError ? 10_000 : 500, this.abort.signal).catch(() => undefined);
      }
    }
  }
}
