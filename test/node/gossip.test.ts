import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetworkNode } from '../../src/p2p/libp2p.js';
import { GossipService } from '../../src/p2p/gossip.js';
import { blocksTopic } from '../../src/p2p/topics.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { encodeTx } from '../../src/chain/tx.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { genesisState } from '../../src/chain/state.js';
import { anchorChain, childChain, SPACE, type TestChain } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import { blocksCounted, testNet, waitFor, type TestNet } from '../helpers/net.js';
import { metricValue } from '../../src/p2p/metrics.js';
import type { Counter } from 'prom-client';
import type { ValidatorNode } from '../../src/node/validator.js';

const hex = toHex;

/** An anchor, a top-level chain, and its operator's node; validators track the top chain (and so the anchor). */
function chains() {
  const anchor = anchorChain();
  const top = childChain(anchor.genesis, 0n, SPACE, 'top');
  return {
    anchor,
    top,
    genesis: [anchor.genesis, top.genesis],
    track: [top.genesis.chainId],
    anchorId: anchor.genesis.chainId,
  };
}

/** O - A - B - C in a line: C hears O only through A and B. */
async function line(net: TestNet, c: ReturnType<typeof chains>) {
  const base = { genesis: c.genesis, track: c.track, anchorId: c.anchorId };
  const o = await net.start({ ip: '127.0.0.21', ...base });
  const a = await net.start({ ip: '127.0.0.22', bootstrap: [o], ...base });
  const b = await net.start({ ip: '127.0.0.23', bootstrap: [a], ...base });
  const cc = await net.start({ ip: '127.0.0.24', bootstrap: [b], ...base });
  const id = c.top.genesis.chainId;
  for (const n of [o, a, b, cc]) await waitFor(() => n.meshPeers(id) >= 1, 'block topic mesh');
  return { o, a, b, c: cc, id };
}

const height = (n: ValidatorNode, id: Uint8Array) => n.tracker.state(id)?.height ?? 0;

async function produce(top: TestChain, o: ValidatorNode, contracts = 3): Promise<Uint8Array> {
  const owner = generateKeyPair();
  const base = BigInt(top.producer.tree.size) * 1000n;
  for (let i = 0n; i < BigInt(contracts); i++)
    top.producer.create({ start: base + i * 10n, end: base + i * 10n + 5n, owner: owner.publicKey });
  const { block } = top.producer.seal(Date.now());
  const v = await o.publishBlock(top.genesis.chainId, block.bytes);
  assert.equal(v.result, 'accept');
  return block.bytes;
}

test('a block published by the operator reaches every validator, and every state root matches', async () => {
  const net = await testNet();
  try {
    const c = chains();
    const { o, a, b, c: last, id } = await line(net, c);
    for (let i = 0; i < 3; i++) await produce(c.top, o);
    for (const n of [a, b, last]) await waitFor(() => height(n, id) === 3, 'height 3 everywhere');
    const root = hex(c.top.producer.tree.root);
    for (const n of [o, a, b, last]) assert.equal(hex(n.tracker.state(id)!.stateRoot), root);
    // The anchor is followed too, as an ancestor.
    assert.ok(last.tracker.isTracked(c.anchor.genesis.chainId));
  } finally {
    await net.close();
  }
});

test('an invalid block is rejected by the first hop, never reaches a third node, and is flagged everywhere', async () => {
  const net = await testNet();
  try {
    const c = chains();
    const { o, a, b, c: last, id } = await line(net, c);
    await produce(c.top, o);
    await waitFor(() => height(last, id) === 1, 'first block everywhere');
    const owner = generateKeyPair();
    const overlap = encodeTx({
      kind: 'create',
      leaf: makeLeaf({ start: 1n, end: 2n, owner: owner.publicKey, nonce: 0, terms: new Uint8Array(0) }),
      path: c.top.producer.tree.keyPath(1n),
    });
    const bad = craft(c.top, c.top.producer.state, [overlap]);
    await o.publishBlock(id, bad, { raw: true });
    await waitFor(
      async () => (await blocksCounted(a, { result: 'reject', code: 'OVERLAP' })) === 1,
      'first hop rejects',
    );
    // Evidence of the invalid transition reaches every node, each marks the chain faulty.
    for (const n of [o, a, b, last])
      await waitFor(() => n.tracker.view(id)?.faulty === true, 'chain flagged faulty');
    for (const n of [o, a, b, last]) assert.equal(n.evidenceList()[0]?.kind, 'invalid_transition');
    // B and C never saw the block itself.
    assert.equal(await blocksCounted(b, { code: 'OVERLAP' }), 0);
    assert.equal(await blocksCounted(last, { code: 'OVERLAP' }), 0);
    assert.equal(height(last, id), 1);
  } finally {
    await net.close();
  }
});

