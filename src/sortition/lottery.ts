// Settlement lottery (issue 6, DESIGN section 4): one random point decides who wins a whole sortition chain, and a
// chain of lookup proofs (one per level of the chain hierarchy) lets anyone check the winner.
//
//   point = space_start + Int_be(H(lottery, beacon || chain id || u64be(round))) mod width
//
// The beacon is the anchor's beacon at the chain's expiry height (`settlementBeacon`). Child chains live in absolute
// coordinates, so the same point is looked up in the chain's tree, then in the tree of every child chain the point
// falls into. A level of a proof is {genesis record, signed header, lookup path}; level i+1 must be the chain held
// by the contract level i found, at exactly the height and root committed in that contract.
//
// Pure: no I/O. The JSON helpers at the end are the `draw winner` front-end.

import { CodedError } from '../codec/errors.js';
import { sortition } from '../gen/proto.js';
import { bytesEqual, decodeCanonical, encode } from '../codec/canonical.js';
import { LIMITS } from '../codec/limits.js';
import { HASH_BYTES, taggedHash } from '../crypto/hash.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { checkHeaderSignature, decodeSignedHeader, type SignedHeader } from '../chain/header.js';
import { ChainError } from '../chain/errors.js';
import { beaconOf } from '../chain/state.js';
import type { ChildLink, Contract } from '../tree/contract.js';
import { EMPTY_ROOT } from '../tree/node.js';
import { pathFromProto, pathToProto, type Path } from '../tree/path.js';
import type { ProbabilityTree } from '../tree/tree.js';
import { verifyLookup, type LookupResult } from '../tree/verify.js';
import { TreeError } from '../tree/errors.js';
import { toHex } from '../codec/bytes.js';
import { bigIntToBytesBE, bytesToBigIntBE, hexToBytes } from './bytes.js';

// ---------------------------------------------------------------------------------------------------------------
// Errors

export type LotteryErrorCode =
  | 'LOTTERY_INVALID_ARGUMENT' // beacon not 32 bytes, round not a u64 safe integer, point outside the space
  | 'LOTTERY_MALFORMED' // bytes or JSON of a proof do not decode
  | 'LOTTERY_BAD_BEACON' // the anchor header given for the beacon is not the anchor's header at the expiry height
  | 'LOTTERY_BAD_SIGNATURE' // a header is not signed by its chain's operator
  | 'LOTTERY_UNTRUSTED' // the verifier holds no trusted root for the proof's first chain
  | 'LOTTERY_ROOT_MISMATCH' // a header's root is not the trusted root / the child root committed in the parent
  | 'LOTTERY_BROKEN_CHAIN' // a level is not the chain the previous level's contract holds, or levels go on past the winner
  | 'LOTTERY_PROOF_INVALID' // a lookup path does not match its root or is not a lookup path for the point
  | 'LOTTERY_INCOMPLETE'; // the proof stops at a contract holding a non-empty child chain (or has no level)

export class LotteryError extends CodedError<LotteryErrorCode> {
  override readonly name = 'LotteryError';
}

function fail(code: LotteryErrorCode, message: string): never {
  throw new LotteryError(code, message);
}

/** Most levels a winner proof may have; bounds a verifier's work whatever a prover sends. */
export const MAX_LOTTERY_LEVELS = 64;

/** Bytes of one encoded lookup path: 64 levels of step, sibling and range, plus one contract, fit easily. */
const MAX_PATH_BYTES = LIMITS.txBytes;

// ---------------------------------------------------------------------------------------------------------------
// The point

function checkBeacon(beacon: Uint8Array): void {
  if (!(beacon instanceof Uint8Array) || beacon.length !== HASH_BYTES)
    fail('LOTTERY_INVALID_ARGUMENT', `beacon must be ${HASH_BYTES} bytes`);
}

function checkRound(round: number): void {
  if (!Number.isSafeInteger(round) || round < 0)
    fail('LOTTERY_INVALID_ARGUMENT', `round must be a non-negative safe integer, got ${round}`);
}

/**
 * The settlement point of `genesis`'s chain for a 32-byte beacon and a round (0 for the settlement itself; later
 * rounds for re-draws): `space_start + Int_be(H(lottery, beacon || chain id || u64be(round))) mod width`.
 */
export function winningPoint(beacon: Uint8Array, genesis: GenesisRecord, round = 0): bigint {
  checkBeacon(beacon);
  checkRound(round);
  const h = taggedHash('lottery', beacon, genesis.chainId, bigIntToBytesBE(BigInt(round), 8));
  const { spaceStart, spaceEnd } = genesis.genesis;
  return spaceStart + (bytesToBigIntBE(h) % (spaceEnd - spaceStart));
}

