/**
 * Seed 001's data request on a validator's side (docs/protocol.md sections 12 and 13). When the anchor holds a state
 * this node cannot check (a commit it never saw on gossip: the watcher's commit-unseen), the state may hide a
 * contract the node watches; a node with an EVM key then demands on chain (`requestData`) the path of each watched
 * contract's start at the chain's last committed height. Every path published on chain for a watched contract
 * (`DataAnswered`, to this node's requests or anyone's) is checked against the committed root and compared with the
 * watch: the same contract means the holder's contract stands; another contract or free space at a committed
 * height above the watch's, while the watch saw no owner-signed action end it, raises watch-removed. A request of
 * this node left unanswered past its deadline is slashed (`slashWithheld`), once: the requester's bond comes back
 * with the reporter's share of the operator's safety deposit.
 *
 * Every answer pays the request's bond to its answerer, so filing is bounded: at most `maxPerCommit` requests per
 * chain per committed height, one unresolved request per watch, MAX_OPEN unresolved in all; watches take turns
 * (the one asked about longest ago first). Requests known here are in memory only; after a restart the node's own
 * unresolved ones are found again in the `DataRequested` events the watcher rescans.
 */
import { Counter, type Registry } from 'prom-client';
import { hexToBytes, toHex as viemHex, type Hex } from 'viem';
import { bytesEqual } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import type { GenesisRecord } from '../chain/genesis.js';
import type { Logger } from '../runtime/logger.js';
import { decodeLookupPath } from '../sortition/lottery.js';
import type { Contract } from '../tree/contract.js';
import { verifyLookup, type LookupResult } from '../tree/verify.js';
import {
  watchIds,
  type AnchorAlerts,
  type FoundAtPoint,
  type WatchedContract,
  type WatchedContracts,
} from './alerts.js';
import { ANCHOR_ABI } from './anchor.js';
import { dataRequestId, type EvmAnchor } from './node-anchor.js';
import { AnchorRevert } from './sender.js';

/** Unresolved requests of this node at most (each holds a bond until answered or slashed). */
export const MAX_OPEN = 64;
/** Requests remembered at most; resolved ones are forgotten first. */
const MAX_KNOWN = 256;
/** Answers remembered as judged (so a rescan judges none twice). */
const MAX_JUDGED = 4096;
/** Failed slashings retried at most. */
const SLASH_ATTEMPTS = 3;

type RequestState =
  | 'filing' // sent, not yet confirmed
  | 'open' // on chain, unanswered, its window open
  | 'slashing' // past its deadline, slashWithheld sent
  | 'answered' // a path was published (judged when its event is scanned)
  | 'slashed'
  | 'failed';

const UNRESOLVED: ReadonlySet<RequestState> = new Set(['filing', 'open', 'slashing']);

interface OwnRequest {
  readonly id: Hex;
  readonly chainId: Uint8Array;
  readonly height: number;
  readonly point: bigint;
  readonly watchId: string;
  deadline: bigint | null;
  state: RequestState;
  attempts: number;
}

/** A data request of this node, as `GET /v1/anchor` lists it. */
export interface OwnRequestJson {
  readonly id: Hex;
  readonly chainId: string;
  readonly height: number;
  readonly point: string;
  readonly watchId: string;
  readonly deadline: string | null;
  readonly state: RequestState;
}

export interface DataGuardOptions {
  readonly anchor: EvmAnchor;
  readonly watches: WatchedContracts;
  readonly alerts?: AnchorAlerts;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Most requests filed per chain per committed height; 0 files none (answers are still judged). */
  readonly maxPerCommit: number;
}

/** The contract identity of section 12: a child root update (no owner action) keeps it. */
function sameContract(a: Contract, b: Contract): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.nonce === b.nonce &&
    bytesEqual(a.owner, b.owner) &&
    bytesEqual(a.child?.chain ?? new Uint8Array(0), b.child?.chain ?? new Uint8Array(0)) &&
    bytesEqual(a.child?.operator ?? new Uint8Array(0), b.child?.operator ?? new Uint8Array(0))
  );
}

