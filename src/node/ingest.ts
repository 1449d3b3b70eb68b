/**
 * Block and evidence intake: every block (from gossip, sync or the local operator) is judged here, one at a time,
 * and what follows is applied: persistence, metrics, watched paths, evidence, discovered chains, a sync request
 * when the block is ahead. Returns the verdict; it never throws to say no.
 */
import type { PeerId } from '@libp2p/interface';
import { toHex } from '../codec/bytes.js';
import { codeLabel } from '../codec/verdict.js';
import type { VerifiedEvidence } from '../chain/evidence.js';
import type { Tx } from '../chain/tx.js';
import type { BlockOutcome, Tracker, Verdict } from '../light/tracker.js';
import type { Logger } from '../runtime/logger.js';
import { judgeCpuSeconds, type NodeMetrics } from './metrics.js';
import type { ChainMeta, NodeStore } from './store.js';

export type BlockSource = 'gossip' | 'sync' | 'local';

export type EvidenceSource = 'found' | 'gossip' | 'api' | 'sync';

/**
 * What decides a block's verdict and applies it to the tracker. The node's is `judgeBlock` (full validation); the
 * benchmark's baselines (src/light/baseline.ts) are injected in its place by the app layer.
 */
export type BlockJudge = (
  tracker: Tracker,
  chainId: Uint8Array,
  bytes: Uint8Array,
  source: BlockSource,
) => BlockOutcome;

export const judgeBlock: BlockJudge = (tracker, chainId, bytes) => tracker.onBlock(chainId, bytes);

/** What the store keeps of a tracked chain, read off the tracker (undefined for an untracked chain). */
export function metaOf(tracker: Tracker, chainId: Uint8Array): ChainMeta | undefined {
  const v = tracker.view(chainId);
  const s = tracker.state(chainId);
  if (!v || !s) return undefined;
  const meta = { height: s.height, anchoredHeight: v.anchoredHeight, faulty: v.faulty };
  return v.holds.size ? { ...meta, holds: Object.fromEntries(v.holds) } : meta;
}

/** Sets a chain's height, anchored height and faulty gauges from the tracker. */
export function observeChain(metrics: NodeMetrics, tracker: Tracker, chainId: Uint8Array): void {
  const label = metrics.chain(toHex(chainId));
  if (label === undefined) return;
  const v = tracker.view(chainId);
  metrics.height.set({ chain: label }, tracker.state(chainId)?.height ?? 0);
  metrics.anchoredHeight.set({ chain: label }, v?.anchoredHeight ?? 0);
  metrics.faulty.set({ chain: label }, v?.faulty ? 1 : 0);
}

export interface IngestOptions {
  readonly tracker: Tracker;
  readonly store: NodeStore;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly judge?: BlockJudge;
  /** An accepted block's transactions, for watched paths. */
  readonly onAccepted: (
    chainId: Uint8Array,
    height: number,
    txBytes: readonly Uint8Array[],
    txs?: readonly Tx[],
  ) => void;
  /** New evidence, after it was stored and published. */
  readonly onEvidence: (ev: VerifiedEvidence) => void;
  /** Publishes evidence on the evidence topic. */
  readonly publishEvidence: (bytes: Uint8Array) => Promise<unknown>;
  /** A block arrived ahead of the head: `from` has at least `height`, or (unknown sender) sync should run. */
  readonly behind: (chainId: Uint8Array, from?: PeerId, height?: number) => void;
}

export class Ingest {
  /** Serialises block ingestion. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Block writes, in the order blocks were applied. The gossip verdict does not wait for them, so relaying never
   * waits on the disk; a block lost to a crash before its write is fetched again by backfill.
   */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly judge: BlockJudge;

  constructor(private readonly o: IngestOptions) {
    this.judge = o.judge ?? judgeBlock;
  }

  /** Judges one block and applies what follows: persistence, evidence, discovered chains, sync. */
  block(chainId: Uint8Array, bytes: Uint8Array, source: BlockSource, from?: PeerId): Promise<Verdict> {
    const seen = performance.now();
    return this.serialized(() => this.blockNow(chainId, bytes, source, from, seen));
  }