/**
 * The beacon a chain settles on: that of the anchor header at the chain's expiry height,
 * `H(beacon, header.beacon_sig)`. Checks the header is the anchor's, signed by it, at exactly that height.
 */
export function settlementBeacon(
  anchor: GenesisRecord,
  anchorHeader: SignedHeader,
  chain: GenesisRecord,
): Uint8Array {
  if (!isAnchor(anchor.genesis)) fail('LOTTERY_BAD_BEACON', 'the beacon comes from the anchor chain only');
  checkSigned(anchor, anchorHeader, 'anchor header');
  const expiry = chain.genesis.expiry;
  if (expiry === 0) fail('LOTTERY_BAD_BEACON', 'the chain has no expiry (0): it never settles');
  if (anchorHeader.header.height !== expiry) {
    fail(
      'LOTTERY_BAD_BEACON',
      `anchor header is at height ${anchorHeader.header.height}, the chain expires at ${expiry}`,
    );
  }
  if (anchorHeader.header.beaconSig.length === 0) fail('LOTTERY_BAD_BEACON', 'anchor header has no beacon');
  return beaconOf(anchorHeader.header.beaconSig);
}

// ---------------------------------------------------------------------------------------------------------------
// Proofs

/** One level of a winner proof: a chain, its signed header, and the lookup path of the point in that header's tree. */
export interface WinnerLevel {
  readonly genesis: GenesisRecord;
  readonly header: SignedHeader;
  readonly path: Path;
}

export interface WinnerProof {
  readonly round: number;
  /** The settling chain first, then each child chain the point falls into. */
  readonly levels: readonly WinnerLevel[];
}

/** What an operator supplies per chain to build a proof: the tree must be the one the header's state root commits. */
export interface LotteryChain {
  readonly genesis: GenesisRecord;
  readonly header: SignedHeader;
  readonly tree: ProbabilityTree;
}

export type LotteryWinner =
  | { readonly kind: 'contract'; readonly chainId: Uint8Array; readonly contract: Contract }
  | {
      readonly kind: 'operator';
      readonly chainId: Uint8Array;
      readonly operatorKey: Uint8Array;
      /** The unallocated interval of that chain around the point. */
      readonly gap: { readonly start: bigint; readonly end: bigint };
    };

export interface WinnerResult {
  readonly point: bigint;
  readonly winner: LotteryWinner;
}

/**
 * The state root a verifier accepts for a chain: for the settling chain, the root it verified (as anchored at
 * settlement); `undefined` when it has none. For child chains the root committed in the parent's contract is
 * always required; a root the verifier also gives for a child chain must equal it.
 */
export type LotteryTrust = (chainId: Uint8Array) => Uint8Array | undefined;

/** A LotteryTrust from (chain id, root) pairs. */
export function trustRoots(entries: Iterable<readonly [Uint8Array, Uint8Array]>): LotteryTrust {
  const m = new Map<string, Uint8Array>();
  for (const [id, root] of entries) m.set(toHex(id), root);
  return (chainId) => m.get(toHex(chainId));
}

function checkSigned(rec: GenesisRecord, sh: SignedHeader, what: string): void {
  try {
    checkHeaderSignature(rec, sh);
  } catch (e) {
    if (e instanceof ChainError && e.code === 'WRONG_CHAIN')
      fail('LOTTERY_BROKEN_CHAIN', `${what} names another chain than its genesis record`);
    if (e instanceof ChainError && e.code === 'BAD_SIGNATURE')
      fail('LOTTERY_BAD_SIGNATURE', `${what} is not signed by the chain's operator`);
    throw e;
  }
}

function isEmptyChild(link: ChildLink): boolean {
  return bytesEqual(link.root, EMPTY_ROOT);
}

function chainHex(id: Uint8Array): string {
  return toHex(id).slice(0, 16);
}

/**
 * Builds the lookup levels for a given point: the first chain's, then, while the point lands in a contract
 * holding a child chain, that child's (found among `chains` by chain id). A child whose committed root is the
 * empty tree needs no level (its operator wins); any other child must be supplied, at the committed height.
 */
