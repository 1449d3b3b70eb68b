/**
 * Semantic mutations of valid blocks over a real tree. A world holds a chain (the anchor, with its beacon, over
 * [0, 2^64-1), or a chain over a narrower space), a few hundred contracts, some of them child chains, and the light
 * validator's state. Each template is a valid block of a few transactions of every kind; each input mutates one
 * thing in it (a field, a proof, the order or number of transactions, a header field), rebuilds the proofs that
 * the mutation does not target against the state they apply to, signs the header over the root the stateless
 * verifier would compute (so only the mutated transaction can give the block away), and compares validateBlock
 * with the honest full-tree replay (oracle.ts).
 */
import { bytesEqual } from '../../src/codec/canonical.js';
import { isAnchor, type GenesisRecord } from '../../src/chain/genesis.js';
import { genesisState, type ChainState } from '../../src/chain/state.js';
import { applyTx } from '../../src/chain/transition.js';
import { decodeTx, type OwnerOp } from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import { validateBlock } from '../../src/chain/validate.js';
import { taggedHash, toHex } from '../../src/crypto/hash.js';
import type { Leaf } from '../../src/tree/contract.js';
import { EMPTY_ROOT, STEP_RIGHT } from '../../src/tree/node.js';
import type { Path } from '../../src/tree/path.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import type { Summary } from '../../src/tree/verify.js';
import type { Tally } from './judge.js';
import { randomKey, SignedRecord, type FuzzKey } from './keys.js';
import { honestHeader, honestTxs } from './oracle.js';
import type { Rng } from './prng.js';
import {
  actionBytes,
  blockBytes,
  flipBit,
  headerBytes,
  KeyBook,
  makeChain,
  rawLeaf,
  rawOf,
  txBytes,
  U64_MAX,
  type FuzzChain,
  type FuzzTx,
  type RawChild,
  type RawContract,
  type RawHeader,
} from './world.js';

export const SEMANTIC_KIND = 'semantic block';
/** Honest blocks (a template unmutated, and each block that advances the head): all must be accepted. */
export const CONTROL_KIND = 'semantic control';

type PathMode =
  | 'honest'
  | 'flipSibling'
  | 'minUp'
  | 'minDown'
  | 'maxUp'
  | 'maxDown'
  | 'flipDirection'
  | 'dropTop'
  | 'dropBottom'
  | 'otherKey'
  | 'stale'
  | 'swapLeaf'
  | 'neighbour'
  | 'empty';
const PATH_MODES: readonly PathMode[] = [
  'flipSibling',
  'minUp',
  'minDown',
  'maxUp',
  'maxDown',
  'flipDirection',
  'dropTop',
  'dropBottom',
  'otherKey',
  'stale',
  'swapLeaf',
  'neighbour',
  'empty',
];

/** What a transaction means to do; materialized into a FuzzTx against the tree it applies to. */
type Recipe =
  | { kind: 'create'; contract: RawContract; path: PathMode }
  | {
      kind: 'owner';
      target: bigint;
      op: OwnerOp;
      nonce?: bigint;
      nonceDelta?: bigint;
      otherHash?: boolean;
      chainId?: Uint8Array;
      signer?: FuzzKey;
      flipSig?: boolean;
      /** open-child: how the child's genesis is wrong, if it is. */
      genesis?: 'honest' | 'none' | 'space' | 'parent' | 'contract' | 'id';
      /** A genesis on an action other than open-child, or no insert path on a split, or one elsewhere. */
      extraGenesis?: boolean;
      insertPath?: PathMode | 'none';
      extraInsertPath?: boolean;
      path: PathMode;
    }
  | {
      kind: 'childRoot';
      target: bigint;
      height?: bigint;
      heightDelta?: bigint;
      chainId?: Uint8Array;
      signer?: FuzzKey;
      flipSig?: boolean;
      root?: Uint8Array;
      min?: bigint;
      max?: bigint;
      path: PathMode;
    };

interface Child {
  readonly chain: FuzzChain;
}

export class SemanticWorld {
  readonly record = new SignedRecord();
  readonly book = new KeyBook(this.record);
  readonly op: FuzzKey;
  readonly owners: FuzzKey[];
  readonly genesis: GenesisRecord;
  readonly children = new Map<string, Child>();
  leaves: Leaf[];
  state: ChainState;

