/**
 * The watch API of a validator (docs/protocol.md §13):
 *
 *   POST   /v1/watch {chainId, path}   watch the contract a membership path proves (path: hex of the encoded Path,
 *                                      as the operator's GET /v1/contracts/:start gives `proof.path`; that whole
 *                                      answer is accepted too); 201 new, 200 already watched
 *   GET    /v1/watch                   [{id, chainId, start, status, height, path, end}] (?chainId=&status=&after=&limit=&height=)
 *   GET    /v1/watch/:id               one watch, with `verified`: its path matches this node's root
 *   DELETE /v1/watch/:id               stop watching
 *   GET    /v1/chains/:id/authorisations/:digest?after=
 *                                      the owner's signed action over the contract state with that leaf digest,
 *                                      sealed after height `after` (from watches and stored blocks), as the
 *                                      operator's GET /v1/authorisations/:digest gives it: what defeats a stale
 *                                      claim on the anchor
 *
 * and the answer of POST /v1/chains/:id/proofs/check.
 */
import { toHex } from '../crypto/hash.js';
import { TreeError } from '../tree/errors.js';
import { checkPath } from '../tree/verify.js';
import { HttpError, type HttpApi, type Request } from '../runtime/http.js';
import { badRequest as bad, hexField as hex } from '../runtime/json.js';
import type { ValidatorNode } from './validator.js';
import { decodePathBytes, WatchServiceError, type ReplayCharge, type WatchErrorCode } from './watches.js';

const STATUS: Record<WatchErrorCode, number> = {
  UNKNOWN_CHAIN: 404,
  NOT_FOUND: 404,
  UNKNOWN_ROOT: 422,
  NOT_A_MEMBER: 400,
  WATCH_LIMIT: 429,
  WATCH_MEMORY: 429,
};

export function watchErrors(e: unknown): HttpError | undefined {
  if (e instanceof WatchServiceError) return new HttpError(STATUS[e.code], e.code, e.message);
  return undefined;
}

/** `{chainId, path}`, or the operator's contract view `{chainId, proof: {path}}` as it comes. */
function watchBody(body: unknown): { chainId: Uint8Array; path: Uint8Array } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) bad('the body must be a JSON object');
  const b = body as { chainId?: unknown; path?: unknown; proof?: { path?: unknown } | null };
  const path = b.path ?? (b.proof && typeof b.proof === 'object' ? b.proof.path : undefined);
  return { chainId: hex(b.chainId, 'chainId', 32), path: hex(path, 'path') };
}

/**
 * What a replay of stored blocks costs the requesting client: a block in 8 of its budget's tokens (a proof 1,024
 * blocks old, the most replayed, costs 128: about 0.4 s of CPU), charged before the replay.
 */
export function replayCharge(req: Request): ReplayCharge {
  return (blocks) =>
    req.charge(Math.ceil(blocks / 8), `a proof ${blocks} blocks old (replayed from stored blocks)`);
}

function limitOf(q: URLSearchParams): number {
  const v = q.get('limit') ?? '1000';
  if (!/^[0-9]{1,6}$/.test(v) || Number(v) < 1 || Number(v) > 10_000) bad('limit must be in [1, 10000]');
  return Number(v);
}

/** `?height=`: the watches as they were at that height (a lottery claim proves against a committed root). */
function heightOf(q: URLSearchParams, name = 'height'): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) bad(`${name} must be a non-negative integer`);
  return Number(v);
}

