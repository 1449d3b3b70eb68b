/**
 * A node following the EVM anchor read-only: it polls the contract's `Committed` events up to the block
 * `confirmations - 1` below the EVM head, and for each tracked top-level chain of this anchor compares the
 * committed header hash with the header it accepted from gossip at that height:
 *
 * - equal: the chain is anchored up to that height (the validator's anchored height, persisted, exported);
 * - different: commit mismatch, an operator-signed header at a committed height that is not the commit. The
 *   chain is reported (`mismatches`), and a node with an EVM key submits `slashCommitMismatch` once.
 *
 * With a key it also submits equivocation evidence the node finds or receives (`slashEquivocation`), once per
 * chain: the contract slashes a chain at most once, and a slashed chain is not sent again.
 *
 * What it trusts: its RPC endpoint's answers (see the README). When the endpoint stops answering the node keeps
 * validating gossip; anchoring is reported stale (`status().stale`, metric `sortition_evm_anchor_stale`) and
 * catches up from the last scanned block when the endpoint is back.
 */
import { Gauge, type Registry } from 'prom-client';
import { bytesEqual } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import type { GenesisRecord } from '../chain/genesis.js';
import type { VerifiedEvidence } from '../chain/evidence.js';
import type { SignedHeader } from '../chain/header.js';
import type { Tracker } from '../light/tracker.js';
import { sleep } from '../runtime/http-client.js';
import type { Logger } from '../runtime/logger.js';
import { ANCHOR_ABI } from './anchor.js';
import type { EvmAnchor } from './node-anchor.js';

/** The validator as the watcher sees it; a ValidatorNode is one (src/app wires them). */
export interface AnchoredValidator {
  /** Which chains it tracks, and how far. */
  readonly tracker: Pick<Tracker, 'trackedIds' | 'genesisOf' | 'state'>;
  /** Evidence the validator verified, to be submitted to the anchor. */
  onEvidence(f: (ev: VerifiedEvidence) => void): void;
  /** The stored header of a chain at a height, if the validator has it. */
  headerAt(chainId: Uint8Array, height: number): Promise<SignedHeader | undefined>;
  /** The anchor holds this header: the chain is final up to it. */
  markAnchored(chainId: Uint8Array, height: number): void;
}

export interface WatcherOptions {
  readonly anchor: EvmAnchor;
  readonly node: AnchoredValidator;
  readonly log: Logger;
  readonly pollMs?: number;
  readonly registry?: Registry;
  /** Events read per getLogs call (RPC providers cap the range). */
  readonly maxRange?: bigint;
}

export interface WatcherStatus {
  readonly evmHead: number | null;
  readonly scannedTo: number;
  readonly lastOkMs: number | null;
  readonly lastError: string | null;
  readonly stale: boolean;
}

export interface Mismatch {
  readonly chainId: string;
  readonly height: number;
  readonly committed: string;
  readonly seen: string;
  readonly submitted: boolean;
}

interface PendingCommit {
  readonly height: number;
  readonly hash: string;
}

