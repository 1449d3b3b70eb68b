import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ACCEPT, ignore, reject, type Verdict } from '../../src/codec/verdict.js';
import { GossipService, type GossipMessage } from '../../src/p2p/gossip.js';
import { silentLogger, type NetworkNode, type P2pLogger } from '../../src/p2p/libp2p.js';
import { metricValue } from '../../src/p2p/metrics.js';
import { blocksTopic, EVIDENCE_TOPIC, stringifyTopic } from '../../src/p2p/topics.js';
import { addrOf, chainId, startNode, stopAll, waitForMesh, waitUntil } from './helpers.js';

const VALID = 1;
const INVALID = 0xff;

/** Accepts messages whose first byte is VALID, rejects INVALID, ignores anything else. */
async function validator(msg: GossipMessage): Promise<Verdict> {
  if (msg.data[0] === VALID) return ACCEPT;
  if (msg.data[0] === INVALID) return reject('BAD_SIGNATURE');
  return ignore('UNTRACKED');
}

interface Peer {
  node: NetworkNode;
  gossip: GossipService;
  registry: Registry;
  received: Uint8Array[];
}

async function startPeer(
  host: string,
  bootstrap: string[],
  nodes: NetworkNode[],
  services: GossipService[],
  logger?: P2pLogger,
): Promise<Peer> {
  const node = await startNode(host, { bootstrap }, nodes);
  const registry = new Registry();
  const received: Uint8Array[] = [];
  const gossip = new GossipService({
    node,
    registry,
    logger,
    onMessage: (m) => void received.push(m.data),
  });
  services.push(gossip);
  gossip.registerValidator('blocks', validator);
  await gossip.start();
  return { node, gossip, registry, received };
}

describe('gossip over three nodes in a line (A - B - C)', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  const services: GossipService[] = [];
  const topic = blocksTopic(chainId(7));
  let a: Peer, b: Peer, c: Peer;

  before(async () => {
    b = await startPeer('127.0.0.12', [], nodes, services);
    a = await startPeer('127.0.0.11', [addrOf(b.node)], nodes, services);
    c = await startPeer('127.0.0.13', [addrOf(b.node)], nodes, services);
    for (const p of [a, b, c]) p.gossip.subscribe(topic);
    await waitForMesh(a.gossip, topic, 1, { timeoutMs: 20_000 });
    await waitForMesh(b.gossip, topic, 2, { timeoutMs: 20_000 });
    await waitForMesh(c.gossip, topic, 1, { timeoutMs: 20_000 });
  });

  after(async () => {
    await stopAll(services);
    await stopAll(nodes);
  });

  it('C is connected to B only', () => {
    assert.equal(c.node.libp2p.getConnections(a.node.peerId).length, 0);
    assert.ok(c.node.libp2p.getConnections(b.node.peerId).length > 0);
  });

  it('updates the peer and mesh gauges', async () => {
    await waitUntil(async () => (await metricValue(b.gossip.metrics.peers)) === 2, { timeoutMs: 5_000 });
    await waitUntil(
      async () => (await metricValue(b.gossip.metrics.meshPeers, { topic: stringifyTopic(topic) })) === 2,
      { timeoutMs: 5_000 },
    );
  });

  it('a message the validators accept reaches C', async () => {
    const data = new Uint8Array([VALID, 1, 2, 3]);
    await a.gossip.publish(topic, data);
    await waitUntil(() => c.received.some((d) => Buffer.from(d).equals(Buffer.from(data))), {
      timeoutMs: 10_000,
    });
    assert.ok(b.received.some((d) => Buffer.from(d).equals(Buffer.from(data))));
    assert.equal(await metricValue(b.gossip.metrics.messages, { result: 'accept', topic_kind: 'blocks' }), 1);
  });

  it('a block of several MiB crosses two hops', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(5);
    big[0] = VALID;
    big[1] = 77;
    await a.gossip.publish(topic, big);
    await waitUntil(() => c.received.some((d) => d.length === big.length && d[1] === 77), {
      timeoutMs: 20_000,
    });
  });

  it('a message rejected at B never reaches C and counts at B', async () => {
    const before = await metricValue(b.gossip.metrics.messages, { result: 'reject', code: 'BAD_SIGNATURE' });
    await a.gossip.publish(topic, new Uint8Array([INVALID, 9]));
    await waitUntil(
      async () =>
        (await metricValue(b.gossip.metrics.messages, { result: 'reject', code: 'BAD_SIGNATURE' })) ===
        before + 1,
      { timeoutMs: 10_000 },
    );
    // A marker published after the bad message: once it reached C, the bad one would have too.
    const marker = new Uint8Array([VALID, 42]);
    await a.gossip.publish(topic, marker);
    await waitUntil(() => c.received.some((d) => d[1] === 42), { timeoutMs: 10_000 });
    assert.ok(!c.received.some((d) => d[0] === INVALID));
    assert.equal(await metricValue(c.gossip.metrics.messages, { result: 'reject' }), 0);
    // A reject costs the sender (scores are cached for one heartbeat).
    await waitUntil(() => b.node.getScore(a.node.peerId) < 0, { timeoutMs: 5_000 });
  });
});

