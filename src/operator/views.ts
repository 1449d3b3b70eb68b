/**
 * The operator's read side. The producer's tree is the *current* state (including acknowledged, unsealed
 * requests: what an owner's next action must name); the committed view follows the *head block*, so that
 * membership proofs always verify against a signed header. Both trees share their leaves.
 */
import { bytesEqual } from '../codec/canonical.js';
import { toHex } from '../crypto/hash.js';
import { ChainError } from '../chain/errors.js';
import { isAnchor, type GenesisRecord } from '../chain/genesis.js';
import type { SignedHeader } from '../chain/header.js';
import type { ChainState } from '../chain/state.js';
import type { Leaf } from '../tree/contract.js';
import type { Path } from '../tree/path.js';
import type { ProbabilityTree } from '../tree/tree.js';
import { checkPath } from '../tree/verify.js';
import { contractJson, encodePath } from './json.js';
import type { ChainInfo, ContractJson, ContractView, UpstreamStatus } from '../api/operator.js';

/** Applies one block's contract changes to a tree: removals, then replacements, then insertions. */
function applyChanges(tree: ProbabilityTree, changes: ReadonlyMap<bigint, Leaf | null>): void {
  const replaces: Leaf[] = [];
  const inserts: Leaf[] = [];
  for (const [start, leaf] of changes) {
    const had = tree.get(start) !== undefined;
    if (!leaf) {
      if (had) tree.remove(start);
    } else if (had) replaces.push(leaf);
    else inserts.push(leaf);
  }
  for (const l of replaces) tree.replace(l);
  for (const l of inserts) tree.insert(l);
}

/** The head block's signed header, state and tree (null header before the first block). */
export class CommittedView {
  constructor(
    readonly tree: ProbabilityTree,
    public head: SignedHeader | null,
    public state: ChainState,
  ) {}

  /** Moves the view to a written block: its header, its state and the contracts it changed. */
  advance(head: SignedHeader, state: ChainState, changes: ReadonlyMap<bigint, Leaf | null>): void {
    applyChanges(this.tree, changes);
    this.head = head;
    this.state = state;
  }

  /** The settlement lottery's first level: the head's signed header and the lookup path of `point`. */
  lotteryLevel(point: bigint): { header: SignedHeader; path: Path } | null {
    if (!this.head) return null;
    return { header: this.head, path: this.tree.lookupPath(point) };
  }
}

/** `GET /v1/contracts/:start`: the current and committed contract, and the committed one's proof. */
export function contractView(
  chainId: Uint8Array,
  current: ProbabilityTree,
  committed: CommittedView,
  start: bigint,
): ContractView {
  const cur = current.get(start) ?? null;
  const com = committed.tree.get(start) ?? null;
  if (!cur && !com) throw new ChainError('NOT_FOUND', `no contract starts at ${start}`);
  let proof = null;
  if (com && committed.head) {
    const path = committed.tree.memberPath(start);
    checkPath(committed.state.stateRoot, path);
    proof = {
      path: toHex(encodePath(path)),
      height: committed.state.height,
      stateRoot: toHex(committed.state.stateRoot),
      headHash: toHex(committed.state.headHash),
      signedHeader: toHex(committed.head.bytes),
    };
  }
  return {
    chainId: toHex(chainId),
    start: start.toString(),
    contract: cur ? contractJson(cur) : null,
    committed: com ? contractJson(com) : null,
    proof,
    pending: !(cur && com && bytesEqual(cur.digest, com.digest)),
  };
}

/** Contract starts by owner key in the current state; built on the first query, then kept up to date. */
export class OwnerIndex {
  private idx: Map<string, Set<bigint>> | null = null;

  /** A contract changed from `before` to `after` (either may be absent). */
  update(before: Leaf | undefined, after: Leaf | null): void {
    const idx = this.idx;
    if (!idx) return;
    if (before) {
      const k = toHex(before.contract.owner);
      const set = idx.get(k);
      set?.delete(before.contract.start);
      if (set && set.size === 0) idx.delete(k);
    }
    if (after) this.add(idx, after);
  }

  /** Current contracts of an owner, in start order, after `after`, at most `limit`. */
  page(
    tree: ProbabilityTree,
    owner: Uint8Array,
    after: bigint | null,
    limit: number,
  ): { contracts: ContractJson[]; next: string | null } {
    if (!this.idx) {
      const idx = new Map<string, Set<bigint>>();
      for (const leaf of tree.leaves()) this.add(idx, leaf);
      this.idx = idx;
    }
    const starts = [...(this.idx.get(toHex(owner)) ?? [])]
      .filter((s) => after === null || s > after)
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const page = starts.slice(0, limit);
    const contracts = page.map((s) => contractJson(tree.get(s)!));
    return { contracts, next: starts.length > limit ? page[page.length - 1].toString() : null };
  }

  private add(idx: Map<string, Set<bigint>>, leaf: Leaf): void {
    const k = toHex(leaf.contract.owner);
    let set = idx.get(k);
    if (!set) idx.set(k, (set = new Set()));
    set.add(leaf.contract.start);
  }
}

/** `GET /v1/chain`. */
export function chainInfo(
  genesis: GenesisRecord,
  committed: CommittedView,
  current: {
    pendingTxs: number;
    contracts: number;
    expired: boolean;
    expiredReason: string | null;
    effectiveExpiry: number;
    anchorHeight: number | null;
    notAnchoredReason: string | null;
  },
  upstream: UpstreamStatus | null,
): ChainInfo {
  const g = genesis.genesis;
  const s = committed.state;
  return {
    chainId: toHex(genesis.chainId),
    genesis: toHex(genesis.bytes),
    name: g.name,
    operatorKey: toHex(g.operatorKey),
    spaceStart: g.spaceStart.toString(),
    spaceEnd: g.spaceEnd.toString(),
    parentChain: isAnchor(g) ? null : toHex(g.parentChain),
    parentContract: isAnchor(g) ? null : g.parentContract.toString(),
    head: {
      height: s.height,
      hash: toHex(s.headHash),
      stateRoot: toHex(s.stateRoot),
      timeMs: s.timeMs,
      signedHeader: committed.head ? toHex(committed.head.bytes) : null,
    },
    pendingTxs: current.pendingTxs,
    expiry: g.expiry,
    effectiveExpiry: current.effectiveExpiry,
    anchorHeight: current.anchorHeight,
    expired: current.expired,
    expiredReason: current.expiredReason,
    anchored: current.notAnchoredReason === null,
    notAnchoredReason: current.notAnchoredReason,
    contracts: current.contracts,
    upstream,
  };
}
