/**
 * The Web Worker that judges: the page's Judge behind a message port, so a long backfill never blocks the page.
 * Each request carries an id; the answer carries it back with the result or the error's message.
 */
import { webCryptoVerifier } from '../../src/crypto/async.js';
import { Judge } from './judge.js';
import type { JudgeRequest, JudgeResponse } from './judge-client.js';

const judge = webCryptoVerifier().then((v) => new Judge(v));

interface WorkerScope {
  onmessage: ((ev: MessageEvent<JudgeRequest>) => void) | null;
  postMessage(m: JudgeResponse): void;
}
const scope = self as unknown as WorkerScope;

async function run(r: JudgeRequest): Promise<unknown> {
  const j = await judge;
  switch (r.op) {
    case 'follow': {
      const rec = j.follow(r.chainId, r.genesis);
      return { parent: Judge.parentOf(rec), name: rec.genesis.name };
    }
    case 'block':
      return j.block(r.chainId, r.bytes);
    case 'evidence':
      return j.evidence(r.bytes);
    case 'watch':
      return j.watch(r.chainId, r.path, r.height);
    case 'unwatch':
      j.unwatch(r.chainId, r.start);
      return null;
    case 'height':
      return j.height(r.chainId);
    case 'view':
      return j.view();
  }
}

// One request at a time, in arrival order: a block waiting for WebCrypto must not let the next one overtake it.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const r = ev.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage({ id: r.id, ok: true, result: await run(r) });
    } catch (e) {
      scope.postMessage({ id: r.id, ok: false, error: (e as Error).message ?? String(e) });
    }
  });
};
