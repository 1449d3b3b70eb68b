/**
 * Forged evidence. An evidence world is a parent chain with a child chain in one of its contracts, two honest
 * blocks, and every kind of genuine evidence against it: an equivocation at height 2, an invalid transition (a
 * signed block whose create overlaps a sold contract), a child-root mismatch (the parent commits child header X,
 * the child signed Y at the same height) and a stale contract state (presented at height 1, transferred at 2).
 * Each input is a forgery made from those parts (swapped, re-signed, moved to other heights or chains, proofs
 * pointed elsewhere, bits flipped) or a genuine variant, and verifyEvidence is judged against what the world's
 * honest data supports: the record of what each key signed, the blocks behind each signed header and the full
 * tree behind each state root (oracle.ts replays transitions).
 */
import { sortition } from '../../src/gen/proto.js';
import { bytesEqual, bytesOf } from '../../src/codec/canonical.js';
import { decodeBlock } from '../../src/chain/block.js';
import {
  makeChildRootMismatch,
  makeEquivocation,
  makeInvalidTransition,
  makeStaleState,
  verifyEvidence,
  type GenesisLookup,
} from '../../src/chain/evidence.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { decodeSignedHeader, headerHash, type SignedHeader } from '../../src/chain/header.js';
import { genesisState, stateAfter, type ChainState } from '../../src/chain/state.js';
import { decodeTx, type Tx } from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import { toHex } from '../../src/crypto/hash.js';
import type { Leaf } from '../../src/tree/contract.js';
import { EMPTY_ROOT } from '../../src/tree/node.js';
import { pathFromProto, type Path } from '../../src/tree/path.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { Tracker } from '../../src/light/tracker.js';
import type { Tally } from './judge.js';
import { randomKey, SignedRecord, type FuzzKey } from './keys.js';
import { honestHeader, honestTxs, pathsEqual } from './oracle.js';
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
  signedHeaderBytes,
  txBytes,
  type FuzzChain,
  type FuzzTx,
  type RawHeader,
} from './world.js';
import { mutateWire } from './wire-mutators.js';

export const EVIDENCE_KIND = 'forged evidence';
const EvPb = sortition.v1.Evidence;

interface Signed {
  readonly raw: RawHeader;
  readonly sh: SignedHeader;
}

export class EvidenceWorld {
  readonly record = new SignedRecord();
  readonly book = new KeyBook(this.record);
  readonly parent: FuzzChain;
  readonly child: FuzzChain;
  readonly owners: FuzzKey[];
  readonly trees = new Map<string, Leaf[]>();
  readonly bodies = new Map<string, Uint8Array[]>();
  readonly genesisOf: GenesisLookup;
  /** Parent headers at heights 1 and 2, a second one at 2, and the child's X (committed) and Y at height 1. */
  readonly h1: Signed;
  readonly h2: Signed;
  readonly h2b: Signed;
  readonly x: Signed;
  readonly y: Signed;
  readonly y2: Signed;
  readonly badBlock: Uint8Array;
  readonly goodBlock: Uint8Array;
  readonly genuine: { kind: string; bytes: Uint8Array }[];
  readonly leafA: Leaf;
  readonly leafB: Leaf;