function foundOf(r: LookupResult): FoundAtPoint {
  if (r.kind === 'gap') return { kind: 'gap', start: r.start.toString(), end: r.end.toString() };
  const c = r.leaf.contract;
  return {
    kind: 'contract',
    start: c.start.toString(),
    end: c.end.toString(),
    owner: toHex(c.owner),
    nonce: c.nonce,
    digest: toHex(r.leaf.digest),
  };
}

function firstLine(e: unknown): string {
  return (e as Error).message.split('\n')[0];
}

export class DataGuard {
  private readonly known = new Map<Hex, OwnRequest>();
  private readonly judged = new Set<Hex>();
  /** `chain/height` -> requests filed at that committed height. */
  private readonly perCommit = new Map<string, number>();
  /** Watch id -> the committed height it was last asked about (watches take turns). */
  private readonly lastAsked = new Map<string, number>();
  /**
   * Watch id -> the EVM block its last request was filed at. A watch is asked again only a challenge window later:
   * an operator that withholds its blocks from gossip but answers every request collects the bond of each, so
   * asking on every unseen commit would pay it per commit; once a window bounds it to one bond per watch per
   * window, and a later erasure is still caught within one window (a claim from an earlier committed height
   * outranks an erasure meanwhile).
   */
  private readonly askedAt = new Map<string, bigint>();
  /** Chain -> what its last evaluation saw; nothing is read again until a commit or a request changes. */
  private readonly evaluated = new Map<string, string>();
  private version = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly events: Counter<'event'> | null;
  private bond: bigint | null = null;
  private window: bigint | null = null;

  constructor(private readonly o: DataGuardOptions) {
    this.events = o.registry
      ? new Counter({
          name: 'sortition_evm_data_requests_total',
          help:
            "This node's data requests for watched contracts, by event (filed, answered, slashed: unanswered past " +
            'the deadline, failed: refused or not sent)',
          labelNames: ['event'],
          registers: [o.registry],
        })
      : null;
  }

  /** This node's data requests known here, oldest first. */
  requests(): OwnRequestJson[] {
    return [...this.known.values()].map((r) => ({
      id: r.id,
      chainId: toHex(r.chainId),
      height: r.height,
      point: r.point.toString(),
      watchId: r.watchId,
      deadline: r.deadline === null ? null : r.deadline.toString(),
      state: r.state,
    }));
  }

