/**
 * Settling a chain's lottery on the EVM anchor (docs/protocol.md section 12), as a library the `settle` CLI, the
 * automatic settler (settler.ts) and the devnet share: claim with a winner proof, challenge a claim with a later
 * committed state, timeout after the window, withdraw.
 *
 * The proof is for the root the contract holds at the chain's last committed height, so a source of lookup paths
 * must answer for exactly that height: the operator's tree (`GET /v1/lottery/:point?height=`, or the service in
 * process) or a validator's watch of the contract holding the point (`GET /v1/watch`: a current watch's
 * membership path is the point's lookup path, kept current without the operator). Each is checked against the
 * committed root before anything is sent, and contract refusals become messages that say what to do.
 *
 * Restart-safe: `settleStep` first drives a journaled settlement transaction to its end, then decides from the
 * contract's state alone (a claim of ours pending is never claimed again), so a crash never sends one twice.
 */
import { toHex as viemHex, type Address, type Hex } from 'viem';
import { CodedError } from '../codec/errors.js';
import { bytesEqual } from '../codec/canonical.js';
import { fromHex, toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import { apiRequest, ApiError, sleep } from '../runtime/http-client.js';
import { decodeLookupPath, encodeLookupPath } from '../sortition/lottery.js';
import { TreeError } from '../tree/errors.js';
import { EMPTY_ROOT } from '../tree/node.js';
import type { Path } from '../tree/path.js';
import { verifyLookup } from '../tree/verify.js';
import type { Logger } from '../runtime/logger.js';
import { signPayout } from './anchor.js';
import type { EvmAnchor, PendingClaim, SettleFunction } from './node-anchor.js';
import { DrandError } from './drand.js';
import { AnchorRevert } from './sender.js';

export type SettleErrorCode =
  | 'UNKNOWN_CHAIN' // the contract has no such chain
  | 'NOT_EXPIRED' // the chain is active: its expiry block has not passed
  | 'SETTLED' // already paid out
  | 'WINDOW_OPEN' // timeout before the challenge window passed
  | 'WINDOW_CLOSED' // claim or challenge after the window; timeout is what is left
  | 'NO_CLAIM' // challenge or timeout with no claim pending
  | 'NO_CONSENT' // no source holds an owner-signed action over a contract of the standing claim
  | 'SEED_PENDING' // the beacon waits for its input: the operator's seed or the drand round (a window at most)
  | 'NOT_WINNER' // the key given does not own the point
  | 'SOURCE_HEIGHT' // the source's tree is not at the contract's committed height
  | 'NOT_WATCHED' // no watch of the validator holds the point
  | 'NESTED' // the point lies in a non-empty child chain and no source serves that chain's level
  | 'BAD_PROOF' // the path does not prove the point against the committed root
  | 'ROOT_MISMATCH' // a kept proof's root is not the committed root the holder gave
  | 'NOTHING_OWED' // withdraw with no credit
  | 'REFUSED'; // any other contract refusal (its error name and reason in the message)

export class SettleError extends CodedError<SettleErrorCode> {
  override readonly name = 'SettleError';
}

function fail(code: SettleErrorCode, message: string): never {
  throw new SettleError(code, message);
}

/** An owner's signed action over a contract state: what defeats a claim of that state (section 12, consent). */
export interface Consent {
  readonly action: Uint8Array;
  readonly signature: Uint8Array;
}

/** Where the lookup path of a point, and owners' signed actions, come from. */
export interface LevelSource {
  /** For messages: "operator http://…", "validator watches". */
  readonly what: string;
  /** The lookup path of `point` in the chain's tree at exactly `height`; SettleError when it cannot be had. */
  level(chainId: Uint8Array, point: bigint, height: number): Promise<Path>;
  /**
   * The owner-signed action that superseded the contract state with leaf digest `digest`, if this source has it;
   * `where` names the chain and the committed height the state was proven at (a validator looks in the blocks
   * after it).
   */
  consent?(digest: Uint8Array, where?: ConsentWhere): Promise<Consent | null>;
}

/** Where a claimed contract state was proven: its chain, and the height of that chain's committed root. */
export interface ConsentWhere {
  readonly chainId: Uint8Array;
  readonly height: number;
}

interface AuthorisationJson {
  readonly action: string;
  readonly signature: string;
}

function consentOf(a: AuthorisationJson): Consent {
  return { action: fromHex(a.action, 'action'), signature: fromHex(a.signature, 'signature') };
}

/** GET /v1/lottery/:point answer of the operator API. */
export interface LotteryLevelJson {
  readonly point: string;
  readonly height: number;
  readonly signedHeader: string;
  readonly lookupPath: string;
}

/** The operator's tree through its API (`GET /v1/lottery/:point?height=`). */
export function operatorApiSource(api: string): LevelSource {
  return {
    what: `operator ${api}`,
    async level(chainId, point, height) {
      const info = await apiRequest<{ chainId: string }>(api, 'GET', '/v1/chain');
      if (info.chainId !== toHex(chainId)) fail('UNKNOWN_CHAIN', `${api} operates chain ${info.chainId}`);
      try {
        const l = await apiRequest<LotteryLevelJson>(api, 'GET', `/v1/lottery/${point}?height=${height}`);
        return decodeLookupPath(fromHex(l.lookupPath, 'lookupPath'));
      } catch (e) {
        if (e instanceof ApiError && e.code === 'HEIGHT_UNAVAILABLE') fail('SOURCE_HEIGHT', e.message);
        throw e;
      }
    },
    async consent(digest) {
      try {
        return consentOf(
          await apiRequest<AuthorisationJson>(api, 'GET', `/v1/authorisations/${toHex(digest)}`),
        );
      } catch (e) {
        if (e instanceof ApiError && e.code === 'NOT_FOUND') return null;
        throw e;
      }
    },
  };
}

/** The operator's tree in process, at the height asked (`svc.lotteryLevelAt`: its last block or one below). */
export function serviceSource(svc: {
  readonly chainId: Uint8Array;
  readonly head: { readonly height: number };
  lotteryLevelAt(point: bigint, height: number): Promise<{ path: Path } | null>;
  authorisation(digest: Uint8Array): Promise<AuthorisationJson | undefined>;
}): LevelSource {
  return {
    what: 'the operator',
    async level(chainId, point, height) {
      if (!bytesEqual(chainId, svc.chainId))
        fail('UNKNOWN_CHAIN', `the operator runs chain ${toHex(svc.chainId)}, not ${toHex(chainId)}`);
      const l = height === 0 ? null : await svc.lotteryLevelAt(point, height);
      if (!l) fail('SOURCE_HEIGHT', heightMessage('the operator', svc.head.height, height));
      return l.path;
    },
    async consent(digest) {
      const a = await svc.authorisation(digest);
      return a ? consentOf(a) : null;
    },
  };
}

/** What a validator's GET /v1/watch lists (the fields used here). */
export interface WatchJson {
  readonly chainId: string;
  readonly status: string;
  readonly height: number;
  readonly path: string;
}

/** The watch among `watches` whose contract holds `point`, at `height`. */
function fromWatches(watches: readonly WatchJson[], what: string, point: bigint, height: number): Path {
  for (const w of watches) {
    if (w.status !== 'current') continue;
    const path = decodeLookupPath(fromHex(w.path, 'path'));
    const c = path.leaf?.contract;
    if (!c || point < c.start || point >= c.end) continue;
    if (w.height !== height) fail('SOURCE_HEIGHT', heightMessage(what, w.height, height));
    return path;
  }
  fail(
    'NOT_WATCHED',
    `${what}: no current watch holds point ${point} (the winner is another contract's holder)`,
  );
}

/**
 * A validator's watches through its API (`GET /v1/watch?chainId=&status=current&height=`, the watches as they were
 * at the committed height): no operator needed.
 */
export function watchApiSource(api: string): LevelSource {
  return {
    what: `validator ${api}`,
    async level(chainId, point, height) {
      const list = await apiRequest<WatchJson[]>(
        api,
        'GET',
        `/v1/watch?chainId=${toHex(chainId)}&status=current&limit=10000&height=${height}`,
      );
      return fromWatches(list, `validator ${api}`, point, height);
    },
    async consent(digest, where) {
      if (!where) return null;
      try {
        return consentOf(
          await apiRequest<AuthorisationJson>(
            api,
            'GET',
            `/v1/chains/${toHex(where.chainId)}/authorisations/${toHex(digest)}?after=${where.height}`,
          ),
        );
      } catch (e) {
        if (e instanceof ApiError && (e.code === 'NOT_FOUND' || e.code === 'UNKNOWN_CHAIN')) return null;
        throw e;
      }
    },
  };
}

/** The watches of a validator in process, as they were at the height asked. */
export function watchListSource(
  list: (chainId: Uint8Array, height: number) => readonly WatchJson[],
  consent?: (chainId: Uint8Array, digest: Uint8Array, after: number) => Promise<Consent | null>,
): LevelSource {
  return {
    what: 'the validator',
    level: (chainId, point, height) =>
      Promise.resolve(fromWatches(list(chainId, height), 'the validator', point, height)),
    consent: async (digest, where) =>
      where && consent ? consent(where.chainId, digest, where.height) : null,
  };
}

function heightMessage(what: string, at: number, height: number): string {
  return at > height
    ? `${what} is at height ${at}, past the contract's last committed height ${height}: a claim must prove the ` +
        `point against the committed root; ask a source that still holds height ${height}`
    : `${what} is at height ${at}, the contract's committed height is ${height}: wait until it has caught up`;
}

/**
 * What the contract will find for the proof starting with `first`: the winner's key and every level, each
 * checked before anything is sent. A point in a contract holding a non-empty child chain descends into that
 * chain: its level is the point's lookup path in the child's tree at the child height committed in that contract
 * (against the child root there), from whichever source serves that chain (section 11's levels).
 */
async function judge(
  anchor: EvmAnchor,
  source: LevelSource,
  chainId: Uint8Array,
  point: bigint,
  height: number,
  first: Path,
  chain: { start: bigint; end: bigint; operatorKey: Hex },
): Promise<{ winner: Uint8Array; levels: Path[] }> {
  const committed = height === 0 ? EMPTY_ROOT : await anchor.rootAt(chainId, height);
  if (!committed) fail('BAD_PROOF', `the contract holds no commit at height ${height}`);
  const levels = [first];
  let root: Uint8Array = committed;
  let space = { start: chain.start, end: chain.end };
  let operator = fromHex(chain.operatorKey.slice(2), 'operatorKey');
  let where = `height ${height}`;
  const maxLevels = await anchor.maxLevels();
  for (;;) {
    const path = levels[levels.length - 1];
    let r;
    try {
      r = verifyLookup(root, path, point, space.start, space.end);
    } catch (e) {
      if (e instanceof TreeError)
        fail('BAD_PROOF', `the path does not prove point ${point} at ${where}: ${e.message}`);
      throw e;
    }
    if (r.kind === 'gap') return { winner: operator, levels };
    const c = r.leaf.contract;
    if (!c.child) return { winner: c.owner, levels };
    if (bytesEqual(c.child.root, EMPTY_ROOT)) return { winner: c.child.operator, levels };
    if (levels.length === maxLevels)
      fail('BAD_PROOF', `point ${point} is more than ${maxLevels} chains deep`);
    const child = toHex(c.child.chain);
    try {
      levels.push(await source.level(c.child.chain, point, c.child.height));
    } catch (e) {
      if (!(e instanceof SettleError)) throw e;
      fail(
        'NESTED',
        `point ${point} lies in child chain ${child} (height ${c.child.height} committed in contract ${c.start}): ` +
          `its level comes from a source for that chain (--level-api <its operator's API>): ${e.message}`,
      );
    }
    root = c.child.root;
    space = { start: c.start, end: c.end };
    operator = c.child.operator;
    where = `child chain ${child} height ${c.child.height}`;
  }
}

/**
 * The first of `sources` that serves a chain: an operator API serves its own chain only, so a claim whose point
 * descends into child chains lists the top chain's source and one per child operator.
 */
export function firstOf(sources: readonly LevelSource[]): LevelSource {
  return {
    what: sources.map((x) => x.what).join(', '),
    async level(chainId, point, height) {
      let last: unknown = new SettleError('UNKNOWN_CHAIN', `no source serves chain ${toHex(chainId)}`);
      for (const src of sources) {
        try {
          return await src.level(chainId, point, height);
        } catch (e) {
          if (!(e instanceof SettleError) || (e.code !== 'UNKNOWN_CHAIN' && e.code !== 'NOT_WATCHED'))
            throw e;
          last = e;
        }
      }
      throw last;
    },
    async consent(digest, where) {
      for (const src of sources) {
        const c = (await src.consent?.(digest, where)) ?? null;
        if (c) return c;
      }
      return null;
    },
  };
}

function blocksLeft(until: bigint, head: bigint): string {
  const n = until - head + 1n;
  return `wait ${n} more block${n === 1n ? '' : 's'} (until block ${until + 1n})`;
}

/** A contract refusal as a SettleError that says what was wrong and what to do. */
export async function explain(anchor: EvmAnchor, chainId: Uint8Array | null, e: unknown): Promise<unknown> {
  if (!(e instanceof AnchorRevert)) return e;
  const head = await anchor.head();
  const c = chainId ? await anchor.chain(chainId) : null;
  const pending = chainId ? await anchor.claimOf(chainId) : null;
  switch (e.errorName) {
    case 'WindowOpen':
      return new SettleError(
        'WINDOW_OPEN',
        `the claim's challenge window is open through block ${pending?.deadline}: ${blocksLeft(pending?.deadline ?? head, head)}, then timeout`,
      );
    case 'NoClaim':
      return new SettleError('NO_CLAIM', 'no claim is pending for this chain: claim first');
    case 'NothingOwed':
      return new SettleError('NOTHING_OWED', `nothing is owed to ${anchor.evmAddress}`);
    case 'UnknownChain':
      return new SettleError('UNKNOWN_CHAIN', `the contract has no chain ${chainId ? toHex(chainId) : ''}`);
    case 'WrongPhase':
      if (c?.phase === 'active')
        return new SettleError(
          'NOT_EXPIRED',
          `the chain expires at block ${c.expiry}: ${blocksLeft(c.expiry, head)}`,
        );
      if (c?.phase === 'settled') return new SettleError('SETTLED', 'the chain is already settled');
      if (pending && head > pending.deadline)
        return new SettleError(
          'WINDOW_CLOSED',
          `the challenge window closed at block ${pending.deadline}: call timeout`,
        );
      break;
    case 'WindowClosed':
      return new SettleError(
        'WINDOW_CLOSED',
        `the standing claim's window closed at block ${pending?.deadline}: call timeout`,
      );
    case 'SettlementOver':
      return new SettleError('WINDOW_CLOSED', 'the chain is past its final deadline: call timeout');
    case 'SameWinner':
      return new SettleError(
        'REFUSED',
        'the standing claim already proves the same winner with the same contract',
      );
    case 'NotLastCommit':
      return new SettleError(
        'REFUSED',
        `a data request names the chain's last committed height${c ? ` (now ${c.height})` : ''}: ask again for it`,
      );
    case 'AlreadyRequested':
      return new SettleError(
        'REFUSED',
        'a request for this point at this height is open already: wait for its answer',
      );
    case 'AlreadyAnswered':
      return new SettleError(
        'REFUSED',
        'the request was answered (its path is in the DataAnswered event) or slashed',
      );
    case 'SeedNotRevealed': {
      const until = c ? c.expiry + (await anchor.finality()) + (await anchor.challengeWindow()) : head;
      return new SettleError(
        'SEED_PENDING',
        `the operator has until block ${until} to reveal its beacon seed: ${blocksLeft(until, head)}; after it, ` +
          'the beacon is fixed without the seed and the operator slashed',
      );
    }
    case 'BeaconNotPosted': {
      const until = c ? c.expiry + (await anchor.finality()) + (await anchor.challengeWindow()) : head;
      return new SettleError(
        'SEED_PENDING',
        `the draw waits for drand round ${c?.beaconRound} to be posted (anyone may: settle beacon), at the latest ` +
          `until block ${until}: ${blocksLeft(until, head)}; after it, the draw falls back to that block's hash`,
      );
    }
    case 'NotBetter':
      return new SettleError(
        'REFUSED',
        'the standing claim ranks above this one (its contract was committed first and its owner never gave it ' +
          'up): challenge it with its owner-signed action first (settle challenge)',
      );
  }
  return new SettleError('REFUSED', `the contract refused ${e.message}`);
}

export async function send(
  anchor: EvmAnchor,
  chainId: Uint8Array | null,
  fn: SettleFunction,
  args: readonly unknown[],
  value?: bigint,
): Promise<{ gasUsed: bigint; blockNumber: bigint }> {
  try {
    return await anchor.settle(fn, args, value);
  } catch (e) {
    throw await explain(anchor, chainId, e);
  }
}

/** The chain must be past its expiry and not settled; returns its state and the EVM head. */
async function settling(anchor: EvmAnchor, chainId: Uint8Array) {
  const c = await anchor.chain(chainId);
  const head = await anchor.head();
  if (c.phase === 'none') fail('UNKNOWN_CHAIN', `the contract has no chain ${toHex(chainId)}`);
  if (c.phase === 'settled') fail('SETTLED', 'the chain is already settled');
  if (c.phase === 'active' && head <= c.expiry)
    fail('NOT_EXPIRED', `the chain expires at block ${c.expiry}: ${blocksLeft(c.expiry, head)}`);
  return { c, head };
}

export interface ClaimResult {
  readonly chainId: string;
  readonly point: string;
  readonly height: number;
  readonly winnerKey: string;
  readonly payout: Address;
  readonly gasUsed: string;
  readonly block: string;
  /** Last block of the challenge window; `timeout` works from the next one. */
  readonly deadline: string;
}

/**
 * Who authorises the payout: the winner's key pair, or (a watchtower claiming for a holder) the winner's public key
 * and the payout signature the holder gave in advance.
 */
export type Claimant = KeyPair | { readonly publicKey: Uint8Array; readonly payoutSignature: Hex };

export interface ClaimOptions {
  readonly chainId: Uint8Array;
  /** The winner's Ed25519 key: the holder of the contract with the point, or the operator for free space. */
  readonly key: Claimant;
  readonly payout: Address;
}

/** The point drawn for a chain, and who wins it by `source`'s proof at the last committed height (checked). */
export async function proveWinner(
  anchor: EvmAnchor,
  source: LevelSource,
  chainId: Uint8Array,
): Promise<{
  point: bigint;
  height: number;
  winner: Uint8Array;
  levels: Path[];
  /** What an offline check needs besides the levels (checkKeptProof): the committed root, space and operator. */
  root: Uint8Array;
  space: { start: bigint; end: bigint };
  operatorKey: Uint8Array;
}> {
  const { c } = await settling(anchor, chainId);
  const point = await anchor.winningPoint(chainId).catch(async (e: unknown) => {
    throw await explain(anchor, chainId, e);
  });
  const first = await source.level(chainId, point, c.height);
  const { winner, levels } = await judge(anchor, source, chainId, point, c.height, first, c);
  const root = c.height === 0 ? EMPTY_ROOT : (await anchor.rootAt(chainId, c.height))!;
  const operatorKey = fromHex(c.operatorKey.slice(2), 'operatorKey');
  return {
    point,
    height: c.height,
    winner,
    levels,
    root,
    space: { start: c.start, end: c.end },
    operatorKey,
  };
}

/**
 * Who wins `point` by `levels`, checked against the committed `root` of a chain with `space` and `operatorKey`, with
 * nothing but the levels (no network): each level's lookup path against its root, a contract holding a child chain
 * leading to the next level against the root committed in it. What `settle check-proof` runs on a kept proof.
 */
export function winnerOfLevels(
  root: Uint8Array,
  levels: readonly Path[],
  point: bigint,
  space: { start: bigint; end: bigint },
  operatorKey: Uint8Array,
): Uint8Array {
  let at = { root, space, operator: operatorKey, where: 'the committed root' };
  for (let i = 0; i < levels.length; i++) {
    let r;
    try {
      r = verifyLookup(at.root, levels[i], point, at.space.start, at.space.end);
    } catch (e) {
      if (e instanceof TreeError)
        fail('BAD_PROOF', `level ${i} does not prove point ${point} against ${at.where}: ${e.message}`);
      throw e;
    }
    const last = i === levels.length - 1;
    if (r.kind === 'gap' || !r.leaf.contract.child || bytesEqual(r.leaf.contract.child.root, EMPTY_ROOT)) {
      if (!last)
        fail('BAD_PROOF', `level ${i} settles the point, yet ${levels.length - i - 1} more levels follow`);
      if (r.kind === 'gap') return at.operator;
      const c = r.leaf.contract;
      return c.child ? c.child.operator : c.owner;
    }
    const c = r.leaf.contract;
    if (last)
      fail('BAD_PROOF', `point ${point} lies in child chain ${toHex(c.child!.chain)}: its level is missing`);
    at = {
      root: c.child!.root,
      space: { start: c.start, end: c.end },
      operator: c.child!.operator,
      where: `the root of child chain ${toHex(c.child!.chain)} committed in contract ${c.start}`,
    };
  }
  return fail('BAD_PROOF', 'the proof has no level');
}

/**
 * Claims the prize with the lookup path at the contract's last committed height, signed by the winner, with the
 * contract's bond. A standing claim of someone else's is first challenged with its owner's signed action when a
 * source holds one (otherwise the contract ranks the two claims, section 12).
 */
export async function claimChain(
  anchor: EvmAnchor,
  source: LevelSource,
  o: ClaimOptions,
): Promise<ClaimResult> {
  const { point, height, winner, levels } = await proveWinner(anchor, source, o.chainId);
  if (!bytesEqual(winner, o.key.publicKey))
    fail(
      'NOT_WINNER',
      `point ${point} belongs to key ${toHex(winner)}; the key given is ${toHex(o.key.publicKey)}`,
    );
  let standing = await anchor.claimOf(o.chainId);
  if (standing && !bytesEqual(fromHex(standing.winnerKey.slice(2), 'winnerKey'), o.key.publicKey)) {
    const defeated = await challengeStanding(anchor, source, o.chainId, standing).catch((e: unknown) => {
      if (e instanceof SettleError && e.code === 'NO_CONSENT') return null;
      throw e;
    });
    if (defeated) standing = null;
  }
  const r = await send(
    anchor,
    o.chainId,
    'claim',
    [
      viemHex(o.chainId),
      BigInt(height),
      levels.map((l) => viemHex(encodeLookupPath(l))),
      o.payout,
      'secretKey' in o.key
        ? signPayout(o.key.secretKey, anchor.anchorId, o.chainId, o.payout)
        : o.key.payoutSignature,
      standing?.levels ?? [],
    ],
    await anchor.claimBond(),
  );
  const pending = await anchor.claimOf(o.chainId);
  return {
    chainId: toHex(o.chainId),
    point: point.toString(),
    height,
    winnerKey: toHex(winner),
    payout: o.payout,
    gasUsed: r.gasUsed.toString(),
    block: r.blockNumber.toString(),
    deadline: (pending?.deadline ?? 0n).toString(),
  };
}

/**
 * Removes the standing claim with an owner-signed action over one of its contracts, found by leaf digest in
 * `source` (an operator keeps every action it sealed): the contracts are the leaves of the claim's paths, read from
 * its transaction's calldata. Resolves with what was shown; NO_CONSENT when no source holds such an action.
 */
export async function challengeStanding(
  anchor: EvmAnchor,
  source: LevelSource,
  chainId: Uint8Array,
  standing: PendingClaim,
): Promise<{ level: number; digest: string; gasUsed: bigint }> {
  const paths = await anchor.claimPaths(standing.tx);
  // Each level is proven in its own chain: the top one at the claim's height, a child at the height its parent
  // contract committed.
  let where: ConsentWhere | null = { chainId, height: standing.height };
  for (const [i, bytes] of paths.entries()) {
    const leaf = decodeLookupPath(bytes).leaf;
    if (!leaf || i >= standing.levels.length || !where) break;
    const here: ConsentWhere = where;
    const child = leaf.contract.child;
    where = child ? { chainId: child.chain, height: child.height } : null;
    const consent = (await source.consent?.(leaf.digest, here)) ?? null;
    if (!consent) continue;
    const r = await send(anchor, chainId, 'challenge', [
      viemHex(chainId),
      viemHex(leaf.bytes),
      viemHex(consent.action),
      viemHex(consent.signature),
      standing.levels,
    ]);
    return { level: i, digest: toHex(leaf.digest), gasUsed: r.gasUsed };
  }
  fail(
    'NO_CONSENT',
    `${source.what} holds no owner-signed action over any contract of the standing claim (height ` +
      `${standing.height}, key ${standing.winnerKey}): its holder never gave it up, so it stands`,
  );
}

/**
 * Challenges the standing claim with an owner-signed action over one of its contracts (a contract its owner gave
 * up by a transfer, split, close or open-child): the claim is removed and its bond paid to the challenger.
 */
export async function challengeChain(
  anchor: EvmAnchor,
  source: LevelSource,
  chainId: Uint8Array,
): Promise<{
  chainId: string;
  height: number;
  level: number;
  digest: string;
  outcome: string;
  gasUsed: string;
}> {
  const { head } = await settling(anchor, chainId);
  const pending = await anchor.claimOf(chainId);
  if (!pending) fail('NO_CLAIM', 'no claim is standing for this chain: there is nothing to challenge');
  if (head > pending.deadline)
    fail('WINDOW_CLOSED', `the challenge window closed at block ${pending.deadline}: call timeout`);
  const r = await challengeStanding(anchor, source, chainId, pending);
  return {
    chainId: toHex(chainId),
    height: pending.height,
    level: r.level,
    digest: r.digest,
    outcome: 'claim-removed',
    gasUsed: r.gasUsed.toString(),
  };
}

/** Pays out the pending claim once its window has passed. */
export async function timeoutChain(
  anchor: EvmAnchor,
  chainId: Uint8Array,
): Promise<{ chainId: string; gasUsed: string; block: string }> {
  const { head } = await settling(anchor, chainId);
  const pending = await anchor.claimOf(chainId);
  if (!pending) {
    // Unclaimed: after the final deadline the safety share goes back and the prize is burnt.
    const final = await anchor.finalDeadline(chainId);
    if (head <= final)
      fail(
        'NO_CLAIM',
        `no claim is standing for this chain: claim first (claims are taken through block ${final})`,
      );
  } else if (head <= pending.deadline)
    fail(
      'WINDOW_OPEN',
      `the claim's challenge window is open through block ${pending.deadline}: ${blocksLeft(pending.deadline, head)}, then timeout`,
    );
  const r = await send(anchor, chainId, 'timeout', [viemHex(chainId)]);
  return { chainId: toHex(chainId), gasUsed: r.gasUsed.toString(), block: r.blockNumber.toString() };
}

/**
 * Seed 001's data request: demands the lookup path of `point` at committed `height` on chain, with the contract's
 * bond. The operator must answer within the challenge window (`DataAnswered`), or `slashWithheld` slashes it.
 */
export async function requestData(
  anchor: EvmAnchor,
  chainId: Uint8Array,
  height: bigint,
  point: bigint,
): Promise<{
  chainId: string;
  request: Hex;
  height: string;
  point: string;
  deadline: string;
  gasUsed: string;
}> {
  const r = await send(
    anchor,
    chainId,
    'requestData',
    [viemHex(chainId), height, point],
    await anchor.claimBond(),
  );
  const mine = (await anchor.dataRequests(chainId)).find(
    (x) => BigInt(x.height) === height && x.point === point,
  );
  if (!mine) fail('REFUSED', 'the request was mined but the contract does not list it');
  return {
    chainId: toHex(chainId),
    request: mine.id,
    height: height.toString(),
    point: point.toString(),
    deadline: mine.deadline.toString(),
    gasUsed: r.gasUsed.toString(),
  };
}

/** Slashes the operator of a data request left unanswered past its deadline. */
export async function slashWithheld(
  anchor: EvmAnchor,
  request: Hex | string,
): Promise<{ request: string; gasUsed: string }> {
  const r = await send(anchor, null, 'slashWithheld', [request]);
  return { request, gasUsed: r.gasUsed.toString() };
}

/**
 * Posts the drand round chain `chainId` draws from when it is published and not yet posted. A relay that cannot
 * answer is not this step's failure: the claim that follows says the draw is pending (SEED_PENDING).
 */
export async function postRoundQuietly(anchor: EvmAnchor, chainId: Uint8Array): Promise<void> {
  await anchor.postDrandRound(chainId).catch((e: unknown) => {
    if (!(e instanceof DrandError) && !(e instanceof AnchorRevert)) throw e;
  });
}

/** Draws the credits owed to the anchor's EVM account. */
export async function withdrawCredits(
  anchor: EvmAnchor,
): Promise<{ to: Address; amountWei: string; gasUsed: string }> {
  const to = anchor.evmAddress;
  if (!to) fail('REFUSED', 'withdrawing needs an EVM key');
  const amount = await anchor.owed(to);
  if (amount === 0n) fail('NOTHING_OWED', `nothing is owed to ${to}`);
  const r = await send(anchor, null, 'withdraw', []);
  return { to, amountWei: amount.toString(), gasUsed: r.gasUsed.toString() };
}

export type SettleStep =
  | { readonly status: 'waiting'; readonly untilBlock: bigint; readonly why: string }
  | { readonly status: 'claimed'; readonly claim: ClaimResult }
  | { readonly status: 'timed-out' }
  | { readonly status: 'settled' }
  | { readonly status: 'not-winner'; readonly why: string };

function ours(p: PendingClaim, o: ClaimOptions): boolean {
  return p.winnerKey === viemHex(o.key.publicKey) && p.payout.toLowerCase() === o.payout.toLowerCase();
}

/**
 * One step of settling a chain from the contract's state: wait for expiry, claim (unless our claim is pending),
 * wait for the window, timeout. A settlement transaction journaled before a crash is finished first.
 */
export async function settleStep(
  anchor: EvmAnchor,
  source: LevelSource,
  o: ClaimOptions,
): Promise<SettleStep> {
  await anchor.resumeSettle();
  const c = await anchor.chain(o.chainId);
  const head = await anchor.head();
  if (c.phase === 'none') fail('UNKNOWN_CHAIN', `the contract has no chain ${toHex(o.chainId)}`);
  if (c.phase === 'settled') return { status: 'settled' };
  if (c.phase === 'active' && head <= c.expiry)
    return { status: 'waiting', untilBlock: c.expiry + 1n, why: 'expiry' };
  // A holder's settler posts the drand round itself: the draw needs nobody in particular, not even the operator.
  if (c.phase === 'active' && c.beaconRound > 0n) await postRoundQuietly(anchor, o.chainId);
  const pending = await anchor.claimOf(o.chainId);
  if ((pending && head > pending.deadline) || (!pending && head > (await anchor.finalDeadline(o.chainId)))) {
    await timeoutChain(anchor, o.chainId);
    return { status: 'timed-out' };
  }
  if (pending && ours(pending, o))
    return { status: 'waiting', untilBlock: pending.deadline + 1n, why: 'challenge window' };
  try {
    return { status: 'claimed', claim: await claimChain(anchor, source, o) };
  } catch (e) {
    if (!(e instanceof SettleError)) throw e;
    // Someone else's claim stands (or no proof of ours exists): it is paid out after its window all the same.
    if (pending && (e.code === 'NOT_WINNER' || e.code === 'NOT_WATCHED' || e.code === 'REFUSED'))
      return { status: 'waiting', untilBlock: pending.deadline + 1n, why: `another claim: ${e.message}` };
    if (e.code === 'NOT_WINNER' || e.code === 'NOT_WATCHED') return { status: 'not-winner', why: e.message };
    if (e.code === 'SEED_PENDING')
      return {
        status: 'waiting',
        untilBlock: c.expiry + (await anchor.finality()) + (await anchor.challengeWindow()) + 1n,
        why: 'beacon seed',
      };
    throw e;
  }
}

export interface SettleChainOptions extends ClaimOptions {
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

/**
 * Settles a chain end to end: waits for its expiry, claims, waits out the challenge window and calls timeout.
 * Resolves with the claim made (null if another claim was paid) once the chain is settled, or with
 * `not-winner` when the key owns no proof of the point. Restart-safe: call it again after a crash.
 */
export async function settleChain(
  anchor: EvmAnchor,
  source: LevelSource,
  o: SettleChainOptions,
): Promise<{ status: 'settled' | 'not-winner'; claim: ClaimResult | null; why?: string }> {
  let claim: ClaimResult | null = null;
  for (;;) {
    o.signal?.throwIfAborted();
    const s = await settleStep(anchor, source, o);
    o.log?.debug({ chain: toHex(o.chainId), step: s.status }, 'settlement step');
    if (s.status === 'settled') return { status: 'settled', claim };
    if (s.status === 'not-winner') return { status: 'not-winner', claim, why: s.why };
    if (s.status === 'claimed') {
      claim = s.claim;
      o.log?.info({ ...s.claim }, 'claimed the lottery prize on the EVM anchor');
    }
    if (s.status === 'waiting') await waitForBlock(anchor, s.untilBlock, o.pollMs ?? 1000, o.signal);
  }
}

/** Resolves once the EVM head reaches `block` (or the signal aborts). */
export async function waitForBlock(
  anchor: EvmAnchor,
  block: bigint,
  pollMs: number,
  signal?: AbortSignal,
): Promise<void> {
  while (!signal?.aborted && (await anchor.head()) < block) await sleep(pollMs, signal);
}