  constructor(readonly rng: Rng) {
    const anchor = rng.chance(0.5);
    const spaceStart = anchor ? 0n : rng.big(0n, 1n << 62n);
    const spaceEnd = anchor
      ? U64_MAX
      : rng.chance(0.5)
        ? U64_MAX
        : spaceStart + rng.big(1n << 20n, 1n << 62n);
    const chain = makeChain(
      rng,
      spaceStart,
      spaceEnd,
      anchor ? null : { chainId: rng.bytes(32), contract: spaceStart },
      'fuzz',
    );
    this.op = this.book.add(chain.key);
    this.genesis = chain.genesis;
    this.owners = [0, 1, 2, 3].map(() => this.book.add(randomKey(rng)));
    this.leaves = this.initialLeaves(spaceStart, spaceEnd, 32 + rng.int(200));
    const t = ProbabilityTree.fromLeaves(this.leaves);
    const s = t.summary();
    this.state = {
      ...genesisState(this.genesis),
      height: 1 + rng.int(5),
      headHash: rng.bytes(32),
      stateRoot: s.digest,
      stateMin: s.min,
      stateMax: s.max,
      timeMs: 1000,
      beacon: anchor ? rng.bytes(32) : this.genesis.chainId,
    };
  }

  private initialLeaves(lo: bigint, hi: bigint, n: number): Leaf[] {
    const rng = this.rng;
    const span = hi - lo;
    const big = span / BigInt(n * 3) || 1n;
    const out: Leaf[] = [];
    let at = rng.chance(0.5) ? lo : lo + rng.big(0n, big);
    for (let i = 0; i < n && at < hi; i++) {
      const w = rng.pick([1n, 1n + rng.big(0n, 16n), 1n + rng.big(0n, big)]);
      const end = at + w > hi || i === n - 1 ? (rng.chance(0.5) ? hi : at + (hi - at + 1n) / 2n) : at + w;
      if (end <= at) break;
      out.push(this.leafAt(at, end));
      at = end + rng.pick([0n, 0n, 1n, rng.big(0n, big)]);
    }
    return out;
  }

  private leafAt(start: bigint, end: bigint): Leaf {
    const rng = this.rng;
    let child: RawChild | undefined;
    if (rng.chance(0.15)) {
      const c = this.openChain(start, end);
      child = {
        chain: c.genesis.chainId,
        operator: c.key.publicKey,
        height: BigInt(rng.int(4)),
        root: EMPTY_ROOT,
      };
    }
    return rawLeaf({
      start,
      end,
      owner: rng.pick(this.owners).publicKey,
      nonce: BigInt(rng.int(4)),
      terms: rng.chance(0.5) ? new Uint8Array(0) : rng.bytes(32),
      child,
    });
  }

  /** A child chain living in [start, end) of this chain, with its key on record. */
  openChain(start: bigint, end: bigint): FuzzChain {
    const c = makeChain(this.rng, start, end, { chainId: this.genesis.chainId, contract: start }, 'child');
    this.book.add(c.key);
    this.children.set(toHex(c.genesis.chainId), { chain: c });
    return c;
  }

  tree(): ProbabilityTree {
    return ProbabilityTree.fromLeaves(this.leaves);
  }
}

function randomLeaf(t: ProbabilityTree, rng: Rng, lo: bigint, hi: bigint): Leaf | null {
  if (t.size === 0) return null;
  return t.keyPath(rng.big(lo, hi)).leaf;
}

