/**
 * Which chains the node follows: every chain it was asked to track, once the genesis records from it up to the
 * trusted anchor are known (from config, the store, parents' open-child transactions, or peers, checked by hash).
 * Ancestors start being tracked before their descendants.
 */
import type { PeerId } from '@libp2p/interface';
import { bytesEqual, toHex } from '../codec/bytes.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../chain/genesis.js';
import type { Tracker } from '../light/tracker.js';
import type { Logger } from '../runtime/logger.js';
import type { NodeStore } from './store.js';

export interface AncestryOptions {
  readonly tracker: Tracker;
  readonly store: NodeStore;
  readonly log: Logger;
  /** Chains to follow, with their ancestors. */
  readonly track: readonly Uint8Array[];
  /** The trusted anchor's chain id; every tracked chain must descend from it. */
  readonly anchorId?: Uint8Array;
  /** The anchor has no genesis record (the EVM contract): a chain naming it as parent is top-level. */
  readonly externalAnchor?: boolean;
  readonly peers: () => PeerId[];
  /** Asks a peer for genesis records by chain id (encoded). */
  readonly requestGenesis: (peer: PeerId, chainId: Uint8Array) => Promise<Uint8Array[]>;
  /** A chain the tracker now follows: persist, subscribe, sync. */
  readonly onTracked: (g: GenesisRecord) => Promise<void>;
}

/** Rounds of asking every peer in vain for a parent's genesis before the node says what it may lack. */
const MISSES_BEFORE_WARNING = 3;

export class AncestryResolver {
  private readonly wanted: Uint8Array[];
  private resolving = false;
  /** Chain id (hex) -> rounds in which peers were asked for its genesis and none had it. */
  private readonly misses = new Map<string, number>();
  /** Wanted chains (hex) whose whole line is tracked. */
  private readonly resolved = new Set<string>();

  constructor(private readonly o: AncestryOptions) {
    this.wanted = [...o.track];
  }

  /** The anchor's id when it has no genesis record (the EVM contract), else undefined. */
  get externalAnchorId(): Uint8Array | undefined {
    return this.o.externalAnchor ? this.o.anchorId : undefined;
  }

  /** Adds a chain to follow (resolved on the next `resolve`). */
  want(chainId: Uint8Array): void {
    if (!this.wanted.some((w) => bytesEqual(w, chainId))) this.wanted.push(chainId);
  }

  /** One pass: fetches a missing record per wanted chain, or starts tracking a chain whose ancestry is complete. */
  async resolve(): Promise<void> {
    if (this.resolving) return;
    this.resolving = true;
    const fresh: GenesisRecord[] = [];
    try {
      for (const id of this.wanted) {
        // This pass runs every second: a chain whose whole line is tracked needs nothing more. (Not "is tracked":
        // an operator's own chain is tracked from its first block, before its ancestry is resolved.)
        const key = toHex(id);
        if (this.resolved.has(key)) continue;
        const missing = this.missingAncestor(id);
        if (missing) {
          if (!(await this.fetchGenesis(missing))) this.missed(id, missing);
          continue;
        }
        const external = this.externalAnchorId;
        const chain = this.o.tracker.ancestry(id, external)!;
        const root = chain[chain.length - 1];
        const a = this.o.anchorId;
        if (
          a &&
          !bytesEqual(root.chainId, a) &&
          !(external && bytesEqual(root.genesis.parentChain, external))
        ) {
          this.o.log.error(
            { chain: toHex(id), anchor: toHex(root.chainId) },
            'chain does not descend from the trusted anchor: not tracked',
          );
          continue;
        }
        for (const g of [...chain].reverse()) {
          if (this.o.tracker.isTracked(g.chainId)) continue;
          this.o.tracker.track(g);
          fresh.push(g);
        }
        this.resolved.add(key);
      }
    } finally {
      // Tracking is decided above, in order (ancestors first); what follows from it (store writes, subscribing)
      // runs a few chains at a time: one by one it took ~19 ms a chain, 21 s for 1,000 (issue 28).
      try {
        await inParallel(fresh, TRACK_CONCURRENCY, (g) => this.o.onTracked(g));
      } finally {
        this.resolving = false;
      }
    }
  }

  private missingAncestor(id: Uint8Array): Uint8Array | null {
    let cur: Uint8Array = id;
    for (let i = 0; i < 64; i++) {
      const g = this.o.tracker.genesisOf(cur);
      if (!g) return cur;
      if (isAnchor(g.genesis)) return null;
      // A top-level chain of an anchor without a genesis record (the EVM contract): its ancestry is complete.
      const external = this.externalAnchorId;
      if (external && bytesEqual(g.genesis.parentChain, external)) return null;
      cur = g.genesis.parentChain;
    }
    return null;
  }

  /**
   * A missing ancestor no peer has: a chain registered in the EVM anchor contract names the contract's anchor id as
   * its parent, which has no genesis record anywhere, so a node without --evm-rpc and --anchor-address (a nested
   * chain's operator among them) waits for it for ever and never sees the anchoring. Said once, as a warning.
   */
  private missed(wanted: Uint8Array, missing: Uint8Array): void {
    if (this.o.externalAnchor || this.o.peers().length === 0) return;
    const k = toHex(missing);
    const n = (this.misses.get(k) ?? 0) + 1;
    this.misses.set(k, n);
    if (n !== MISSES_BEFORE_WARNING) return;
    this.o.log.warn(
      { chain: toHex(wanted), missing: k },
      `no peer holds the genesis of chain ${k}, an ancestor of a tracked chain: if it is the EVM anchor ` +
        "contract's anchor id (a chain registered in the contract), pass --evm-rpc and --anchor-address " +
        '(SORTITION_EVM_RPC, SORTITION_ANCHOR_ADDRESS): without them this node cannot follow the chain or see ' +
        'its anchoring',
    );
  }

  /** Asks each peer for the record; true once one answered it. */
  private async fetchGenesis(id: Uint8Array): Promise<boolean> {
    for (const peer of this.o.peers()) {
      try {
        for (const bytes of await this.o.requestGenesis(peer, id)) {
          const rec = decodeGenesis(bytes);
          if (!bytesEqual(rec.chainId, id)) continue;
          this.o.tracker.learn(rec);
          await this.o.store.putGenesis(rec);
          return true;
        }
      } catch (e) {
        this.o.log.debug({ peer: peer.toString(), err: (e as Error).message }, 'genesis request failed');
      }
    }
    return false;
  }
}

/** Chains whose tracking effects (store writes, subscription) run at once. */
const TRACK_CONCURRENCY = 16;

/** Runs `f` over `items`, at most `n` at a time; rejects with the first failure once all have settled. */
async function inParallel<T>(items: readonly T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const x = items[next++];
      await f(x).catch((e: unknown) => errors.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (errors.length) throw errors[0];
}
