/**
 * What a light validator knows and decides, without I/O: per tracked chain its O(1) state, a bounded window of
 * recent signed headers (to recognise equivocation and check child commits), whether it is faulty and how far it
 * is anchored. `onBlock` and `onEvidence` return verdicts and effects (evidence found, records learned, what to
 * persist); the runtime does the gossip, storage and logging.
 */
import { bytesEqual, toHex } from '../codec/bytes.js';
import { decodeBlock, type Block } from '../chain/block.js';
import { ChainError, isOperatorFault } from '../chain/errors.js';
import { ACCEPT, ignore, reject, type Verdict } from '../codec/verdict.js';
import {
  EvidenceError,
  makeChildRootMismatch,
  makeEquivocation,
  makeInvalidTransition,
  provesOperatorFault,
  verifyEvidence,
  type VerifiedEvidence,
} from '../chain/evidence.js';
import { isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { checkHeaderSignature, type SignedHeader } from '../chain/header.js';
import { genesisState, stateAfter, type ChainState } from '../chain/state.js';
import type { Tx } from '../chain/tx.js';
import { validateDecodedBlock } from '../chain/validate.js';
import { SignatureMemo, type AsyncSignatureVerifier } from '../crypto/async.js';

// The verdict type lives in the lowest layer, where gossip can read it too; the light validator makes them.
export type { Verdict, VerdictCode, VerdictResult } from '../codec/verdict.js';

export interface AcceptedBlock {
  readonly chainId: Uint8Array;
  readonly block: Block;
  readonly state: ChainState;
  /** The block's transactions as judging decoded them (absent for the benchmark baselines, which judge none). */
  readonly txs?: readonly Tx[];
}

export interface BlockOutcome {
  readonly verdict: Verdict;
  readonly accepted?: AcceptedBlock;
  /** New evidence this block produced (already verified and deduplicated). */
  readonly evidence: VerifiedEvidence[];
  /** Genesis records learned from open-child transactions. */
  readonly discovered: GenesisRecord[];
  /** The block is ahead of the head: the chain should be synced. */
  readonly behind?: boolean;
  /** With `behind`: the (signed) block's height, which its sender has. */
  readonly aheadHeight?: number;
  /** Chains whose anchored height moved. */
  readonly anchored: Uint8Array[];
}

export interface ChainStatus {
  readonly chainId: string;
  readonly parentId: string | null;
  readonly name: string;
  readonly height: number;
  readonly headHash: string;
  readonly stateRoot: string;
  readonly anchoredHeight: number;
  readonly faulty: boolean;
  /** The earliest expiry of the chain and its ancestors, an anchor height (0: never). */
  readonly effectiveExpiry: number;
  /** An ancestor's expiry is past (the anchor height this node sees has reached it): the chain is over too. */
  readonly parentExpired: boolean;
  /**
   * Whether the parent's contract holds this chain, as far as this node has seen the parent's open-child
   * transactions (null: the parent is not followed here, e.g. the EVM contract).
   */
  readonly held: boolean | null;
  /** The chain the parent's contract holds instead of this one: nothing on this chain can ever be anchored. */
  readonly orphanOf: string | null;
}

/** How a chain stands in its line: see ChainStatus. */
export type Lineage = Pick<ChainStatus, 'effectiveExpiry' | 'parentExpired' | 'held' | 'orphanOf'>;

/** A child header committed in a parent block, waiting for the child chain to reach that height. */
interface Commit {
  readonly parent: Block;
  readonly txIndex: number;
  readonly committed: SignedHeader;
}

class ChainView {
  state: ChainState;
  head: SignedHeader | null = null;
  readonly recent = new Map<number, SignedHeader>();
  /**
   * Signed headers seen ahead of the head (ignored until sync catches up), by height: the block a node later takes
   * at that height may be another one, and a node that was behind would otherwise never see the two side by side.
   */
  readonly ahead = new Map<number, SignedHeader>();
  readonly commits = new Map<number, Commit>();
  faulty = false;
  anchoredHeight = 0;
  /** Which chain each contract of this chain holds (by the contract's start), from the open-child transactions. */
  readonly holds = new Map<string, string>();

  constructor(readonly genesis: GenesisRecord) {
    this.state = genesisState(genesis);
  }
}

export interface TrackerOptions {
  /** How many recent headers a chain keeps for equivocation checks. */
  readonly window: number;
  /** How many pending child commits a chain keeps. */
  readonly maxCommits: number;
  /** How many headers from ahead of the head a chain keeps for equivocation checks. */
  readonly maxAhead?: number;
}

const hex = toHex;

/** The outcome of a block that was not applied: its verdict and whatever evidence judging it produced. */
export function notApplied(
  verdict: Verdict,
  evidence: VerifiedEvidence[] = [],
  extra: Partial<BlockOutcome> = {},
): BlockOutcome {
  return { verdict, evidence, discovered: [], anchored: [], ...extra };
}

export class Tracker {
  private readonly chains = new Map<string, ChainView>();
  private readonly genesisById = new Map<string, GenesisRecord>();
  private readonly evidenceById = new Map<string, VerifiedEvidence>();

  constructor(private readonly opts: TrackerOptions = { window: 1024, maxCommits: 1024 }) {}

  readonly genesisOf = (chainId: Uint8Array): GenesisRecord | undefined => this.genesisById.get(hex(chainId));

  /** Learns a genesis record; returns whether it was new. */
  learn(rec: GenesisRecord): boolean {
    const k = hex(rec.chainId);
    if (this.genesisById.has(k)) return false;
    this.genesisById.set(k, rec);
    return true;
  }

  knownGenesis(): GenesisRecord[] {
    return [...this.genesisById.values()];
  }

  /** Starts following a chain, optionally from a persisted head (trusted: it was validated before). */
  track(
    rec: GenesisRecord,
    restore?: {
      head: SignedHeader | null;
      recent: SignedHeader[];
      anchoredHeight: number;
      faulty: boolean;
      holds?: Readonly<Record<string, string>>;
    },
  ): void {
    this.learn(rec);
    const k = hex(rec.chainId);
    if (this.chains.has(k)) return;
    const v = new ChainView(rec);
    if (restore) {
      if (restore.head) {
        v.head = restore.head;
        v.state = stateAfter(rec, restore.head);
      }
      for (const h of restore.recent) v.recent.set(h.header.height, h);
      v.anchoredHeight = restore.anchoredHeight;
      v.faulty = restore.faulty;
      for (const [start, child] of Object.entries(restore.holds ?? {})) v.holds.set(start, child);
    }
    // Evidence can arrive while a chain is known but not yet tracked (its ancestry still resolving); it is kept
    // then, and a later copy is a duplicate, so the chain must start out faulty here or it never would be.
    for (const ev of this.evidenceById.values())
      if (provesOperatorFault(ev.kind) && bytesEqual(ev.chainId, rec.chainId)) v.faulty = true;
    this.chains.set(k, v);
  }

  isTracked(chainId: Uint8Array): boolean {
    return this.chains.has(hex(chainId));
  }

  trackedIds(): Uint8Array[] {
    return [...this.chains.values()].map((v) => v.genesis.chainId);
  }

  state(chainId: Uint8Array): ChainState | undefined {
    return this.chains.get(hex(chainId))?.state;
  }

  head(chainId: Uint8Array): SignedHeader | null {
    return this.chains.get(hex(chainId))?.head ?? null;
  }

  view(
    chainId: Uint8Array,
  ): { faulty: boolean; anchoredHeight: number; holds: ReadonlyMap<string, string> } | undefined {
    return this.chains.get(hex(chainId));
  }

  /**
   * How a chain stands in its line (undefined if unknown): the earliest expiry of it and its ancestors, whether an
   * ancestor's expiry is past at `anchorHeight` (the anchor's height as this node sees it: the devnet anchor
   * chain's head, or the EVM head; null when unknown), and whether its parent's contract holds it. A chain expires
   * with its parent, so blocks past an ancestor's expiry sell what can never win; a chain its parent's contract
   * does not hold can never be anchored.
   */
  lineage(chainId: Uint8Array, anchorHeight: number | null, externalRoot?: Uint8Array): Lineage | undefined {
    const g = this.genesisOf(chainId);
    if (!g) return undefined;
    const line = this.ancestry(chainId, externalRoot) ?? [g];
    const earliest = (gs: readonly GenesisRecord[]) =>
      gs.reduce(
        (m, x) => (x.genesis.expiry > 0 && (m === 0 || x.genesis.expiry < m) ? x.genesis.expiry : m),
        0,
      );
    const parents = earliest(line.slice(1));
    const parentExpired = anchorHeight !== null && parents > 0 && anchorHeight >= parents;
    let held: boolean | null = null;
    let orphanOf: string | null = null;
    if (!isAnchor(g.genesis)) {
      const parent = this.chains.get(hex(g.genesis.parentChain));
      if (parent) {
        const holder = parent.holds.get(g.genesis.parentContract.toString());
        held = holder === hex(chainId);
        if (holder !== undefined && !held) orphanOf = holder;
      }
    }
    return { effectiveExpiry: earliest(line), parentExpired, held, orphanOf };
  }

  /** The height of the tracked anchor chain (the devnet anchor), null when none is tracked. */
  anchorChainHeight(): number | null {
    for (const v of this.chains.values()) if (isAnchor(v.genesis.genesis)) return v.state.height;
    return null;
  }

  /**
   * The genesis records from a chain up to the anchor; undefined while one is missing. `externalRoot`: an anchor
   * with no genesis record (the EVM contract's id), where the walk stops at the chain naming it as parent.
   */
  ancestry(chainId: Uint8Array, externalRoot?: Uint8Array): GenesisRecord[] | undefined {
    const out: GenesisRecord[] = [];
    let id: Uint8Array | null = chainId;
    while (id) {
      const g = this.genesisOf(id);
      if (!g) return undefined;
      out.push(g);
      if (out.length > 64) return undefined;
      const top = isAnchor(g.genesis) || (externalRoot && bytesEqual(g.genesis.parentChain, externalRoot));
      id = top ? null : g.genesis.parentChain;
    }
    return out;
  }

  /** Raises a chain's anchored height (an external anchor confirmed its header there); false if nothing moved. */
  markAnchored(chainId: Uint8Array, height: number): boolean {
    const v = this.chains.get(hex(chainId));
    if (!v || height <= v.anchoredHeight) return false;
    v.anchoredHeight = height;
    return true;
  }

  /**
   * Lowers a chain's anchored height to `height` (the external anchor's commits above it left its chain in a reorg);
   * false if it was not above.
   */
  unanchorAbove(chainId: Uint8Array, height: number): boolean {
    const v = this.chains.get(hex(chainId));
    if (!v || v.anchoredHeight <= height) return false;
    v.anchoredHeight = Math.max(0, height);
    return true;
  }

  /**
   * Every tracked chain. `anchorHeight`: the anchor's height for the expiry checks (default: the tracked devnet
   * anchor chain's head); `externalRoot`: the EVM anchor's id, where ancestry stops.
   */
  status(anchorHeight: number | null = this.anchorChainHeight(), externalRoot?: Uint8Array): ChainStatus[] {
    return [...this.chains.values()].map((v) => ({
      chainId: hex(v.genesis.chainId),
      parentId: isAnchor(v.genesis.genesis) ? null : hex(v.genesis.genesis.parentChain),
      name: v.genesis.genesis.name,
      height: v.state.height,
      headHash: hex(v.state.headHash),
      stateRoot: hex(v.state.stateRoot),
      anchoredHeight: v.anchoredHeight,
      faulty: v.faulty,
      ...this.lineage(v.genesis.chainId, anchorHeight, externalRoot)!,
    }));
  }

  evidence(): VerifiedEvidence[] {
    return [...this.evidenceById.values()];
  }

  private record(found: VerifiedEvidence[], ev: VerifiedEvidence): void {
    const k = hex(ev.id);
    if (this.evidenceById.has(k)) return;
    this.evidenceById.set(k, ev);
    if (provesOperatorFault(ev.kind)) {
      const v = this.chains.get(hex(ev.chainId));
      if (v) v.faulty = true;
    }
    found.push(ev);
  }

  private mustProve(bytes: Uint8Array): VerifiedEvidence {
    // Evidence the node builds itself must verify like anyone else's: a failure here is a bug.
    return verifyEvidence(bytes, this.genesisOf);
  }

  /** Adds evidence the node has already verified or stored. */
  restoreEvidence(ev: VerifiedEvidence): void {
    this.record([], ev);
  }

  /**
   * Takes the next block of a tracked chain as its head without judging it, for the benchmark baselines only
   * (src/light/baseline.ts checks what they check first). Never used on a network: it believes what it is not shown.
   */
  takeUnjudged(chainId: Uint8Array, block: Block): BlockOutcome {
    const v = this.chains.get(hex(chainId));
    if (!v) return notApplied(ignore('UNTRACKED'));
    const sh = block.signed;
    if (sh.header.height <= v.state.height) return notApplied(ignore('DUPLICATE'));
    this.advance(v, sh, stateAfter(v.genesis, sh));
    return {
      verdict: ACCEPT,
      accepted: { chainId: v.genesis.chainId, block, state: v.state },
      evidence: [],
      discovered: [],
      anchored: [],
    };
  }

  /** Makes a signed header the chain's head, keeping the window of recent headers bounded; kept headers it passed go. */
  private advance(v: ChainView, sh: SignedHeader, state: ChainState): void {
    const h = sh.header.height;
    v.state = state;
    v.head = sh;
    v.recent.set(h, sh);
    if (v.recent.size > this.opts.window) v.recent.delete(h - this.opts.window);
    for (const k of v.ahead.keys()) if (k <= h) v.ahead.delete(k);
  }

  /** Judges a block for a chain (from gossip, sync or the local operator) and applies it if valid. */
  onBlock(chainId: Uint8Array, bytes: Uint8Array): BlockOutcome {
    const found: VerifiedEvidence[] = [];
    const none = (verdict: Verdict, extra: Partial<BlockOutcome> = {}): BlockOutcome =>
      notApplied(verdict, found, extra);
    const v = this.chains.get(hex(chainId));
    if (!v) return none(ignore('UNTRACKED'));
    let block: Block;
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      return none(ChainError.from(e).verdict());
    }
    const sh = block.signed;
    const h = sh.header.height;
    if (!bytesEqual(sh.header.chainId, chainId)) return none(reject('WRONG_CHAIN'));

    if (h <= v.state.height) {
      const known = v.recent.get(h);
      if (!known) return none(ignore('OLD_HEIGHT'));
      if (bytesEqual(known.hash, sh.hash)) return none(ignore('DUPLICATE'));
      try {
        checkHeaderSignature(v.genesis, sh);
      } catch (e) {
        return none(ChainError.from(e).verdict());
      }
      this.record(found, this.mustProve(makeEquivocation(known, sh)));
      return none(reject('EQUIVOCATION'));
    }
    if (h > v.state.height + 1) {
      try {
        checkHeaderSignature(v.genesis, sh);
      } catch (e) {
        return none(ChainError.from(e).verdict());
      }
      const seen = v.ahead.get(h);
      if (seen && !bytesEqual(seen.hash, sh.hash)) {
        this.record(found, this.mustProve(makeEquivocation(seen, sh)));
        return none(reject('EQUIVOCATION'));
      }
      if (!seen && v.ahead.size < (this.opts.maxAhead ?? 64)) v.ahead.set(h, sh);
      return none(ignore('HEIGHT_GAP'), { behind: true, aheadHeight: h });
    }

    const r = validateDecodedBlock(v.state, block);
    if (!r.ok) {
      if (isOperatorFault(r.error)) this.record(found, this.mustProve(makeInvalidTransition(v.head, block)));
      return none(r.verdict);
    }
    // A valid block is still the head even when another header was signed at its height: the chain is faulty
    // either way, and the node keeps following the history it can check.
    const other = v.ahead.get(h);
    if (other && !bytesEqual(other.hash, sh.hash))
      this.record(found, this.mustProve(makeEquivocation(other, sh)));
    this.advance(v, sh, r.state);
    const discovered: GenesisRecord[] = [];
    const anchored: Uint8Array[] = [];
    this.afterAccept(v, block, r.txs, found, discovered, anchored);
    return {
      verdict: r.verdict,
      accepted: { chainId: v.genesis.chainId, block, state: r.state, txs: r.txs },
      evidence: found,
      discovered,
      anchored,
    };
  }

  /**
   * `onBlock` with the signatures checked by an asynchronous implementation first (WebCrypto in a browser; see
   * src/crypto/async.ts): the same verdicts, the same rule. Callers keep one block at a time in flight per
   * tracker, as for `onBlock`; were two interleaved, a signature not prefetched is still checked synchronously.
   */
  async onBlockAsync(
    chainId: Uint8Array,
    bytes: Uint8Array,
    verify: AsyncSignatureVerifier,
  ): Promise<BlockOutcome> {
    const v = this.chains.get(hex(chainId));
    const memo = new SignatureMemo();
    if (v) {
      await memo.prefetch(() => {
        // What onBlock will check: the whole block when it is the next one, else its header's signature.
        const block = decodeBlock(bytes);
        if (block.signed.header.height === v.state.height + 1) validateDecodedBlock(v.state, block);
        else checkHeaderSignature(v.genesis, block.signed);
      }, verify);
    }
    return memo.run(() => this.onBlock(chainId, bytes));
  }

  private afterAccept(
    v: ChainView,
    block: Block,
    txs: readonly Tx[],
    found: VerifiedEvidence[],
    discovered: GenesisRecord[],
    anchored: Uint8Array[],
  ): void {
    // This chain's own pending commit at the new height, made earlier by its parent.
    const h = block.signed.header.height;
    const pending = v.commits.get(h);
    if (pending) {
      v.commits.delete(h);
      this.settleCommit(v, pending, found, anchored);
    }
    txs.forEach((tx, i) => {
      if (tx.kind === 'owner' && tx.childGenesis) {
        // The contract holds that chain from now on, for good (a contract holding a chain cannot change).
        v.holds.set(tx.childGenesis.genesis.parentContract.toString(), hex(tx.childGenesis.chainId));
        if (this.learn(tx.childGenesis)) discovered.push(tx.childGenesis);
      }
      if (tx.kind !== 'childRoot') return;
      const child = this.chains.get(hex(tx.child.header.chainId));
      if (!child) return;
      const commit: Commit = { parent: block, txIndex: i, committed: tx.child };
      const ch = tx.child.header.height;
      if (child.recent.has(ch)) this.settleCommit(child, commit, found, anchored);
      else if (ch > child.state.height) {
        child.commits.set(ch, commit);
        if (child.commits.size > this.opts.maxCommits)
          child.commits.delete(Math.min(...child.commits.keys()));
      }
    });
  }

  private settleCommit(child: ChainView, c: Commit, found: VerifiedEvidence[], anchored: Uint8Array[]): void {
    const ch = c.committed.header.height;
    const own = child.recent.get(ch);
    if (!own) return;
    if (bytesEqual(own.hash, c.committed.hash)) {
      if (ch > child.anchoredHeight) {
        child.anchoredHeight = ch;
        anchored.push(child.genesis.chainId);
      }
      return;
    }
    this.record(found, this.mustProve(makeChildRootMismatch(c.parent, c.txIndex, own)));
  }

  /** Judges evidence from the network or the API. */
  onEvidence(bytes: Uint8Array): { verdict: Verdict; evidence?: VerifiedEvidence; isNew: boolean } {
    let ev: VerifiedEvidence;
    try {
      ev = verifyEvidence(bytes, this.genesisOf);
    } catch (e) {
      if (e instanceof EvidenceError) {
        // Without the genesis records the node cannot judge: neither relay nor punish.
        return { verdict: (e.code === 'EVIDENCE_UNKNOWN_CHAIN' ? ignore : reject)(e.code), isNew: false };
      }
      throw e;
    }
    const found: VerifiedEvidence[] = [];
    this.record(found, ev);
    if (found.length === 0) return { verdict: ignore('DUPLICATE'), evidence: ev, isNew: false };
    return { verdict: ACCEPT, evidence: ev, isNew: true };
  }
}
