/**
 * Finding the peers of a chain (issue 28 item 2): a fresh node that knows one peer of the network, which does not
 * follow the chain, finds the chain's followers through the DHT's provider records and connects to them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defer } from '../helpers/cleanup.js';
import { addrOf, chainId, startNode, stopAll, waitUntil } from './helpers.js';
import type { NetworkNode } from '../../src/p2p/libp2p.js';

test('a node that knows only an unrelated peer finds the followers of its chain through the DHT', async (t) => {
  const nodes: NetworkNode[] = [];
  defer(t, () => stopAll(nodes));
  const chain = chainId(77);
  const hub = await startNode('127.0.0.81', { dht: true }, nodes);
  const bystander = await startNode('127.0.0.82', { dht: true, bootstrap: [addrOf(hub)] }, nodes);
  const followers = [
    await startNode('127.0.0.83', { dht: true, bootstrap: [addrOf(hub)] }, nodes),
    await startNode('127.0.0.84', { dht: true, bootstrap: [addrOf(hub)] }, nodes),
  ];
  // The routing table is not in KadDHT's exported interface; its size is what says the node joined the DHT.
  const routing = (n: NetworkNode) =>
    (n.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size;
  await waitUntil(() => [hub, bystander, ...followers].every((n) => routing(n) > 0), {
    what: 'DHT routing tables filled',
    timeoutMs: 20_000,
  });
  // The followers announce the chain; each announcement needs a peer to store it, hence the retry.
  for (const f of followers)
    await waitUntil(() => f.chains!.provide(chain), { what: 'chain announced', timeoutMs: 20_000 });

  const fresh = await startNode('127.0.0.85', { dht: true, bootstrap: [addrOf(bystander)] }, nodes);
  await waitUntil(() => routing(fresh) > 0, { what: 'the fresh node in the DHT', timeoutMs: 20_000 });
  const connected = (n: NetworkNode) => fresh.getConnectedPeers().some((p) => p.equals(n.peerId));
  assert.equal(followers.some(connected), false, 'it knows no follower yet');
  await waitUntil(async () => (await fresh.chains!.find(chain)).length > 0 || followers.some(connected), {
    what: 'a follower found and dialed',
    timeoutMs: 30_000,
  });
  assert.ok(followers.some(connected), 'connected to a follower of the chain');
  const other = await fresh.chains!.find(chainId(78));
  assert.deepEqual(other, [], 'nobody follows another chain');
});
