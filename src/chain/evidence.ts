/**
 * Self-contained fraud evidence. Each kind is checked with nothing but genesis records: signatures bind the
 * operator, paths bind the tree, the tx root binds a block's transactions. Encodings are canonical (the two
 * headers of an equivocation are ordered by hash), so the same evidence always has the same id.
 */
import { compareBytes } from '../codec/bytes.js';
import { sortition } from '../gen/proto.js';
import { bytesEqual, bytesOf, decodeCanonical, encode } from '../codec/canonical.js';
import { CodedError, DecodeError } from '../codec/errors.js';
import { LIMITS } from '../codec/limits.js';
import type { EVIDENCE_ERROR_CODES } from '../codec/verdict.js';
import { TreeError } from '../tree/errors.js';
import { taggedHash, toHex } from '../crypto/hash.js';
import { pathFromProto, pathToProto, type Path } from '../tree/path.js';
import { checkPath, verifyLookup } from '../tree/verify.js';
import { decodeBlock, type Block } from './block.js';
import { ChainError, isOperatorFault } from './errors.js';
import type { GenesisRecord } from './genesis.js';
import { checkHeaderSignature, decodeSignedHeader, type SignedHeader } from './header.js';
import { genesisState, stateAfter, type ChainState } from './state.js';
import { decodeTxAnyVersion } from './tx.js';
import { txInclusion, verifyTxInclusion } from './txroot.js';
import { checkTransition } from './validate.js';

const Pb = sortition.v1.Evidence;

export type EvidenceKind = 'equivocation' | 'invalid_transition' | 'child_root_mismatch' | 'stale_state';

export interface VerifiedEvidence {
  readonly kind: EvidenceKind;
  /** The chain the evidence accuses (for stale state: the chain whose contract state was superseded). */
  readonly chainId: Uint8Array;
  readonly height: number;
  /** Tagged hash of the encoding: equal evidence has equal ids. */
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
}

export type EvidenceErrorCode = (typeof EVIDENCE_ERROR_CODES)[number];

export class EvidenceError extends CodedError<EvidenceErrorCode> {
  override readonly name = 'EvidenceError';
}

/** Whether this kind of evidence shows the accused chain's operator cheated (and so marks the chain faulty). */
export function provesOperatorFault(kind: EvidenceKind): boolean {
  return kind !== 'stale_state';
}

export function evidenceId(bytes: Uint8Array): Uint8Array {
  return taggedHash('evidence', bytes);
}

const cmp = compareBytes;

export function makeEquivocation(a: SignedHeader, b: SignedHeader): Uint8Array {
  const [first, second] = cmp(a.hash, b.hash) < 0 ? [a, b] : [b, a];
  return encode(Pb, Pb.create({ equivocation: { first: first.bytes, second: second.bytes } }));
}

/** `previous` is the signed header the block builds on; null at height 1. */
export function makeInvalidTransition(previous: SignedHeader | null, block: Block): Uint8Array {
  return encode(
    Pb,
    Pb.create({
      invalidTransition: { previous: previous ? previous.bytes : new Uint8Array(0), block: block.bytes },
    }),
  );
}

export function makeChildRootMismatch(parent: Block, txIndex: number, childHeader: SignedHeader): Uint8Array {
  return encode(
    Pb,
    Pb.create({
      childRootMismatch: {
        parentHeader: parent.signed.bytes,
        tx: parent.txs[txIndex],
        inclusion: { index: txIndex, siblings: txInclusion(parent.txs, txIndex, parent.proof) },
        childHeader: childHeader.bytes,
      },
    }),
  );
}

export function makeStaleState(
  presented: SignedHeader,
  presentedPath: Path,
  later: SignedHeader,
  laterPath: Path,
): Uint8Array {
  return encode(
    Pb,
    Pb.create({
      staleState: {
        presentedHeader: presented.bytes,
        presented: pathToProto(presentedPath),
        laterHeader: later.bytes,
        later: pathToProto(laterPath),
      },
    }),
  );
}

export type GenesisLookup = (chainId: Uint8Array) => GenesisRecord | undefined;

function notProven(msg: string): never {
  throw new EvidenceError('EVIDENCE_NOT_PROVEN', msg);
}

function need(genesisOf: GenesisLookup, chainId: Uint8Array): GenesisRecord {
  const g = genesisOf(chainId);
  if (!g) throw new EvidenceError('EVIDENCE_UNKNOWN_CHAIN', `no genesis record for chain ${toHex(chainId)}`);
  return g;
}

function signedBy(g: GenesisRecord, sh: SignedHeader, what: string): void {
  try {
    checkHeaderSignature(g, sh);
  } catch (e) {
    notProven(`${what}: ${(e as Error).message}`);
  }
}

