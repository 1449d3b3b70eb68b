// A peer that keeps publishing invalid messages: its score at B drops below zero, then below the graylist /
// disconnect threshold, and B disconnects and bans it; honest messages A -> B -> C keep flowing meanwhile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ACCEPT, reject, type Verdict } from '../../src/codec/verdict.js';
import { GossipService, type GossipMessage } from '../../src/p2p/gossip.js';
import { waitFor } from '../helpers/net.js';
import type { NetworkNode } from '../../src/p2p/libp2p.js';
import { metricValue } from '../../src/p2p/metrics.js';
import { blocksTopic } from '../../src/p2p/topics.js';
import { addrOf, chainId, startNode, stopAll } from './helpers.js';

async function validator(msg: GossipMessage): Promise<Verdict> {
  return msg.data[0] === 1 ? ACCEPT : reject('BAD_SIGNATURE');
}

describe('score-based pruning and disconnection of a misbehaving peer', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  const services: GossipService[] = [];
  const topic = blocksTopic(chainId(9));
  const banned: string[] = [];
  let a: NetworkNode, b: NetworkNode, c: NetworkNode, m: NetworkNode;
  let ga: GossipService, gb: GossipService, gc: GossipService, gm: GossipService;
  const receivedAtC: number[] = [];

  before(async () => {
    b = await startNode('127.0.0.42', { onPeerBanned: (p) => banned.push(p.toString()) }, nodes);
    a = await startNode('127.0.0.41', { bootstrap: [addrOf(b)] }, nodes);
    c = await startNode('127.0.0.43', { bootstrap: [addrOf(b)] }, nodes);
    m = await startNode('127.0.0.44', { bootstrap: [addrOf(b)] }, nodes);
    const mk = (node: NetworkNode, onMessage?: (msg: GossipMessage) => void): GossipService => {
      const g = new GossipService({ node, registry: new Registry(), onMessage });
      g.registerValidator('blocks', validator);
      services.push(g);
      return g;
    };
    ga = mk(a);
    gb = mk(b);
    gc = mk(c, (msg) => void receivedAtC.push(msg.data[1]));
    gm = mk(m);
    for (const g of [ga, gb, gc, gm]) {
      g.subscribe(topic);
      await g.start();
    }
    await waitFor(() => gb.getMeshPeers(topic).length >= 3, 'B meshed with 3', 20_000);
    for (const g of [ga, gc, gm]) await waitFor(() => g.getMeshPeers(topic).length >= 1, 'meshed', 20_000);
  });

  after(async () => {
    await stopAll(services);
    await stopAll(nodes);
  });

  it('rejects cost the sender, which is pruned, disconnected and banned; honest traffic still flows', async () => {
    let seq = 0;
    let stop = false;
    // The attacker: invalid messages every 100 ms. The honest publisher: valid ones every 100 ms.
    const attacker = (async () => {
      let n = 0;
      while (!stop) {
        await gm.publish(topic, new Uint8Array([0xff, n++ & 0xff, Math.random() * 256])).catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const honest = (async () => {
      while (!stop) {
        await ga.publish(topic, new Uint8Array([1, seq++ & 0xff, Math.random() * 256])).catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await waitFor(() => b.getScore(m.peerId) < 0, "M's score below 0", 10_000);
      await waitFor(
        () => b.isBanned(m.peerId) && b.libp2p.getConnections(m.peerId).length === 0,
        'M disconnected and banned',
        15_000,
      );
      assert.ok(b.getScore(m.peerId) < -800, `score ${b.getScore(m.peerId)}`);
      assert.deepEqual(banned, [m.peerId.toString()]);
      assert.ok(!gb.getMeshPeers(topic).includes(m.peerId.toString()));
      assert.ok((await metricValue(gb.metrics.messages, { result: 'reject', code: 'BAD_SIGNATURE' })) >= 3);
      // Honest messages published after the ban still reach C through B.
      const mark = seq;
      await waitFor(() => receivedAtC.some((s) => s === ((mark + 3) & 0xff)), 'honest flow', 10_000);
      assert.ok(b.getScore(a.peerId) >= 0, `honest A scores ${b.getScore(a.peerId)}`);
      assert.ok(!b.isBanned(a.peerId) && !b.isBanned(c.peerId));
      assert.equal(
        await metricValue(gc.metrics.messages, { result: 'reject' }),
        0,
        'no invalid message reached C',
      );
    } finally {
      stop = true;
      await Promise.all([attacker, honest]);
    }
    // The banned peer cannot come back.
    // (M's side may see the connection open for a moment: B refuses it after the Noise handshake.)
    await m.dial(addrOf(b), AbortSignal.timeout(5_000)).catch(() => {});
    await waitFor(() => m.libp2p.getConnections(b.peerId).length === 0, 'refused', 5_000);
    assert.equal(b.libp2p.getConnections(m.peerId).length, 0);
  });
});
