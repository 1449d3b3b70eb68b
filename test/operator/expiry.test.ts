import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import type { OwnerOp } from '../../src/chain/tx.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { http, removeDir, startChainNode, type TestChainNode } from './helpers.js';

const POINTS = [5n, 50n, 120n, 170n, 350n, 999n];

async function owner(n: TestChainNode, start: bigint, key: KeyPair, op: OwnerOp): Promise<void> {
  await n.svc.ownerAction({
    kind: 'owner',
    start,
    signed: act(n.svc.genesis, n.svc.currentContract(start)!, key, op),
    childGenesis: null,
  });
}

/** Each point's lookup path as the head's tree gives it, encoded: what a rebuilt earlier view must reproduce. */
function paths(n: TestChainNode): string[] {
  return POINTS.map((p) => toHex(encodeLookupPath(n.svc.lotteryLevel(p)!.path)));
}

test('the lottery level of an earlier height is rebuilt from the stored blocks, also after a restart', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const [alice, bob, carol, dave] = [1, 2, 3, 4].map(() => generateKeyPair());
  let n = await startChainNode(top.genesis, top.key);
  const dir = n.dir;
  try {
    const seen: string[][] = [];
    await n.svc.create({ start: 0n, end: 100n, owner: alice.publicKey });
    await n.svc.create({ start: 100n, end: 200n, owner: bob.publicKey });
    await n.svc.sealNow();
    seen[1] = paths(n);
    // Every kind of change in one block, undone last first: a transfer, a split, a sale, and a close of that sale.
    await owner(n, 0n, alice, { kind: 'transfer', newOwner: carol.publicKey, terms: new Uint8Array(0) });
    await owner(n, 100n, bob, {
      kind: 'split',
      at: 150n,
      rightOwner: dave.publicKey,
      rightTerms: new Uint8Array(0),
    });
    await n.svc.create({ start: 300n, end: 400n, owner: dave.publicKey });
    await n.svc.sealNow();
    seen[2] = paths(n);
    await owner(n, 300n, dave, { kind: 'close' });
    await owner(n, 150n, dave, { kind: 'transfer', newOwner: alice.publicKey, terms: new Uint8Array(0) });
    await n.svc.sealNow();
    seen[3] = paths(n);

    const check = async (node: TestChainNode) => {
      for (const h of [1, 2, 3]) {
        const got = await Promise.all(POINTS.map((p) => node.svc.lotteryLevelAt(p, h)));
        assert.deepEqual(
          got.map((l) => toHex(encodeLookupPath(l!.path))),
          seen[h],
          `every point's path at height ${h}`,
        );
        assert.ok(got.every((l) => l!.header.header.height === h));
        const r = await http<{ height: number; lookupPath: string }>(
          node.url,
          'GET',
          `/v1/lottery/120?height=${h}`,
        );
        assert.equal(r.status, 200);
        assert.deepEqual([r.json.height, r.json.lookupPath], [h, seen[h][2]]);
      }
      for (const h of [0, 4])
        assert.equal(
          (await http<{ error: { code: string } }>(node.url, 'GET', `/v1/lottery/120?height=${h}`)).json.error
            .code,
          'HEIGHT_UNAVAILABLE',
        );
    };
    await check(n);
    await n.stop();
    n = await startChainNode(top.genesis, top.key, { dir });
    await check(n);
  } finally {
    await n.stop();
    await removeDir(dir);
  }
});

test('an expired chain seals nothing more and refuses every request with EXPIRED', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  mock.timers.enable({ apis: ['setInterval'] });
  const n = await startChainNode(top.genesis, top.key, { blockIntervalMs: 1000 });
  try {
    await n.svc.create({ start: 0n, end: 100n, owner: alice.publicKey });
    mock.timers.tick(1000);
    assert.equal(n.svc.pendingCount, 0, 'the interval seals what is pending');
    // Acknowledged just before the expiry: it stays in the request log, never in a block.
    await n.svc.create({ start: 100n, end: 200n, owner: alice.publicKey });
    n.svc.expire('the anchor says so');
    assert.ok(n.svc.expired && n.svc.chainInfo().expired);
    for (let i = 0; i < 5; i++) mock.timers.tick(1000);
    assert.equal(n.svc.pendingCount, 1, 'no block is sealed after the expiry');
    await assert.rejects(n.svc.sealNow(), { code: 'EXPIRED' });
    const sale = await http<{ error: { code: string } }>(
      n.url,
      'POST',
      '/v1/contracts',
      { start: '300', end: '400', owner: toHex(alice.publicKey) },
      n.token,
    );
    assert.deepEqual([sale.status, sale.json.error.code], [409, 'EXPIRED']);
    await assert.rejects(
      owner(n, 0n, alice, { kind: 'transfer', newOwner: alice.publicKey, terms: new Uint8Array(0) }),
      { code: 'EXPIRED' },
    );
    // A clean stop seals pending requests; an expired chain's stay out of any block.
    await n.stop();
    assert.equal(n.svc.head.height, 1);
    assert.equal(n.sink.published.length, 1);
  } finally {
    mock.timers.reset();
    await n.stop();
    await removeDir(n.dir);
  }
});