  constructor(readonly rng: Rng) {
    this.parent = makeChain(rng, 0n, 1n << 40n, { chainId: rng.bytes(32), contract: 0n }, 'parent');
    this.book.add(this.parent.key);
    const cStart = 1000n + BigInt(rng.int(1000));
    this.child = makeChain(
      rng,
      cStart,
      cStart + 1000n,
      { chainId: this.parent.genesis.chainId, contract: cStart },
      'child',
    );
    this.book.add(this.child.key);
    this.owners = [randomKey(rng), randomKey(rng)].map((k) => this.book.add(k));
    const byId = new Map<string, GenesisRecord>([
      [toHex(this.parent.genesis.chainId), this.parent.genesis],
      [toHex(this.child.genesis.chainId), this.child.genesis],
    ]);
    this.genesisOf = (id) => byId.get(toHex(id));
    const o = this.owners[0].publicKey;
    this.leafA = rawLeaf({
      start: 0n,
      end: 100n + BigInt(rng.int(100)),
      owner: o,
      nonce: 0n,
      terms: new Uint8Array(0),
    });
    this.leafB = rawLeaf({ start: 5000n, end: 6000n, owner: o, nonce: 1n, terms: new Uint8Array(0) });
    const leafC = rawLeaf({
      start: cStart,
      end: cStart + 1000n,
      owner: o,
      nonce: 1n,
      terms: new Uint8Array(0),
      child: {
        chain: this.child.genesis.chainId,
        operator: this.child.key.publicKey,
        height: 0n,
        root: EMPTY_ROOT,
      },
    });
    const tree1 = ProbabilityTree.fromLeaves([this.leafA, this.leafB, leafC]);
    const s0 = genesisState(this.parent.genesis);
    this.trees.set(toHex(EMPTY_ROOT), []);
    // Height 1: the three contracts, created in one block (proofs built as they go).
    const t = new ProbabilityTree();
    const creates: FuzzTx[] = [this.leafA, this.leafB, leafC].map((l) => {
      const tx: FuzzTx = {
        kind: 'create',
        contract: rawOf(l.contract),
        leaf: l,
        path: t.keyPath(l.contract.start),
      };
      t.insert(l);
      return tx;
    });
    // The creates above carry a nonce or a child: they make an invalid block, used only as a body for h1's record.
    this.h1 = this.signBlock(this.parent, s0, tree1, creates.map(txBytes), 10n);
    const st1 = stateAfter(this.parent.genesis, this.h1.sh);
    // Child headers X and Y at height 1, and Y2 at height 2.
    const childHeader = (height: bigint, root: Uint8Array): Signed => {
      const raw: RawHeader = {
        chainId: this.child.genesis.chainId,
        height,
        prevHash: rng.bytes(32),
        stateRoot: root,
        stateMin: root === EMPTY_ROOT ? 0n : cStart,
        stateMax: root === EMPTY_ROOT ? 0n : cStart + 10n,
        txRoot: rng.bytes(32),
        txCount: 0,
        timeMs: 5n,
        beaconSig: new Uint8Array(0),
      };
      const hb = headerBytes(raw);
      const sig = this.book.signHeader(this.child.key, hb);
      return { raw, sh: decodeSignedHeader(signedHeaderBytes(hb, sig)) };
    };
    this.x = childHeader(1n, EMPTY_ROOT);
    this.y = childHeader(1n, rng.bytes(32));
    this.y2 = childHeader(2n, rng.bytes(32));
    // Height 2: commit X into C, transfer A.
    const t2 = ProbabilityTree.fromLeaves([...tree1.leaves()]);
    const commit: FuzzTx = {
      kind: 'childRoot',
      header: this.x.raw,
      headerBytes: this.x.sh.headerBytes,
      signature: this.x.sh.signature,
      path: t2.keyPath(cStart),
    };
    honestTxs(this.parent.genesis, t2, [commit], this.record);
    const action = {
      chainId: this.parent.genesis.chainId,
      contractHash: this.leafA.digest,
      nonce: 1n,
      op: { kind: 'transfer' as const, newOwner: this.owners[1].publicKey, terms: new Uint8Array(0) },
    };
    const ab = actionBytes(action);
    const transfer: FuzzTx = {
      kind: 'owner',
      action,
      actionBytes: ab,
      signature: this.book.signAction(this.owners[0], ab),
      path: t2.keyPath(0n),
      insertPath: null,
      genesis: null,
    };
    if (!honestTxs(this.parent.genesis, t2, [transfer], this.record).txsValid)
      throw new Error('fuzz: bad world');
    const body2 = [commit, transfer].map(txBytes);
    this.h2 = this.signBlock(this.parent, st1, t2, body2, 20n);
    this.goodBlock = blockBytes(this.h2.sh.headerBytes, this.h2.sh.signature, body2);
    this.h2b = this.signBlock(this.parent, st1, tree1, [], 21n);
    // An invalid block at height 2: a create over A's interval, with the root it would have.
    const over = rawLeaf({ start: 50n, end: 60n, owner: o, nonce: 0n, terms: new Uint8Array(0) });
    const bad: FuzzTx = {
      kind: 'create',
      contract: rawOf(over.contract),
      leaf: over,
      path: tree1.keyPath(50n),
    };
    const badTree = ProbabilityTree.fromLeaves([...tree1.leaves()]);
    const bh = this.signBlock(this.parent, st1, badTree, [txBytes(bad)], 22n, over);
    this.badBlock = blockBytes(bh.sh.headerBytes, bh.sh.signature, this.bodies.get(toHex(bh.sh.hash))!);
    const stale = makeStaleState(this.h1.sh, tree1.memberPath(0n), this.h2.sh, t2.lookupPath(0n));
    this.genuine = [
      { kind: 'equivocation', bytes: makeEquivocation(this.h2.sh, this.h2b.sh) },
      { kind: 'invalid transition', bytes: makeInvalidTransition(this.h1.sh, decodeBlock(this.badBlock)) },
      {
        kind: 'child-root mismatch',
        bytes: makeChildRootMismatch(decodeBlock(this.goodBlock), 0, this.y.sh),
      },
      { kind: 'stale state', bytes: stale },
    ];
  }

