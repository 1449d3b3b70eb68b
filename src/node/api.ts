/**
 * The validator's HTTP API and /metrics. Reads state from the validator; the writes are submitting evidence, which
 * is verified like evidence from the network, and watching contracts (watch-api.ts).
 */
import type { Registry } from 'prom-client';
import { DecodeError } from '../codec/errors.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { ChainError } from '../chain/errors.js';
import { TreeError } from '../tree/errors.js';
import { HttpError, type HttpApi } from '../runtime/http.js';
import type { ValidatorNode } from './validator.js';
import { addWatchRoutes, checkProof, replayCharge } from './watch-api.js';

function hexParam(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') throw new HttpError(400, 'BAD_REQUEST', `${what} must be a hex string`);
  try {
    return fromHex(s, what);
  } catch (e) {
    throw new HttpError(400, 'BAD_REQUEST', (e as Error).message);
  }
}

function queryInt(q: URLSearchParams, name: string, fallback: number): number {
  const v = q.get(name);
  if (v === null) return fallback;
  if (!/^\d{1,9}$/.test(v)) throw new HttpError(400, 'BAD_REQUEST', `${name} must be a whole number`);
  return Number(v);
}

/** Protocol errors are the client's: 400 with their code. */
export function protocolErrors(e: unknown): HttpError | undefined {
  if (e instanceof DecodeError || e instanceof TreeError || e instanceof ChainError) {
    return new HttpError(400, e.code, e.message);
  }
  return undefined;
}

export function addValidatorRoutes(
  api: HttpApi,
  node: ValidatorNode,
  registry: Registry,
  opts: {
    devnet?: boolean;
    healthMaxLag?: number;
    /** An external anchor's view (the EVM anchor watcher: head, scanned block, stale), shown as `anchor`. */
    anchorStatus?: () => unknown;
  } = {},
): void {
  api.mapErrors(protocolErrors);
  api.route('GET', '/v1/status', () => ({
    json: {
      peerId: node.peerId.toString(),
      peers: node.connectedPeers().length,
      listen: node.multiaddrs(),
      chains: node.chainStatus(),
      ...(opts.anchorStatus ? { anchor: opts.anchorStatus() } : {}),
    },
  }));
  // For load balancers and compose healthchecks: 503 until the node is listening, has peers and has caught up.
  // `minPeers=0` for a node that others connect to (the first node of a testnet has nobody to dial).
  api.route('GET', '/v1/health', (req) => {
    const h = node.health({
      minPeers: queryInt(req.query, 'minPeers', 1),
      maxLag: queryInt(req.query, 'maxLag', opts.healthMaxLag ?? 5),
    });
    return { status: h.healthy ? 200 : 503, json: h };
  });
  api.route('GET', '/v1/evidence', () => ({
    json: node.evidenceList().map((e) => ({
      kind: e.kind,
      chainId: toHex(e.chainId),
      height: e.height,
      id: toHex(e.id),
      evidence: toHex(e.bytes),
    })),
  }));
  api.route('POST', '/v1/evidence', async (req) => {
    const { evidence } = req.json<{ evidence?: string }>() ?? {};
    const v = await node.ingestEvidence(hexParam(evidence, 'evidence'), 'api');
    if (v.result === 'reject')
      throw new HttpError(400, v.code ?? 'EVIDENCE_NOT_PROVEN', 'evidence does not prove what it claims');
    if (v.result === 'ignore' && v.code !== 'DUPLICATE')
      throw new HttpError(422, v.code ?? 'IGNORED', 'evidence cannot be judged here');
    return { status: v.result === 'accept' ? 201 : 200, json: { result: v.result, code: v.code ?? null } };
  });
  api.route('GET', '/v1/chains/:id', (req) => {
    const id = hexParam(req.params.id, 'chain id');
    const st = node.chainStatus().find((c) => c.chainId === toHex(id));
    const g = node.tracker.genesisOf(id);
    if (!st || !g) throw new HttpError(404, 'UNKNOWN_CHAIN', `chain ${req.params.id} is not tracked here`);
    return { json: { ...st, genesis: toHex(g.bytes) } };
  });
  api.route('GET', '/v1/chains/:id/blocks/:height', async (req) => {
    const id = hexParam(req.params.id, 'chain id');
    const h = Number(req.params.height);
    const [b] = Number.isSafeInteger(h) && h > 0 ? await node.storedBlocks(id, h, 1) : [];
    if (!b) throw new HttpError(404, 'NOT_FOUND', 'no such block here');
    return { json: { chainId: req.params.id, height: h, block: toHex(b) } };
  });
  // Is a contract proof a user holds still current against the root this node verified, and if not, why not?
  api.route('POST', '/v1/chains/:id/proofs/check', async (req) => {
    const { path } = req.json<{ path?: string }>() ?? {};
    return {
      json: await checkProof(
        node,
        hexParam(req.params.id, 'chain id'),
        hexParam(path, 'path'),
        replayCharge(req),
      ),
    };
  });
  addWatchRoutes(api, node);
  if (opts.devnet) {
    // Testnet fault drills: refused unless the node runs with --devnet.
    api.route('POST', '/v1/devnet/partition', async (req) => {
      const { ms } = req.json<{ ms?: number }>() ?? {};
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 600_000) {
        throw new HttpError(400, 'BAD_REQUEST', 'ms must be an integer in [1, 600000]');
      }
      return { json: { dropped: await node.partition(ms), ms } };
    });
  }
  api.route('GET', '/metrics', async () => ({
    text: await registry.metrics(),
    contentType: registry.contentType,
  }));
}
