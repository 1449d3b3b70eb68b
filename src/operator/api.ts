/**
 * The operator's HTTP API on the runtime's HttpApi. JSON; bytes as hex; positions as decimal strings.
 *
 *   POST /v1/contracts                 sell {start, end, owner, terms?}            operator only (Bearer token)
 *   GET  /v1/contracts/:start          contract, committed state and its membership proof
 *   GET  /v1/contracts?owner=hex       an owner's contracts (&after=start&limit=n)
 *   POST /v1/contracts/:start/actions  {action, signature, childGenesis?}          signed by the owner
 *   POST /v1/child-roots               {childHeader}                               signed by the child operator
 *   GET  /v1/chain                     genesis, chain id, head
 *   GET  /v1/blocks/:height            a stored block
 *   GET  /v1/authorisations/:digest    the owner's action that superseded a contract state
 *
 * Accepted requests answer 202 once durable; a repeated request answers 200 with status "duplicate". Rejections
 * answer `{error: {code, message}}` with the protocol's code and change nothing: 400 malformed or badly signed,
 * 401 missing token, 404 NOT_FOUND or UNKNOWN_CHAIN, 409 conflicts with the current state or EXPIRED, 503 not running
 * or NOT_ANCHORED (the parent's contract does not hold this chain yet).
 */
import { toHex } from '../codec/bytes.js';
import { DecodeError } from '../codec/errors.js';
import { ChainError, type ChainErrorCode } from '../chain/errors.js';
import { decodeGenesis } from '../chain/genesis.js';
import { decodeSignedHeader } from '../chain/header.js';
import { signedActionFromBytes } from '../chain/tx.js';
import { TreeError } from '../tree/errors.js';
import { guarded, HttpError, type Handler, type HttpApi, type Reply } from '../runtime/http.js';
import { badRequest, hexField, objectBody, u64Field } from '../runtime/json.js';
import { OperatorError } from './errors.js';
import { MAX_REWIND } from './history.js';
import type { OperatorService } from './service.js';
import { requireToken } from './token.js';
import { encodeLookupPath } from '../sortition/lottery.js';
import type { SubmitResult } from '../api/operator.js';

/** Codes that say the request conflicts with the current state (it may have been valid earlier). */
const CONFLICTS: ReadonlySet<ChainErrorCode> = new Set<ChainErrorCode>([
  'OVERLAP',
  'STALE_NONCE',
  'WRONG_CONTRACT',
  'CONTRACT_IS_CHAIN',
  'NOT_A_CHAIN',
  'CHILD_HEIGHT_NOT_INCREASING',
]);

export function chainErrorStatus(code: ChainErrorCode): number {
  if (code === 'NOT_FOUND') return 404;
  return CONFLICTS.has(code) ? 409 : 400;
}

const OPERATOR_STATUS: Record<OperatorError['code'], number> = {
  UNKNOWN_CHAIN: 404,
  NOT_RUNNING: 503,
  STORE_FAILED: 503,
  STORE_MISMATCH: 500,
  EXPIRED: 409,
  NOT_ANCHORED: 503,
};

/** Maps the operator's and the protocol's errors to HTTP errors. */
export function operatorHttpError(e: unknown): HttpError | undefined {
  if (e instanceof HttpError) return e;
  if (e instanceof ChainError) return new HttpError(chainErrorStatus(e.code), e.code, e.message);
  if (e instanceof DecodeError || e instanceof TreeError) {
    const code = e.code as ChainErrorCode;
    return new HttpError(chainErrorStatus(code), code, e.message);
  }
  if (e instanceof OperatorError) return new HttpError(OPERATOR_STATUS[e.code], e.code, e.message);
  return undefined;
}

/** Operator handlers convert their own errors, so that other components' error mappers never judge them. */
function guardedOperator(h: Handler): Handler {
  return guarded(h, operatorHttpError);
}

function submitted(r: SubmitResult): Reply {
  return { status: r.status === 'accepted' ? 202 : 200, json: r };
}

function heightParam(v: string): number {
  if (!/^[0-9]{1,15}$/.test(v)) badRequest('height must be a decimal integer');
  return Number(v);
}

export interface OperatorApiOptions {
  /** Bearer token for operator-only calls. */
  readonly token: string;
}