  /** Signs a header over `body` on `state` whose state is `tree` (plus `extra`, for the overlapping block). */
  private signBlock(
    c: FuzzChain,
    state: ChainState,
    tree: ProbabilityTree,
    body: Uint8Array[],
    timeMs: bigint,
    extra?: Leaf,
  ): Signed {
    let s = tree.summary();
    if (extra) {
      // The overlap cannot go into a real tree: commit to a made-up root, as a cheating operator would.
      s = { digest: this.rng.bytes(32), min: 0n, max: s.max };
    } else this.trees.set(toHex(s.digest), [...tree.leaves()]);
    const raw: RawHeader = {
      chainId: c.genesis.chainId,
      height: BigInt(state.height) + 1n,
      prevHash: state.headHash,
      stateRoot: s.digest,
      stateMin: s.min,
      stateMax: s.max,
      txRoot: txRoot(body),
      txCount: body.length,
      timeMs,
      beaconSig: new Uint8Array(0),
    };
    const hb = headerBytes(raw);
    const sh = decodeSignedHeader(signedHeaderBytes(hb, this.book.signHeader(c.key, hb)));
    this.bodies.set(toHex(sh.hash), body);
    return { raw, sh };
  }

  /** Re-signs a header with changes, by `key` (default: the chain's operator), recording its body if given. */
  resign(s: Signed, change: Partial<RawHeader>, key?: FuzzKey): SignedHeader {
    const raw = { ...s.raw, ...change };
    const hb = headerBytes(raw);
    const own = bytesEqual(raw.chainId, this.child.genesis.chainId) ? this.child.key : this.parent.key;
    const sh = decodeSignedHeader(signedHeaderBytes(hb, this.book.signHeader(key ?? own, hb)));
    const body = this.bodies.get(toHex(s.sh.hash));
    if (body && raw.txCount === s.raw.txCount && bytesEqual(raw.txRoot, s.raw.txRoot))
      this.bodies.set(toHex(sh.hash), body);
    return sh;
  }

  // ---- the truth oracle ---------------------------------------------------------------------------------

  private signedBy(g: GenesisRecord, sh: SignedHeader): boolean {
    return (
      bytesEqual(sh.header.chainId, g.chainId) &&
      this.record.signed(g.genesis.operatorKey, headerHash(sh.headerBytes), sh.signature)
    );
  }

  private treeOf(root: Uint8Array): ProbabilityTree | null {
    const leaves = this.trees.get(toHex(root));
    return leaves ? ProbabilityTree.fromLeaves(leaves) : null;
  }

  /** Whether the world's honest data supports what the evidence claims (decoding failures: it does not). */
  truth(bytes: Uint8Array): boolean {
    try {
      return this.truthOf(EvPb.decode(bytes));
    } catch {
      return false;
    }
  }

