/**
 * The watch memory bound (issue 27 item 5): every watch is counted at the most it may come to hold (its live path
 * and every recent path kept, none sharing a sibling), and a watch that would take the node past the bound is
 * refused with 429 WATCH_MEMORY, before anything is kept; removing a watch makes room again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { addValidatorRoutes } from '../../src/node/api.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { pathToProto, type Path } from '../../src/tree/path.js';
import { watchBytes } from '../../src/node/watches.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { testNet } from '../helpers/net.js';

const hexPath = (p: Path) => toHex(sortition.v1.Path.encode(pathToProto(p)).finish());

test('a watch past the memory bound is refused with WATCH_MEMORY; removing one makes room', async () => {
  const net = await testNet();
  const api = new HttpApi(createLogger('silent', 'api'));
  try {
    const anchor = anchorChain();
    const top = childChain(anchor.genesis, 0n, SPACE, 'top');
    const id = toHex(top.genesis.chainId);
    const p = top.producer;
    const alice = generateKeyPair();
    const starts = [1000n, 5000n, 9000n, 13000n];
    for (const s of starts) p.create({ start: s, end: s + 100n, owner: alice.publicKey });
    const paths = starts.map((s) => p.tree.memberPath(s));
    // Room for the first two watches and not the third, whatever their depths.
    const bound = watchBytes(paths[0].steps.length) + watchBytes(paths[1].steps.length);
    const node = await net.start({
      ip: '127.0.0.45',
      genesis: [anchor.genesis, top.genesis],
      track: [top.genesis.chainId],
      anchorId: anchor.genesis.chainId,
      maxWatchBytes: bound,
    });
    assert.equal((await node.publishBlock(top.genesis.chainId, p.seal(1).block.bytes)).result, 'accept');
    addValidatorRoutes(api, node, net.registryOf(node));
    const { port } = await api.start('127.0.0.1', 0);
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const watch = (i: number) => call('POST', '/v1/watch', { chainId: id, path: hexPath(paths[i]) });

    assert.equal((await watch(0)).status, 201);
    const second = await watch(1);
    assert.equal(second.status, 201);
    const refused = await watch(2);
    assert.equal(refused.status, 429);
    const err = refused.body.error as { code: string; message: string };
    assert.equal(err.code, 'WATCH_MEMORY');
    assert.match(err.message, /--watch-memory-mb/);
    // Watching the same state again takes nothing more.
    assert.equal((await watch(0)).status, 200);
    const metrics = await net.registryOf(node).metrics();
    assert.match(metrics, new RegExp(`sortition_watch_memory_bytes\\{kind="counted"\\} ${bound}\\b`));
    assert.match(metrics, new RegExp(`sortition_watch_memory_bytes\\{kind="bound"\\} ${bound}\\b`));

    assert.equal((await call('DELETE', `/v1/watch/${second.body.id as string}`)).status, 200);
    assert.equal((await watch(2)).status, 201, 'room again once a watch is removed');
  } finally {
    await api.stop();
    await net.close();
  }
});
