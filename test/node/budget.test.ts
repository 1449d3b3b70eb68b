/**
 * No request costs more than it gives (issue 27 item 5): a client of a validator's public API has a budget (a token
 * bucket per address); every request costs one, a proof check that replays stored blocks costs a token per 8 blocks,
 * charged before the replay; a client over budget gets 429 RATE_LIMITED with Retry-After and the refusal is counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { sortition } from '../../src/gen/proto.js';
import { HttpApi } from '../../src/runtime/http.js';
import { ClientBudgets } from '../../src/runtime/budget.js';
import { createLogger } from '../../src/runtime/logger.js';
import { addValidatorRoutes } from '../../src/node/api.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { pathToProto, type Path } from '../../src/tree/path.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { testNet } from '../helpers/net.js';

const hexPath = (p: Path) => toHex(sortition.v1.Path.encode(pathToProto(p)).finish());

test('a client budget refills at its rate, caps at its burst, and forgets the longest idle client first', () => {
  let now = 0;
  const b = new ClientBudgets({ perSecond: 2, burst: 4, maxClients: 2 }, () => now);
  for (let i = 0; i < 4; i++) assert.deepEqual(b.take('a'), { ok: true });
  assert.deepEqual(b.take('a'), { ok: false, retryAfterS: 1 });
  now = 1000; // two tokens back
  assert.deepEqual(b.take('a', 2), { ok: true });
  assert.deepEqual(b.take('a', 3), { ok: false, retryAfterS: 2 });
  // A cost above the burst is charged as the burst: the client can still afford it, once full.
  now = 10_000;
  assert.deepEqual(b.take('a', 1000), { ok: true });
  assert.equal(b.take('b').ok, true);
  assert.equal(b.take('c').ok, true);
  assert.equal(b.clients, 2, 'bounded');
  assert.throws(() => new ClientBudgets({ perSecond: 0, burst: 1 }), RangeError);
});

test("a validator's API refuses a client over its budget with 429 and Retry-After; an old proof's replay is charged first", async () => {
  const net = await testNet();
  try {
    const anchor = anchorChain();
    const top = childChain(anchor.genesis, 0n, SPACE, 'top');
    const node = await net.start({
      ip: '127.0.0.42',
      genesis: [anchor.genesis, top.genesis],
      track: [top.genesis.chainId],
      anchorId: anchor.genesis.chainId,
    });
    const registry = new Registry();
    const refused = new Counter({ name: 'refused_total', help: 'refused', registers: [registry] });
    const api = new HttpApi(createLogger('silent', 'api'), undefined, {
      table: new ClientBudgets({ perSecond: 1, burst: 20 }),
      refused: () => refused.inc(),
    });
    addValidatorRoutes(api, node, net.registryOf(node));
    const addr = await api.start('127.0.0.1', 0);
    try {
      const base = `http://127.0.0.1:${addr.port}`;
      const p = top.producer;
      const alice = generateKeyPair();
      p.create({ start: 1000n, end: 2000n, owner: alice.publicKey });
      await node.publishBlock(top.genesis.chainId, p.seal(1).block.bytes);
      const old = hexPath(p.tree.memberPath(1000n));
      // 200 more blocks: a check of the height-1 proof replays them (25 tokens at 8 blocks a token).
      for (let h = 2; h <= 201; h++) {
        p.create({
          start: 10_000n + BigInt(h) * 10n,
          end: 10_005n + BigInt(h) * 10n,
          owner: alice.publicKey,
        });
        await node.publishBlock(top.genesis.chainId, p.seal(1).block.bytes);
      }
      const check = () =>
        fetch(`${base}/v1/chains/${toHex(top.genesis.chainId)}/proofs/check`, {
          method: 'POST',
          body: JSON.stringify({ path: old }),
        });
      // The replay costs 25, more than the 19 left after this request's own token: refused before any replay.
      const r = await check();
      assert.equal(r.status, 429);
      const body = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'RATE_LIMITED');
      assert.match(body.error.message, /a proof 200 blocks old/);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      // Cheap requests spend the rest of the burst, then are refused too.
      let ok = 0;
      let limited = 0;
      for (let i = 0; i < 25; i++) {
        const s = (await fetch(`${base}/v1/status`)).status;
        if (s === 200) ok++;
        else if (s === 429) limited++;
      }
      assert.ok(ok >= 17 && ok <= 20, `${ok} served of a burst of 20`);
      assert.equal(ok + limited, 25);
      assert.match(await registry.metrics(), new RegExp(`refused_total ${limited + 1}`));
    } finally {
      await api.stop();
    }
  } finally {
    await net.close();
  }
});