/** A valid next transaction for the tree `t`, or null when none of the chosen kind fits. */
function validRecipe(w: SemanticWorld, t: ProbabilityTree): Recipe | null {
  const rng = w.rng;
  const g = w.genesis.genesis;
  const small = t.size < 24;
  const kind = small
    ? 'create'
    : rng.pick(['create', 'create', 'transfer', 'split', 'close', 'openChild', 'childRoot']);
  if (kind === 'create') {
    const p = rng.big(g.spaceStart, g.spaceEnd);
    const r = t.lookup(p, g.spaceStart, g.spaceEnd);
    if (r.kind !== 'gap' || r.end <= r.start) return null;
    const s = rng.chance(0.3) ? r.start : rng.big(r.start, r.end);
    const e = rng.chance(0.3) ? r.end : s + 1n + rng.big(0n, r.end - s);
    return {
      kind: 'create',
      contract: {
        start: s,
        end: e,
        owner: rng.pick(w.owners).publicKey,
        nonce: 0n,
        terms: new Uint8Array(0),
      },
      path: 'honest',
    };
  }
  const leaf = randomLeaf(t, rng, g.spaceStart, g.spaceEnd);
  if (!leaf) return null;
  const c = leaf.contract;
  const target = c.start;
  if (kind === 'childRoot') {
    if (!c.child) return null;
    return { kind: 'childRoot', target, path: 'honest' };
  }
  if (kind === 'transfer')
    return {
      kind: 'owner',
      target,
      op: {
        kind: 'transfer',
        newOwner: rng.pick(w.owners).publicKey,
        terms: rng.chance(0.5) ? rng.bytes(32) : new Uint8Array(0),
      },
      path: 'honest',
    };
  if (c.child) return null;
  if (kind === 'close') return { kind: 'owner', target, op: { kind: 'close' }, path: 'honest' };
  if (kind === 'split') {
    if (c.end - c.start < 2n) return null;
    const at = rng.chance(0.2) ? c.end - 1n : rng.big(c.start + 1n, c.end);
    return {
      kind: 'owner',
      target,
      op: { kind: 'split', at, rightOwner: rng.pick(w.owners).publicKey, rightTerms: new Uint8Array(0) },
      path: 'honest',
      insertPath: 'honest',
    };
  }
  return {
    kind: 'owner',
    target,
    op: { kind: 'openChild', chainId: new Uint8Array(32) },
    path: 'honest',
    genesis: 'honest',
  };
}

function mutatePath(
  p: Path,
  mode: PathMode | undefined,
  t: ProbabilityTree,
  base: ProbabilityTree,
  key: bigint,
  rng: Rng,
): Path {
  const n = p.steps.length;
  const lvl = n ? rng.int(n) : 0;
  const setAt = <T>(xs: readonly T[], v: T) => xs.map((x, i) => (i === lvl ? v : x));
  const clamp = (v: bigint) => (v < 0n ? 0n : v > U64_MAX ? U64_MAX : v);
  switch (mode ?? 'honest') {
    case 'honest':
      return p;
    case 'flipSibling':
      return n ? { ...p, siblings: setAt(p.siblings, flipBit(p.siblings[lvl], rng)) } : p;
    case 'minUp':
      return n ? { ...p, siblingMin: setAt(p.siblingMin, clamp(p.siblingMin[lvl] + 1n)) } : p;
    case 'minDown':
      return n ? { ...p, siblingMin: setAt(p.siblingMin, clamp(p.siblingMin[lvl] - 1n)) } : p;
    case 'maxUp':
      return n ? { ...p, siblingMax: setAt(p.siblingMax, clamp(p.siblingMax[lvl] + 1n)) } : p;
    case 'maxDown':
      return n ? { ...p, siblingMax: setAt(p.siblingMax, clamp(p.siblingMax[lvl] - 1n)) } : p;
    case 'flipDirection': {
      if (!n) return p;
      const steps = Uint8Array.from(p.steps);
      steps[lvl] ^= STEP_RIGHT;
      return { ...p, steps };
    }
    case 'dropTop':
      return n
        ? {
            steps: p.steps.slice(1),
            siblings: p.siblings.slice(1),
            siblingMin: p.siblingMin.slice(1),
            siblingMax: p.siblingMax.slice(1),
            leaf: p.leaf,
          }
        : p;
    case 'dropBottom':
      return n
        ? {
            steps: p.steps.slice(0, -1),
            siblings: p.siblings.slice(0, -1),
            siblingMin: p.siblingMin.slice(0, -1),
            siblingMax: p.siblingMax.slice(0, -1),
            leaf: p.leaf,
          }
        : p;
    case 'otherKey':
      return t.keyPath(rng.u64());
    case 'stale':
      return base.keyPath(key);
    case 'swapLeaf': {
      const other = t.keyPath(rng.u64()).leaf;
      return other ? { ...p, leaf: other } : p;
    }
    case 'neighbour':
      return n ? t.keyPath(p.siblingMin[lvl]) : p;
    case 'empty':
      return { steps: new Uint8Array(0), siblings: [], siblingMin: [], siblingMax: [], leaf: null };
  }
}

