/**
 * What the page decides, with the core alone (no DOM, no network): the light validator's Tracker judging every
 * block of the followed chain and its ancestors, and the holder's watched contracts kept current from the
 * transactions of each accepted block. It runs in a Web Worker (worker.ts), so judging never freezes the page.
 */
import { Tracker, type ChainStatus } from '../../src/light/tracker.js';
import { followBlock, WatchedPath, type WatchEnd } from '../../src/light/watch.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../../src/chain/genesis.js';
import type { SignedHeader } from '../../src/chain/header.js';
import type { Tx } from '../../src/chain/tx.js';
import { decodeCanonical, encode } from '../../src/codec/canonical.js';
import { bytesEqual, fromHex, toHex } from '../../src/codec/bytes.js';
import { sortition } from '../../src/gen/proto.js';
import { pathFromProto, pathToProto, type Path } from '../../src/tree/path.js';
import { pathRoot } from '../../src/tree/verify.js';
import type { AsyncSignatureVerifier } from '../../src/crypto/async.js';
import { settlementBeacon, winningPoint } from '../../src/sortition/lottery.js';

/** A watch as the page stores it (IndexedDB) and shows it: the path as of `height`, hex-encoded. */
export interface WatchRecord {
  readonly chainId: string;
  readonly start: string;
  readonly end: string;
  readonly height: number;
  readonly path: string;
  readonly status: 'current' | 'superseded' | 'closed' | 'waiting';
  readonly ended?: { readonly height: number; readonly op: WatchEnd['op'] };
  /** After expiry: the point the lottery drew, and whether this contract (still the holder's) holds it. */
  readonly drawn?: { readonly point: string; readonly won: boolean };
}

export interface EvidenceView {
  readonly kind: string;
  readonly chainId: string;
}

export interface JudgeView {
  readonly chains: ChainStatus[];
  readonly watches: WatchRecord[];
  readonly evidence: EvidenceView[];
  readonly judged: number;
  readonly crypto: 'webcrypto' | 'pure';
}

/** A block's outcome as the network side needs it: whether to relay, and whether the chain is behind. */
export interface BlockReport {
  readonly result: 'accept' | 'ignore' | 'reject';
  readonly code: string;
  readonly aheadHeight?: number;
  /** Evidence judging found (encoded): the page gossips it, so that nodes learn what its tab proved. */
  readonly evidence?: Uint8Array[];
}

export type WatchVerdict =
  | { readonly ok: true; readonly watch: WatchRecord }
  | { readonly ok: false; readonly code: WatchRefusal; readonly message: string };

export type WatchRefusal = 'MALFORMED' | 'NOT_FOLLOWED' | 'ROOT_MISMATCH' | 'TOO_OLD';

const PATH_BYTES = 8192;
/** How many recent blocks a chain keeps (root and transactions) to bring an older proof forward to the head. */
export const REPLAY_WINDOW = 256;

export function encodePathHex(p: Path): string {
  const Pb = sortition.v1.Path;
  return toHex(encode(Pb, Pb.create(pathToProto(p))));
}

export function decodePathHex(hex: string): Path {
  return pathFromProto(decodeCanonical(sortition.v1.Path, fromHex(hex), PATH_BYTES, 'path'));
}

interface Recent {
  readonly root: Uint8Array;
  readonly txs: readonly Tx[];
}

interface Live {
  readonly chainId: string;
  readonly watch: WatchedPath;
  height: number;
  ended?: WatchRecord['ended'];
}

export class Judge {
  private readonly tracker = new Tracker();
  /** chain hex -> height -> root and transactions of the accepted block there. */
  private readonly recent = new Map<string, Map<number, Recent>>();
  /** chain hex -> start -> watch. */
  private readonly live = new Map<string, Map<bigint, Live>>();
  /** Proofs of a height the page has not judged yet (a reload re-judges from genesis); adopted on the way. */
  private readonly waiting: { chainId: string; path: Path; height: number }[] = [];
  private judged = 0;
  private readonly recs = new Map<string, GenesisRecord>();
  /** Top-level chain (hex) -> the point its lottery drew, from the anchor's header at its expiry. */
  private readonly draws = new Map<string, bigint>();