/** Checks evidence; throws EvidenceError unless it proves what it claims. */
export function verifyEvidence(bytes: Uint8Array, genesisOf: GenesisLookup): VerifiedEvidence {
  try {
    return check(bytes, genesisOf);
  } catch (e) {
    if (e instanceof EvidenceError) throw e;
    if (e instanceof DecodeError) throw new EvidenceError('EVIDENCE_MALFORMED', e.message);
    if (e instanceof TreeError || e instanceof ChainError)
      throw new EvidenceError('EVIDENCE_NOT_PROVEN', e.message);
    throw e;
  }
}

function check(bytes: Uint8Array, genesisOf: GenesisLookup): VerifiedEvidence {
  const m = decodeCanonical(Pb, bytes, LIMITS.evidenceBytes, 'evidence');
  const id = evidenceId(bytes);
  const kinds = [m.equivocation, m.invalidTransition, m.childRootMismatch, m.staleState].filter(
    (x) => x != null,
  );
  if (kinds.length !== 1)
    throw new EvidenceError('EVIDENCE_MALFORMED', 'evidence must carry exactly one kind');

  if (m.equivocation) {
    const a = decodeSignedHeader(bytesOf(m.equivocation.first));
    const b = decodeSignedHeader(bytesOf(m.equivocation.second));
    if (cmp(a.hash, b.hash) >= 0) notProven('headers must differ and be ordered by hash');
    if (!bytesEqual(a.header.chainId, b.header.chainId)) notProven('headers of different chains');
    if (a.header.height !== b.header.height) notProven('headers at different heights');
    const g = need(genesisOf, a.header.chainId);
    signedBy(g, a, 'first header');
    signedBy(g, b, 'second header');
    return { kind: 'equivocation', chainId: g.chainId, height: a.header.height, id, bytes };
  }

  if (m.invalidTransition) {
    const block = decodeBlock(bytesOf(m.invalidTransition.block));
    const h = block.signed.header;
    const g = need(genesisOf, h.chainId);
    signedBy(g, block.signed, 'block header');
    const prevBytes = bytesOf(m.invalidTransition.previous);
    let state: ChainState;
    if (h.height === 1) {
      if (prevBytes.length !== 0) notProven('no previous header at height 1');
      state = genesisState(g);
    } else {
      const prev = decodeSignedHeader(prevBytes);
      signedBy(g, prev, 'previous header');
      if (prev.header.height !== h.height - 1) notProven('previous header is not at the height below');
      state = stateAfter(g, prev);
    }
    if (!bytesEqual(h.prevHash, state.headHash)) notProven('block does not build on the previous header');
    try {
      checkTransition(state, block);
    } catch (e) {
      const err = ChainError.from(e);
      if (isOperatorFault(err))
        return { kind: 'invalid_transition', chainId: g.chainId, height: h.height, id, bytes };
      notProven(`block fails for a reason that is not the operator's: ${err.code}`);
    }
    notProven('the transition is valid');
  }

  if (m.childRootMismatch) {
    const c = m.childRootMismatch;
    const parent = decodeSignedHeader(bytesOf(c.parentHeader));
    const pg = need(genesisOf, parent.header.chainId);
    signedBy(pg, parent, 'parent header');
    const tx = bytesOf(c.tx);
    const inc = c.inclusion ?? { index: 0, siblings: [] };
    if (
      !verifyTxInclusion(parent.header.txRoot, parent.header.txCount, inc.index ?? 0, tx, inc.siblings ?? [])
    ) {
      notProven('the transaction is not in the parent block');
    }
    const decoded = decodeTxAnyVersion(tx);
    if (decoded.kind !== 'childRoot') notProven('the transaction is not a child root update');
    const committed = decoded.child;
    const child = decodeSignedHeader(bytesOf(c.childHeader));
    const cg = need(genesisOf, committed.header.chainId);
    signedBy(cg, committed, 'committed child header');
    signedBy(cg, child, 'child header');
    if (committed.header.height !== child.header.height) notProven('child headers at different heights');
    if (bytesEqual(committed.hash, child.hash)) notProven('the parent commits the same child header');
    return { kind: 'child_root_mismatch', chainId: cg.chainId, height: child.header.height, id, bytes };
  }

  const s = m.staleState!;
  const a = decodeSignedHeader(bytesOf(s.presentedHeader));
  const b = decodeSignedHeader(bytesOf(s.laterHeader));
  if (!bytesEqual(a.header.chainId, b.header.chainId)) notProven('headers of different chains');
  const g = need(genesisOf, a.header.chainId);
  signedBy(g, a, 'presented header');
  signedBy(g, b, 'later header');
  if (b.header.height <= a.header.height) notProven('the later header is not later');
  const presented = pathFromProto(s.presented);
  if (!presented.leaf) notProven('no contract presented');
  checkPath(a.header.stateRoot, presented);
  const found = verifyLookup(
    b.header.stateRoot,
    pathFromProto(s.later),
    presented.leaf.contract.start,
    g.genesis.spaceStart,
    g.genesis.spaceEnd,
  );
  if (found.kind === 'leaf' && bytesEqual(found.leaf.digest, presented.leaf.digest))
    notProven('the presented state is still current');
  return { kind: 'stale_state', chainId: g.chainId, height: a.header.height, id, bytes };
}