  private truthOf(m: sortition.v1.Evidence): boolean {
    const kinds = [m.equivocation, m.invalidTransition, m.childRootMismatch, m.staleState].filter(
      (x) => x != null,
    );
    if (kinds.length !== 1) return false;
    if (m.equivocation) {
      const a = decodeSignedHeader(bytesOf(m.equivocation.first));
      const b = decodeSignedHeader(bytesOf(m.equivocation.second));
      const g = this.genesisOf(a.header.chainId);
      if (!g || !this.signedBy(g, a) || !this.signedBy(g, b)) return false;
      return (
        a.header.height === b.header.height && Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)) < 0
      );
    }
    if (m.invalidTransition) {
      const block = decodeBlock(bytesOf(m.invalidTransition.block));
      const h = block.signed.header;
      const g = this.genesisOf(h.chainId);
      if (!g || !this.signedBy(g, block.signed)) return false;
      const prevBytes = bytesOf(m.invalidTransition.previous);
      let state: ChainState;
      if (h.height === 1) {
        if (prevBytes.length) return false;
        state = genesisState(g);
      } else {
        const prev = decodeSignedHeader(prevBytes);
        if (!this.signedBy(g, prev) || prev.header.height !== h.height - 1) return false;
        state = stateAfter(g, prev);
      }
      if (!bytesEqual(h.prevHash, state.headHash)) return false;
      // A body the header does not commit to proves nothing about the operator.
      if (block.txs.length !== h.txCount || !bytesEqual(txRoot(block.txs), h.txRoot)) return false;
      const tree = this.treeOf(state.stateRoot);
      // Every root the operator signed here has its tree on record but the overlapping block's.
      if (!tree) return block.txs.length > 0;
      let txs: FuzzTx[];
      try {
        txs = block.txs.map((b) => fuzzTxOf(decodeTx(b)));
      } catch {
        return true; // an undecodable transaction inside the signed body
      }
      const raw = rawHeaderOf(block.signed);
      const ok =
        honestTxs(g, tree, txs, this.record).txsValid &&
        honestHeader(
          { ...state, height: h.height - 1 },
          { ...raw, height: BigInt(h.height) },
          block.signed.headerBytes,
          block.signed.signature,
          block.txs,
          tree,
          this.record,
        );
      return !ok;
    }
    if (m.childRootMismatch) {
      const c = m.childRootMismatch;
      const parent = decodeSignedHeader(bytesOf(c.parentHeader));
      const pg = this.genesisOf(parent.header.chainId);
      if (!pg || !this.signedBy(pg, parent)) return false;
      const body = this.bodies.get(toHex(parent.hash));
      const index = c.inclusion?.index ?? 0;
      const tx = bytesOf(c.tx);
      if (!body || index >= body.length || !bytesEqual(body[index], tx)) return false;
      const decoded = decodeTx(tx);
      if (decoded.kind !== 'childRoot') return false;
      const child = decodeSignedHeader(bytesOf(c.childHeader));
      const cg = this.genesisOf(decoded.child.header.chainId);
      if (!cg || !this.signedBy(cg, decoded.child) || !this.signedBy(cg, child)) return false;
      return (
        decoded.child.header.height === child.header.height && !bytesEqual(decoded.child.hash, child.hash)
      );
    }
    const s = m.staleState!;
    const a = decodeSignedHeader(bytesOf(s.presentedHeader));
    const b = decodeSignedHeader(bytesOf(s.laterHeader));
    const g = this.genesisOf(a.header.chainId);
    if (!g || !this.signedBy(g, a) || !this.signedBy(g, b) || b.header.height <= a.header.height)
      return false;
    const presented = pathFromProto(s.presented);
    const ta = this.treeOf(a.header.stateRoot);
    const tb = this.treeOf(b.header.stateRoot);
    if (!presented.leaf || !ta || !tb) return false;
    if (!pathsEqual(presented, ta.keyPath(presented.leaf.contract.start))) return false;
    const now = tb.lookup(presented.leaf.contract.start);
    return !(now.kind === 'leaf' && bytesEqual(now.leaf.digest, presented.leaf.digest));
  }
}

function rawHeaderOf(sh: SignedHeader): RawHeader {
  const h = sh.header;
  return { ...h, height: BigInt(h.height), timeMs: BigInt(h.timeMs) };
}

