/**
 * The Web Worker that judges: the page's Judge behind a message port, so a long backfill never blocks the page.
 * Each request carries an id; the answer carries it back with the result or the error's message.
 */
import { Judge } from './judge.js';
import type { JudgeRequest, JudgeResponse } from './judge-client.js';

const judge = new Judge();

interface WorkerScope {
  onmessage: ((ev: MessageEvent<JudgeRequest>) => void) | null;
  postMessage(m: JudgeResponse): void;
}
const scope = self as unknown as WorkerScope;

function run(r: JudgeRequest): unknown {
  switch (r.op) {
    case 'follow': {
      const rec = judge.follow(r.chainId, r.genesis);
      return { parent: Judge.parentOf(rec), name: rec.genesis.name };
    }
    case 'block':
      return judge.block(r.chainId, r.bytes);
    case 'evidence':
      return judge.evidence(r.bytes);
    case 'watch':
      return judge.watch(r.chainId, r.path, r.height);
    case 'unwatch':
      judge.unwatch(r.chainId, r.start);
      return null;
    case 'height':
      return judge.height(r.chainId);
    case 'view':
      return judge.view();
  }
}

scope.onmessage = (ev) => {
  const r = ev.data;
  try {
    scope.postMessage({ id: r.id, ok: true, result: run(r) });
  } catch (e) {
    scope.postMessage({ id: r.id, ok: false, error: (e as Error).message ?? String(e) });
  }
};
