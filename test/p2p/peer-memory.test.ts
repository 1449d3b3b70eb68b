/**
 * A node with its peer store on disk (issue 28 item 2): restarted with no bootstrap list, it dials the peers it
 * knew and is back in the network; a peer it banned stays banned across the restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { defer } from '../helpers/cleanup.js';
import { addrOf, startNode, stopAll, waitUntil } from './helpers.js';
import type { NetworkNode } from '../../src/p2p/libp2p.js';

test('a restarted node reconnects to the peers it remembers, with no bootstrap list, and keeps its bans', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peer-memory-'));
  const nodes: NetworkNode[] = [];
  defer(t, async () => {
    await stopAll(nodes);
    await rm(dir, { recursive: true, force: true });
  });
  const hub = await startNode('127.0.0.71', {}, nodes);
  const rogue = await startNode('127.0.0.72', {}, nodes);
  const privateKey = await generateKeyPair('Ed25519');
  const peerStorePath = join(dir, 'peers');
  const first = await startNode('127.0.0.73', {
    privateKey,
    peerStorePath,
    bootstrap: [addrOf(hub), addrOf(rogue)],
  });
  const connectedTo = (n: NetworkNode, peer: NetworkNode) =>
    n.getConnectedPeers().some((p) => p.equals(peer.peerId));
  await waitUntil(() => connectedTo(first, hub) && connectedTo(first, rogue), { what: 'connected to both' });
  await first.ban(rogue.peerId, 'test: misbehaved');
  await first.stop();

  // The same identity and data dir, no bootstrap list: before this change it knew nobody and stayed alone.
  const again = await startNode('127.0.0.73', { privateKey, peerStorePath }, nodes);
  await waitUntil(() => connectedTo(again, hub), {
    what: 'reconnected to the remembered hub',
    timeoutMs: 20_000,
  });
  assert.equal(again.isBanned(rogue.peerId), true, 'the ban survived the restart');
  await assert.rejects(again.dial(addrOf(rogue)), 'the gater refuses the banned peer');
  assert.equal(connectedTo(again, rogue), false);
});
