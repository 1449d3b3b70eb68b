/**
 * The publishing end of the operator's pipeline: written blocks go to the node (the `BlockSink`) in height order,
 * on a chain of their own so that a slow node never holds up writes. A block the node did not take is retried on
 * the next tick; blocks it missed (a restart, a node that was down) are republished from the store first.
 *
 * What goes out at each height is the `PublishPolicy`'s choice: the honest policy publishes the block itself;
 * devnet fault injection (faults.ts) is another policy, handed in by whoever builds the service.
 */
import type { Block } from '../chain/block.js';
import type { ChainState } from '../chain/state.js';
import type { ProbabilityTree } from '../tree/tree.js';
import type { Logger } from '../runtime/logger.js';
import type { OperatorStore } from './store.js';
import type { BlockSink } from './types.js';

/** A block just written, with the state it follows. */
export interface WrittenBlock {
  readonly height: number;
  readonly block: Block;
  readonly prev: ChainState;
  /** The tree of `prev`: only valid during `PublishPolicy.written` (the committed view moves on right after). */
  readonly prevTree: ProbabilityTree;
}

/** One block to publish; `raw` skips the node's own validator (fault injection only). */
export interface Outgoing {
  readonly bytes: Uint8Array;
  readonly raw: boolean;
}

export interface PublishPolicy {
  /**
   * Called once per written block, in height order, before the committed view moves on. Returns what to publish
   * at that height, asked for only if the block goes out in turn (not when the node is caught up from the store).
   */
  written(w: WrittenBlock): () => readonly Outgoing[];
  /** Whether stored blocks republished while catching up skip the node's validator. */
  readonly raw: boolean;
}

/** The production policy: every block is published as it is, through the node's validator. */
export const honestPublishing: PublishPolicy = {
  written: (w) => () => [{ bytes: w.block.bytes, raw: false }],
  raw: false,
};

const PUBLISH_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number, msg: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(msg)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class BlockPublisher {
  private chain: Promise<void> = Promise.resolve();
  /** Highest height the sink took. */
  publishedHeight = 0;
  /** A publish failed (or was held back before start): the next tick catches up from the store. */
  behind = false;

  constructor(
    private readonly o: {
      readonly chainId: Uint8Array;
      readonly sink: BlockSink;
      readonly store: OperatorStore;
      readonly log: Logger;
      readonly policy: PublishPolicy;
      /** Set once the service failed: nothing more is published. */
      readonly failed: () => boolean;
    },
  ) {}

  /** Runs `f` after everything queued before it; the returned promise carries its outcome. */
  queue(f: () => Promise<void>): Promise<void> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Queues publishing the stored blocks the sink has not had, up to `height()` when it runs. */
  catchUp(height: () => number): void {
    this.chain = this.chain.then(() => this.publishThrough(height())).catch(() => undefined);
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Publishes a block just written at `height`: the policy's list if it is next in turn, else via the store. */
  async publishWritten(height: number, outgoing: () => readonly Outgoing[]): Promise<void> {
    if (this.publishedHeight === height - 1) await this.publishList(height, outgoing());
    else await this.publishThrough(height);
  }

  /** Publishes stored blocks the sink has not had yet, in order, up to `height`. */
  private async publishThrough(height: number): Promise<void> {
    while (this.publishedHeight < height && !this.o.failed()) {
      const h = this.publishedHeight + 1;
      const bytes = await this.o.store.block(h);
      if (!bytes) throw new Error(`block ${h} missing from the store`);
      if (!(await this.publishList(h, [{ bytes, raw: this.o.policy.raw }]))) return;
    }
  }

  private async publishList(height: number, list: readonly Outgoing[]): Promise<boolean> {
    try {
      for (const { bytes, raw } of list) {
        const v = await withTimeout(
          this.o.sink.publishBlock(this.o.chainId, bytes, { raw }),
          PUBLISH_TIMEOUT_MS,
          'the node did not take the block in time',
        );
        if (v && v.result === 'reject')
          this.o.log.error({ height, code: v.code }, "the node's validator rejected this operator's block");
      }
    } catch (e) {
      this.behind = true;
      this.o.log.warn({ height, err: (e as Error).message }, 'publishing the block failed; will retry');
      return false;
    }
    this.publishedHeight = height;
    this.behind = false;
    await this.o.store.putPublished(height).catch(() => undefined);
    return true;
  }
}
