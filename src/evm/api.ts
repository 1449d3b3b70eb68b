/**
 * `GET /v1/anchor` on a node following the EVM anchor: every chain registered in the contract, read from it
 * (wei as decimal strings), and how current this node's view is.
 *
 *   {kind: "evm", rpcUrl, address, evmChainId, anchorId, watcher: {evmHead, scannedTo, stale, verification, ...},
 *    mismatches: [...], rejectedCommits: [...], dataRequests: [{id, chainId, height, point, watchId, deadline, state}],
 *    chains: [{chainId, depositWei, slashed, committedHeight, phase, beacon, beaconRound, beaconTime, verified, provenAt,
 *              claim: null | {winnerKey, payout, height, deadline, claimant},
 *              settlement: null | {point, winnerKey, paidWei, verified}}]}
 *
 * `verified` says how a chain's figures were read: `proven` (eth_getProof against the state root of the agreed
 * confirmed block `provenAt`, whose hash a quorum of endpoints or the one endpoint named: watcher.verification)
 * or `trusted` (the endpoint's eth_call at its latest block). A settlement's point and prize come from logs:
 * `trusted`; whether the chain settled is its proven phase.
 */
import { hexToBytes, type Hex } from 'viem';
import { taggedHash, toHex as hexOf } from '../crypto/hash.js';
import { guarded, HttpError, type HttpApi } from '../runtime/http.js';
import { ANCHOR_ABI } from './anchor.js';
import type { EvmAnchor } from './node-anchor.js';
import type { AgreedBlock } from './endpoints.js';
import type { ProvenAnchor } from './proven.js';
import type { AnchorWatcher } from './watcher.js';
import { WatchtowerError, type Watchtower, type WatchtowerErrorCode } from './watchtower.js';

export interface AnchorChainJson {
  readonly chainId: string;
  readonly phase: string;
  readonly depositWei: string;
  readonly slashed: boolean;
  readonly committedHeight: number;
  /** The lottery beacon the contract fixed after expiry (hex), null before. */
  readonly beacon: string | null;
  /** The drand round the chain draws from (decimal; null: none, a block hash) and its Unix publication time. */
  readonly beaconRound: string | null;
  readonly beaconTime: number | null;
  /** How phase, deposit, slashed, committedHeight, beacon and claim were read. */
  readonly verified: 'proven' | 'trusted';
  /** The block the proofs were checked against (null when `trusted`). */
  readonly provenAt: { number: number; hash: string } | null;
  readonly claim: null | {
    winnerKey: string;
    payout: string;
    height: number;
    deadline: string;
    claimant: string;
  };
  readonly settlement: null | {
    point: string;
    winnerKey: string;
    paidWei: string;
    /** How point and winnerKey were read; paidWei is the Settled log's (`paidVerified`). */
    verified: 'proven' | 'trusted';
    paidVerified: 'trusted';
  };
}

/** Proven reads and the agreed block to read at; without them the figures are the endpoint's `eth_call`s. */
export interface ProvenView {
  readonly proven: ProvenAnchor;
  readonly at: AgreedBlock;
}