function childGenesis(
  w: SemanticWorld,
  c: RawContract,
  how: NonNullable<Extract<Recipe, { kind: 'owner' }>['genesis']>,
): GenesisRecord {
  const rng = w.rng;
  let start = c.start;
  let end = c.end;
  let parent = w.genesis.chainId;
  let contract = c.start;
  if (how === 'space') {
    if (rng.chance(0.5) && end - start > 1n) end -= 1n;
    else if (end < U64_MAX) end += 1n;
    else start += 1n;
  } else if (how === 'parent') parent = rng.bytes(32);
  else if (how === 'contract') contract = c.start + 1n;
  // A one-point contract at 2^64-1 has no wider or narrower space: name another parent instead.
  if (start >= end) [start, end, parent] = [c.start, c.end, rng.bytes(32)];
  const chain = makeChain(rng, start, end, { chainId: parent, contract }, 'child');
  w.book.add(chain.key);
  w.children.set(toHex(chain.genesis.chainId), { chain });
  return chain.genesis;
}

/** Builds the transaction against the tree it applies to (`t`), `base` being the tree before the block. */
function materialize(w: SemanticWorld, r: Recipe, t: ProbabilityTree, base: ProbabilityTree): FuzzTx {
  const rng = w.rng;
  if (r.kind === 'create') {
    const leaf = rawLeaf(r.contract);
    return {
      kind: 'create',
      contract: r.contract,
      leaf,
      path: mutatePath(t.keyPath(r.contract.start), r.path, t, base, r.contract.start, rng),
    };
  }
  const honestPath = t.keyPath(r.target);
  const path = mutatePath(honestPath, r.path, t, base, r.target, rng);
  const at =
    t.get(r.target) ??
    honestPath.leaf ??
    rawLeaf({
      start: r.target,
      end: r.target + 1n,
      owner: w.owners[0].publicKey,
      nonce: 0n,
      terms: new Uint8Array(0),
    });
  const c = rawOf(at.contract);
  if (r.kind === 'childRoot') {
    const link = c.child;
    const childChain = link ? w.children.get(toHex(link.chain))?.chain : undefined;
    const empty = rng.chance(0.3);
    const lo = c.start + rng.big(0n, c.end - c.start);
    const hi = lo + 1n + rng.big(0n, c.end - lo);
    const h: RawHeader = {
      chainId: r.chainId ?? link?.chain ?? rng.bytes(32),
      height: r.height ?? (link?.height ?? 0n) + 1n + (r.heightDelta ?? BigInt(rng.int(3))),
      prevHash: rng.bytes(32),
      stateRoot: r.root ?? (empty ? EMPTY_ROOT : rng.bytes(32)),
      stateMin: r.min ?? (empty ? 0n : lo),
      stateMax: r.max ?? (empty ? 0n : hi),
      txRoot: rng.bytes(32),
      txCount: rng.int(5),
      timeMs: BigInt(rng.int(1 << 30)),
      beaconSig: new Uint8Array(0),
    };
    const hb = headerBytes(h);
    const signer = r.signer ?? childChain?.key ?? w.op;
    let sig = w.book.signHeader(signer, hb);
    if (r.flipSig) sig = flipBit(sig, rng);
    return { kind: 'childRoot', header: h, headerBytes: hb, signature: sig, path };
  }
  let op = r.op;
  let genesis: GenesisRecord | null = null;
  if (op.kind === 'openChild' && r.genesis !== 'none') {
    genesis = childGenesis(w, c, r.genesis ?? 'honest');
    op = { kind: 'openChild', chainId: r.genesis === 'id' ? rng.bytes(32) : genesis.chainId };
  } else if (r.extraGenesis) genesis = childGenesis(w, c, 'honest');
  const action = {
    chainId: r.chainId ?? w.genesis.chainId,
    contractHash: r.otherHash ? (t.keyPath(rng.u64()).leaf?.digest ?? rng.bytes(32)) : at.digest,
    nonce: r.nonce ?? c.nonce + 1n + (r.nonceDelta ?? 0n),
    op,
  };
  const ab = actionBytes(action);
  const signer = r.signer ?? w.book.of(c.owner) ?? w.op;
  let sig = w.book.signAction(signer, ab);
  if (r.flipSig) sig = flipBit(sig, rng);
  let insertPath: Path | null = null;
  if ((op.kind === 'split' && r.insertPath !== 'none') || r.extraInsertPath) {
    const m = op.kind === 'split' ? op.at : rng.u64();
    // The right half's path is taken after the left half shrank, as the operator does.
    const shrink = op.kind === 'split' && t.get(c.start) && m > c.start && m < c.end;
    if (shrink) t.replace(rawLeaf({ ...c, end: m, nonce: action.nonce & U64_MAX }));
    try {
      const mode = r.insertPath === 'none' ? 'honest' : r.insertPath;
      insertPath = mutatePath(t.keyPath(m), mode, t, base, m, rng);
    } finally {
      if (shrink) t.replace(at);
    }
  }
  return { kind: 'owner', action, actionBytes: ab, signature: sig, path, insertPath, genesis };
}

