/**
 * The operator's one duty at its chain's beacon block (docs/protocol.md §12, the beacon): post the drand round its
 * chain draws from once it is published, or, for a chain without drand, reveal the seed it
 * committed to when it registered, once the beacon block B = expiry + finality is past and before a challenge
 * window has gone by (after that anyone fixes the beacon from B's hash alone and the operator is slashed). Never
 * before B: whoever builds B must not know the seed. Polls the EVM head; sends through the settlement journal.
 */
import { toHex } from '../crypto/hash.js';
import { sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import type { EvmAnchor } from './node-anchor.js';
import { AnchorRevert } from './sender.js';

export interface SeedRevealerOptions {
  readonly anchor: EvmAnchor;
  readonly chainId: Uint8Array;
  readonly log: Logger;
  readonly pollMs?: number;
}

export class SeedRevealer {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** Why the revealer stopped: revealed, or what made revealing impossible. */
  outcome: 'revealed' | 'no-seed' | 'settled' | 'refused' | null = null;

  constructor(private readonly o: SeedRevealerOptions) {}

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** One look at the contract: reveals when due. Resolves with the outcome once there is nothing left to do. */
  async step(): Promise<SeedRevealer['outcome']> {
    const a = this.o.anchor;
    // A chain drawing from drand needs no seed: the operator posts the round once published (anyone may).
    const drawn = await a.postDrandRound(this.o.chainId).catch((e: unknown) => {
      this.o.log.warn(
        { err: (e as Error).message.split('\n')[0] },
        'posting the drand round failed; retrying',
      );
      return 'waiting' as const;
    });
    if (drawn === 'posted') return 'revealed';
    if (drawn === 'waiting') {
      // Unposted a window past the beacon block, the draw falls back to a block hash and the seed: reveal it.
      const c = await a.chain(this.o.chainId);
      const fallback = c.expiry + (await a.finality()) + (await a.challengeWindow());
      if ((await a.head()) <= fallback) return null;
    }
    const seed = await a.registeredSeed();
    if (!seed) return 'no-seed';
    const c = await a.chain(this.o.chainId);
    if (c.phase !== 'active') return c.phase === 'none' ? null : 'settled';
    if (await a.revealedSeed(this.o.chainId)) return 'revealed';
    const b = c.expiry + (await a.finality());
    if ((await a.head()) <= b) return null;
    try {
      await a.settle('revealSeed', [`0x${toHex(this.o.chainId)}`, seed]);
    } catch (e) {
      if (!(e instanceof AnchorRevert)) throw e;
      this.o.log.error(
        { chain: toHex(this.o.chainId), err: e.message },
        'the contract refused the beacon seed; the beacon will be fixed without it and the chain slashed',
      );
      return 'refused';
    }
    this.o.log.info({ chain: toHex(this.o.chainId) }, 'revealed the beacon seed');
    return 'revealed';
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        this.outcome = await this.step();
        if (this.outcome) return;
      } catch (e) {
        if (signal.aborted) return;
        this.o.log.warn(
          { err: (e as Error).message.split('\n')[0] },
          'revealing the beacon seed failed; retrying',
        );
      }
      await sleep(this.o.pollMs ?? 1000, signal);
    }
  }
}