export function buildPointProof(point: bigint, chains: readonly LotteryChain[]): WinnerLevel[] {
  if (chains.length === 0) fail('LOTTERY_INVALID_ARGUMENT', 'give at least the settling chain');
  const byId = new Map<string, LotteryChain>();
  for (const c of chains) byId.set(toHex(c.genesis.chainId), c);
  const { spaceStart, spaceEnd } = chains[0].genesis.genesis;
  if (point < spaceStart || point >= spaceEnd)
    fail('LOTTERY_INVALID_ARGUMENT', `point ${point} outside the chain's space [${spaceStart}, ${spaceEnd})`);
  const levels: WinnerLevel[] = [];
  let cur = chains[0];
  for (;;) {
    const name = `chain ${chainHex(cur.genesis.chainId)}`;
    if (!bytesEqual(cur.header.header.chainId, cur.genesis.chainId))
      fail('LOTTERY_BROKEN_CHAIN', `${name}: header names another chain`);
    if (!bytesEqual(cur.tree.root, cur.header.header.stateRoot))
      fail('LOTTERY_ROOT_MISMATCH', `${name}: the tree is not the one the header commits`);
    if (levels.length === MAX_LOTTERY_LEVELS)
      fail('LOTTERY_INVALID_ARGUMENT', `hierarchy deeper than ${MAX_LOTTERY_LEVELS} levels`);
    levels.push({ genesis: cur.genesis, header: cur.header, path: cur.tree.lookupPath(point) });
    const g = cur.genesis.genesis;
    const found = cur.tree.lookup(point, g.spaceStart, g.spaceEnd);
    const link = found.kind === 'leaf' ? found.leaf.contract.child : undefined;
    if (!link) return levels;
    const next = byId.get(toHex(link.chain));
    const atCommit =
      next !== undefined &&
      next.header.header.height === link.height &&
      bytesEqual(next.header.header.stateRoot, link.root);
    if (isEmptyChild(link) && !atCommit) return levels;
    if (!next) {
      fail(
        'LOTTERY_INCOMPLETE',
        `the point is in child chain ${chainHex(link.chain)}: supply its tree and header at height ${link.height}`,
      );
    }
    if (!atCommit) {
      fail(
        'LOTTERY_ROOT_MISMATCH',
        `child chain ${chainHex(link.chain)}: supply the header and tree committed in the parent (height ${link.height})`,
      );
    }
    cur = next;
  }
}

/** Operator side: the point for (beacon, round) and its proof down the hierarchy. `chains[0]` is the settling chain. */
export function buildWinnerProof(
  beacon: Uint8Array,
  chains: readonly LotteryChain[],
  round = 0,
): WinnerProof {
  if (chains.length === 0) fail('LOTTERY_INVALID_ARGUMENT', 'give at least the settling chain');
  const point = winningPoint(beacon, chains[0].genesis, round);
  return { round, levels: buildPointProof(point, chains) };
}

function lookup(level: WinnerLevel, point: bigint, name: string): LookupResult {
  const g = level.genesis.genesis;
  try {
    return verifyLookup(level.header.header.stateRoot, level.path, point, g.spaceStart, g.spaceEnd);
  } catch (e) {
    if (e instanceof TreeError) fail('LOTTERY_PROOF_INVALID', `${name}: ${e.code}: ${e.message}`);
    throw e;
  }
}

/**
 * Who owns `point`, from levels of lookup proofs. Checks every header's signature, the first header's root
 * against `trust`, each child level against the chain, height and root committed in the contract above it,
 * and each lookup path. Throws LotteryError.
 */