const EDGES = [0n, 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, U64_MAX - 1n, U64_MAX];

/** One mutation of one recipe: the field, the proof or the signature it targets. */
function mutateRecipe(w: SemanticWorld, r: Recipe, t: ProbabilityTree): Recipe {
  const rng = w.rng;
  if (rng.chance(0.3))
    return r.kind === 'owner' && r.op.kind === 'split' && rng.chance(0.5)
      ? { ...r, insertPath: rng.pick(PATH_MODES) }
      : { ...r, path: rng.pick(PATH_MODES) };
  const g = w.genesis.genesis;
  if (r.kind === 'create') {
    const c = r.contract;
    const near = t.size ? t.keyPath(c.start).leaf!.contract : null;
    const m = rng.int(12);
    const set = (x: Partial<RawContract>): Recipe => ({ ...r, contract: { ...c, ...x } });
    if (m === 0) return set({ end: c.start }); // zero width
    if (m === 1) return set({ end: c.end + 1n + rng.big(0n, 1n << BigInt(rng.int(64))) }); // into the next contract
    if (m === 2 && near) return set({ start: near.start, end: near.end }); // exactly a sold contract
    if (m === 3 && near) return set({ start: near.end - 1n < near.start ? near.start : near.end - 1n }); // overlap by one
    if (m === 4)
      return set({ end: g.spaceEnd + 1n > U64_MAX ? U64_MAX : g.spaceEnd + 1n, start: g.spaceEnd - 1n }); // out of space
    if (m === 5) return set({ start: g.spaceStart === 0n ? 0n : g.spaceStart - 1n }); // below the space
    if (m === 6) return set({ nonce: rng.pick(EDGES.filter((x) => x !== 0n)) });
    if (m === 7)
      return set({ child: { chain: rng.bytes(32), operator: rng.bytes(32), height: 0n, root: EMPTY_ROOT } });
    if (m === 8) return set({ owner: rng.bytes(rng.pick([0, 31, 33])) });
    if (m === 9) return set({ terms: rng.bytes(rng.pick([1, 31, 33])) });
    if (m === 10) return set({ start: U64_MAX - 1n, end: U64_MAX }); // the last point of a 64-bit space
    return set({ start: c.start, end: rng.pick(EDGES) });
  }
  if (r.kind === 'childRoot') {
    const m = rng.int(9);
    if (m === 0) return { ...r, heightDelta: -1n - BigInt(rng.int(2)) }; // not increasing
    if (m === 1) return { ...r, height: rng.pick(EDGES) };
    if (m === 2) return { ...r, chainId: rng.bytes(32) };
    if (m === 3) return { ...r, signer: rng.pick(w.owners) };
    if (m === 4) return { ...r, flipSig: true };
    if (m === 5) return { ...r, min: rng.pick(EDGES) };
    if (m === 6) return { ...r, max: rng.pick(EDGES) };
    if (m === 7) return { ...r, root: EMPTY_ROOT, min: rng.pick(EDGES), max: rng.pick(EDGES) };
    return { ...r, root: rng.bytes(32), min: 0n, max: U64_MAX };
  }
  const m = rng.int(14);
  if (m === 0) return { ...r, nonceDelta: rng.pick([-1n, 1n, -2n]) };
  if (m === 1) return { ...r, nonce: rng.pick(EDGES) };
  if (m === 2) return { ...r, otherHash: true };
  if (m === 3)
    return { ...r, chainId: rng.chance(0.5) ? rng.bytes(32) : taggedHash('genesis', rng.bytes(8)) };
  if (m === 4) return { ...r, signer: rng.pick([w.op, ...w.owners]) };
  if (m === 5) return { ...r, flipSig: true };
  if (m === 6) return { ...r, extraGenesis: true };
  if (m === 7)
    return {
      ...r,
      extraInsertPath: r.op.kind !== 'split',
      insertPath: r.op.kind === 'split' ? 'none' : undefined,
    };
  if (m === 8) {
    const leaf = t.get(r.target);
    const c = leaf?.contract;
    const at = rng.pick([
      c?.start ?? 0n,
      c?.end ?? 0n,
      (c?.end ?? 0n) + 1n,
      U64_MAX,
      0n,
      (c?.start ?? 1n) - 1n,
    ]);
    return {
      ...r,
      op: {
        kind: 'split',
        at: at < 0n ? 0n : at > U64_MAX ? U64_MAX : at,
        rightOwner: rng.pick(w.owners).publicKey,
        rightTerms: new Uint8Array(0),
      },
      insertPath: 'honest',
    };
  }
  if (m === 9) return { ...r, op: { kind: 'close' } };
  if (m === 10)
    return {
      ...r,
      op: { kind: 'openChild', chainId: new Uint8Array(32) },
      genesis: rng.pick(['honest', 'none', 'space', 'parent', 'contract', 'id'] as const),
    };
  if (m === 11)
    return {
      ...r,
      op: { kind: 'transfer', newOwner: rng.bytes(rng.pick([31, 32, 33])), terms: new Uint8Array(0) },
    };
  if (m === 12)
    return {
      ...r,
      op: { kind: 'transfer', newOwner: w.owners[0].publicKey, terms: rng.bytes(rng.pick([1, 31, 32, 33])) },
    };
  return { ...r, target: r.target + rng.pick([1n, -1n]) };
}

