/**
 * The operator's side of seed 001's data request (docs/protocol.md section 12): a holder who cannot get its path
 * from the operator demands it on chain (`requestData`), and an operator that does not publish it there within the
 * challenge window is slashed. The responder answers every request for its chain on its own, with the lookup path
 * from the operator's tree at the requested height, so an honest operator is never slashed for a request it could
 * answer (one more than MAX_REWIND blocks below its head is logged as unanswerable: keep commits frequent).
 */
import { toHex as viemHex } from 'viem';
import { toHex } from '../crypto/hash.js';
import { sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import { encodeLookupPath } from '../sortition/lottery.js';
import type { EvmAnchor } from './node-anchor.js';
import { send, type LevelSource } from './settle.js';

export interface ResponderOptions {
  readonly anchor: EvmAnchor;
  readonly chainId: Uint8Array;
  /** The operator's tree (settle.ts `serviceSource`). */
  readonly source: LevelSource;
  readonly log: Logger;
  /** How often the contract is read for new requests. Default 2000 ms. */
  readonly pollMs?: number;
}

export class DataResponder {
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  /** Requests answered by this process. */
  answered = 0;

  constructor(private readonly o: ResponderOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** One pass: answers every open request whose window is still open. Resolves with how many it answered. */
  async step(): Promise<number> {
    const { anchor, chainId, source, log } = this.o;
    const head = await anchor.head();
    let n = 0;
    for (const r of await anchor.dataRequests(chainId)) {
      if (r.answered || head > r.deadline) continue;
      try {
        const path = await source.level(chainId, r.point, r.height);
        await send(anchor, chainId, 'answerData', [r.id, viemHex(encodeLookupPath(path))]);
        this.answered++;
        n++;
        log.info(
          { request: r.id, height: r.height, point: r.point.toString() },
          'answered a data request on chain',
        );
      } catch (e) {
        log.error(
          { request: r.id, chain: toHex(chainId), height: r.height, err: (e as Error).message },
          'cannot answer a data request: the operator will be slashed when its window closes',
        );
      }
    }
    return n;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await this.step();
      } catch (e) {
        if (!signal.aborted) this.o.log.warn({ err: (e as Error).message }, 'reading data requests failed');
      }
      await sleep(this.o.pollMs ?? 2000, signal).catch(() => undefined);
    }
  }
}