export function addWatchRoutes(api: HttpApi, node: ValidatorNode): void {
  api.mapErrors(watchErrors);
  api.route('POST', '/v1/watch', async (req) => {
    const { chainId, path } = watchBody(req.json<unknown>());
    const r = await node.watches.add(chainId, decodePathBytes(path), replayCharge(req));
    return { status: r.created ? 201 : 200, json: r.watch };
  });
  api.route('GET', '/v1/watch', (req) => {
    const q = req.query;
    const status = q.get('status') ?? undefined;
    if (status !== undefined && !['current', 'superseded', 'closed'].includes(status))
      bad('status must be current, superseded or closed');
    const chainId = q.get('chainId');
    return {
      json: node.watches.list({
        chainId: chainId === null ? undefined : toHex(hex(chainId, 'chainId', 32)),
        status,
        after: q.get('after') ?? undefined,
        limit: limitOf(q),
        height: heightOf(q),
      }),
    };
  });
  api.route('GET', '/v1/watch/:id', (req) => {
    const w = node.watches.get(req.params.id);
    if (!w) throw new HttpError(404, 'NOT_FOUND', `no watch ${req.params.id}`);
    return { json: { ...w, verified: node.watches.verified(w.id) } };
  });
  api.route('GET', '/v1/chains/:id/authorisations/:digest', async (req) => {
    const chainId = hex(req.params.id, 'chain id', 32);
    const digest = hex(req.params.digest, 'digest', 32);
    const after = heightOf(req.query, 'after') ?? 0;
    if (!node.tracker.state(chainId))
      throw new HttpError(404, 'UNKNOWN_CHAIN', `chain ${toHex(chainId)} is not tracked here`);
    const c = await node.watches.consent(chainId, digest, after);
    if (!c)
      throw new HttpError(
        404,
        'NOT_FOUND',
        `this node saw no owner-signed action over contract state ${toHex(digest)} after height ${after}`,
      );
    return {
      json: {
        digest: toHex(digest),
        action: toHex(c.action),
        signature: toHex(c.signature),
        height: c.height,
      },
    };
  });
  api.route('DELETE', '/v1/watch/:id', async (req) => {
    if (!(await node.watches.remove(req.params.id)))
      throw new HttpError(404, 'NOT_FOUND', `no watch ${req.params.id}`);
    return { json: { id: req.params.id, deleted: true } };
  });
}

/**
 * The answer of POST /v1/chains/:id/proofs/check: `current` (matches the head), `outdated` (matches an earlier
 * root and the contract has not changed since: `path` is its path against the head), `superseded` or `closed`
 * (`end` says at which height, by which transaction), `unknown` (matches no root of the last 1024 blocks: `code`).
 */
export async function checkProof(
  node: ValidatorNode,
  id: Uint8Array,
  pathBytes: Uint8Array,
  charge?: ReplayCharge,
): Promise<unknown> {
  const state = node.tracker.state(id);
  if (!state) throw new HttpError(404, 'UNKNOWN_CHAIN', `chain ${toHex(id)} is not tracked here`);
  const p = decodePathBytes(pathBytes);
  let code: string | null = null;
  let result = null;
  try {
    checkPath(state.stateRoot, p);
  } catch (e) {
    if (!(e instanceof TreeError)) throw e;
    code = e.code;
  }
  if (code === 'PROOF_MISMATCH') {
    try {
      result = await node.watches.check(id, p, charge);
    } catch (e) {
      if (!(e instanceof WatchServiceError) || e.code !== 'UNKNOWN_ROOT') throw e;
    }
  }
  const c = p.leaf?.contract;
  const now = node.tracker.state(id)!;
  const status = code === null ? 'current' : (result?.status ?? 'unknown');
  return {
    chainId: toHex(id),
    height: now.height,
    stateRoot: toHex(now.stateRoot),
    faulty: node.tracker.view(id)?.faulty ?? false,
    current: status === 'current',
    status,
    code: CHECK_CODES[status] ?? code,
    provenAt: code === null ? state.height : (result?.provenAt ?? null),
    path: result?.path ?? null,
    end: result?.end ?? null,
    watch: result?.watch ?? null,
    contract: c
      ? { start: c.start.toString(), end: c.end.toString(), owner: toHex(c.owner), nonce: c.nonce }
      : null,
  };
}

/** The check's code per status; `unknown` keeps the verifier's (PROOF_MISMATCH or PROOF_INVALID). */
const CHECK_CODES: Record<string, string | null> = {
  current: null,
  outdated: 'PROOF_OUTDATED',
  superseded: 'CONTRACT_SUPERSEDED',
  closed: 'CONTRACT_CLOSED',
};