interface Template {
  readonly recipes: Recipe[];
}

function template(w: SemanticWorld): Template {
  const t = w.tree();
  const recipes: Recipe[] = [];
  const want = 1 + w.rng.int(6);
  for (let tries = 0; recipes.length < want && tries < want * 8; tries++) {
    const r = validRecipe(w, t);
    if (!r) continue;
    const tx = materialize(w, r, t, t);
    // A recipe the honest replay refuses (a split point colliding with a start, ...) is dropped from the template.
    const res = honestTxs(w.genesis, t, [tx], w.record);
    if (res.txsValid) recipes.push(r);
  }
  return { recipes };
}

type HeaderMutation = (h: RawHeader, rng: Rng, w: SemanticWorld) => RawHeader;
const HEADER_MUTATIONS: readonly HeaderMutation[] = [
  (h, rng) => ({ ...h, height: h.height + rng.pick([-1n, 1n, 2n]) }),
  (h, rng) => ({ ...h, height: rng.pick(EDGES) }),
  (h, rng) => ({ ...h, prevHash: flipBit(h.prevHash, rng) }),
  (h, rng) => ({ ...h, stateRoot: flipBit(h.stateRoot, rng) }),
  (h, rng) => ({ ...h, stateMin: rng.chance(0.5) ? h.stateMin + 1n : rng.pick(EDGES) }),
  (h, rng) => ({ ...h, stateMax: rng.chance(0.5) ? h.stateMax - 1n : rng.pick(EDGES) }),
  (h, rng) => ({ ...h, txRoot: flipBit(h.txRoot, rng) }),
  (h, rng) => ({ ...h, txCount: h.txCount + rng.pick([1, -1, 20_001]) }),
  (h, rng) => ({ ...h, timeMs: rng.chance(0.5) ? h.timeMs - 1n : rng.pick(EDGES) }),
  (h, rng) => ({ ...h, chainId: rng.bytes(32) }),
  (h, rng, w) =>
    isAnchor(w.genesis.genesis)
      ? { ...h, beaconSig: rng.chance(0.5) ? flipBit(h.beaconSig, rng) : new Uint8Array(0) }
      : { ...h, beaconSig: rng.bytes(64) },
];

/** Runs `count` semantic inputs (or until `deadline`, performance.now() ms). */
export function semanticCampaign(rng: Rng, tally: Tally, count: number, deadline: number): number {
  let done = 0;
  let w = new SemanticWorld(rng.fork(1));
  for (let templates = 0; done < count && performance.now() < deadline; templates++) {
    if (templates % 150 === 149) w = new SemanticWorld(rng.fork(templates));
    const tp = template(w);
    const base = w.tree();
    oneInput(w, tp, base, tally, true);
    for (let j = 0; j < 8 && done < count; j++, done++) oneInput(w, tp, base, tally, false);
    if (w.rng.chance(0.6)) advance(w, tp, tally);
  }
  return done;
}