  /** `verify`: WebCrypto's Ed25519 where the browser has it (src/crypto/async.ts); the pure path otherwise. */
  constructor(private readonly verify: AsyncSignatureVerifier | null = null) {}

  /** Which implementation checks signatures, for the page to say. */
  get crypto(): 'webcrypto' | 'pure' {
    return this.verify ? 'webcrypto' : 'pure';
  }

  /** Checks a genesis record against the id asked for and follows its chain. */
  follow(chainIdHex: string, genesisBytes: Uint8Array): GenesisRecord {
    const rec = decodeGenesis(genesisBytes);
    if (!bytesEqual(rec.chainId, fromHex(chainIdHex)))
      throw new Error(`the genesis record a peer sent is not chain ${chainIdHex}`);
    this.tracker.track(rec);
    this.recs.set(chainIdHex, rec);
    if (!this.recent.has(chainIdHex)) this.recent.set(chainIdHex, new Map());
    return rec;
  }

  /** The chain's parent id (hex), or null for a top chain whose anchor has no genesis here. */
  static parentOf(rec: GenesisRecord): string | null {
    return isAnchor(rec.genesis) ? null : toHex(rec.genesis.parentChain);
  }

  height(chainIdHex: string): number {
    return this.tracker.state(fromHex(chainIdHex))?.height ?? 0;
  }

  async block(chainIdHex: string, bytes: Uint8Array): Promise<BlockReport> {
    const id = fromHex(chainIdHex);
    const out = this.verify
      ? await this.tracker.onBlockAsync(id, bytes, this.verify)
      : this.tracker.onBlock(id, bytes);
    const a = out.accepted;
    if (a) {
      this.judged++;
      const h = a.state.height;
      const txs = a.txs ?? [];
      const rec = this.recent.get(chainIdHex) ?? new Map<number, Recent>();
      this.recent.set(chainIdHex, rec);
      rec.set(h, { root: a.state.stateRoot, txs });
      rec.delete(h - REPLAY_WINDOW);
      const set = this.live.get(chainIdHex);
      if (set) {
        const current = new Map(
          [...set].filter(([, l]) => l.watch.status === 'current').map(([s, l]) => [s, l.watch]),
        );
        for (const w of followBlock(current, txs)) {
          const l = set.get(w.start);
          if (l) l.ended = { height: h, op: w.end!.op };
        }
        for (const l of set.values()) if (l.watch.status === 'current') l.height = h;
      }
      this.adoptWaiting(chainIdHex);
      this.draw(chainIdHex, a.block.signed);
    }
    return {
      result: out.verdict.result,
      code: out.verdict.code ?? 'OK',
      aheadHeight: out.aheadHeight,
      evidence: out.evidence.map((e) => e.bytes),
    };
  }

  /**
   * An anchor block at a followed top-level chain's expiry fixes that chain's lottery: the point is drawn from the
   * header's beacon, in absolute coordinates, so it is the point of every chain nested in it too.
   */
  private draw(anchorHex: string, header: SignedHeader): void {
    const anchor = this.recs.get(anchorHex);
    if (!anchor || !isAnchor(anchor.genesis)) return;
    for (const [id, rec] of this.recs) {
      const g = rec.genesis;
      if (g.expiry !== header.header.height || isAnchor(g) || toHex(g.parentChain) !== anchorHex) continue;
      try {
        this.draws.set(id, winningPoint(settlementBeacon(anchor, header, rec), rec));
      } catch {
        // An anchor header with no beacon draws nothing: the page shows no answer rather than a wrong one.
      }
    }
  }

  /** The drawn point of the lottery a chain takes part in: its top-level ancestor's. */
  private pointFor(chainIdHex: string): bigint | undefined {
    let id: string | null = chainIdHex;
    for (let i = 0; id && i < 64; i++) {
      const d = this.draws.get(id);
      if (d !== undefined) return d;
      const rec = this.recs.get(id);
      id = rec ? Judge.parentOf(rec) : null;
    }
    return undefined;
  }

  evidence(bytes: Uint8Array): BlockReport {
    const r = this.tracker.onEvidence(bytes);
    return { result: r.verdict.result, code: r.verdict.code ?? 'OK' };
  }