export class AnchorWatcher {
  private scanned = -1n;
  private evmHead: bigint | null = null;
  private lastOk: number | null = null;
  private lastError: string | null = null;
  /** Commits above what this node has seen of the chain yet, by chain: judged when its blocks arrive. */
  private readonly pending = new Map<string, PendingCommit[]>();
  readonly mismatches: Mismatch[] = [];
  private readonly reported = new Set<string>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly staleGauge: Gauge | null;
  private readonly headGauge: Gauge | null;
  private submissions: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: WatcherOptions) {
    this.staleGauge = o.registry
      ? new Gauge({
          name: 'sortition_evm_anchor_stale',
          help: '1 while the EVM RPC endpoint has not answered for three poll intervals (anchoring is stale)',
          registers: [o.registry],
        })
      : null;
    this.headGauge = o.registry
      ? new Gauge({
          name: 'sortition_evm_head_block',
          help: 'Latest EVM block the anchor watcher read',
          registers: [o.registry],
        })
      : null;
    if (o.anchor.evmAddress) o.node.onEvidence((ev) => this.onEvidence(ev));
  }

  private get pollMs(): number {
    return this.o.pollMs ?? 1000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.submissions.catch(() => undefined);
  }

  status(): WatcherStatus {
    const stale = this.lastOk === null || Date.now() - this.lastOk > 3 * this.pollMs;
    return {
      evmHead: this.evmHead === null ? null : Number(this.evmHead),
      scannedTo: Number(this.scanned),
      lastOkMs: this.lastOk,
      lastError: this.lastError,
      stale,
    };
  }

  /** The tracked top-level chains of this anchor. */
  topLevel(): GenesisRecord[] {
    const a = this.o.anchor.anchorId;
    return this.o.node.tracker
      .trackedIds()
      .map((id) => this.o.node.tracker.genesisOf(id)!)
      .filter((g) => bytesEqual(g.genesis.parentChain, a));
  }

  /** One scan: new confirmed commits, then commits waiting for blocks this node has now seen. */
  async poll(): Promise<void> {
    const a = this.o.anchor;
    const head = await a.pub.getBlockNumber({ cacheTime: 0 });
    this.evmHead = head;
    this.headGauge?.set(Number(head));
    const safe = head - BigInt(a.confirmations - 1);
    const mine = new Map(this.topLevel().map((g) => [`0x${toHex(g.chainId)}`, g]));
    while (this.scanned < safe) {
      const from = this.scanned + 1n;
      const to = safe - from > (this.o.maxRange ?? 5000n) ? from + (this.o.maxRange ?? 5000n) : safe;
      const events = await a.pub.getContractEvents({
        address: a.address,
        abi: ANCHOR_ABI,
        eventName: 'Committed',
        fromBlock: from,
        toBlock: to,
      });
      for (const e of events) {
        const id = e.args.chainId!.toLowerCase();
        if (!mine.has(id)) continue;
        const list = this.pending.get(id) ?? [];
        // Bounded: only the newest commits matter for the anchored height; older ones are covered by them.
        if (list.length >= 256) list.shift();
        list.push({ height: Number(e.args.height), hash: e.args.headerHash!.slice(2).toLowerCase() });
        this.pending.set(id, list);
      }
      this.scanned = to;
    }
    for (const [id, list] of this.pending) {
      const g = mine.get(id);
      if (!g) continue;
      const height = this.o.node.tracker.state(g.chainId)?.height ?? 0;
      const keep: PendingCommit[] = [];
      for (const c of list) {
        if (c.height > height) {
          keep.push(c);
          continue;
        }
        const seen = await this.o.node.headerAt(g.chainId, c.height);
        if (!seen) continue;
        if (toHex(seen.hash) === c.hash) this.o.node.markAnchored(g.chainId, c.height);
        else this.onMismatch(g, c, seen.bytes, toHex(seen.hash));
      }
      this.pending.set(id, keep);
    }
    this.lastOk = Date.now();
    this.lastError = null;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await this.poll();
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0];
        if (this.lastError !== msg)
          this.o.log.warn({ err: msg }, 'EVM anchor unreachable; anchoring is stale');
        this.lastError = msg;
      }
      this.staleGauge?.set(this.status().stale ? 1 : 0);
      await sleep(this.pollMs, signal);
    }
  }

  private onMismatch(g: GenesisRecord, c: PendingCommit, signedHeader: Uint8Array, seen: string): void {
    const key = `${toHex(g.chainId)}/${c.height}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const m = { chainId: toHex(g.chainId), height: c.height, committed: c.hash, seen, submitted: false };
    this.mismatches.push(m);
    if (this.mismatches.length > 64) this.mismatches.shift();
    this.o.log.warn(m, 'commit mismatch: the EVM anchor holds another header than the one gossiped');
    if (!this.o.anchor.evmAddress) return;
    this.submit(`commit mismatch of ${m.chainId}@${c.height}`, async () => {
      const wei = await this.o.anchor.reportCommitMismatch(g, signedHeader);
      Object.assign(m, { submitted: true });
      return wei;
    });
  }

  private onEvidence(ev: VerifiedEvidence): void {
    if (ev.kind !== 'equivocation') return;
    const g = this.o.node.tracker.genesisOf(ev.chainId);
    if (!g || !bytesEqual(g.genesis.parentChain, this.o.anchor.anchorId)) return;
    const key = `eq/${toHex(ev.chainId)}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.submit(
      `equivocation of ${toHex(ev.chainId)}@${ev.height}`,
      async () => (await this.o.anchor.recordEvidence(ev.bytes, [g.bytes])).slashed,
    );
  }

  /** Submissions run one after another (they share the evidence journal). */
  private submit(what: string, f: () => Promise<bigint>): void {
    this.submissions = this.submissions
      .then(f)
      .then((wei) =>
        this.o.log.warn({ what, slashedWei: wei.toString() }, 'evidence submitted to the EVM anchor'),
      )
      .catch((e: unknown) => {
        if (!this.abort.signal.aborted)
          this.o.log.error({ what, err: (e as Error).message.split('\n')[0] }, 'submitting evidence failed');
      });
  }

  /** Resolves once every submission queued so far has ended. */
  async settled(): Promise<void> {
    await this.submissions.catch(() => undefined);
  }
}