function describeRecipe(r: Recipe): string {
  const show = (_: string, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v).slice(0, 16) : v;
  return JSON.stringify(r, show).slice(0, 400);
}

/** Kept proofs: the transactions move (or go) with the proofs built for their old position. */
type Reshape = <T>(xs: readonly T[]) => T[];

function oneInput(
  w: SemanticWorld,
  tp: Template,
  base: ProbabilityTree,
  tally: Tally,
  control: boolean,
): void {
  const rng = w.rng;
  const kind = control ? CONTROL_KIND : SEMANTIC_KIND;
  let recipes = tp.recipes.slice();
  let what = 'control';
  let headerMut: HeaderMutation | null = null;
  let reshape: Reshape | null = null;
  const work = ProbabilityTree.fromLeaves(w.leaves);
  if (!control) {
    const family = rng.int(10);
    if (family < 6 && recipes.length) {
      const i = rng.int(recipes.length);
      recipes[i] = mutateRecipe(w, recipes[i], work);
      what = `tx ${i} of ${recipes.length}: ${describeRecipe(recipes[i])}`;
    } else if (family < 8) {
      const m = rng.int(6);
      const i = rng.int(recipes.length || 1);
      const j = rng.int(recipes.length || 1);
      if (m === 0 && recipes.length > 1) {
        [recipes[i], recipes[j]] = [recipes[j], recipes[i]];
        what = `reordered ${i}<->${j}, proofs rebuilt`;
      } else if (m === 1 && recipes.length > 1) {
        reshape = <T>(xs: readonly T[]) => {
          const out = xs.slice();
          [out[i], out[j]] = [out[j], out[i]];
          return out;
        };
        what = `reordered ${i}<->${j}, proofs kept`;
      } else if (m === 2 && recipes.length) {
        recipes.splice(i, 0, recipes[i]);
        what = `duplicated ${i}, proofs rebuilt`;
      } else if (m === 3 && recipes.length) {
        reshape = <T>(xs: readonly T[]) => [...xs.slice(0, i + 1), xs[i], ...xs.slice(i + 1)];
        what = `duplicated ${i}, proofs kept`;
      } else if (m === 4 && recipes.length) {
        reshape = <T>(xs: readonly T[]) => xs.filter((_, k) => k !== i);
        what = `dropped ${i}, proofs kept`;
      } else {
        // Two creates over overlapping intervals, each proof right for its own position.
        const first = recipes.find((r) => r.kind === 'create') ?? validRecipe(w, work);
        if (first && first.kind === 'create') {
          const c = first.contract;
          const s = c.start + rng.big(0n, c.end - c.start);
          const end = s + 1n + rng.big(0n, U64_MAX - s);
          if (!recipes.includes(first)) recipes.unshift(first);
          recipes = [...recipes, { kind: 'create', contract: { ...c, start: s, end }, path: 'honest' }];
        }
        what = 'overlapping creates';
      }
    } else {
      headerMut = rng.pick(HEADER_MUTATIONS);
      what = `header mutation ${HEADER_MUTATIONS.indexOf(headerMut)}`;
    }
  }
  const built = recipes.map((r) => materializeAndApply(w, r, work, base));
  const txs = reshape ? reshape(built) : built;
  const honestTree = ProbabilityTree.fromLeaves(w.leaves);
  const txsValid = honestTxs(w.genesis, honestTree, txs, w.record).txsValid;
  const bodies = txs.map(txBytes);
  // The header commits to the root the stateless verifier reaches, so only the mutation can give the block away.
  const root = verifierFold(w.genesis, w.state, bodies) ?? honestTree.summary();
  const state = w.state;
  let h: RawHeader = {
    chainId: w.genesis.chainId,
    height: BigInt(state.height) + 1n,
    prevHash: state.headHash,
    stateRoot: root.digest,
    stateMin: root.min,
    stateMax: root.max,
    txRoot: txRoot(bodies),
    txCount: bodies.length,
    timeMs: BigInt(state.timeMs) + BigInt(rng.int(3)),
    beaconSig: isAnchor(w.genesis.genesis)
      ? w.record.sign(w.op, taggedHash('beaconSig', state.beacon))
      : new Uint8Array(0),
  };
  if (headerMut) h = headerMut(h, rng, w);
  h = { ...h, txCount: h.txCount < 0 ? 0 : h.txCount };
  const hb = headerBytes(h);
  const signer = headerMut && rng.chance(0.1) ? rng.pick(w.owners) : w.op;
  const sig = w.book.signHeader(signer, hb);
  const bytes = blockBytes(hb, sig, bodies);
  // The oracle tree holds the state after the body when the body is valid; then the header decides.
  const valid = txsValid && honestHeader(state, h, hb, sig, bodies, honestTree, w.record);
  const out = tally.call(
    kind,
    () => what,
    () => validateBlock(state, bytes),
  );
  if (!out.ok) {
    tally.input(kind);
    return;
  }
  const r = out.value;
  tally.input(kind, r.ok);
  if (r.ok && !valid) tally.note(kind, 'acceptedInvalid', what);
  else if (r.ok && !bytesEqual(r.state.stateRoot, honestTree.root))
    tally.note(kind, 'acceptedInvalid', `${what}: post-state root differs`);
  else if (!r.ok && valid)
    tally.note(kind, 'rejectedValid', `${what}: ${r.error.code} ${r.error.message.slice(0, 120)}`);
}

