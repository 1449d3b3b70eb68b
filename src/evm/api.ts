/**
 * `GET /v1/anchor` on a node following the EVM anchor: every chain registered in the contract, read from it
 * (wei as decimal strings), and how current this node's view is.
 *
 *   {kind: "evm", rpcUrl, address, evmChainId, anchorId, watcher: {evmHead, scannedTo, stale, ...},
 *    mismatches: [...], dataRequests: [{id, chainId, height, point, watchId, deadline, state}],
 *    chains: [{chainId, depositWei, slashed, committedHeight, phase, beacon, beaconRound, beaconTime,
 *              settlement: null | {point, winnerKey, paidWei}}]}
 */
import { hexToBytes } from 'viem';
import { toHex as hexOf } from '../crypto/hash.js';
import { guarded, HttpError, type HttpApi } from '../runtime/http.js';
import { ANCHOR_ABI } from './anchor.js';
import type { EvmAnchor } from './node-anchor.js';
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
  readonly settlement: null | { point: string; winnerKey: string; paidWei: string };
}

export async function anchorView(anchor: EvmAnchor): Promise<AnchorChainJson[]> {
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
    const c = await anchor.chain(hexToBytes(id));
    const s = settled.find((x) => x.args.chainId === id);
    const p = fixed.find((x) => x.args.chainId === id);
    out.push({
      chainId: id.slice(2),
      phase: c.phase,
      depositWei: c.depositWei.toString(),
      slashed: c.slashed,
      committedHeight: c.height,
      beacon: /^0x0+$/.test(c.beacon) ? null : c.beacon.slice(2),
      beaconRound: c.beaconRound === 0n ? null : c.beaconRound.toString(),
      beaconTime: c.beaconRound === 0n ? null : Number(c.beaconTime),
      settlement: s
        ? {
            point: String(p?.args.point ?? ''),
            winnerKey: s.args.winnerKey!.slice(2),
            paidWei: s.args.prize!.toString(),
          }
        : null,
    });
  }
  return out;
}

export function addEvmAnchorRoute(api: HttpApi, anchor: EvmAnchor, watcher: AnchorWatcher): void {
  api.route(
    'GET',
    '/v1/anchor',
    guarded(async () => {
      const chains = await anchorView(anchor).catch((e: unknown) => {
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
          dataRequests: watcher.dataRequests(),
          chains,
        },
      };
    }),
  );
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
