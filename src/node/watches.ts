/**
 * Watched contracts on a validator: the runtime around src/light/watch.ts. Every accepted block (gossip, backfill
 * or local) updates the watched paths of its chain from its own transactions, so each stays a membership path
 * against the validator's root without asking the operator. Watches are kept in the validator's store: written
 * when added or ended, checkpointed every `checkpointEvery` blocks and on a clean stop, and brought forward from
 * the stored blocks after a restart. A path a holder brings (to watch or to check) may be older than the head: it is
 * brought forward the same way, from the height whose root it matches (within the last 1024 blocks).
 */
import { CodedError } from '../codec/errors.js';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { sortition } from '../gen/proto.js';
import { bytesEqual, decodeCanonical, encode } from '../codec/canonical.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { decodeBlock } from '../chain/block.js';
import type { VerifiedEvidence } from '../chain/evidence.js';
import { decodeTx, type Tx } from '../chain/tx.js';
import { blockTxs } from '../chain/validate.js';
import { txHash } from '../chain/txroot.js';
import type { Leaf } from '../tree/contract.js';
import { pathFromProto, pathToProto, type Path } from '../tree/path.js';
import { pathRoot } from '../tree/verify.js';
import { followBlock, WatchedPath, type WatchEnd, type WatchOp, type WatchStatus } from '../light/watch.js';
import type { Logger } from '../runtime/logger.js';
import type { Alerter } from './alerts.js';
import type { NodeStore } from './store.js';
import type { Tracker } from '../light/tracker.js';

/** How far back (in blocks) a presented path may be and still be brought forward. */
export const WATCH_REPLAY_WINDOW = 1024;
/**
 * How many of a current watch's recent paths are kept, one per height, from the chain's anchored height up. A
 * lottery is claimed against the root of the anchor's last committed height, which trails the head by the commits in
 * flight (or refused) at expiry, so a holder's proof must be the path as it was there. A kept path shares its
 * digests and bounds with the live one and costs its arrays only (about 0.7 KiB at depth 17): usually a few per
 * watch, this many when anchoring stalls, so 20,000 watches hold at most about 220 MiB.
 */
export const WATCH_RECENT_PATHS = 16;
const PATH_BYTES = 8192;
/**
 * What one level of a kept path costs when none of its siblings is shared with another path: the 32-byte digest in
 * its Uint8Array, two bigint bounds, the summary object and the array slots. Measured at 388-404 B (depth 17-20,
 * node 24, heap and array buffers after a GC); a watch keeps its live path and up to WATCH_RECENT_PATHS more.
 */
const LEVEL_BYTES = 400;
/** The rest of a watch: its entry, record fields, leaf and map slots. */
const WATCH_BASE_BYTES = 2048;
/** The default bound of watch memory: 256 MiB, which a 2 GB machine can spare beside the node. */
export const DEFAULT_WATCH_MEMORY_MB = 256;

/**
 * The most a watch of a path `depth` levels deep can hold: its live path and every kept recent path, none sharing
 * a sibling (a chain busy enough to change every level every block). About 118 KB at depth 17, 138 KB at depth 20.
 */
export function watchBytes(depth: number): number {
  return WATCH_BASE_BYTES + (1 + WATCH_RECENT_PATHS) * depth * LEVEL_BYTES;
}

export interface WatchEndInfo {
  readonly height: number;
  /** Hash of the transaction that superseded or closed the contract, and its index in the block. */
  readonly tx: string;
  readonly txIndex: number;
  readonly op: WatchOp;
  /**
   * The owner's signed action that ended the contract state (hex of its encoded OwnerAction, and the Ed25519
   * signature): the consent that defeats a claim of the old state on the anchor (docs/protocol.md §12). Absent in
   * watches stored before it was kept.
   */
  readonly action?: string;
  readonly signature?: string;
}

/** The end of a watch by transaction `tx` (bytes `txBytes`) of the block at `height`. */
function endInfo(height: number, txBytes: Uint8Array, tx: Tx | undefined, end: WatchEnd): WatchEndInfo {
  const base = { height, tx: toHex(txHash(txBytes)), txIndex: end.txIndex, op: end.op };
  return tx?.kind === 'owner'
    ? { ...base, action: toHex(tx.signed.bytes), signature: toHex(tx.signed.signature) }
    : base;
}

