/**
 * The honest full-tree replay: what a node holding every contract decides about a transaction or a block,
 * written from docs/protocol.md sections 4-7 over ProbabilityTree, without the stateless verifier. Signatures are
 * judged by the campaign's record of what it signed. Proofs are judged against the full tree: a membership path
 * must be the tree's own path to the contract; an insertion path must be the tree's path to a leaf of the subtree
 * the new key joins (the spec fixes the directions above the insertion point only).
 */
import { bytesEqual } from '../../src/codec/canonical.js';
import { isAnchor, type GenesisRecord } from '../../src/chain/genesis.js';
import { headerHash } from '../../src/chain/header.js';
import type { ChainState } from '../../src/chain/state.js';
import { actionHash } from '../../src/chain/tx.js';
import { txRoot } from '../../src/chain/txroot.js';
import { LIMITS } from '../../src/codec/limits.js';
import { taggedHash } from '../../src/crypto/hash.js';
import type { Leaf } from '../../src/tree/contract.js';
import { critBit, EMPTY_ROOT, STEP_CRIT_MASK } from '../../src/tree/node.js';
import type { Path } from '../../src/tree/path.js';
import type { ProbabilityTree } from '../../src/tree/tree.js';
import type { SignedRecord } from './keys.js';
import { rawLeaf, rawOf, SAFE_MAX, type FuzzTx, type RawContract, type RawHeader } from './world.js';

export function pathsEqual(a: Path, b: Path): boolean {
  if (!bytesEqual(a.steps, b.steps) || a.siblings.length !== b.siblings.length) return false;
  for (let i = 0; i < a.siblings.length; i++) {
    if (!bytesEqual(a.siblings[i], b.siblings[i])) return false;
    if (a.siblingMin[i] !== b.siblingMin[i] || a.siblingMax[i] !== b.siblingMax[i]) return false;
  }
  if (!a.leaf || !b.leaf) return a.leaf === b.leaf;
  return bytesEqual(a.leaf.bytes, b.leaf.bytes);
}

/** Decode-level shape of a contract (section 4.1 and the 2^53 rule). */
function contractShape(c: RawContract): boolean {
  if (c.start >= c.end || c.owner.length !== 32 || c.nonce > SAFE_MAX) return false;
  if (c.terms.length !== 0 && c.terms.length !== 32) return false;
  if (c.child) {
    const k = c.child;
    if (k.chain.length !== 32 || k.operator.length !== 32 || k.root.length !== 32 || k.height > SAFE_MAX)
      return false;
  }
  return true;
}

export function headerShape(h: RawHeader, signature: Uint8Array): boolean {
  return (
    h.chainId.length === 32 &&
    h.prevHash.length === 32 &&
    h.stateRoot.length === 32 &&
    h.txRoot.length === 32 &&
    h.height >= 1n &&
    h.height <= SAFE_MAX &&
    h.timeMs <= SAFE_MAX &&
    (h.beaconSig.length === 0 || h.beaconSig.length === 64) &&
    signature.length === 64
  );
}

/** The tree's membership path for the path's leaf, or null when the path is not exactly it. */
function genuineMember(t: ProbabilityTree, path: Path): Leaf | null {
  const l = path.leaf;
  if (!l) return null;
  const have = t.get(l.contract.start);
  if (!have || !bytesEqual(have.bytes, l.bytes)) return null;
  return pathsEqual(path, t.keyPath(l.contract.start)) ? have : null;
}

/** Whether `path` proves where `s` joins the tree (any genuine path into the subtree at the insertion point). */
function insertionPath(t: ProbabilityTree, s: bigint, path: Path): boolean {
  if (t.size === 0) return path.leaf === null && path.steps.length === 0;
  const honest = t.keyPath(s);
  const near = honest.leaf!.contract.start;
  if (near === s) return false;
  const d = critBit(s, near);
  let k = 0;
  while (k < honest.steps.length && (honest.steps[k] & STEP_CRIT_MASK) < d) k++;
  const shared = k < honest.steps.length ? honest.steps[k] & STEP_CRIT_MASK : 64;
  const l = path.leaf;
  if (!l) return false;
  const x = l.contract.start;
  if (x !== near && critBit(x, near) < shared) return false;
  return genuineMember(t, path) !== null;
}

function free(t: ProbabilityTree, s: bigint, e: bigint): boolean {
  const r = t.lookup(s);
  return r.kind === 'gap' && e <= r.end;
}

