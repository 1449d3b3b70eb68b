/**
 * The devnet anchor's HTTP routes, beside the anchor chain's operator routes on the same API:
 *
 *   POST /v1/anchor/register        {operatorKey, amount} -> {start, end, anchorChainId, ...}
 *   GET  /v1/anchor/registrations
 *   GET  /v1/anchor/beacon/:height  {height, beacon, beaconSig, signedHeader}
 *   POST /v1/anchor/evidence        {evidence, genesis: [hex...]} -> the record (201 new, 200 known)
 *   GET  /v1/anchor/slashed
 *
 * Root commits of top-level chains use the operator route `POST /v1/child-roots`.
 */
import { toHex } from '../crypto/hash.js';
import { EvidenceError, evidenceId } from '../chain/evidence.js';
import { guarded, HttpError, type ErrorMapper, type Handler, type HttpApi } from '../runtime/http.js';
import { badRequest, hexField, objectBody, u64Field } from '../runtime/json.js';
import type { DevnetAnchor } from './devnet.js';
import { AnchorError } from './types.js';
import { evidenceRecordToJson, registrationToJson } from './json.js';

const EVIDENCE_STATUS: Record<EvidenceError['code'], number> = {
  EVIDENCE_MALFORMED: 400,
  EVIDENCE_UNKNOWN_CHAIN: 404,
  EVIDENCE_NOT_PROVEN: 422,
};

const ANCHOR_STATUS: Record<AnchorError['code'], number> = {
  BAD_REQUEST: 400,
  OUT_OF_SPACE: 409,
  NOT_REGISTERED: 422,
  EVIDENCE_NOT_SLASHABLE: 422,
};

function anchorErrors(e: unknown): never {
  if (e instanceof EvidenceError) throw new HttpError(EVIDENCE_STATUS[e.code], e.code, e.message);
  if (e instanceof AnchorError) throw new HttpError(ANCHOR_STATUS[e.code], e.code, e.message);
  throw e;
}

/**
 * `errors` maps what the anchor chain's operator throws (its service errors and the protocol's) to HTTP errors;
 * the app layer passes the operator's mapper, since the routes sit beside the operator's on one API.
 */
export function addAnchorRoutes(api: HttpApi, anchor: DevnetAnchor, errors: ErrorMapper): void {
  addRegistrationRoute(api, anchor, errors);
  addAnchorOnlyRoutes(api, anchor, errors);
}

/** POST /v1/anchor/register: sells the next free interval of the requested width to a key. */
export function addRegistrationRoute(api: HttpApi, anchor: DevnetAnchor, errors: ErrorMapper): void {
  const guard = (h: Handler) => guarded(h, errors);
  api.route(
    'POST',
    '/v1/anchor/register',
    guard(async (req) => {
      const b = objectBody(req.json<unknown>());
      const reg = await anchor
        .registerChain({
          operatorKey: hexField(b.operatorKey, 'operatorKey', 32),
          amount: u64Field(b.amount, 'amount'),
        })
        .catch(anchorErrors);
      return { status: 201, json: registrationToJson(reg) };
    }),
  );
}

function addAnchorOnlyRoutes(api: HttpApi, anchor: DevnetAnchor, errors: ErrorMapper): void {
  const guard = (h: Handler) => guarded(h, errors);
  api.route(
    'GET',
    '/v1/anchor/registrations',
    guard(async () => ({
      json: { registrations: (await anchor.registrations()).map(registrationToJson) },
    })),
  );

  api.route(
    'GET',
    '/v1/anchor/beacon/:height',
    guard(async (req) => {
      const t = req.params.height;
      if (!/^[0-9]{1,15}$/.test(t)) badRequest('height must be a decimal integer');
      const height = Number(t);
      const r = await anchor.beaconRecord(height);
      if (!r) throw new HttpError(404, 'NOT_FOUND', `no anchor block at height ${height} yet`);
      return {
        json: {
          height,
          beacon: toHex(r.beacon),
          beaconSig: r.beaconSig ? toHex(r.beaconSig) : null,
          signedHeader: r.signedHeader ? toHex(r.signedHeader) : null,
        },
      };
    }),
  );

  api.route(
    'POST',
    '/v1/anchor/evidence',
    guard(async (req) => {
      const b = objectBody(req.json<unknown>());
      const evidence = hexField(b.evidence, 'evidence');
      const list = b.genesis ?? [];
      if (!Array.isArray(list)) badRequest('genesis must be a list of hex genesis records');
      const genesis = list.map((g, i) => hexField(g, `genesis[${i}]`));
      const known = await anchor.evidence(evidenceId(evidence));
      const rec = known ?? (await anchor.recordEvidence(evidence, genesis).catch(anchorErrors));
      return { status: known ? 200 : 201, json: evidenceRecordToJson(rec) };
    }),
  );

  api.route(
    'GET',
    '/v1/anchor/slashed',
    guard(async () => ({ json: { slashed: (await anchor.slashed()).map(evidenceRecordToJson) } })),
  );
}