export function verifyPointProof(
  levels: readonly WinnerLevel[],
  point: bigint,
  trust: LotteryTrust,
): LotteryWinner {
  if (levels.length === 0) fail('LOTTERY_INCOMPLETE', 'the proof has no level');
  if (levels.length > MAX_LOTTERY_LEVELS)
    fail('LOTTERY_PROOF_INVALID', `${levels.length} levels exceed ${MAX_LOTTERY_LEVELS}`);
  const top = levels[0].genesis.genesis;
  if (point < top.spaceStart || point >= top.spaceEnd)
    fail(
      'LOTTERY_INVALID_ARGUMENT',
      `point ${point} outside the chain's space [${top.spaceStart}, ${top.spaceEnd})`,
    );
  let holder: { parent: GenesisRecord; contract: Contract; link: ChildLink } | null = null;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const rec = level.genesis;
    const g = rec.genesis;
    const name = `level ${i} (chain ${chainHex(rec.chainId)})`;
    if (holder) {
      const { parent, contract, link } = holder;
      if (!bytesEqual(rec.chainId, link.chain))
        fail('LOTTERY_BROKEN_CHAIN', `${name} is not the chain held by the contract at ${contract.start}`);
      if (
        !bytesEqual(g.operatorKey, link.operator) ||
        !bytesEqual(g.parentChain, parent.chainId) ||
        g.parentContract !== contract.start ||
        g.spaceStart !== contract.start ||
        g.spaceEnd !== contract.end
      ) {
        fail('LOTTERY_BROKEN_CHAIN', `${name}: genesis does not match the contract holding it`);
      }
    }
    checkSigned(rec, level.header, `${name} header`);
    const h = level.header.header;
    const trusted = trust(rec.chainId);
    if (holder) {
      if (h.height !== holder.link.height || !bytesEqual(h.stateRoot, holder.link.root)) {
        fail(
          'LOTTERY_ROOT_MISMATCH',
          `${name}: header at height ${h.height} is not the one committed in the parent (height ${holder.link.height})`,
        );
      }
      if (trusted && !bytesEqual(trusted, h.stateRoot))
        fail('LOTTERY_ROOT_MISMATCH', `${name}: committed root differs from the trusted root`);
    } else {
      if (!trusted) fail('LOTTERY_UNTRUSTED', `${name}: no trusted root for the settling chain`);
      if (!bytesEqual(trusted, h.stateRoot))
        fail('LOTTERY_ROOT_MISMATCH', `${name}: header root is not the trusted root`);
    }
    const found = lookup(level, point, name);
    const last = i === levels.length - 1;
    if (found.kind === 'gap') {
      if (!last)
        fail('LOTTERY_BROKEN_CHAIN', `${name}: the point is unallocated here, but the proof goes on`);
      return {
        kind: 'operator',
        chainId: rec.chainId,
        operatorKey: g.operatorKey,
        gap: { start: found.start, end: found.end },
      };
    }
    const contract = found.leaf.contract;
    const link = contract.child;
    if (!link) {
      if (!last)
        fail('LOTTERY_BROKEN_CHAIN', `${name}: the contract found holds no chain, but the proof goes on`);
      return { kind: 'contract', chainId: rec.chainId, contract };
    }
    if (last) {
      if (!isEmptyChild(link)) {
        fail(
          'LOTTERY_INCOMPLETE',
          `${name}: the point is in child chain ${chainHex(link.chain)}, which the proof does not include`,
        );
      }
      // A child chain with an empty committed tree: its whole space is unallocated, its operator wins.
      return {
        kind: 'operator',
        chainId: link.chain,
        operatorKey: link.operator,
        gap: { start: contract.start, end: contract.end },
      };
    }
    holder = { parent: rec, contract, link };
  }
  // Unreachable: the last level always returns.
  return fail('LOTTERY_INCOMPLETE', 'the proof ended without a winner');
}

/** Validator side: recomputes the point from the beacon and the proof's round, then checks the proof. */
export function verifyWinner(proof: WinnerProof, beacon: Uint8Array, trust: LotteryTrust): WinnerResult {
  if (proof.levels.length === 0) fail('LOTTERY_INCOMPLETE', 'the proof has no level');
  const point = winningPoint(beacon, proof.levels[0].genesis, proof.round);
  return { point, winner: verifyPointProof(proof.levels, point, trust) };
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

const PathPb = sortition.v1.Path;

/** The canonical protobuf encoding of a path (`proto: Path`). */
export function encodeLookupPath(p: Path): Uint8Array {
  return encode(PathPb, PathPb.create(pathToProto(p)));
}

/** Decodes a path, canonical encoding only, and checks its shape (not yet its root). */
export function decodeLookupPath(bytes: Uint8Array): Path {
  return pathFromProto(decodeCanonical(PathPb, bytes, MAX_PATH_BYTES, 'path'));
}

export interface WinnerLevelJson {
  /** Hex of the encoded Genesis record. */
  genesis: string;
  /** Hex of the encoded SignedHeader. */
  header: string;
  /** Hex of the encoded Path. */
  path: string;
}

export interface WinnerProofJson {
  beacon: string;
  round: number;
  levels: WinnerLevelJson[];
}

export function winnerProofToJson(proof: WinnerProof, beacon: Uint8Array): WinnerProofJson {
  checkBeacon(beacon);
  return {
    beacon: toHex(beacon),
    round: proof.round,
    levels: proof.levels.map((l) => ({
      genesis: toHex(l.genesis.bytes),
      header: toHex(l.header.bytes),
      path: toHex(encodeLookupPath(l.path)),
    })),
  };
}

type Json = Record<string, unknown>;

function malformed(field: string, message: string): never {
  fail('LOTTERY_MALFORMED', `${field}: ${message}`);
}

function objectAt(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) malformed(field, 'expected a JSON object');
  return v as Json;
}

/** A key the format does not have is refused rather than ignored (a misspelt "round" would default to 0). */
function onlyKeysAt(obj: Json, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      malformed(
        prefix === '$' ? key : `${prefix}.${key}`,
        `is not a field of this input; the fields are ${known.map((k) => JSON.stringify(k)).join(', ')}`,
      );
    }
  }
}