test('two conflicting blocks at one height produce equivocation evidence on every node', async () => {
  const net = await testNet();
  try {
    const c = chains();
    const { o, a, b, c: last, id } = await line(net, c);
    const s0 = genesisState(c.top.genesis);
    await produce(c.top, o);
    await waitFor(() => height(last, id) === 1, 'first block everywhere');
    await o.publishBlock(id, craft(c.top, s0, [], { timeMs: 5 }), { raw: true });
    for (const n of [o, a, b, last]) {
      await waitFor(() => n.evidenceList().some((e) => e.kind === 'equivocation'), 'equivocation evidence');
      assert.equal(n.tracker.view(id)?.faulty, true);
    }
    assert.equal(
      new Set([o, a, b, last].map((n) => hex(n.evidenceList()[0].id))).size,
      1,
      'the same evidence everywhere',
    );
  } finally {
    await net.close();
  }
});

test('a node started late backfills and then follows; a restarted node resumes from its persisted head', async () => {
  const net = await testNet();
  try {
    const c = chains();
    const { o, a, b, id } = await line(net, c);
    for (let i = 0; i < 5; i++) await produce(c.top, o, 2);
    await waitFor(() => height(b, id) === 5, 'b at 5');
    const late = await net.start({
      ip: '127.0.0.25',
      bootstrap: [b],
      genesis: [],
      track: [id],
      anchorId: c.anchorId,
    });
    await waitFor(() => height(late, id) === 5, 'late node backfilled to 5');
    assert.equal(hex(late.tracker.state(id)!.stateRoot), hex(c.top.producer.tree.root));
    await waitFor(() => late.meshPeers(id) >= 1, 'late node in the mesh');
    await produce(c.top, o);
    await waitFor(() => height(late, id) === 6, 'late node follows gossip');

    const dir = net.dataDirOf(a);
    await net.stop(a);
    for (let i = 0; i < 2; i++) await produce(c.top, o);
    const again = await net.start({
      ip: '127.0.0.22',
      bootstrap: [o],
      dataDir: dir,
      genesis: c.genesis,
      track: c.track,
      anchorId: c.anchorId,
    });
    assert.ok(height(again, id) >= 6, `resumed at ${height(again, id)}, not from genesis`);
    await waitFor(() => height(again, id) === 8, 'restarted node catches up');
    assert.equal(hex(again.tracker.state(id)!.stateRoot), hex(c.top.producer.tree.root));
  } finally {
    await net.close();
  }
});

test('a peer flooding garbage is penalised and cut off while honest blocks keep flowing', async () => {
  const net = await testNet();
  const attacker = await createNetworkNode({ listen: ['/ip4/127.0.0.29/tcp/0'] });
  const gossip = new GossipService({ node: attacker });
  try {
    const c = chains();
    const { o, a, c: last, id } = await line(net, c);
    await attacker.start();
    await gossip.start();
    gossip.subscribe(blocksTopic(id));
    await attacker.dial(a.multiaddrs()[0] as never);
    await waitFor(() => a.connectedPeers().some((p) => p.equals(attacker.peerId)), 'attacker connected');
    let sent = 0;
    const deadline = Date.now() + 20_000;
    while (a.connectedPeers().some((p) => p.equals(attacker.peerId)) && Date.now() < deadline) {
      await gossip
        .publish(blocksTopic(id), Uint8Array.from([sent & 255, 0xff, 0xff, sent >> 8]))
        .catch(() => 0);
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!a.connectedPeers().some((p) => p.equals(attacker.peerId)), 'attacker disconnected');
    assert.ok(
      (await blocksCounted(a, { result: 'reject', code: 'DECODE_MALFORMED' })) >= 1,
      'garbage rejected and counted',
    );
    await produce(c.top, o);
    await waitFor(() => height(last, id) === 1, 'honest block still reaches the end of the line');
  } finally {
    await gossip.stop().catch(() => undefined);
    await attacker.stop().catch(() => undefined);
    await net.close();
  }
});

test('a block whose judging throws (a bug of ours) is ignored as INTERNAL: not relayed, and its sender keeps its standing', async () => {
  const net = await testNet();
  try {
    const c = chains();
    const base = { genesis: c.genesis, track: c.track, anchorId: c.anchorId };
    const o = await net.start({ ip: '127.0.0.31', ...base });
    const buggy = await net.start({
      ip: '127.0.0.32',
      bootstrap: [o],
      ...base,
      judge: () => {
        throw new Error('judge bug');
      },
    });
    const id = c.top.genesis.chainId;
    for (const n of [o, buggy]) await waitFor(() => n.meshPeers(id) >= 1, 'block topic mesh');
    const messages = net.registryOf(buggy).getSingleMetric('gossip_messages_total') as Counter<string>;
    for (let i = 0; i < 3; i++) await produce(c.top, o);
    await waitFor(
      async () => (await metricValue(messages, { result: 'ignore', code: 'INTERNAL' })) === 3,
      'three blocks ignored as INTERNAL',
    );
    assert.equal(await metricValue(messages, { result: 'reject' }), 0);
    assert.equal(height(buggy, id), 0);
    // No reject, so gossipsub holds nothing against the sender (test/p2p/gossip.test.ts watches the score itself).
    assert.ok(buggy.meshPeers(id) >= 1, 'the sender is still a mesh peer');
    assert.ok(buggy.connectedPeers().length >= 1);
  } finally {
    await net.close();
  }
});