/** Resolves after the node's gossipsub has run `n` more heartbeats. */
function heartbeats(node: NetworkNode, n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const on = (): void => {
      if (--left > 0) return;
      node.gossipsub.removeEventListener('gossipsub:heartbeat', on);
      resolve();
    };
    node.gossipsub.addEventListener('gossipsub:heartbeat', on);
  });
}

describe('gossip validation outcomes', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  const services: GossipService[] = [];
  const blocks = blocksTopic(chainId(8));
  let sender: Peer, receiver: Peer;
  const errors: Array<{ obj: Record<string, unknown>; msg?: string }> = [];
  const capture: P2pLogger = {
    ...silentLogger,
    error: (obj, msg) => void errors.push({ obj: obj as Record<string, unknown>, msg }),
  };

  before(async () => {
    receiver = await startPeer('127.0.0.15', [], nodes, services, capture);
    sender = await startPeer('127.0.0.14', [addrOf(receiver.node)], nodes, services);
  });

  after(async () => {
    await stopAll(services);
    await stopAll(nodes);
  });

  it('a validator that throws anything else ignores (code INTERNAL): our bug costs the relaying peer nothing', async () => {
    receiver.gossip.registerValidator('evidence', async () => {
      throw new Error('bug');
    });
    receiver.gossip.subscribe(EVIDENCE_TOPIC);
    sender.gossip.subscribe(EVIDENCE_TOPIC);
    await waitForMesh(sender.gossip, EVIDENCE_TOPIC, 1, { timeoutMs: 20_000 });
    for (let i = 0; i < 3; i++) await sender.gossip.publish(EVIDENCE_TOPIC, new Uint8Array([1, 2, i]));
    await waitUntil(
      async () =>
        (await metricValue(receiver.gossip.metrics.messages, {
          topic_kind: 'evidence',
          result: 'ignore',
          code: 'INTERNAL',
        })) === 3,
      { timeoutMs: 10_000 },
    );
    assert.equal(await metricValue(receiver.gossip.metrics.messages, { result: 'reject' }), 0);
    assert.equal(await metricValue(receiver.gossip.metrics.validationErrors, { topic_kind: 'evidence' }), 3);
    assert.equal(receiver.received.length, 0);
    // Logged at error with the stack, so the bug can be found.
    const logged = errors.filter((e) => e.msg === 'gossip validator threw');
    assert.equal(logged.length, 3);
    assert.match(String((logged[0].obj.err as Error).stack), /Error: bug/);
    // Scores are recomputed each heartbeat: after two, a penalty would show.
    await heartbeats(receiver.node, 2);
    assert.ok(
      receiver.node.getScore(sender.node.peerId) >= 0,
      `score ${receiver.node.getScore(sender.node.peerId)}`,
    );
  });

  it('an ignored message is counted and not delivered', async () => {
    receiver.gossip.subscribe(blocks);
    sender.gossip.subscribe(blocks);
    await waitForMesh(sender.gossip, blocks, 1, { timeoutMs: 20_000 });
    await sender.gossip.publish(blocks, new Uint8Array([7, 7]));
    await waitUntil(
      async () =>
        (await metricValue(receiver.gossip.metrics.messages, { result: 'ignore', code: 'UNTRACKED' })) === 1,
      { timeoutMs: 10_000 },
    );
    assert.equal(receiver.received.length, 0);
  });

  it('messages on topics that do not parse are rejected and counted', async () => {
    // Subscribe below the GossipService (which only knows valid topics) so that the sender routes to us.
    receiver.node.gossipsub.subscribe('/not/a/sortition/topic');
    await waitUntil(() => sender.node.gossipsub.getSubscribers('/not/a/sortition/topic').length === 1, {
      timeoutMs: 10_000,
    });
    await sender.node.gossipsub.publish('/not/a/sortition/topic', new Uint8Array([1]));
    await waitUntil(
      async () =>
        (await metricValue(receiver.gossip.metrics.messages, {
          topic_kind: 'unknown',
          result: 'reject',
          code: 'BAD_TOPIC',
        })) === 1,
      { timeoutMs: 10_000 },
    );
  });

  it('refuses to publish more than maxMessageSize', async () => {
    await assert.rejects(
      sender.gossip.publish(blocks, new Uint8Array(sender.node.maxMessageSize + 1)),
      RangeError,
    );
  });

  it('a peer that sent a rejected message is pruned from the mesh', async () => {
    await sender.gossip.publish(blocks, new Uint8Array([INVALID, 1]));
    await waitUntil(() => receiver.gossip.getMeshPeers(blocks).length === 0, { timeoutMs: 5_000 });
    assert.ok(receiver.node.getScore(sender.node.peerId) < 0);
  });
});