function hexAt(obj: Json, key: string, field: string): Uint8Array {
  const v = obj[key];
  if (v === undefined || v === null) malformed(field, 'is missing');
  if (typeof v !== 'string') malformed(field, 'expected a hex string');
  try {
    return hexToBytes(v);
  } catch {
    return malformed(field, 'not an even-length hex string');
  }
}

function decodeAt<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const code = e instanceof Error && 'code' in e ? `${String((e as { code: unknown }).code)}: ` : '';
    return malformed(field, `${code}${reason}`);
  }
}

/** Parses `{beacon, round?, levels: [{genesis, header, path}]}` (all hex) as written by `winnerProofToJson`. */
export function winnerProofFromJson(value: unknown): { beacon: Uint8Array; proof: WinnerProof } {
  const obj = objectAt(value, '$');
  onlyKeysAt(obj, ['beacon', 'round', 'levels'], '$');
  const beacon = hexAt(obj, 'beacon', 'beacon');
  if (beacon.length !== HASH_BYTES) malformed('beacon', `must be ${HASH_BYTES} bytes, got ${beacon.length}`);
  const roundValue = obj.round ?? 0;
  let round: number;
  if (typeof roundValue === 'number') round = roundValue;
  else if (typeof roundValue === 'string' && /^[0-9]+$/.test(roundValue)) round = Number(roundValue);
  else return malformed('round', 'expected a non-negative integer');
  if (!Number.isSafeInteger(round) || round < 0) malformed('round', 'expected a non-negative safe integer');
  const list = obj.levels;
  if (!Array.isArray(list)) malformed('levels', 'expected a JSON array');
  if (list.length === 0) malformed('levels', 'is empty; give at least the settling chain');
  if (list.length > MAX_LOTTERY_LEVELS) malformed('levels', `more than ${MAX_LOTTERY_LEVELS} levels`);
  const levels = list.map((item: unknown, i: number): WinnerLevel => {
    const f = `levels[${i}]`;
    const l = objectAt(item, f);
    onlyKeysAt(l, ['genesis', 'header', 'path'], f);
    const g = hexAt(l, 'genesis', `${f}.genesis`);
    const h = hexAt(l, 'header', `${f}.header`);
    const p = hexAt(l, 'path', `${f}.path`);
    return {
      genesis: decodeAt(`${f}.genesis`, () => decodeGenesis(g)),
      header: decodeAt(`${f}.header`, () => decodeSignedHeader(h)),
      path: decodeAt(`${f}.path`, () => decodeLookupPath(p)),
    };
  });
  return { beacon, proof: { round, levels } };
}

export type WinnerJson =
  | {
      kind: 'contract';
      chainId: string;
      contract: { start: string; end: string; owner: string; nonce: number; terms: string };
    }
  | { kind: 'operator'; chainId: string; operatorKey: string; gap: { start: string; end: string } };

export function winnerToJson(w: LotteryWinner): WinnerJson {
  if (w.kind === 'contract') {
    const c = w.contract;
    return {
      kind: 'contract',
      chainId: toHex(w.chainId),
      contract: {
        start: c.start.toString(),
        end: c.end.toString(),
        owner: toHex(c.owner),
        nonce: c.nonce,
        terms: toHex(c.terms),
      },
    };
  }
  return {
    kind: 'operator',
    chainId: toHex(w.chainId),
    operatorKey: toHex(w.operatorKey),
    gap: { start: w.gap.start.toString(), end: w.gap.end.toString() },
  };
}

export interface WinnerJsonOutput {
  point: string;
  winner: WinnerJson;
}

/** What `draw winner` prints with self-trust: the caveat for stderr. */
export const SELF_TRUST_NOTE =
  "note: the settling chain's root was taken from the proof's own signed header; full trust needs the root a " +
  'validator verified as anchored at settlement (and the beacon from the anchor header at the expiry height)';

/**
 * `draw winner`: verifies a proof file, trusting the first level's header root (its signature is checked), and
 * returns the point (decimal) and the winner. Throws LotteryError.
 */
export function runWinnerJson(input: unknown): WinnerJsonOutput {
  const { beacon, proof } = winnerProofFromJson(input);
  const first = proof.levels[0];
  const selfTrust: LotteryTrust = (id) =>
    bytesEqual(id, first.genesis.chainId) ? first.header.header.stateRoot : undefined;
  const r = verifyWinner(proof, beacon, selfTrust);
  return { point: r.point.toString(), winner: winnerToJson(r.winner) };
}