  /** Runs `f` in the block ingestion order, so no block is applied while it runs. */
  serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Queues a store write behind the earlier ones. */
  write(f: () => Promise<void>): void {
    this.writes = this.writes
      .then(f)
      .catch((e: unknown) => this.o.log.error({ err: e }, 'store write failed'));
  }

  /** Resolves once every write queued so far is done. */
  written(): Promise<unknown> {
    return this.writes;
  }

  /** Resolves once the blocks queued so far are ingested and their writes done. */
  async drain(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.writes;
  }

  /** Persists a chain's meta as the tracker has it now, and exports it. */
  saveMeta(chainId: Uint8Array): void {
    const meta = metaOf(this.o.tracker, chainId);
    if (meta) this.write(() => this.o.store.putMeta(chainId, meta));
    this.observe(chainId);
  }

  observe(chainId: Uint8Array): void {
    observeChain(this.o.metrics, this.o.tracker, chainId);
  }

  private async blockNow(
    chainId: Uint8Array,
    bytes: Uint8Array,
    source: BlockSource,
    from: PeerId | undefined,
    seen: number,
  ): Promise<Verdict> {
    const { tracker, store, metrics, log } = this.o;
    const start = performance.now();
    const cpu0 = judgeCpuSeconds();
    const out = this.judge(tracker, chainId, bytes, source);
    const done = performance.now();
    metrics.judgeCpuSeconds.observe({ source }, judgeCpuSeconds() - cpu0);
    metrics.validationSeconds.observe({ source }, (done - start) / 1000);
    metrics.queueWaitSeconds.observe({ source }, (start - seen) / 1000);
    metrics.delaySeconds.observe({ source }, (done - seen) / 1000);
    const label = metrics.chainOrOther(toHex(chainId));
    metrics.blocks.inc({ chain: label, result: out.verdict.result, code: codeLabel(out.verdict), source });
    if (out.accepted) {
      const meta = metaOf(tracker, chainId)!;
      const signed = out.accepted.block.signed;
      const acted = (out.accepted.txs ?? []).flatMap((tx) =>
        tx.kind === 'owner' ? [tx.signed.action.contractHash] : [],
      );
      this.write(() => store.putBlock(chainId, meta.height, bytes, signed, meta, acted));
      // Gossip, backfill and local blocks all pass here: watched paths follow every accepted block.
      this.o.onAccepted(chainId, meta.height, out.accepted.block.txs, out.accepted.txs);
      log.debug({ chain: label, height: meta.height, source }, 'block accepted');
    } else if (out.verdict.result === 'reject') {
      log.info({ chain: label, code: out.verdict.code, source }, 'block rejected');
    }
    for (const g of out.discovered) await store.putGenesis(g);
    for (const id of out.anchored) this.saveMeta(id);
    for (const ev of out.evidence) await this.newEvidence(ev, 'found');
    this.observe(chainId);
    if (out.behind) this.o.behind(chainId, from, out.aheadHeight);
    return out.verdict;
  }

  /** Judges evidence from gossip, sync or the API; new valid evidence is stored, logged and relayed. */
  async evidence(bytes: Uint8Array, source: 'gossip' | 'api' | 'sync'): Promise<Verdict> {
    const r = this.o.tracker.onEvidence(bytes);
    if (r.isNew && r.evidence) await this.newEvidence(r.evidence, source);
    return r.verdict;
  }

  private async newEvidence(ev: VerifiedEvidence, source: EvidenceSource): Promise<void> {
    await this.o.store.putEvidence(ev.id, ev.bytes);
    this.saveMeta(ev.chainId);
    this.o.metrics.evidence.inc({ kind: ev.kind, source });
    this.o.log.warn(
      { kind: ev.kind, chain: toHex(ev.chainId), height: ev.height, id: toHex(ev.id), source },
      'double-spend evidence',
    );
    // Evidence found here or handed in is published once; gossip relays what arrived by gossip.
    if (source === 'found' || source === 'api') await this.o.publishEvidence(ev.bytes).catch(() => 0);
    this.o.onEvidence(ev);
  }
}