/** A watch as the API shows it and the store keeps it. */
export interface WatchRecord {
  readonly id: string;
  readonly chainId: string;
  readonly start: string;
  readonly status: WatchStatus;
  /** Height the path is current at: the head for a current watch, the height before the change for an ended one. */
  readonly height: number;
  /** Hex of the encoded Path (proto), as the operator's `GET /v1/contracts/:start` gives `proof.path`. */
  readonly path: string;
  readonly end: WatchEndInfo | null;
}

/** An owner's signed action over a contract state (hex-free): the encoded OwnerAction, its signature, its height. */
export interface WatchConsent {
  readonly action: Uint8Array;
  readonly signature: Uint8Array;
  readonly height: number;
}

/** Told the number of stored blocks a request's replay will read, before it reads them; may throw to refuse. */
export type ReplayCharge = (blocks: number) => void;

export type WatchErrorCode =
  'UNKNOWN_CHAIN' | 'UNKNOWN_ROOT' | 'WATCH_LIMIT' | 'WATCH_MEMORY' | 'NOT_FOUND' | 'NOT_A_MEMBER';

export class WatchServiceError extends CodedError<WatchErrorCode> {
  override readonly name = 'WatchServiceError';
}

interface Entry {
  readonly id: string;
  readonly chainId: Uint8Array;
  w: WatchedPath;
  height: number;
  end: WatchEndInfo | null;
  /** Height -> the path as it was at that height, ascending, while the watch was current (WATCH_RECENT_PATHS). */
  readonly recent: Map<number, Path>;
  /** Its share of the watch memory bound: watchBytes at its depth when last counted. */
  bytes: number;
}

/** A presented path brought to the head: where it was proven, and what became of the contract since. */
interface Forwarded {
  w: WatchedPath;
  readonly provenAt: number;
  readonly height: number;
  readonly end: WatchEndInfo | null;
}

export interface WatchDeps {
  readonly store: NodeStore;
  readonly tracker: Tracker;
  readonly alerter: Alerter;
  readonly log: Logger;
  readonly registry: Registry;
  /** Accepted blocks of a chain by height, from the store (after pending writes). */
  readonly blocks: (chainId: Uint8Array, start: number, count: number) => Promise<Uint8Array[]>;
  /** Runs `f` between two block ingestions, so the head does not move under it. */
  readonly serialize: <T>(f: () => Promise<T>) => Promise<T>;
  /** Queues a store write behind the block writes. */
  readonly write: (f: () => Promise<void>) => void;
  readonly maxWatches?: number;
  /** The watch memory bound in bytes (default DEFAULT_WATCH_MEMORY_MB). */
  readonly maxWatchBytes?: number;
  readonly checkpointEvery?: number;
}

export const watchId = (chainHex: string, start: bigint): string => `${chainHex}-${start}`;

export function encodePathBytes(p: Path): Uint8Array {
  const Pb = sortition.v1.Path;
  return encode(Pb, Pb.create(pathToProto(p)));
}

/** A Path from its hex encoding; DecodeError or TreeError (PROOF_INVALID) when malformed. */
export function decodePathBytes(bytes: Uint8Array): Path {
  return pathFromProto(decodeCanonical(sortition.v1.Path, bytes, PATH_BYTES, 'path'));
}

export class WatchService {
  private readonly entries = new Map<string, Entry>();
  /** chain hex -> start -> the current watches the core updates. */
  private readonly live = new Map<string, Map<bigint, WatchedPath>>();
  private readonly updateSeconds: Histogram;
  /** The sum of every watch's `bytes`. */
  private bytes = 0;