export function addOperatorRoutes(api: HttpApi, svc: OperatorService, opts: OperatorApiOptions): void {
  api.route(
    'POST',
    '/v1/contracts',
    guardedOperator(async (req) => {
      requireToken(req.headers, opts.token);
      const b = objectBody(req.json<unknown>());
      const r = await svc.create({
        start: u64Field(b.start, 'start'),
        end: u64Field(b.end, 'end'),
        owner: hexField(b.owner, 'owner', 32),
        terms: b.terms === undefined || b.terms === '' ? undefined : hexField(b.terms, 'terms', 32),
      });
      return submitted(r);
    }),
  );

  api.route(
    'GET',
    '/v1/contracts',
    guardedOperator((req) => {
      const owner = req.query.get('owner');
      if (!owner) badRequest('list contracts with ?owner=<hex key>');
      const after = req.query.get('after');
      const limitText = req.query.get('limit') ?? '1000';
      const limit = Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) badRequest('limit must be in [1, 10000]');
      const page = svc.contractsByOwner(
        hexField(owner, 'owner', 32),
        after === null ? null : u64Field(after, 'after'),
        limit,
      );
      return { json: { owner, ...page } };
    }),
  );

  api.route(
    'GET',
    '/v1/contracts/:start',
    guardedOperator((req) => ({ json: svc.contractView(u64Field(req.params.start, 'start')) })),
  );

  api.route(
    'POST',
    '/v1/contracts/:start/actions',
    guardedOperator(async (req) => {
      const start = u64Field(req.params.start, 'start');
      const b = objectBody(req.json<unknown>());
      const signed = signedActionFromBytes(hexField(b.action, 'action'), hexField(b.signature, 'signature'));
      const g = b.childGenesis;
      const childGenesis =
        g === undefined || g === null || g === '' ? null : decodeGenesis(hexField(g, 'childGenesis'));
      return submitted(await svc.ownerAction({ kind: 'owner', start, signed, childGenesis }));
    }),
  );

  api.route(
    'POST',
    '/v1/child-roots',
    guardedOperator(async (req) => {
      const b = objectBody(req.json<unknown>());
      const header = decodeSignedHeader(hexField(b.childHeader, 'childHeader'));
      return submitted(await svc.childRoot(header));
    }),
  );

  api.route(
    'GET',
    '/v1/chain',
    guardedOperator(() => ({ json: svc.chainInfo() })),
  );

  api.route(
    'GET',
    '/v1/blocks/:height',
    guardedOperator(async (req) => {
      const height = heightParam(req.params.height);
      const block = await svc.block(height);
      if (!block) throw new HttpError(404, 'NOT_FOUND', `no block at height ${height}`);
      return { json: { height, block: toHex(block) } };
    }),
  );

  // The settlement lottery's first level: a sealed block's header and the point's lookup path in its tree, by
  // default the last block's; `?height=` (the contract's committed height) rebuilds an earlier block's tree.
  api.route(
    'GET',
    '/v1/lottery/:point',
    guardedOperator(async (req) => {
      const point = u64Field(req.params.point, 'point');
      const want = req.query.get('height');
      const head = svc.lotteryLevel(point);
      if (!head) throw new HttpError(404, 'NOT_FOUND', 'no block sealed yet');
      const level = want === null ? head : await svc.lotteryLevelAt(point, heightParam(want));
      if (!level)
        throw new HttpError(
          409,
          'HEIGHT_UNAVAILABLE',
          `the operator can rebuild the tree of heights ${Math.max(1, head.header.header.height - MAX_REWIND)} ` +
            `to ${head.header.header.height} (its last block), not of height ${want}`,
        );
      const height = level.header.header.height;
      return {
        json: {
          point: point.toString(),
          height,
          signedHeader: toHex(level.header.bytes),
          lookupPath: toHex(encodeLookupPath(level.path)),
        },
      };
    }),
  );

  api.route(
    'GET',
    '/v1/authorisations/:digest',
    guardedOperator(async (req) => {
      const a = await svc.authorisation(hexField(req.params.digest, 'digest', 32));
      if (!a) throw new HttpError(404, 'NOT_FOUND', 'no action superseded a contract state with this digest');
      return { json: a };
    }),
  );
}
