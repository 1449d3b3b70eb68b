// Valid but useless gossip costs the sender (issue 27 item 5): a peer flooding well-formed evidence this node can
// only ignore (chains it does not follow) falls below the disconnect threshold and is banned, over real libp2p on
// loopback; a peer whose few ignored messages an honest relay would send keeps a score of 0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ignore, type Verdict } from '../../src/codec/verdict.js';
import { GossipService } from '../../src/p2p/gossip.js';
import type { NetworkNode } from '../../src/p2p/libp2p.js';
import { EVIDENCE_TOPIC } from '../../src/p2p/topics.js';
import { UselessTraffic } from '../../src/p2p/useless.js';
import { waitFor } from '../helpers/net.js';
import { addrOf, startNode, stopAll } from './helpers.js';

it('the useless count decays by its half-life and penalises only what is over the threshold', () => {
  let now = 0;
  const u = new UselessTraffic({ threshold: 10, halfLifeMs: 1000, maxPeers: 2 }, () => now);
  for (let i = 0; i < 10; i++) u.note('p');
  assert.equal(u.score('p'), 0, 'at the threshold: nothing');
  for (let i = 0; i < 30; i++) u.note('p');
  assert.equal(u.score('p'), -30);
  now = 1000; // halved: 20, 10 over
  assert.equal(Math.round(u.score('p')), -10);
  now = 5000;
  assert.equal(u.score('p'), 0, 'a quiet peer recovers');
  u.note('q');
  u.note('r');
  assert.equal(u.score('p'), 0, 'forgotten past maxPeers');
});

describe('a flood of ignored evidence costs the sender', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  const services: GossipService[] = [];
  const banned: string[] = [];
  let b: NetworkNode, m: NetworkNode, h: NetworkNode;
  let gm: GossipService, gh: GossipService;

  before(async () => {
    b = await startNode('127.0.0.52', { onPeerBanned: (p) => banned.push(p.toString()) }, nodes);
    m = await startNode('127.0.0.53', { bootstrap: [addrOf(b)] }, nodes);
    h = await startNode('127.0.0.54', { bootstrap: [addrOf(b)] }, nodes);
    const mk = (node: NetworkNode): GossipService => {
      const g = new GossipService({ node, registry: new Registry() });
      // What a validator answers evidence about a chain it does not follow.
      g.registerValidator('evidence', async (): Promise<Verdict> => ignore('EVIDENCE_UNKNOWN_CHAIN'));
      services.push(g);
      return g;
    };
    const gb = mk(b);
    gm = mk(m);
    gh = mk(h);
    for (const g of [gb, gm, gh]) {
      g.subscribe(EVIDENCE_TOPIC);
      await g.start();
    }
    await waitFor(() => gb.getMeshPeers(EVIDENCE_TOPIC).length >= 2, 'B meshed with M and H', 20_000);
  });

  after(async () => {
    await stopAll(services);
    await stopAll(nodes);
  });

  it('the flooder is banned; a peer with a few ignored messages keeps its score', async () => {
    // An honest relay: a handful of evidence items this node happens not to follow.
    for (let i = 0; i < 5; i++) await gh.publish(EVIDENCE_TOPIC, new Uint8Array([2, i, 0]));
    // The flooder: 2,000 distinct well-formed messages as fast as it can.
    for (let i = 0; i < 2000; i++)
      await gm.publish(EVIDENCE_TOPIC, new Uint8Array([1, i & 0xff, i >> 8])).catch(() => {});
    await waitFor(() => b.isBanned(m.peerId), 'the flooder banned', 30_000);
    assert.ok(b.getScore(m.peerId) < -800, `flooder's score ${b.getScore(m.peerId)}`);
    assert.deepEqual(banned, [m.peerId.toString()]);
    assert.ok(b.getScore(h.peerId) >= 0, `honest relay's score ${b.getScore(h.peerId)}`);
    assert.equal(b.isBanned(h.peerId), false);
  });
});