  constructor(private readonly d: WatchDeps) {
    const count = (status: WatchStatus) =>
      [...this.entries.values()].filter((e) => e.w.status === status).length;
    new Gauge({
      name: 'sortition_watches',
      help: 'Watched contracts, by status (current, superseded, closed)',
      labelNames: ['status'],
      registers: [d.registry],
      collect() {
        for (const s of ['current', 'superseded', 'closed'] as const) this.set({ status: s }, count(s));
      },
    });
    const memory = () => this.memory;
    new Gauge({
      name: 'sortition_watch_memory_bytes',
      help: 'What the watches may hold at their worst (counted), and the bound (--watch-memory-mb)',
      labelNames: ['kind'],
      registers: [d.registry],
      collect() {
        const m = memory();
        this.set({ kind: 'counted' }, m.bytes);
        this.set({ kind: 'bound' }, m.maxBytes);
      },
    });
    this.updateSeconds = new Histogram({
      name: 'sortition_watch_update_seconds',
      help: "Time to bring one block's watched paths up to date",
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [d.registry],
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** What the watches may hold at most (watchBytes of each), against the bound. */
  get memory(): { bytes: number; maxBytes: number } {
    return { bytes: this.bytes, maxBytes: this.maxBytes };
  }

  private get maxBytes(): number {
    return this.d.maxWatchBytes ?? DEFAULT_WATCH_MEMORY_MB * 2 ** 20;
  }

  /** Recounts a watch whose path changed depth (an insert or removal along it). */
  private recount(e: Entry): void {
    const b = watchBytes(e.w.depth);
    if (b === e.bytes) return;
    if (this.entries.get(e.id) === e) this.bytes += b - e.bytes;
    e.bytes = b;
  }

  /** The watch as it is, or (`then`) as it was at an earlier height, when the contract was the holder's. */
  private record(e: Entry, then?: { height: number; path: Path }): WatchRecord {
    return {
      id: e.id,
      chainId: toHex(e.chainId),
      start: e.w.start.toString(),
      status: then ? 'current' : e.w.status,
      height: then ? then.height : e.height,
      path: toHex(encodePathBytes(then ? then.path : e.w.toPath())),
      end: e.end,
    };
  }

  /** Keeps a current watch's path at its height; drops those below the anchored height, and the oldest past the cap. */
  private remember(e: Entry, anchored = 0): void {
    if (e.w.status !== 'current') return;
    e.recent.set(e.height, e.w.toPath());
    for (const h of e.recent.keys()) {
      if (h >= anchored && e.recent.size <= WATCH_RECENT_PATHS) break;
      e.recent.delete(h);
    }
  }

  /** The watch's path as it was at `height`, if it was current then and the path is still kept. */
  private pathAt(e: Entry, height: number): Path | null {
    // An ended watch keeps the last path under which the contract was the holder's, at its height.
    if (height === e.height) return e.w.toPath();
    return height < e.height ? (e.recent.get(height) ?? null) : null;
  }

  private index(e: Entry): void {
    this.entries.set(e.id, e);
    this.bytes += e.bytes;
    const k = toHex(e.chainId);
    if (e.w.status !== 'current') return;
    let m = this.live.get(k);
    if (!m) this.live.set(k, (m = new Map()));
    m.set(e.w.start, e.w);
  }

  private unindex(e: Entry): void {
    if (this.entries.get(e.id) === e) this.bytes -= e.bytes;
    this.entries.delete(e.id);
    const m = this.live.get(toHex(e.chainId));
    if (m?.get(e.w.start) === e.w) m.delete(e.w.start);
  }

  /** Loads the stored watches and brings the current ones forward to the restored heads from the stored blocks. */
  async restore(): Promise<void> {
    for (const raw of await this.d.store.watches()) {
      const r = raw as WatchRecord;
      try {
        const chainId = fromHex(r.chainId, 'chain id');
        const w = WatchedPath.from(decodePathBytes(fromHex(r.path, 'path')));
        const e: Entry = {
          id: r.id,
          chainId,
          w,
          height: r.height,
          end: r.end,
          recent: new Map(),
          bytes: watchBytes(w.depth),
        };
        if (r.status !== 'current' && r.end)
          w.finish({ status: r.status, txIndex: r.end.txIndex, op: r.end.op });
        const head = this.d.tracker.state(chainId)?.height ?? r.height;
        if (w.status === 'current' && head > r.height) {
          const f = await this.replay(chainId, w, r.height, head);
          e.height = f.height;
          e.end = f.end;
        }
        this.remember(e);
        this.index(e);
      } catch (err) {
        this.d.log.error({ watch: r.id, err: (err as Error).message }, 'stored watch cannot be restored');
      }
    }
    if (this.entries.size) this.d.log.info({ watches: this.entries.size }, 'watches restored');
  }

  /** Writes every watch (a clean stop; also the periodic checkpoint of one chain). */
  async checkpoint(chainHex?: string): Promise<void> {
    const recs = [...this.entries.values()]
      .filter((e) => chainHex === undefined || toHex(e.chainId) === chainHex)
      .map((e) => this.record(e));
    for (let i = 0; i < recs.length; i += 1000) await this.d.store.putWatches(recs.slice(i, i + 1000));
  }

  /**
   * Applies `height`'s accepted block to the chain's watches. `txs` are the block's decoded transactions when the
   * tracker has them (it decoded them to judge the block).
   */
  onBlock(chainId: Uint8Array, height: number, txBytes: readonly Uint8Array[], txs?: readonly Tx[]): void {
    const k = toHex(chainId);
    const set = this.live.get(k);
    if (!set || set.size === 0) return;
    const end = this.updateSeconds.startTimer();
    let ended: WatchedPath[] = [];
    let decoded: readonly Tx[] = [];
    const before = new Map<bigint, Path>();
    try {
      decoded = txs ?? txBytes.map(decodeTx);
      snapshotTouched(decoded, set, before);
      ended = followBlock(set, decoded);
    } catch (e) {
      // A broken precondition (a bug, or a watch restored behind its chain): say so; the API shows the mismatch.
      this.d.log.error(
        { chain: k, height, err: (e as Error).message },
        'watched paths could not follow a block',
      );
    }
    const anchored = this.d.tracker.view(chainId)?.anchoredHeight ?? 0;
    for (const e of this.entries.values()) {
      if (e.w.status !== 'current' || !bytesEqual(e.chainId, chainId)) continue;
      e.height = height;
      this.remember(e, anchored);
      this.recount(e);
    }
    const changed: WatchRecord[] = [];
    for (const w of ended) {
      set.delete(w.start);
      const e = this.entries.get(watchId(k, w.start));
      if (!e || !w.end) continue;
      e.end = endInfo(height, txBytes[w.end.txIndex], decoded[w.end.txIndex], w.end);
      // The path kept is the last one under which the contract was the holder's: against the root before the block.
      e.w = ended1(before.get(w.start)!, w);
      e.height = height - 1;
      this.recount(e);
      changed.push(this.record(e));
      this.d.alerter.raise({
        kind: w.status === 'closed' ? 'closed' : 'superseded',
        chainId: k,
        height,
        watchId: e.id,
        start: w.start.toString(),
        tx: e.end.tx,
        txIndex: e.end.txIndex,
        op: e.end.op,
      });
    }
    end();
    if (changed.length) this.d.write(() => this.d.store.putWatches(changed));
    if (height % (this.d.checkpointEvery ?? 64) === 0) this.d.write(() => this.checkpoint(k));
  }

  /**
   * The owner's signed action over the contract state with leaf digest `digest` on `chainId`, sealed after height
   * `after`: from a watch it ended, else from the block the store's index names (an action names the state it acts
   * on by that digest): one read, whatever the chain's length. Null when this node saw none, so the state's holder never gave it up here. What a watchtower
   * challenges a stale claim with (docs/protocol.md §12, consent).
   */
  consent(chainId: Uint8Array, digest: Uint8Array, after: number): Promise<WatchConsent | null> {
    const k = toHex(chainId);
    for (const e of this.entries.values()) {
      if (e.w.status === 'current' || !e.end?.action || !e.end.signature || e.end.height <= after) continue;
      if (toHex(e.chainId) === k && bytesEqual(e.w.leaf.digest, digest))
        return Promise.resolve({
          action: fromHex(e.end.action, 'action'),
          signature: fromHex(e.end.signature, 'signature'),
          height: e.end.height,
        });
    }
    return this.consentInBlocks(chainId, digest, after);
  }

  private async consentInBlocks(
    chainId: Uint8Array,
    digest: Uint8Array,
    after: number,
  ): Promise<WatchConsent | null> {
    const g = this.d.tracker.genesisOf(chainId);
    const height = await this.d.store.actedAt(chainId, digest);
    if (!g || height === undefined || height <= after) return null;
    const [bytes] = await this.d.blocks(chainId, height, 1);
    if (!bytes) return null;
    for (const tx of blockTxs(g, decodeBlock(bytes)))
      if (tx.kind === 'owner' && bytesEqual(tx.signed.action.contractHash, digest))
        return { action: tx.signed.bytes, signature: tx.signed.signature, height };
    return null;
  }

  /** Evidence about a watched chain or one of its ancestors (whose faults undermine it) raises an alert. */
  onEvidence(ev: VerifiedEvidence): void {
    const byChain = new Map<string, string[]>();
    for (const e of this.entries.values()) {
      const k = toHex(e.chainId);
      let ids = byChain.get(k);
      if (!ids) byChain.set(k, (ids = []));
      ids.push(e.id);
    }
    for (const [k, ids] of byChain) {
      const ancestry = this.d.tracker.ancestry(fromHex(k)) ?? [];
      if (!ancestry.some((g) => bytesEqual(g.chainId, ev.chainId))) continue;
      this.d.alerter.raise({
        kind: 'evidence',
        chainId: k,
        height: ev.height,
        evidence: { kind: ev.kind, id: toHex(ev.id), chainId: toHex(ev.chainId) },
        watches: ids.slice(0, 100),
      });
    }
  }

  /** Brings `w`, a path current at `from`, to `to` through the stored blocks; stops where the contract changed. */
  private async replay(chainId: Uint8Array, w: WatchedPath, from: number, to: number): Promise<Forwarded> {
    const one = new Map([[w.start, w]]);
    for (let h = from + 1; h <= to;) {
      const blocks = await this.d.blocks(chainId, h, Math.min(64, to - h + 1));
      if (blocks.length === 0) throw new WatchServiceError('UNKNOWN_ROOT', `block ${h} is not stored here`);
      for (const bytes of blocks) {
        const b = decodeBlock(bytes);
        if (b.signed.header.height !== h)
          throw new WatchServiceError('UNKNOWN_ROOT', `block ${h} is not stored here`);
        const g = this.d.tracker.genesisOf(chainId);
        if (!g) throw new WatchServiceError('UNKNOWN_CHAIN', `chain ${toHex(chainId)} is not tracked here`);
        const txs = blockTxs(g, b);
        const before = new Map<bigint, Path>();
        snapshotTouched(txs, one, before);
        const [ended] = followBlock(one, txs);
        if (ended?.end) {
          const end = endInfo(h, b.txs[ended.end.txIndex], txs[ended.end.txIndex], ended.end);
          return { w: ended1(before.get(w.start)!, ended), provenAt: from, height: h - 1, end };
        }
        h++;
      }
    }
    return { w, provenAt: from, height: to, end: null };
  }

  /**
   * The height (within the replay window) whose state root the path matches, and the path brought to the head.
   * `charge` is told how many stored blocks the replay reads, before it reads them (a client's budget, which may
   * refuse by throwing).
   */
  private async forward(chainId: Uint8Array, path: Path, charge?: ReplayCharge): Promise<Forwarded> {
    const state = this.d.tracker.state(chainId);
    if (!state) throw new WatchServiceError('UNKNOWN_CHAIN', `chain ${toHex(chainId)} is not tracked here`);
    if (!path.leaf)
      throw new WatchServiceError('NOT_A_MEMBER', 'the path ends in the empty tree: no contract');
    const root = pathRoot(path).digest;
    const w = WatchedPath.from(path);
    if (bytesEqual(root, state.stateRoot))
      return { w, provenAt: state.height, height: state.height, end: null };
    const recent = await this.d.store.recentHeaders(chainId, state.height, WATCH_REPLAY_WINDOW);
    const at = recent.findLast((h) => bytesEqual(h.header.stateRoot, root));
    if (!at)
      throw new WatchServiceError(
        'UNKNOWN_ROOT',
        `the path matches no state root of the last ${WATCH_REPLAY_WINDOW} blocks this node accepted`,
      );
    charge?.(state.height - at.header.height);
    return this.replay(chainId, w, at.header.height, state.height);
  }

  /** Watches the contract a membership path proves; a path older than the head is brought forward first. */
  add(
    chainId: Uint8Array,
    path: Path,
    charge?: ReplayCharge,
  ): Promise<{ created: boolean; watch: WatchRecord }> {
    return this.d.serialize(async () => {
      const f = await this.forward(chainId, path, charge);
      const k = toHex(chainId);
      const id = watchId(k, f.w.start);
      const old = this.entries.get(id);
      // Re-watching the same state, or an older state that has since changed, keeps the watch that is current.
      if (old && (bytesEqual(old.w.leaf.digest, f.w.leaf.digest) || (old.w.status === 'current' && f.end)))
        return { created: false, watch: this.record(old) };
      if (!old && this.entries.size >= (this.d.maxWatches ?? 20_000))
        throw new WatchServiceError(
          'WATCH_LIMIT',
          `this node watches ${this.entries.size} contracts, its limit`,
        );
      const e: Entry = {
        id,
        chainId,
        w: f.w,
        height: f.height,
        end: f.end,
        recent: new Map(),
        bytes: watchBytes(f.w.depth),
      };
      // What the watch may come to hold, counted before it is taken: the bound holds however busy the chain gets.
      const freed = old ? old.bytes : 0;
      if (this.bytes - freed + e.bytes > this.maxBytes)
        throw new WatchServiceError(
          'WATCH_MEMORY',
          `this watch may hold ${e.bytes} B and the node's watches ${this.bytes} B of the ` +
            `${this.maxBytes} B bound (--watch-memory-mb); remove a watch or raise the bound`,
        );
      this.remember(e);
      if (old) this.unindex(old);
      this.index(e);
      const rec = this.record(e);
      await this.d.store.putWatches([rec]);
      this.d.log.info({ watch: id, status: rec.status, height: rec.height }, 'watching contract');
      return { created: true, watch: rec };
    });
  }

  async remove(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e) return false;
    this.unindex(e);
    await this.d.store.deleteWatch(id);
    return true;
  }

  /** The current watches of a chain, read-only (the EVM anchor's watcher compares them with committed paths). */
  current(chainId: Uint8Array): { id: string; height: number; leaf: Leaf }[] {
    const k = toHex(chainId);
    const out: { id: string; height: number; leaf: Leaf }[] = [];
    for (const w of this.live.get(k)?.values() ?? []) {
      const e = this.entries.get(watchId(k, w.start));
      if (e?.w === w && w.status === 'current') out.push({ id: e.id, height: e.height, leaf: w.leaf });
    }
    return out;
  }

  get(id: string): WatchRecord | undefined {
    const e = this.entries.get(id);
    return e && this.record(e);
  }

  /** Whether a current watch's path matches the node's root for its chain (it always should). */
  verified(id: string): boolean | null {
    const e = this.entries.get(id);
    if (!e || e.w.status !== 'current') return null;
    const s = this.d.tracker.state(e.chainId);
    return !!s && s.height === e.height && bytesEqual(pathRoot(e.w.toPath()).digest, s.stateRoot);
  }

  /**
   * Watches in id order. With `height`, each watch whose path at that height is kept is shown as it was there:
   * status current, that height and that path (`end` still tells of a later change); the others as they are now.
   */
  list(filter: {
    chainId?: string;
    status?: string;
    after?: string;
    limit: number;
    height?: number;
  }): WatchRecord[] {
    const out: WatchRecord[] = [];
    const ids = [...this.entries.keys()].sort();
    for (const id of ids) {
      if (filter.after !== undefined && id <= filter.after) continue;
      const e = this.entries.get(id)!;
      if (filter.chainId && toHex(e.chainId) !== filter.chainId) continue;
      const path = filter.height === undefined ? null : this.pathAt(e, filter.height);
      const rec = this.record(e, path ? { height: filter.height!, path } : undefined);
      if (filter.status && rec.status !== filter.status) continue;
      out.push(rec);
      if (out.length >= filter.limit) break;
    }
    return out;
  }

  /**
   * What a holder's path says now: current (matches the head), outdated (matches an earlier root and the contract
   * is unchanged since: the current path is returned), superseded or closed (with the height and transaction).
   */
  check(chainId: Uint8Array, path: Path, charge?: ReplayCharge): Promise<CheckResult> {
    return this.d.serialize(async () => {
      const f = await this.forward(chainId, path, charge);
      const state = this.d.tracker.state(chainId)!;
      const id = watchId(toHex(chainId), f.w.start);
      const status: CheckStatus = f.end
        ? f.end.op === 'close'
          ? 'closed'
          : 'superseded'
        : f.provenAt === state.height
          ? 'current'
          : 'outdated';
      return {
        status,
        provenAt: f.provenAt,
        path: status === 'outdated' ? toHex(encodePathBytes(f.w.toPath())) : null,
        end: f.end,
        watch: this.entries.has(id) ? id : null,
      };
    });
  }
}

/** Keeps, for each watched contract a transaction of the block acts on, its path before the block. */
function snapshotTouched(
  txs: readonly Tx[],
  set: ReadonlyMap<bigint, WatchedPath>,
  out: Map<bigint, Path>,
): void {
  for (const tx of txs) {
    if (tx.kind === 'create') continue;
    const s = tx.path.leaf?.contract.start;
    const w = s === undefined ? undefined : set.get(s);
    if (w && !out.has(w.start)) out.set(w.start, w.toPath());
  }
}

/** The ended watch `w` with the path it had before the block that ended it. */
function ended1(before: Path, w: WatchedPath): WatchedPath {
  const out = WatchedPath.from(before);
  out.finish(w.end!);
  return out;
}

export type CheckStatus = 'current' | 'outdated' | 'superseded' | 'closed';

export interface CheckResult {
  readonly status: CheckStatus;
  /** The height whose root the presented path matches. */
  readonly provenAt: number;
  /** Outdated only: the same contract's path against the head. */
  readonly path: string | null;
  readonly end: WatchEndInfo | null;
  /** The id of the watch on this contract, if any. */
  readonly watch: string | null;
}