  /**
   * Watches a contract from a membership path at `height`: checked against the root this page judged there and
   * brought forward over the blocks since. A path from a height not judged yet waits until the page gets there.
   */
  watch(chainIdHex: string, pathHex: string, height: number): WatchVerdict {
    let path: Path;
    try {
      path = decodePathHex(pathHex);
      if (!path.leaf) throw new Error('the proof ends in a gap, not a contract');
    } catch (e) {
      return { ok: false, code: 'MALFORMED', message: `not a contract proof: ${(e as Error).message}` };
    }
    if (!this.tracker.isTracked(fromHex(chainIdHex)))
      return { ok: false, code: 'NOT_FOLLOWED', message: 'this page does not follow that chain' };
    if (height > this.height(chainIdHex)) {
      this.waiting.push({ chainId: chainIdHex, path, height });
      return { ok: true, watch: this.waitingRecord(chainIdHex, path, height) };
    }
    return this.adopt(chainIdHex, path, height);
  }

  private waitingRecord(chainId: string, path: Path, height: number): WatchRecord {
    const c = path.leaf!.contract;
    return {
      chainId,
      start: c.start.toString(),
      end: c.end.toString(),
      height,
      path: encodePathHex(path),
      status: 'waiting',
    };
  }

  private adopt(chainIdHex: string, path: Path, height: number): WatchVerdict {
    const rec = this.recent.get(chainIdHex);
    const head = this.height(chainIdHex);
    const at = rec?.get(height);
    if (!at && height !== 0)
      return {
        ok: false,
        code: 'TOO_OLD',
        message: `the proof is from height ${height}; this page keeps the last ${REPLAY_WINDOW} blocks (head ${head})`,
      };
    if (!at || !bytesEqual(pathRoot(path).digest, at.root))
      return {
        ok: false,
        code: 'ROOT_MISMATCH',
        message: `the proof does not match the chain's state at height ${height}`,
      };
    const w = WatchedPath.from(path);
    const l: Live = { chainId: chainIdHex, watch: w, height };
    for (let h = height + 1; h <= head && w.status === 'current'; h++) {
      const [ended] = followBlock(new Map([[w.start, w]]), rec!.get(h)!.txs);
      if (ended) l.ended = { height: h, op: ended.end!.op };
      else l.height = h;
    }
    const set = this.live.get(chainIdHex) ?? new Map<bigint, Live>();
    this.live.set(chainIdHex, set);
    set.set(w.start, l);
    return { ok: true, watch: this.record(l) };
  }

  private adoptWaiting(chainIdHex: string): void {
    const head = this.height(chainIdHex);
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const p = this.waiting[i];
      if (p.chainId !== chainIdHex || p.height > head) continue;
      this.waiting.splice(i, 1);
      this.adopt(chainIdHex, p.path, p.height);
    }
  }

  private record(l: Live): WatchRecord {
    const c = l.watch.leaf.contract;
    const point = this.pointFor(l.chainId);
    return {
      chainId: l.chainId,
      start: c.start.toString(),
      end: c.end.toString(),
      height: l.height,
      path: encodePathHex(l.watch.toPath()),
      status: l.watch.status,
      ...(l.ended ? { ended: l.ended } : {}),
      ...(point === undefined
        ? {}
        : {
            drawn: {
              point: point.toString(),
              won: l.watch.status === 'current' && c.start <= point && point < c.end,
            },
          }),
    };
  }

  unwatch(chainIdHex: string, start: string): void {
    this.live.get(chainIdHex)?.delete(BigInt(start));
    for (let i = this.waiting.length - 1; i >= 0; i--)
      if (
        this.waiting[i].chainId === chainIdHex &&
        this.waiting[i].path.leaf!.contract.start === BigInt(start)
      )
        this.waiting.splice(i, 1);
  }

  view(): JudgeView {
    const watches: WatchRecord[] = [];
    for (const set of this.live.values()) for (const l of set.values()) watches.push(this.record(l));
    for (const p of this.waiting) watches.push(this.waitingRecord(p.chainId, p.path, p.height));
    return {
      chains: this.tracker.status(null),
      watches,
      evidence: this.tracker.evidence().map((e) => ({ kind: e.kind, chainId: toHex(e.chainId) })),
      judged: this.judged,
      crypto: this.crypto,
    };
  }
}
