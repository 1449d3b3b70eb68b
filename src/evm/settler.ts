/**
 * Automatic settlement (`--settle-key`, `--settle-payout`): once a chain is past its expiry on the EVM anchor,
 * claims its prize for the configured winner key (from the operator's tree or the validator's watches) and calls
 * timeout when the challenge window has passed. One step per chain per poll, in turn, so the single settlement
 * journal never has two transactions in flight; restart-safe through that journal and the contract's state
 * (settle.ts `settleStep`). When the payout is the settler's own EVM account, the prize is also drawn from the
 * contract into it (the contract credits, a holder pulls): after a chain settled, so an operator's commits, which
 * share the account, have stopped at its expiry.
 */
import type { Address } from 'viem';
import { toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import { sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import type { EvmAnchor } from './node-anchor.js';
import { settleStep, withdrawCredits, type LevelSource, type SettleStep } from './settle.js';

export interface SettlerOptions {
  readonly anchor: EvmAnchor;
  readonly source: LevelSource;
  /** The winner key claims are signed with (a contract holder's, or the operator's for free space). */
  readonly key: KeyPair;
  readonly payout: Address;
  /** The chains to settle (read every poll: a validator's watched chains change). */
  readonly chains: () => readonly Uint8Array[];
  readonly log: Logger;
  readonly pollMs?: number;
}

export interface SettlerChainStatus {
  readonly chainId: string;
  readonly status: SettleStep['status'] | 'error';
  readonly detail: string | null;
}

export class EvmSettler {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly state = new Map<string, SettlerChainStatus>();

  constructor(private readonly o: SettlerOptions) {}

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  status(): SettlerChainStatus[] {
    return [...this.state.values()];
  }

  /** Draws what the contract owes the settler's account once a chain settled, if that account is the payout. */
  private async withdrawOwn(): Promise<void> {
    const own = this.o.anchor.evmAddress;
    if (!own || own.toLowerCase() !== this.o.payout.toLowerCase()) return;
    if (![...this.state.values()].some((s) => s.status === 'settled')) return;
    if ((await this.o.anchor.owed(own)) === 0n) return;
    const r = await withdrawCredits(this.o.anchor);
    this.o.log.info({ to: r.to, amountWei: r.amountWei, gasUsed: r.gasUsed }, 'withdrew the prize');
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let errors = 0;
    while (!signal.aborted) {
      let failed = false;
      for (const chainId of this.o.chains()) {
        const id = toHex(chainId);
        const prev = this.state.get(id);
        if (prev?.status === 'settled' || prev?.status === 'not-winner' || signal.aborted) continue;
        try {
          const s = await settleStep(this.o.anchor, this.o.source, {
            chainId,
            key: this.o.key,
            payout: this.o.payout,
          });
          const detail =
            s.status === 'waiting'
              ? `${s.why} until block ${s.untilBlock}`
              : s.status === 'not-winner'
                ? s.why
                : null;
          if (s.status !== prev?.status || detail !== prev?.detail)
            this.o.log.info({ chain: id, step: s.status, detail }, 'settlement');
          this.state.set(id, { chainId: id, status: s.status, detail });
        } catch (e) {
          if (signal.aborted) break;
          failed = true;
          const detail = (e as Error).message.split('\n')[0];
          if (prev?.detail !== detail) this.o.log.warn({ chain: id, err: detail }, 'settlement step failed');
          this.state.set(id, { chainId: id, status: 'error', detail });
        }
      }
      if (!failed && !signal.aborted) {
        try {
          await this.withdrawOwn();
        } catch (e) {
          if (signal.aborted) break;
          failed = true;
          this.o.log.warn({ err: (e as Error).message.split('\n')[0] }, 'withdrawing the prize failed');
        }
      }
      errors = failed ? errors + 1 : 0;
      // Failures back off (an RPC down, a source behind); progress polls at the configured pace.
      await sleep(Math.min(30_000, (this.o.pollMs ?? 1000) * 2 ** Math.min(errors, 5)), signal);
    }
  }
}
