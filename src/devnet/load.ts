/**
 * A small load generator for devnets: registers contracts (the devnet operator sells space by registration, so
 * no operator token is needed) owned by keys it holds, and transfers them between those keys with owner-signed
 * actions, at a steady rate. What a newcomer needs to see blocks flow.
 */
import { fromHex, toHex } from '../crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../crypto/keys.js';
import { encodeAction, signAction } from '../chain/tx.js';
import { ApiError, apiRequest, sleep } from '../runtime/http-client.js';
import type { ContractView } from '../api/operator.js';
import type { Logger } from '../runtime/logger.js';

export interface LoadOptions {
  readonly api: string;
  /** Transactions per second. */
  readonly rate: number;
  readonly owners: number;
  /** Width of each contract sold. */
  readonly width: bigint;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

export interface LoadStats {
  sold: number;
  transferred: number;
  failed: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadStats> {
  const stats: LoadStats = { sold: 0, transferred: 0, failed: 0 };
  const owners: KeyPair[] = Array.from({ length: o.owners }, () => generateKeyPair());
  const owned = new Map<string, KeyPair>();
  let chainId: Uint8Array | null = null;
  for (let attempt = 0; !chainId && !o.signal.aborted; attempt++) {
    try {
      chainId = fromHex(
        (await apiRequest<{ chainId: string }>(o.api, 'GET', '/v1/chain', undefined, { signal: o.signal }))
          .chainId,
      );
    } catch {
      await sleep(Math.min(2000, 100 * (attempt + 1)), o.signal);
    }
  }
  if (!chainId) return stats;
  o.log.info({ api: o.api, chain: toHex(chainId), rate: o.rate }, 'load generator started');
  let i = 0;
  let lastLog = Date.now();
  while (!o.signal.aborted) {
    const started = Date.now();
    try {
      if (owned.size < 4 || i % 3 === 0) {
        const owner = owners[i % owners.length];
        const r = await apiRequest<{ start: string }>(
          o.api,
          'POST',
          '/v1/anchor/register',
          { operatorKey: toHex(owner.publicKey), amount: o.width.toString() },
          { signal: o.signal },
        );
        owned.set(r.start, owner);
        stats.sold++;
      } else {
        const starts = [...owned.keys()];
        const start = starts[i % starts.length];
        const from = owned.get(start)!;
        const to = owners[(owners.indexOf(from) + 1) % owners.length];
        const view = await apiRequest<ContractView>(o.api, 'GET', `/v1/contracts/${start}`, undefined, {
          signal: o.signal,
        });
        const c = view.contract;
        if (!c) {
          owned.delete(start);
        } else {
          const signed = signAction(
            {
              chainId,
              contractHash: fromHex(c.digest),
              nonce: c.nonce + 1,
              op: { kind: 'transfer', newOwner: to.publicKey, terms: new Uint8Array(0) },
            },
            from.secretKey,
          );
          await apiRequest(
            o.api,
            'POST',
            `/v1/contracts/${start}/actions`,
            { action: toHex(encodeAction(signed.action)), signature: toHex(signed.signature) },
            { signal: o.signal },
          );
          owned.set(start, to);
          stats.transferred++;
        }
      }
    } catch (e) {
      if (o.signal.aborted) break;
      stats.failed++;
      o.log.debug(
        { err: (e as Error).message, code: e instanceof ApiError ? e.code : undefined },
        'load request failed',
      );
    }
    i++;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      o.log.info({ ...stats }, 'load');
    }
    await sleep(Math.max(0, 1000 / o.rate - (Date.now() - started)), o.signal);
  }
  o.log.info({ ...stats }, 'load generator stopped');
  return stats;
}