  /** Resolves once every transaction queued so far has ended. */
  async settled(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  /**
   * The data events of EVM blocks [from, to] for the chains given (`0x` chain id -> genesis): this node's requests
   * found again, and every answer for a watched contract judged. Throws on an RPC failure (the range is scanned
   * again; nothing is judged twice).
   */
  async scan(from: bigint, to: bigint, chains: ReadonlyMap<string, GenesisRecord>): Promise<void> {
    const a = this.o.anchor;
    // Only paths for watched contracts are judged: without a watch there is nothing to read.
    if (![...chains.values()].some((g) => this.o.watches.current(g.chainId).length > 0)) return;
    const range = { address: a.address, abi: ANCHOR_ABI, fromBlock: from, toBlock: to } as const;
    if (a.evmAddress) {
      for (const e of await a.pub.getContractEvents({ ...range, eventName: 'DataRequested' })) {
        const g = chains.get(e.args.chainId!.toLowerCase());
        // This node asks about watched contracts only.
        if (g && this.watchHolding(g.chainId, BigInt(e.args.point!)))
          await this.recover(g, e.args.requestId!);
      }
    }
    for (const e of await a.pub.getContractEvents({ ...range, eventName: 'DataAnswered' })) {
      const g = chains.get(e.args.chainId!.toLowerCase());
      const id = e.args.requestId!;
      if (!g || this.judged.has(id)) continue;
      await this.judge(g, id, e.args.path!);
      this.judged.add(id);
      if (this.judged.size > MAX_JUDGED) this.judged.delete(this.judged.values().next().value!);
    }
  }

  /** A request of this node the contract holds unresolved and this process does not know (a restart): followed. */
  private async recover(g: GenesisRecord, id: Hex): Promise<void> {
    if (this.known.has(id)) return;
    const r = await this.o.anchor.dataRequest(id);
    const me = this.o.anchor.evmAddress;
    if (!r || r.answered || !me || r.requester.toLowerCase() !== me.toLowerCase()) return;
    const w = this.watchHolding(g.chainId, r.point);
    this.remember({
      id,
      chainId: g.chainId,
      height: r.height,
      point: r.point,
      watchId: w?.id ?? '',
      deadline: r.deadline,
      state: 'open',
      attempts: 0,
    });
  }

  private watchHolding(chainId: Uint8Array, point: bigint) {
    return this.o.watches
      .current(chainId)
      .find((w) => w.leaf.contract.start <= point && point < w.leaf.contract.end);
  }

  /** A path published on chain: checked against the committed root, compared with the watch holding its point. */
  private async judge(g: GenesisRecord, id: Hex, pathHex: Hex): Promise<void> {
    const a = this.o.anchor;
    // Every read first: an RPC failure scans the range again, and what follows must happen once.
    const r = await a.dataRequest(id);
    const w = r && this.watchHolding(g.chainId, r.point);
    // At a height this node has seen, its own blocks judge the commit (anchored or commit-mismatch).
    const height = r && w && w.height < r.height ? r.height : null;
    const root = height === null ? undefined : await a.rootAt(g.chainId, height);
    const committed = root && height !== null ? await a.commitAt(g.chainId, height) : undefined;
    const own = this.known.get(id);
    if (own) {
      if (own.state !== 'slashed') this.events?.inc({ event: 'answered' });
      if (UNRESOLVED.has(own.state)) this.resolve(own, 'answered');
    }
    if (!r || !w || !root) return;
    const chain = toHex(g.chainId);
    let found: LookupResult;
    try {
      const path = decodeLookupPath(hexToBytes(pathHex));
      found = verifyLookup(root, path, r.point, g.genesis.spaceStart, g.genesis.spaceEnd);
    } catch (e) {
      // The contract verified it; an answer that does not verify here came from a lying RPC or a broken chain.
      this.o.log.warn(
        { chain, request: id, height: r.height, err: firstLine(e) },
        'a data answer on chain does not verify against the committed root: ignored',
      );
      return;
    }
    if (found.kind === 'leaf' && sameContract(found.leaf.contract, w.leaf.contract)) {
      this.o.log.info(
        { chain, request: id, height: r.height, watch: w.id },
        'a data answer shows the watched contract standing at the committed height',
      );
      return;
    }
    this.o.log.warn(
      { chain, request: id, height: r.height, watch: w.id, found: found.kind },
      'a path on chain shows a watched contract gone from a committed state, with no owner-signed action seen',
    );
    this.o.alerts?.raise({
      kind: 'watch-removed',
      chainId: chain,
      height: r.height,
      committed: committed?.slice(2),
      watchId: w.id,
      start: w.leaf.contract.start.toString(),
      request: id,
      found: foundOf(found),
      watches: watchIds(this.o.watches, g.chainId),
    });
  }

  /**
   * The chain holds a commit at `committedHeight` this node never saw: asks for the path of each watched contract at
   * the chain's last committed height, within the bounds. Reads the contract; sends in the background.
   */
  async unseen(g: GenesisRecord, committedHeight: number): Promise<void> {
    const a = this.o.anchor;
    if (!a.evmAddress || this.o.maxPerCommit === 0) return;
    const chain = toHex(g.chainId);
    const watches = this.o.watches.current(g.chainId);
    const mark = `${committedHeight}/${this.version}/${watches.length}`;
    if (this.evaluated.get(chain) === mark) return;
    // A watch resting since its last request is looked at again on later polls, until its window has passed.
    const resting = watches.length > 0 && (await this.file(g, watches));
    if (!resting) this.evaluated.set(chain, mark);
  }

  /** Files what is due; true when a watch was left out only because it asked within the last window. */
  private async file(g: GenesisRecord, watches: readonly WatchedContract[]): Promise<boolean> {
    const a = this.o.anchor;
    const chain = toHex(g.chainId);
    const c = await a.chain(g.chainId);
    // The contract takes requests on a live chain only, and while a whole window fits before the final deadline.
    if ((c.phase !== 'active' && c.phase !== 'settling') || c.slashed) return false;
    const [head, window, final] = await Promise.all([a.head(), this.windowOf(), a.finalDeadline(g.chainId)]);
    if (head + window > final) return false;
    const height = c.height;
    const key = `${chain}/${height}`;
    let filed = this.perCommit.get(key) ?? 0;
    const busy = new Set(
      [...this.known.values()].filter((r) => UNRESOLVED.has(r.state)).map((r) => r.watchId),
    );
    const turn = (id: string) => this.lastAsked.get(id) ?? -1;
    const rested = (id: string) => head >= (this.askedAt.get(id) ?? -window) + window;
    const candidates = watches.filter((w) => w.height < height && !busy.has(w.id));
    const due = candidates
      .filter((w) => rested(w.id))
      .sort((x, y) => turn(x.id) - turn(y.id) || (x.id < y.id ? -1 : 1));
    for (const w of due) {
      if (filed >= this.o.maxPerCommit) break;
      if (this.unresolved() >= MAX_OPEN) {
        this.o.log.warn({ open: MAX_OPEN }, 'data requests: too many unresolved; filing no more for now');
        break;
      }
      const point = w.leaf.contract.start;
      const id = dataRequestId(g.chainId, height, point);
      // Someone asked already: its answer is judged like any other.
      if (this.known.has(id) || (await a.dataRequest(id))) continue;
      filed++;
      this.perCommit.set(key, filed);
      if (this.perCommit.size > MAX_KNOWN) this.perCommit.delete(this.perCommit.keys().next().value!);
      this.lastAsked.delete(w.id);
      this.lastAsked.set(w.id, height);
      this.askedAt.delete(w.id);
      this.askedAt.set(w.id, head);
      if (this.askedAt.size > 4 * MAX_KNOWN + watches.length)
        this.askedAt.delete(this.askedAt.keys().next().value!);
      if (this.lastAsked.size > 4 * MAX_KNOWN + watches.length)
        this.lastAsked.delete(this.lastAsked.keys().next().value!);
      const r: OwnRequest = {
        id,
        chainId: g.chainId,
        height,
        point,
        watchId: w.id,
        deadline: null,
        state: 'filing',
        attempts: 0,
      };
      this.remember(r);
      const bond = await this.bondOf();
      this.enqueue(() => this.send(r, bond));
    }
    return due.length < candidates.length;
  }

  private async send(r: OwnRequest, bond: bigint): Promise<void> {
    const a = this.o.anchor;
    const log = { chain: toHex(r.chainId), height: r.height, point: r.point.toString(), watch: r.watchId };
    try {
      await a.settle('requestData', [viemHex(r.chainId), BigInt(r.height), r.point], bond);
    } catch (e) {
      if (
        e instanceof AnchorRevert &&
        (e.errorName === 'NotLastCommit' || e.errorName === 'AlreadyRequested')
      ) {
        // A later commit overtook it (the next evaluation asks at the new height), or someone asked first.
        this.o.log.info({ ...log, why: e.errorName }, 'data request not filed');
        this.known.delete(r.id);
        this.version++;
        return;
      }
      // Stopping: the journal finishes the transaction on the next start, and the rescan finds the request.
      if (a.o.signal?.aborted) return;
      this.events?.inc({ event: 'failed' });
      this.resolve(r, 'failed');
      this.o.log.warn({ ...log, err: firstLine(e) }, 'filing a data request failed');
      return;
    }
    r.deadline = (await a.dataRequest(r.id).catch(() => null))?.deadline ?? null;
    if (r.state === 'filing') r.state = 'open';
    this.events?.inc({ event: 'filed' });
    this.o.log.warn(
      { ...log, request: r.id, deadline: r.deadline?.toString() },
      'filed a data request: the anchor holds a state this node never saw; the operator must publish the path',
    );
  }

  /** Slashes this node's requests left unanswered past their deadline, once each. */
  async step(head: bigint): Promise<void> {
    const a = this.o.anchor;
    for (const r of [...this.known.values()]) {
      if (r.state !== 'open') continue;
      if (r.deadline !== null && head <= r.deadline) continue;
      const on = await a.dataRequest(r.id);
      if (!on || on.answered) {
        // Answered (its event is judged when the scan reaches it) or slashed by someone else.
        this.resolve(r, 'answered');
        continue;
      }
      r.deadline = on.deadline;
      if (head <= on.deadline) continue;
      r.state = 'slashing';
      this.enqueue(() => this.slash(r));
    }
  }

  private async slash(r: OwnRequest): Promise<void> {
    const a = this.o.anchor;
    const chain = toHex(r.chainId);
    try {
      await a.settle('slashWithheld', [r.id]);
    } catch (e) {
      if (e instanceof AnchorRevert && e.errorName === 'AlreadyAnswered') return this.resolve(r, 'answered');
      if ((e instanceof AnchorRevert && e.errorName === 'WindowOpen') || a.o.signal?.aborted) {
        r.state = 'open';
        return;
      }
      r.attempts++;
      r.state = r.attempts >= SLASH_ATTEMPTS ? 'failed' : 'open';
      if (r.state === 'failed') this.events?.inc({ event: 'failed' });
      this.o.log.warn(
        { chain, request: r.id, attempt: r.attempts, err: firstLine(e) },
        'slashWithheld failed',
      );
      return;
    }
    this.resolve(r, 'slashed');
    this.events?.inc({ event: 'slashed' });
    const committed = await a.commitAt(r.chainId, r.height).catch(() => undefined);
    this.o.log.warn(
      { chain, request: r.id, height: r.height },
      'a data request went unanswered past its deadline: the operator is slashed (slashWithheld)',
    );
    this.o.alerts?.raise({
      kind: 'data-withheld',
      chainId: chain,
      height: r.height,
      committed: committed?.slice(2),
      watchId: r.watchId || undefined,
      start: r.point.toString(),
      request: r.id,
      watches: watchIds(this.o.watches, r.chainId),
    });
  }

  private resolve(r: OwnRequest, state: RequestState): void {
    r.state = state;
    this.version++;
  }

  private unresolved(): number {
    let n = 0;
    for (const r of this.known.values()) if (UNRESOLVED.has(r.state)) n++;
    return n;
  }

  /** Keeps a request, forgetting the oldest resolved ones past MAX_KNOWN (unresolved ones are at most MAX_OPEN). */
  private remember(r: OwnRequest): void {
    this.known.set(r.id, r);
    for (const [id, x] of this.known) {
      if (this.known.size <= MAX_KNOWN) break;
      if (!UNRESOLVED.has(x.state)) this.known.delete(id);
    }
  }

  private async bondOf(): Promise<bigint> {
    this.bond ??= await this.o.anchor.claimBond();
    return this.bond;
  }

  private async windowOf(): Promise<bigint> {
    this.window ??= await this.o.anchor.challengeWindow();
    return this.window;
  }

  /** Transactions go one after another, off the watcher's loop (each waits for its confirmations). */
  private enqueue(f: () => Promise<void>): void {
    this.queue = this.queue
      .then(f)
      .catch((e: unknown) => this.o.log.error({ err: firstLine(e) }, 'data request transaction failed'));
  }
}
