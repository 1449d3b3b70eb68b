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
 * What it trusts (see the README): with `proven` (src/evm/proven.ts), a commit is counted or judged only once its
 * header hash is proven by eth_getProof in the state of the confirmed block, whose hash the endpoints agree on
 * (src/evm/endpoints.ts: a quorum of `--evm-rpc` endpoints, or one endpoint's word); a `Committed` log the state
 * does not hold is refused (`rejected`, counted) and never counted. Without it, the one endpoint's answers. Logs
 * are still how commits are found: an endpoint can hide one (it is then not counted), not invent one. When the
 * endpoint stops answering the node keeps validating gossip; anchoring is reported stale (`status().stale`,
 * metric `sortition_evm_anchor_stale`) and catches up from the last scanned block when the endpoint is back.
 *
 * Reorgs: the hashes of scanned blocks are kept (ScannedBlocks); each poll compares the newest one at or below the
 * confirmed block with the endpoint's, and when it changed finds the newest one still on the chain and scans again
 * from there: commits read above it are forgotten, counted ones un-counted (the anchored height goes down) and the
 * commits that replaced them judged. A head far past the last one is read twice (the lower taken, a block must be
 * there); a scanned height above the confirmed head is stale.
 */
import { Gauge, type Registry } from 'prom-client';
import { BaseError, BlockNotFoundError, ContractFunctionZeroDataError, type Hex } from 'viem';
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
import { ProofError } from './proof.js';
import type { EvmAnchor } from './node-anchor.js';
import type { AgreedBlock, HashBasis } from './endpoints.js';
import type { ProvenAnchor } from './proven.js';

/** How long a commit may stay unseen on gossip (while the head stalls) before commit-unseen, by default. */
export const DEFAULT_UNSEEN_GRACE_MS = 60_000;
/** Data requests filed per chain per committed height for watched contracts, by default. */
export const DEFAULT_DATA_REQUESTS = 4;
/** Scanned block hashes kept: the newest RECENT_BLOCKS, and below them one checkpoint per RECENT_BLOCKS blocks. */
export const RECENT_BLOCKS = 1024;
/** Checkpoints kept below the recent blocks (a reorg below the oldest one rescans from block 0). */
const CHECKPOINTS = 256;
/** Counted commits kept per chain to un-count them in a reorg; older ones form a floor (below it: full rescan). */
const COUNTED = 64;
/** A head this many blocks past the last one read (or the first head read) is read again before it is trusted. */
export const DEFAULT_HEAD_JUMP = 64n;

/** The validator as the watcher sees it; a ValidatorNode is one (src/app wires them). */
export interface AnchoredValidator {
  /** Which chains it tracks, and how far. */
  readonly tracker: Pick<Tracker, 'trackedIds' | 'genesisOf' | 'state' | 'view'>;
  /** Evidence the validator verified, to be submitted to the anchor. */
  onEvidence(f: (ev: VerifiedEvidence) => void): void;
  /** The stored header of a chain at a height, if the validator has it. */
  headerAt(chainId: Uint8Array, height: number): Promise<SignedHeader | undefined>;
  /** The anchor holds this header: the chain is final up to it. */
  markAnchored(chainId: Uint8Array, height: number): void;
  /** The anchor's commits above `height` left the EVM chain (a reorg): the anchored height goes down to it. */
  unanchorAbove(chainId: Uint8Array, height: number): void;
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
  /** A head further than this past the last one read is confirmed by a second read first (DEFAULT_HEAD_JUMP). */
  readonly headJump?: bigint;
  /** Proven reads against agreed block hashes; without it commits are taken from the one endpoint's logs and calls. */
  readonly proven?: ProvenAnchor;
}

/** How the watcher's figures were verified (GET /v1/status and /v1/anchor). */
export interface VerificationStatus {
  /** `proven`: counted commits and committed heights are eth_getProof-proven; `trusted`: the endpoint's word. */
  readonly commits: 'proven' | 'trusted';
  /** How the block hashes proofs are checked against were taken: `quorum` (k >= 2 endpoints) or `trusted`. */
  readonly blockHashes: HashBasis;
  readonly endpoints: number;
  readonly quorum: number;
  readonly checkpoint: { readonly number: number; readonly hash: string } | null;
  /** The confirmed block the last proofs were checked against. */
  readonly provenAt: {
    readonly number: number;
    readonly hash: string;
    readonly agreeing: number;
    readonly of: number;
  } | null;
  /** Answers of endpoints against the agreed view, by `endpoint/code`. */
  readonly disagreements: Readonly<Record<string, number>>;
  /** Proven reads by `what/result/code`. */
  readonly provenReads: Readonly<Record<string, number>>;
  /** Committed logs the proven state does not hold (never counted). */
  readonly rejectedCommits: number;
}

/** A `Committed` log whose commit the proven state does not hold: an endpoint invented it (or a reorg took it). */
export interface RejectedCommit {
  readonly chainId: string;
  readonly height: number;
  /** The header hash the log named. */
  readonly logged: string;
  /** What the proven state holds at that height (null: nothing). */
  readonly proven: string | null;
  readonly block: number;
  readonly code: 'COMMIT_NOT_IN_STATE';
}

export interface WatcherStatus {
  readonly evmHead: number | null;
  readonly scannedTo: number;
  readonly lastOkMs: number | null;
  readonly lastError: string | null;
  /** No answer for three poll intervals, or the scanned height is above the endpoint's confirmed head. */
  readonly stale: boolean;
  /** Reorgs seen below the scanned height (commits above the fork point were un-counted and judged again). */
  readonly reorgs: number;
  /** Head answers not trusted: a jump a second read did not confirm, or a head below the last one. */
  readonly headDisagreements: number;
  readonly verification: VerificationStatus;
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
  /** The EVM block holding it. */
  readonly block: bigint;
}

/** A commit this node counted (its header matched): un-counted if its block leaves the EVM chain. */
interface Counted {
  readonly height: number;
  readonly block: bigint;
}

interface ScannedBlock {
  readonly n: bigint;
  readonly hash: Hex;
}

/**
 * The hashes of scanned blocks, ascending: the newest RECENT_BLOCKS ends of scanned ranges, and sparse checkpoints
 * below them. A reorg's fork point is found among them; one below the oldest means a rescan from block 0.
 */
class ScannedBlocks {
  private checkpoints: ScannedBlock[] = [];
  private recent: ScannedBlock[] = [];

  add(n: bigint, hash: Hex): void {
    this.recent.push({ n, hash });
    if (this.recent.length <= RECENT_BLOCKS) return;
    const old = this.recent.shift()!;
    const last = this.checkpoints.at(-1);
    if (!last || old.n - last.n >= BigInt(RECENT_BLOCKS)) this.checkpoints.push(old);
    if (this.checkpoints.length > CHECKPOINTS) this.checkpoints.shift();
  }

  /** Those at or below `n`, ascending. */
  upTo(n: bigint): ScannedBlock[] {
    return [...this.checkpoints, ...this.recent].filter((b) => b.n <= n);
  }

  /** Forgets those above `n`. */
  truncate(n: bigint): void {
    this.checkpoints = this.checkpoints.filter((b) => b.n <= n);
    this.recent = this.recent.filter((b) => b.n <= n);
  }
}

export class AnchorWatcher {
  private scanned = -1n;
  private evmHead: bigint | null = null;
  private lastOk: number | null = null;
  private lastError: string | null = null;
  /** Commits above what this node has seen of the chain yet, by chain: judged when its blocks arrive. */
  private readonly pending = new Map<string, PendingCommit[]>();
  readonly mismatches: Mismatch[] = [];
  /** Logged commits the proven state does not hold, newest last (bounded). */
  readonly rejected: RejectedCommit[] = [];
  private rejectedCount = 0;
  /** The agreed confirmed block of the last poll, what proofs are checked against. */
  private provenAt: AgreedBlock | null = null;
  private readonly reported = new Set<string>();
  /** Commit mismatches judged (`chain/height`) -> the EVM block of the commit: judged again if it leaves the chain. */
  private readonly mismatchAt = new Map<string, bigint>();
  private readonly blocks = new ScannedBlocks();
  /** By chain: the newest commits counted, and the newest one dropped from that list. */
  private readonly counted = new Map<string, { floor: Counted | null; list: Counted[] }>();
  /** Chains whose counted commits a reorg removed: their anchored height is set once the rescan is judged. */
  private readonly recount = new Set<string>();
  /** Anchored heights to check against the contract's committed heights (at start, after a reorg). */
  private reconcile = true;
  /** The last head's confirmed block (head - (confirmations - 1)). */
  private safe: bigint | null = null;
  private reorgs = 0;
  private headDisagreements = 0;
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
    const stale =
      this.lastOk === null ||
      Date.now() - this.lastOk > 3 * this.pollMs ||
      (this.safe !== null && this.scanned > this.safe);
    return {
      evmHead: this.evmHead === null ? null : Number(this.evmHead),
      scannedTo: Number(this.scanned),
      lastOkMs: this.lastOk,
      lastError: this.lastError,
      stale,
      reorgs: this.reorgs,
      headDisagreements: this.headDisagreements,
      verification: this.verification(),
    };
  }

  private verification(): VerificationStatus {
    const p = this.o.proven;
    const cp = p?.endpoints.checkpoint ?? null;
    const at = this.provenAt;
    return {
      commits: p ? 'proven' : 'trusted',
      blockHashes: p?.endpoints.basis ?? 'trusted',
      endpoints: p?.endpoints.size ?? 1,
      quorum: p?.endpoints.quorum ?? 1,
      checkpoint: cp ? { number: Number(cp.number), hash: cp.hash } : null,
      provenAt: at ? { number: Number(at.number), hash: at.hash, agreeing: at.agreeing, of: at.of } : null,
      disagreements: p?.endpoints.disagreements() ?? {},
      provenReads: p?.reads() ?? {},
      rejectedCommits: this.rejectedCount,
    };
  }

  /** The agreed confirmed block of the last poll (proofs of API figures are checked against it), if any. */
  get agreedBlock(): AgreedBlock | null {
    return this.provenAt;
  }

  /** The tracked top-level chains of this anchor. */
  topLevel(): GenesisRecord[] {
    const a = this.o.anchor.anchorId;
    return this.o.node.tracker
      .trackedIds()
      .map((id) => this.o.node.tracker.genesisOf(id)!)
      .filter((g) => bytesEqual(g.genesis.parentChain, a));
  }

  /**
   * One scan: the last scanned block checked (a reorg below it rolls the scan back to the fork point), new
   * confirmed commits, then commits waiting for blocks this node has now seen.
   */
  async poll(): Promise<void> {
    const a = this.o.anchor;
    const head = await this.trustedHead();
    this.evmHead = head;
    this.headGauge?.set(Number(head));
    const safe = head - BigInt(a.confirmations - 1);
    this.safe = safe;
    const mine = new Map(this.topLevel().map((g) => [`0x${toHex(g.chainId)}`, g]));
    await this.checkReorg(safe);
    const at = this.o.proven && safe >= 0n ? await this.o.proven.endpoints.block(safe) : null;
    if (this.o.proven && safe >= 0n && !at)
      throw new Error(`no EVM endpoint has the confirmed block ${safe} below its head`);
    this.provenAt = at;
    while (this.scanned < safe) {
      const from = this.scanned + 1n;
      const to = safe - from > (this.o.maxRange ?? 5000n) ? from + (this.o.maxRange ?? 5000n) : safe;
      // Read before the events: a reorg after this read changes the hash, which the next check sees.
      const toHash = await this.blockHash(to);
      if (!toHash) throw new Error(`the EVM endpoint has no block ${to} below its head ${head}`);
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
          block: e.blockNumber,
        });
        this.pending.set(id, list);
      }
      this.scanned = to;
      this.blocks.add(to, toHash);
      // Ranges scanned in one poll chain up: the end of the last one is checked before the next is read.
      if (this.scanned < safe) await this.checkReorg(safe);
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
        // Judged (counted, or a mismatch slashed) only if the proven state holds it: a log alone proves nothing.
        if (at && !(await this.inState(id, c, at))) continue;
        if (toHex(seen.hash) === c.hash) {
          this.count(id, c);
          this.o.node.markAnchored(g.chainId, c.height);
        } else this.onMismatch(g, c, seen.bytes, toHex(seen.hash));
      }
      this.pending.set(id, keep);
    }
    await this.lowerAnchored(mine, safe);
    await this.checkUnseen(mine);
    await this.guard?.step(head);
    this.lastOk = Date.now();
    this.lastError = null;
  }

  /**
   * Whether the proven state of `at` holds the logged commit `c`; a log it does not hold is rejected and counted.
   * @throws ProofError when no endpoint's proof verifies (the poll fails; the commit stays pending)
   */
  private async inState(id: string, c: PendingCommit, at: AgreedBlock): Promise<boolean> {
    const proven = await this.o.proven!.commit(id as Hex, c.height, at);
    if (proven !== null && proven.slice(2).toLowerCase() === c.hash) return true;
    // A reorg since `at` was read can have brought the log: then the poll fails and the commit is judged again
    // against the new block, rather than dropped.
    if ((await this.o.proven!.endpoints.block(at.number))?.hash !== at.hash)
      throw new Error(`EVM block ${at.number} changed while commits were judged; judging again`);
    const r: RejectedCommit = {
      chainId: id.slice(2),
      height: c.height,
      logged: c.hash,
      proven: proven?.slice(2) ?? null,
      block: Number(c.block),
      code: 'COMMIT_NOT_IN_STATE',
    };
    this.rejectedCount++;
    this.rejected.push(r);
    if (this.rejected.length > 64) this.rejected.shift();
    this.o.log.warn(
      { ...r, at: at.number.toString() },
      'a Committed log the proven anchor state does not hold: not counted (the EVM endpoint lied, or a reorg took it)',
    );
    return false;
  }

  /**
   * The endpoint's head, trusted only as far as it is consistent: a head far past the last one (or the first one
   * read) is read again and the lower answer taken, and a block must exist there; a head below the last one is
   * taken (nothing is scanned past it, and the anchor is stale while the scanned height is above it).
   */
  private async trustedHead(): Promise<bigint> {
    const pub = this.o.anchor.pub;
    const ends = this.o.proven?.endpoints;
    // Several endpoints: the head k of them reached, which no fewer than k can move (a block must be there too).
    if (ends && ends.size > 1) {
      const head = await ends.head();
      if (!(await this.blockHash(head)))
        throw new Error(`the EVM endpoints name head ${head} but no quorum has a block there`);
      return head;
    }
    const first = await pub.getBlockNumber({ cacheTime: 0 });
    const prev = this.evmHead;
    const bound = this.o.headJump ?? DEFAULT_HEAD_JUMP;
    if (prev !== null && first < prev) {
      this.headDisagreements++;
      this.o.log.warn({ head: first.toString(), last: prev.toString() }, 'the EVM head went backwards');
      return first;
    }
    if (prev !== null && first - prev <= bound) return first;
    const second = await pub.getBlockNumber({ cacheTime: 0 });
    const head = second < first ? second : first;
    if (second < first) {
      this.headDisagreements++;
      this.o.log.warn(
        { claimed: first.toString(), again: second.toString(), last: prev?.toString() ?? null },
        'the EVM endpoint named a head a second read does not confirm: the lower one is used',
      );
    }
    if (!(await this.blockHash(head)))
      throw new Error(`the EVM endpoint names head ${head} but has no block there`);
    return head;
  }

  /** The hash of EVM block `n`, or null when the endpoint has no such block. */
  private async blockHash(n: bigint): Promise<Hex | null> {
    if (this.o.proven) return (await this.o.proven.endpoints.block(n))?.hash ?? null;
    try {
      return (await this.o.anchor.pub.getBlock({ blockNumber: n })).hash;
    } catch (e) {
      if (e instanceof BlockNotFoundError) return null;
      throw e;
    }
  }

  /**
   * Compares the newest scanned block at or below `safe` with the endpoint's block there. When it changed, a
   * binary search over the remembered blocks finds the newest one still on the chain (those below a block still on
   * it are too), and the scan rolls back to it: the fork lies above it.
   */
  private async checkReorg(safe: bigint): Promise<void> {
    const known = this.blocks.upTo(safe < this.scanned ? safe : this.scanned);
    const top = known.at(-1);
    if (!top) return;
    const now = await this.blockHash(top.n);
    if (now === null) throw new Error(`the EVM endpoint has no block ${top.n} below its head`);
    if (now === top.hash) return;
    let good = -1;
    for (let lo = 0, hi = known.length - 2; lo <= hi;) {
      const mid = (lo + hi) >> 1;
      if ((await this.blockHash(known[mid].n)) === known[mid].hash) {
        good = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    this.rollback(good < 0 ? -1n : known[good].n, top.n);
  }

  /**
   * A reorg replaced the blocks above `base`: what was read from them is forgotten (pending commits, counted
   * commits, judged mismatches) and they are scanned again. Chains that lost counted commits have their anchored
   * height set once the rescan is judged.
   */
  private rollback(base: bigint, changed: bigint): void {
    for (const c of this.counted.values()) if (c.floor && c.floor.block > base) base = -1n;
    this.reorgs++;
    this.o.log.warn(
      { changed: changed.toString(), forkBelow: (base + 1n).toString(), scannedTo: this.scanned.toString() },
      'EVM reorg below the scanned height: rescanning the anchor from the fork point',
    );
    this.scanned = base;
    this.blocks.truncate(base);
    for (const [id, list] of this.pending)
      this.pending.set(
        id,
        list.filter((c) => c.block <= base),
      );
    for (const [id, c] of this.counted) {
      const list = c.list.filter((x) => x.block <= base);
      if (list.length === c.list.length && (c.floor === null || c.floor.block <= base)) continue;
      this.counted.set(id, { floor: c.floor && c.floor.block <= base ? c.floor : null, list });
      this.recount.add(id);
    }
    for (const [key, block] of this.mismatchAt) {
      if (block <= base) continue;
      this.mismatchAt.delete(key);
      this.reported.delete(key);
      const i = this.mismatches.findIndex((m) => `${m.chainId}/${m.height}` === key);
      if (i >= 0) this.mismatches.splice(i, 1);
    }
    this.reconcile = true;
  }

  private count(id: string, c: PendingCommit): void {
    const e = this.counted.get(id) ?? { floor: null, list: [] };
    e.list.push({ height: c.height, block: c.block });
    if (e.list.length > COUNTED) e.floor = e.list.shift()!;
    this.counted.set(id, e);
  }

  /**
   * After a reorg the anchored height of a chain that lost counted commits is what remains counted; and at start
   * and after a reorg no anchored height stays above the contract's committed height at the confirmed block.
   */
  private async lowerAnchored(mine: ReadonlyMap<string, GenesisRecord>, safe: bigint): Promise<void> {
    for (const id of this.recount) {
      const g = mine.get(id);
      const c = this.counted.get(id);
      if (!g || !c) continue;
      const top = Math.max(c.floor?.height ?? 0, ...c.list.map((x) => x.height));
      this.o.node.unanchorAbove(g.chainId, top);
      this.o.log.warn({ chain: id.slice(2), anchored: top }, 'anchored height after the EVM reorg');
    }
    this.recount.clear();
    if (!this.reconcile || safe < 0n) return;
    const a = this.o.anchor;
    for (const g of mine.values()) {
      const anchored = this.o.node.tracker.view(g.chainId)?.anchoredHeight;
      if (!anchored) continue;
      const committed = this.provenAt
        ? await this.provenCommitted(g.chainId, this.provenAt)
        : await a.pub
            .readContract({
              address: a.address,
              abi: ANCHOR_ABI,
              functionName: 'chains',
              args: [`0x${toHex(g.chainId)}`],
              blockNumber: safe,
            })
            .then(
              (c) => Number(c[8]),
              (e: unknown) => {
                // No contract at that block yet: nothing was committed there.
                if (e instanceof BaseError && e.walk((x) => x instanceof ContractFunctionZeroDataError))
                  return 0;
                throw e;
              },
            );
      if (anchored > committed) {
        this.o.log.warn(
          { chain: toHex(g.chainId), anchored, committed },
          "the anchored height was above the EVM anchor's committed height: lowered",
        );
        this.o.node.unanchorAbove(g.chainId, committed);
      }
    }
    this.reconcile = false;
  }

  /** The committed height of a chain in the proven state of `at` (0: no contract or no registration there). */
  private async provenCommitted(chainId: Uint8Array, at: AgreedBlock): Promise<number> {
    try {
      return (await this.o.proven!.chain(`0x${toHex(chainId)}`, at)).height;
    } catch (e) {
      if (e instanceof ProofError && e.code === 'NO_CONTRACT') return 0;
      throw e;
    }
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
    this.mismatchAt.set(key, c.block);
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
