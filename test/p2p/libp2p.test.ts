import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { pino } from 'pino';
import { BanList } from '../../src/p2p/banlist.js';
import { createNetworkNode } from '../../src/p2p/libp2p.js';
import { gossipMessageId } from '../../src/p2p/message-id.js';
import type { NetworkNode } from '../../src/p2p/network-node.js';
import { addrOf, startNode, stopAll, waitUntil } from './helpers.js';

describe('network node', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  after(async () => {
    await stopAll(nodes);
  });

  it('keeps its peer id across restarts when given the same key', async () => {
    const privateKey = await generateKeyPair('Ed25519');
    // A pino logger fits the P2pLogger interface.
    const n1 = await createNetworkNode({
      listen: ['/ip4/127.0.0.51/tcp/0'],
      privateKey,
      logger: pino({ level: 'silent' }),
    });
    const n2 = await createNetworkNode({ listen: ['/ip4/127.0.0.51/tcp/0'], privateKey });
    assert.equal(n1.peerId.toString(), n2.peerId.toString());
  });

  it('dials bootstrap peers with backoff until they come up, and redials when all connections drop', async () => {
    const privateKey = await generateKeyPair('Ed25519');
    const first = await startNode('127.0.0.52', { privateKey }, nodes);
    const addr = addrOf(first);
    const port = first
      .getMultiaddrs()[0]
      ?.getComponents()
      .find((c) => c.name === 'tcp')?.value;
    await first.stop();

    // The bootstrap peer is down: the dialer keeps retrying.
    const follower = await startNode('127.0.0.53', { bootstrap: [addr] }, nodes);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(follower.getConnectedPeers().length, 0);

    // Same identity and port again: the follower connects on a retry.
    const boot = await startNode(
      '127.0.0.52',
      { privateKey, listen: [`/ip4/127.0.0.52/tcp/${port}`] },
      nodes,
    );
    await waitUntil(() => follower.libp2p.getConnections(boot.peerId).length > 0, {
      timeoutMs: 15_000,
      what: 'connect',
    });

    // The bootstrap peer drops every connection: the follower redials.
    await boot.libp2p.hangUp(follower.peerId);
    await waitUntil(() => follower.libp2p.getConnections(boot.peerId).length > 0, {
      timeoutMs: 15_000,
      what: 'redial',
    });
  });

  it('message ids hash topic and data', () => {
    const a = gossipMessageId('/t', new Uint8Array([1, 2]));
    assert.equal(a.length, 32);
    assert.deepEqual(a, gossipMessageId('/t', new Uint8Array([1, 2])));
    assert.notDeepEqual(a, gossipMessageId('/u', new Uint8Array([1, 2])));
    // The length prefix keeps topic and data apart.
    assert.notDeepEqual(
      gossipMessageId('/t', new Uint8Array([0x41])),
      gossipMessageId('/tA', new Uint8Array()),
    );
  });
});

describe('peer store', { timeout: 60_000 }, () => {
  const nodes: NetworkNode[] = [];
  after(async () => {
    await stopAll(nodes);
  });

  it('keeps at most maxStoredPeers peers that come and go', async () => {
    const hub = await startNode('127.0.0.35', { connections: { maxStoredPeers: 4 } }, nodes);
    for (let i = 0; i < 12; i++) {
      const visitor = await startNode('127.0.0.36', {});
      await visitor.dial(addrOf(hub));
      await waitUntil(() => hub.getConnectedPeers().length === 1, { timeoutMs: 10_000 });
      await visitor.stop();
      await waitUntil(() => hub.getConnectedPeers().length === 0, { timeoutMs: 10_000 });
    }
    await waitUntil(async () => (await hub.libp2p.peerStore.all()).length <= 4, {
      timeoutMs: 10_000,
      what: 'the peer store pruned to 4 peers',
    });
  });
});

describe('ban list', () => {
  it('does not keep expired bans of peers that never came back', () => {
    const bans = new BanList();
    for (let i = 0; i < 1000; i++) bans.ban(`peer-${i}`, 10_000, 0);
    assert.equal(bans.size, 1000);
    bans.ban('late', 10_000, 10_001);
    assert.equal(bans.size, 1);
    assert.ok(bans.isBanned('late', 10_002));
    assert.ok(!bans.isBanned('peer-1', 10_002));
  });
});
