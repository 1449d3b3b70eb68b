/**
 * Judging a chain's blocks with the light validator, timed: run by bench/browser.ts in Node and, bundled, in
 * Chromium. `webcrypto` checks signatures through the asynchronous path (src/crypto/async.ts) as the page's worker
 * does; `sync` with whatever synchronous implementation is installed (pure JS in a browser).
 */
import { decodeGenesis } from '../src/chain/genesis.js';
import { fromHex } from '../src/codec/bytes.js';
import { webCryptoVerifier } from '../src/crypto/async.js';
import { Tracker } from '../src/light/tracker.js';

export interface JudgeRun {
  readonly ms: number;
  readonly accepted: number;
}

export async function judgeAll(
  genesisHex: string,
  blocksHex: readonly string[],
  mode: 'sync' | 'webcrypto',
): Promise<JudgeRun> {
  const rec = decodeGenesis(fromHex(genesisHex));
  const blocks = blocksHex.map((b) => fromHex(b));
  const wc = mode === 'webcrypto' ? await webCryptoVerifier() : null;
  if (mode === 'webcrypto' && !wc) throw new Error('no WebCrypto Ed25519 here');
  const t = new Tracker();
  t.track(rec);
  let accepted = 0;
  const t0 = performance.now();
  for (const b of blocks) {
    const out = wc ? await t.onBlockAsync(rec.chainId, b, wc) : t.onBlock(rec.chainId, b);
    if (out.verdict.result === 'accept') accepted++;
  }
  return { ms: performance.now() - t0, accepted };
}

(globalThis as { judgeAll?: typeof judgeAll }).judgeAll = judgeAll;