/** A decoded transaction in the oracle's form. */
function fuzzTxOf(tx: Tx): FuzzTx {
  if (tx.kind === 'create')
    return { kind: 'create', contract: rawOf(tx.leaf.contract), leaf: tx.leaf, path: tx.path };
  if (tx.kind === 'owner')
    return {
      kind: 'owner',
      action: { ...tx.signed.action, nonce: BigInt(tx.signed.action.nonce) },
      actionBytes: tx.signed.bytes,
      signature: tx.signed.signature,
      path: tx.path,
      insertPath: tx.insertPath,
      genesis: tx.childGenesis,
    };
  return {
    kind: 'childRoot',
    header: rawHeaderOf(tx.child),
    headerBytes: tx.child.headerBytes,
    signature: tx.child.signature,
    path: tx.path,
  };
}

type Forgery = { bytes: Uint8Array; what: string; wellFormed: boolean };

function encodeEv(m: sortition.v1.IEvidence): Uint8Array {
  return EvPb.encode(EvPb.create(m)).finish();
}

function forge(w: EvidenceWorld): Forgery {
  const rng = w.rng;
  const pick = rng.int(4);
  const g = w.genuine[pick];
  if (rng.chance(0.1)) return { bytes: g.bytes, what: `genuine ${g.kind}`, wellFormed: true };
  if (rng.chance(0.25))
    return { bytes: mutateWire(g.bytes, rng), what: `wire-mutated ${g.kind}`, wellFormed: false };
  const f = (what: string, m: sortition.v1.IEvidence, wellFormed = false): Forgery => ({
    bytes: encodeEv(m),
    what: `${g.kind}: ${what}`,
    wellFormed,
  });
  const m = rng.int(9);
  if (pick === 0) {
    const [a, b] = [w.h2.sh, w.h2b.sh];
    const [lo, hi] = Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)) < 0 ? [a, b] : [b, a];
    if (m === 0) return f('swapped order', { equivocation: { first: hi.bytes, second: lo.bytes } });
    if (m === 1) return f('one header twice', { equivocation: { first: a.bytes, second: a.bytes } });
    if (m === 2)
      return {
        bytes: makeEquivocation(w.h1.sh, w.h2.sh),
        what: 'equivocation: different heights',
        wellFormed: false,
      };
    if (m === 3)
      return {
        bytes: makeEquivocation(w.x.sh, w.h2.sh),
        what: 'equivocation: different chains',
        wellFormed: false,
      };
    if (m === 4) {
      const bad = decodeSignedHeader(signedHeaderBytes(b.headerBytes, flipBit(b.signature, rng)));
      return { bytes: makeEquivocation(a, bad), what: 'equivocation: flipped signature', wellFormed: false };
    }
    if (m === 5)
      return {
        bytes: makeEquivocation(a, w.resign(w.h2, { timeMs: 99n }, w.child.key)),
        what: 'equivocation: signed by another key',
        wellFormed: false,
      };
    if (m === 6)
      return {
        bytes: makeEquivocation(w.x.sh, w.y.sh),
        what: 'equivocation: the child signed two headers at 1',
        wellFormed: true,
      };
    if (m === 7)
      return {
        bytes: makeEquivocation(w.h1.sh, w.resign(w.h1, { timeMs: 11n + BigInt(rng.int(50)) })),
        what: 'equivocation: a genuine second pair',
        wellFormed: true,
      };
    return {
      bytes: makeEquivocation(w.h2.sh, w.resign(w.h2b, { height: 3n })),
      what: 'equivocation: re-signed at another height',
      wellFormed: false,
    };
  }
  if (pick === 1) {
    const bad = decodeBlock(w.badBlock);
    if (m === 0)
      return {
        bytes: makeInvalidTransition(w.h1.sh, decodeBlock(w.goodBlock)),
        what: 'invalid transition: a valid block',
        wellFormed: false,
      };
    if (m === 1)
      return {
        bytes: makeInvalidTransition(w.h2.sh, bad),
        what: 'invalid transition: previous at the same height',
        wellFormed: false,
      };
    if (m === 2)
      return {
        bytes: makeInvalidTransition(w.x.sh, bad),
        what: 'invalid transition: previous of another chain',
        wellFormed: false,
      };
    if (m === 3)
      return {
        bytes: makeInvalidTransition(null, bad),
        what: 'invalid transition: no previous at height 2',
        wellFormed: false,
      };
    if (m === 4) {
      const body = [...bad.txs, bad.txs[0]];
      return {
        bytes: makeInvalidTransition(
          w.h1.sh,
          decodeBlock(blockBytes(bad.signed.headerBytes, bad.signed.signature, body)),
        ),
        what: 'invalid transition: body not the signed one',
        wellFormed: false,
      };
    }
    if (m === 5) {
      const sh = w.resign(w.h2, { timeMs: 1n });
      const body = w.bodies.get(toHex(w.h2.sh.hash))!;
      return {
        bytes: makeInvalidTransition(w.h1.sh, decodeBlock(blockBytes(sh.headerBytes, sh.signature, body))),
        what: 'invalid transition: time regression (a real fault)',
        wellFormed: true,
      };
    }
    if (m === 6) {
      const sh = w.resign(w.h2, {}, w.child.key);
      const body = w.bodies.get(toHex(w.h2.sh.hash))!;
      return {
        bytes: makeInvalidTransition(w.h1.sh, decodeBlock(blockBytes(sh.headerBytes, sh.signature, body))),
        what: 'invalid transition: block signed by another key',
        wellFormed: false,
      };
    }
    if (m === 7) {
      const prev = decodeSignedHeader(
        signedHeaderBytes(w.h1.sh.headerBytes, flipBit(w.h1.sh.signature, rng)),
      );
      return {
        bytes: makeInvalidTransition(prev, bad),
        what: 'invalid transition: previous not signed',
        wellFormed: false,
      };
    }
    const sh = w.resign(w.h2, { stateMax: w.h2.raw.stateMax + 1n });
    const body = w.bodies.get(toHex(w.h2.sh.hash))!;
    return {
      bytes: makeInvalidTransition(w.h1.sh, decodeBlock(blockBytes(sh.headerBytes, sh.signature, body))),
      what: 'invalid transition: wrong bounds (a real fault)',
      wellFormed: true,
    };
  }
  if (pick === 2) {
    const base = EvPb.decode(g.bytes).childRootMismatch!;
    const c = {
      parentHeader: base.parentHeader,
      tx: base.tx,
      inclusion: base.inclusion,
      childHeader: base.childHeader,
    };
    if (m === 0)
      return f('inclusion index + 1', {
        childRootMismatch: { ...c, inclusion: { index: 1, siblings: base.inclusion!.siblings } },
      });
    if (m === 1)
      return f('inclusion sibling flipped', {
        childRootMismatch: {
          ...c,
          inclusion: { index: 0, siblings: (base.inclusion!.siblings ?? []).map((s) => flipBit(s, rng)) },
        },
      });
    if (m === 2)
      return {
        bytes: makeChildRootMismatch(decodeBlock(w.goodBlock), 1, w.y.sh),
        what: 'child-root mismatch: not a child root tx',
        wellFormed: false,
      };
    if (m === 3)
      return f('the committed header itself', { childRootMismatch: { ...c, childHeader: w.x.sh.bytes } });
    if (m === 4)
      return f('child header at another height', { childRootMismatch: { ...c, childHeader: w.y2.sh.bytes } });
    if (m === 5)
      return f('child header by another key', {
        childRootMismatch: { ...c, childHeader: w.resign(w.y, {}, w.parent.key).bytes },
      });
    if (m === 6)
      return f('parent header without the tx', { childRootMismatch: { ...c, parentHeader: w.h1.sh.bytes } });
    if (m === 7) {
      const bad = signedHeaderBytes(w.h2.sh.headerBytes, flipBit(w.h2.sh.signature, rng));
      return f('parent header not signed', { childRootMismatch: { ...c, parentHeader: bad } });
    }
    return f(
      'another genuine child header',
      { childRootMismatch: { ...c, childHeader: w.resign(w.y, { timeMs: 77n }).bytes } },
      true,
    );
  }
  const base = EvPb.decode(g.bytes).staleState!;
  const s = {
    presentedHeader: base.presentedHeader,
    presented: base.presented,
    laterHeader: base.laterHeader,
    later: base.later,
  };
  const t1 = ProbabilityTree.fromLeaves(w.trees.get(toHex(w.h1.raw.stateRoot))!);
  const t2 = ProbabilityTree.fromLeaves(w.trees.get(toHex(w.h2.raw.stateRoot))!);
  if (m === 0)
    return f('later and presented swapped', {
      staleState: {
        presentedHeader: s.laterHeader,
        presented: s.later,
        laterHeader: s.presentedHeader,
        later: s.presented,
      },
    });
  if (m === 1)
    return {
      bytes: makeStaleState(w.h1.sh, t1.memberPath(5000n), w.h2.sh, t2.lookupPath(5000n)),
      what: 'stale state: a contract still current',
      wellFormed: false,
    };
  if (m === 2)
    return {
      bytes: makeStaleState(w.h1.sh, t1.memberPath(0n), w.h2.sh, t2.lookupPath(5000n)),
      what: 'stale state: lookup for another point',
      wellFormed: false,
    };
  if (m === 3)
    return {
      bytes: makeStaleState(w.h1.sh, t1.memberPath(0n), w.h1.sh, t1.lookupPath(0n)),
      what: 'stale state: the same header twice',
      wellFormed: false,
    };
  if (m === 4)
    return {
      bytes: makeStaleState(w.h1.sh, t2.memberPath(0n), w.h2.sh, t2.lookupPath(0n)),
      what: 'stale state: presented path of the later tree',
      wellFormed: false,
    };
  if (m === 5)
    return {
      bytes: makeStaleState(w.h1.sh, t1.memberPath(0n), w.x.sh, t2.lookupPath(0n)),
      what: 'stale state: later header of another chain',
      wellFormed: false,
    };
  if (m === 6)
    return {
      bytes: makeStaleState(w.h1.sh, t1.memberPath(0n), w.h2b.sh, t1.lookupPath(0n)),
      what: 'stale state: later header at 2 with the old tree',
      wellFormed: false,
    };
  if (m === 7) {
    const p = t1.memberPath(0n);
    const forged: Path = { ...p, siblingMax: p.siblingMax.map((v, i) => (i === 0 ? v + 1n : v)) };
    return {
      bytes: makeStaleState(w.h1.sh, forged, w.h2.sh, t2.lookupPath(0n)),
      what: 'stale state: presented path with a forged bound',
      wellFormed: false,
    };
  }
  return {
    bytes: makeStaleState(w.h1.sh, t1.memberPath(0n), w.h2.sh, t2.lookupPath(rng.big(0n, 200n))),
    what: 'stale state: lookup for a nearby point',
    wellFormed: false,
  };
}

