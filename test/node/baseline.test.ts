import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineJudge } from '../../src/app/baseline.js';
import { judgeBlock } from '../../src/node/ingest.js';
import { Tracker } from '../../src/light/tracker.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { genesisState } from '../../src/chain/state.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';

test('the bench baselines are judges injected from outside: they trust gossiped blocks only, and the default judges all', () => {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE);
  const id = top.genesis.chainId;
  const forged = craft(top, genesisState(top.genesis), [], {}, generateKeyPair().secretKey);
  const fresh = (): Tracker => {
    const t = new Tracker();
    t.track(top.genesis);
    return t;
  };
  for (const mode of ['accept-all', 'signatures-only'] as const) {
    // Backfilled and local blocks are judged in full under either baseline.
    assert.deepEqual(baselineJudge(mode)(fresh(), id, forged, 'sync').verdict, {
      result: 'reject',
      code: 'BAD_SIGNATURE',
    });
  }
  assert.deepEqual(baselineJudge('accept-all')(fresh(), id, forged, 'gossip').verdict, { result: 'accept' });
  assert.equal(baselineJudge('signatures-only')(fresh(), id, forged, 'gossip').verdict.code, 'BAD_SIGNATURE');
  assert.equal(judgeBlock(fresh(), id, forged, 'gossip').verdict.code, 'BAD_SIGNATURE');
});
