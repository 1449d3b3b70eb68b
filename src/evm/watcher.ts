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
 * A commit above what the node has seen of the chain waits for its blocks. If it stays unseen past a grace while
 * the node's head on the chain stalls (`unseenGraceMs`; a node still catching up waits up to ten graces), the
 * committed state is one the node cannot check and may hide the contracts it watches: commit-unseen is raised, once
 * until the node catches up, and the data guard (data-guard.ts) demands the watched contracts' paths on chain.
 * Commit mismatches raise commit-mismatch. Alerts go to the validator's Alerter (`alerts`).
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
import { watchIds, type AnchorAlert, type AnchorAlerts, type WatchedContracts } from './alerts.js';
import { ANCHOR_ABI } from './anchor.js';
import { DataGuard, type OwnRequestJson } from './data-guard.js';
import type { EvmAnchor } from './node-anchor.js';

/** How long a commit may stay unseen on gossip (while the head stalls) before commit-unseen, by default. */
export const DEFAULT_UNSEEN_GRACE_MS = 60_000;
/** Data requests filed per chain per committed height for watched contracts, by default. */
export const DEFAULT_DATA_REQUESTS = 4;

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
  /** Where alerts go (the validator's Alerter); without it they are logged only. */
  readonly alerts?: AnchorAlerts;
  /** The validator's watches: paths published on chain are compared with them, data requests filed for them. */
  readonly watches?: WatchedContracts;
  /** How long a commit above the node's head may stay unseen while the head stalls (DEFAULT_UNSEEN_GRACE_MS). */
  readonly unseenGraceMs?: number;
  /** With an EVM key: data requests filed per chain per unseen committed height (DEFAULT_DATA_REQUESTS; 0: none). */
  readonly dataRequests?: number;
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
  /** When this node first read it (ms). */
  readonly readAt: number;
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
  /** Chain -> the node's height on it and when that last changed: a head that moves is catching up. */
  private readonly progress = new Map<string, { height: number; at: number }>();
  /** Chains alerted commit-unseen, until the node catches up with their commits. */
  private readonly unseenAlerted = new Set<string>();
  private readonly guard: DataGuard | null;

  constructor(private readonly o: WatcherOptions) {
    this.guard = o.watches
      ? new DataGuard({
          anchor: o.anchor,
          watches: o.watches,
          alerts: o.alerts,
          log: o.log,
          registry: o.registry,
          maxPerCommit: o.dataRequests ?? DEFAULT_DATA_REQUESTS,
        })
      : null;
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
    await this.settled();
  }

  /** This node's data requests for watched contracts (GET /v1/anchor). */
  dataRequests(): OwnRequestJson[] {
    return this.guard?.requests() ?? [];
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
      await this.guard?.scan(from, to, mine);
      for (const e of events) {
        const id = e.args.chainId!.toLowerCase();
        if (!mine.has(id)) continue;
        const list = this.pending.get(id) ?? [];
        // Bounded: only the newest commits matter for the anchored height; older ones are covered by them.
        if (list.length >= 256) list.shift();
        list.push({
          height: Number(e.args.height),
          hash: e.args.headerHash!.slice(2).toLowerCase(),
          readAt: Date.now(),
        });
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
    await this.checkUnseen(mine);
    await this.guard?.step(head);
    this.lastOk = Date.now();
    this.lastError = null;
  }

  private get graceMs(): number {
    return this.o.unseenGraceMs ?? DEFAULT_UNSEEN_GRACE_MS;
  }

  /** Commits above the node's head past the grace: commit-unseen, and data requests for the watched contracts. */
  private async checkUnseen(mine: ReadonlyMap<string, GenesisRecord>): Promise<void> {
    const now = Date.now();
    const grace = this.graceMs;
    for (const id of this.progress.keys()) if (!mine.has(id)) this.progress.delete(id);
    for (const id of this.unseenAlerted) if (!mine.has(id)) this.unseenAlerted.delete(id);
    for (const [id, g] of mine) {
      const height = this.o.node.tracker.state(g.chainId)?.height ?? 0;
      const p = this.progress.get(id);
      if (!p || p.height !== height) this.progress.set(id, { height, at: now });
      // After the judging above, what is pending lies above the node's head.
      const above = this.pending.get(id) ?? [];
      if (above.length === 0) {
        this.unseenAlerted.delete(id);
        continue;
      }
      const stalled = now - this.progress.get(id)!.at >= grace;
      const overdue = above.filter(
        (c) => now - c.readAt >= grace && (stalled || now - c.readAt >= 10 * grace),
      );
      const top = overdue.at(-1);
      if (!top) continue;
      if (!this.unseenAlerted.has(id)) {
        this.unseenAlerted.add(id);
        const a: AnchorAlert = {
          kind: 'commit-unseen',
          chainId: toHex(g.chainId),
          height: top.height,
          committed: top.hash,
          seenHeight: height,
          watches: watchIds(this.o.watches, g.chainId),
        };
        this.o.log.warn(
          { chain: a.chainId, height: a.height, committed: a.committed, seenHeight: height },
          'the EVM anchor holds a commit this node never saw on gossip: a state it cannot check',
        );
        this.o.alerts?.raise(a);
      }
      await this.guard?.unseen(g, top.height);
    }
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
    this.o.alerts?.raise({
      kind: 'commit-mismatch',
      chainId: m.chainId,
      height: c.height,
      committed: c.hash,
      seen,
      watches: watchIds(this.o.watches, g.chainId),
    });
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

  /** Resolves once every submission and data request transaction queued so far has ended. */
  async settled(): Promise<void> {
    await this.submissions.catch(() => undefined);
    await this.guard?.settled();
  }
}