function materializeAndApply(
  w: SemanticWorld,
  r: Recipe,
  work: ProbabilityTree,
  base: ProbabilityTree,
): FuzzTx {
  const tx = materialize(w, r, work, base);
  honestTxs(w.genesis, work, [tx], w.record);
  return tx;
}

/** The summary the stateless verifier reaches over the body, or null if some transaction fails it. */
function verifierFold(g: GenesisRecord, state: ChainState, bodies: readonly Uint8Array[]): Summary | null {
  let cur: Summary = { digest: state.stateRoot, min: state.stateMin, max: state.stateMax };
  try {
    for (const b of bodies) cur = applyTx(g, cur, decodeTx(b));
    return cur;
  } catch {
    return null;
  }
}

/** The template's honest block on the world's head, with its transactions and the tree after it. */
export function honestBlock(
  w: SemanticWorld,
  tp: Template = template(w),
): {
  bytes: Uint8Array;
  txs: FuzzTx[];
  tree: ProbabilityTree;
  headerBytes: Uint8Array;
  signature: Uint8Array;
} | null {
  const t = w.tree();
  const base = w.tree();
  const txs = tp.recipes.map((r) => materializeAndApply(w, r, t, base));
  const tree = w.tree();
  if (!honestTxs(w.genesis, tree, txs, w.record).txsValid) return null;
  const bodies = txs.map(txBytes);
  const s = tree.summary();
  const state = w.state;
  const h: RawHeader = {
    chainId: w.genesis.chainId,
    height: BigInt(state.height) + 1n,
    prevHash: state.headHash,
    stateRoot: s.digest,
    stateMin: s.min,
    stateMax: s.max,
    txRoot: txRoot(bodies),
    txCount: bodies.length,
    timeMs: BigInt(state.timeMs + 1),
    beaconSig: isAnchor(w.genesis.genesis)
      ? w.record.sign(w.op, taggedHash('beaconSig', state.beacon))
      : new Uint8Array(0),
  };
  const hb = headerBytes(h);
  const signature = w.book.signHeader(w.op, hb);
  return { bytes: blockBytes(hb, signature, bodies), txs, tree, headerBytes: hb, signature };
}

export function newTemplate(w: SemanticWorld): Template {
  return template(w);
}

/** Makes the template's honest block the head: the next templates build on its state. */
function advance(w: SemanticWorld, tp: Template, tally: Tally): void {
  const b = honestBlock(w, tp);
  if (!b) return;
  const state = w.state;
  const out = tally.call(
    CONTROL_KIND,
    () => 'advance',
    () => validateBlock(state, b.bytes),
  );
  tally.input(CONTROL_KIND, out.ok && out.value.ok);
  if (!out.ok) return;
  if (!out.value.ok) {
    tally.note(
      CONTROL_KIND,
      'rejectedValid',
      `honest block: ${out.value.error.code} ${out.value.error.message}`,
    );
    return;
  }
  w.state = out.value.state;
  w.leaves = [...b.tree.leaves()];
}