/** Runs `count` forged-evidence inputs (or until `deadline`). */
export function evidenceCampaign(rng: Rng, tally: Tally, count: number, deadline: number): number {
  let w = new EvidenceWorld(rng.fork(1));
  let done = 0;
  for (; done < count && performance.now() < deadline; done++) {
    if (done % 500 === 499) w = new EvidenceWorld(rng.fork(done));
    const fg = forge(w);
    const out = tally.call(
      EVIDENCE_KIND,
      () => fg.what,
      () => verifyEvidence(fg.bytes, w.genesisOf),
    );
    const truth = w.truth(fg.bytes);
    tally.input(EVIDENCE_KIND, out.ok);
    if (out.ok && !truth) tally.note(EVIDENCE_KIND, 'acceptedInvalid', fg.what);
    else if (!out.ok && !out.crashed && truth && fg.wellFormed)
      tally.note(
        EVIDENCE_KIND,
        'rejectedValid',
        `${fg.what}: ${String((out.error as Error).message).slice(0, 120)}`,
      );
    // The tracker takes evidence from peers: it must give a verdict, never throw.
    const tracker = new Tracker();
    tracker.learn(w.parent.genesis);
    tracker.learn(w.child.genesis);
    tally.call(
      EVIDENCE_KIND,
      () => `tracker: ${fg.what}`,
      () => tracker.onEvidence(fg.bytes),
    );
  }
  return done;
}