/** Applies one transaction to the full tree if it is valid; returns whether it was. */
export function honestTx(g: GenesisRecord, t: ProbabilityTree, tx: FuzzTx, rec: SignedRecord): boolean {
  const space = g.genesis;
  if (tx.kind === 'create') {
    const c = tx.contract;
    if (!contractShape(c) || c.nonce !== 0n || c.child) return false;
    if (c.start < space.spaceStart || c.end > space.spaceEnd) return false;
    if (!free(t, c.start, c.end) || !insertionPath(t, c.start, tx.path)) return false;
    t.insert(tx.leaf);
    return true;
  }
  const old = genuineMember(t, tx.path);
  if (!old) return false;
  const c = rawOf(old.contract);
  if (tx.kind === 'childRoot') {
    const h = tx.header;
    const link = c.child;
    if (!link || !headerShape(h, tx.signature)) return false;
    if (!bytesEqual(h.chainId, link.chain)) return false;
    if (!rec.signed(link.operator, headerHash(tx.headerBytes), tx.signature)) return false;
    if (h.height <= link.height) return false;
    if (!bytesEqual(h.stateRoot, EMPTY_ROOT) && (h.stateMin < c.start || h.stateMax > c.end)) return false;
    t.replace(rawLeaf({ ...c, child: { ...link, height: h.height, root: h.stateRoot } }));
    return true;
  }
  const a = tx.action;
  if (a.chainId.length !== 32 || a.contractHash.length !== 32 || a.nonce > SAFE_MAX) return false;
  if (tx.signature.length !== 64) return false;
  if (!bytesEqual(a.chainId, g.chainId) || a.nonce !== c.nonce + 1n) return false;
  if (!bytesEqual(a.contractHash, old.digest)) return false;
  if (!rec.signed(c.owner, actionHash(tx.actionBytes), tx.signature)) return false;
  const op = a.op;
  if ((op.kind === 'split') !== (tx.insertPath !== null)) return false;
  if ((op.kind === 'openChild') !== (tx.genesis !== null)) return false;
  const nonce = a.nonce;
  switch (op.kind) {
    case 'transfer': {
      const next: RawContract = { ...c, owner: op.newOwner, terms: op.terms, nonce };
      if (!contractShape(next)) return false;
      t.replace(rawLeaf(next));
      return true;
    }
    case 'close':
      if (c.child) return false;
      t.remove(c.start);
      return true;
    case 'split': {
      if (c.child || op.at <= c.start || op.at >= c.end) return false;
      const right: RawContract = {
        start: op.at,
        end: c.end,
        owner: op.rightOwner,
        terms: op.rightTerms,
        nonce,
      };
      if (!contractShape(right)) return false;
      t.replace(rawLeaf({ ...c, end: op.at, nonce }));
      if (!insertionPath(t, op.at, tx.insertPath!)) return false;
      t.insert(rawLeaf(right));
      return true;
    }
    case 'openChild': {
      const child = tx.genesis!;
      const cg = child.genesis;
      if (c.child || op.chainId.length !== 32 || !bytesEqual(child.chainId, op.chainId)) return false;
      if (!bytesEqual(cg.parentChain, g.chainId) || cg.parentContract !== c.start) return false;
      if (cg.spaceStart !== c.start || cg.spaceEnd !== c.end) return false;
      const link = { chain: child.chainId, operator: cg.operatorKey, height: 0n, root: EMPTY_ROOT };
      t.replace(rawLeaf({ ...c, nonce, child: link }));
      return true;
    }
  }
}

export interface HonestBlock {
  /** Every transaction applies (the tree then holds the state after the block). */
  readonly txsValid: boolean;
  /** How many transactions applied before the first invalid one. */
  readonly applied: number;
}

export function honestTxs(
  g: GenesisRecord,
  t: ProbabilityTree,
  txs: readonly FuzzTx[],
  rec: SignedRecord,
): HonestBlock {
  for (let i = 0; i < txs.length; i++)
    if (!honestTx(g, t, txs[i], rec)) return { txsValid: false, applied: i };
  return { txsValid: true, applied: txs.length };
}

/** Section 7's header rules for a block over `txs` whose transactions all applied to the tree `t`. */
export function honestHeader(
  state: ChainState,
  h: RawHeader,
  hBytes: Uint8Array,
  signature: Uint8Array,
  txs: readonly Uint8Array[],
  t: ProbabilityTree,
  rec: SignedRecord,
): boolean {
  const g = state.genesis;
  if (!headerShape(h, signature)) return false;
  if (!bytesEqual(h.chainId, g.chainId) || h.height !== BigInt(state.height) + 1n) return false;
  if (!rec.signed(g.genesis.operatorKey, headerHash(hBytes), signature)) return false;
  if (!bytesEqual(h.prevHash, state.headHash)) return false;
  if (h.txCount > LIMITS.txsPerBlock || h.txCount !== txs.length) return false;
  if (!bytesEqual(h.txRoot, txRoot(txs))) return false;
  if (h.timeMs < BigInt(state.timeMs)) return false;
  if (isAnchor(g.genesis)) {
    if (!rec.signed(g.genesis.operatorKey, taggedHash('beaconSig', state.beacon), h.beaconSig)) return false;
  } else if (h.beaconSig.length !== 0) return false;
  const s = t.summary();
  return bytesEqual(h.stateRoot, s.digest) && h.stateMin === s.min && h.stateMax === s.max;
}