export async function anchorView(anchor: EvmAnchor, p?: ProvenView): Promise<AnchorChainJson[]> {
  const call = { address: anchor.address, abi: ANCHOR_ABI } as const;
  const range = { fromBlock: 0n, toBlock: 'latest' } as const;
  const [registered, fixed, settled] = await Promise.all([
    anchor.pub.getContractEvents({ ...call, eventName: 'Registered', ...range }),
    anchor.pub.getContractEvents({ ...call, eventName: 'BeaconFixed', ...range }),
    anchor.pub.getContractEvents({ ...call, eventName: 'Settled', ...range }),
  ]);
  const out: AnchorChainJson[] = [];
  for (const e of registered) {
    const id = e.args.chainId!;
    // A Registered log of a chain the proven state does not hold is an endpoint's invention: left out.
    const c = p ? await p.proven.chain(id, p.at) : await anchor.chain(hexToBytes(id));
    if (p && c.phase === 'none') continue;
    const claim = p ? await p.proven.claim(id, p.at) : await anchor.claimOf(hexToBytes(id)).catch(() => null);
    const s = settled.find((x) => x.args.chainId === id);
    const f = fixed.find((x) => x.args.chainId === id);
    out.push({
      chainId: id.slice(2),
      phase: c.phase,
      depositWei: c.depositWei.toString(),
      slashed: c.slashed,
      committedHeight: c.height,
      beacon: /^0x0+$/.test(c.beacon) ? null : c.beacon.slice(2),
      beaconRound: c.beaconRound === 0n ? null : c.beaconRound.toString(),
      beaconTime: c.beaconRound === 0n ? null : Number(c.beaconTime),
      verified: p ? 'proven' : 'trusted',
      provenAt: p ? { number: Number(p.at.number), hash: p.at.hash } : null,
      claim: claim
        ? {
            winnerKey: claim.winnerKey.slice(2),
            payout: claim.payout,
            height: claim.height,
            deadline: claim.deadline.toString(),
            claimant: claim.claimant,
          }
        : null,
      settlement: s
        ? p && c.phase === 'settled'
          ? {
              // Proven: the point follows from the proven beacon and space, the winner is the proven claim
              // (the contract keeps the settled claim). The prize is only in the Settled log: the state zeroes
              // the deposit, and eth_getProof reaches no log.
              point: provenPoint(id, c.beacon, c.start, c.end).toString(),
              winnerKey: (claim?.winnerKey ?? `0x${'00'.repeat(32)}`).slice(2),
              paidWei: s.args.prize!.toString(),
              verified: 'proven',
              paidVerified: 'trusted',
            }
          : {
              point: String(f?.args.point ?? ''),
              winnerKey: s.args.winnerKey!.slice(2),
              paidWei: s.args.prize!.toString(),
              verified: 'trusted',
              paidVerified: 'trusted',
            }
        : null,
    });
  }
  return out;
}

/** The contract's winning point (docs/protocol.md §11-12) from a beacon and a space read with proofs. */
function provenPoint(chainId: Hex, beacon: Hex, start: bigint, end: bigint): bigint {
  const h = taggedHash('lottery', hexToBytes(beacon), hexToBytes(chainId), new Uint8Array(8));
  return start + (BigInt(`0x${hexOf(h)}`) % (end - start));
}

export function addEvmAnchorRoute(
  api: HttpApi,
  anchor: EvmAnchor,
  watcher: AnchorWatcher,
  proven?: ProvenAnchor,
): void {
  api.route(
    'GET',
    '/v1/anchor',
    guarded(async () => {
      const chains = await provenAt(anchor, proven)
        .then((at) => anchorView(anchor, proven && at ? { proven, at } : undefined))
        .catch((e: unknown) => {
          throw new HttpError(
            503,
            'ANCHOR_UNAVAILABLE',
            `the EVM RPC did not answer: ${(e as Error).message.split('\n')[0]}`,
          );
        });
      return {
        json: {
          kind: 'evm',
          rpcUrl: anchor.o.rpcUrl,
          address: anchor.address,
          evmChainId: anchor.evmChainId,
          anchorId: hexOf(anchor.anchorId),
          watcher: watcher.status(),
          mismatches: watcher.mismatches,
          rejectedCommits: watcher.rejected,
          dataRequests: watcher.dataRequests(),
          chains,
        },
      };
    }),
  );
}

/**
 * The agreed block the API's figures are proven at: the newest confirmed one (head - confirmations + 1, as the
 * watcher counts commits), read afresh so the view is as current as the trusted one was.
 */
async function provenAt(anchor: EvmAnchor, proven: ProvenAnchor | undefined): Promise<AgreedBlock | null> {
  if (!proven) return null;
  const safe = (await proven.endpoints.head()) - BigInt(anchor.confirmations - 1);
  return safe < 0n ? null : proven.endpoints.block(safe);
}

const TOWER_STATUS: Record<WatchtowerErrorCode, number> = {
  BAD_REQUEST: 400,
  BAD_SIGNATURE: 422,
  PAYOUT_LIMIT: 429,
};

/**
 * A validator's watchtower (`--evm-key`):
 *
 *   POST /v1/watchtower/payouts {chainId, winnerKey, payout, signature}   keep a holder's payout signature
 *                                                                        (`settle sign-payout` prints one); 201
 *   GET  /v1/watchtower          {chains: [{chainId, action, detail}], payouts: [...]}
 */
export function addWatchtowerRoutes(api: HttpApi, tower: Watchtower): void {
  api.mapErrors((e) =>
    e instanceof WatchtowerError ? new HttpError(TOWER_STATUS[e.code], e.code, e.message) : undefined,
  );
  api.route('POST', '/v1/watchtower/payouts', async (req) => ({
    status: 201,
    json: await tower.addPayout(req.json<unknown>()),
  }));
  api.route('GET', '/v1/watchtower', () => ({ json: { chains: tower.status(), payouts: tower.payouts() } }));
}
