/**
 * A node follows more chains than gossipsub's default per-peer topic budget holds (1 MiB: 941 of our block topics,
 * issue 28) and every block topic meshes, at the budget the project sets (MAX_TOPICS_PER_PEER); the mesh peer's
 * record carries one tag for all those meshes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import type { NetworkNode } from '../../src/p2p/libp2p.js';
import { MESH_TAG } from '../../src/p2p/mesh-tags.js';
import { MAX_TOPICS_PER_PEER, TOPIC_ENTRY_BYTES } from '../../src/p2p/options.js';
import { blocksTopic, EVIDENCE_TOPIC, stringifyTopic } from '../../src/p2p/topics.js';
import { addrOf, startNode, stopAll, waitUntil } from './helpers.js';

const CHAINS = 1100;

/** Distinct 32-byte chain ids. */
function ids(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const id = new Uint8Array(32);
    new DataView(id.buffer).setUint32(0, i + 1);
    return id;
  });
}

test(`${CHAINS} block topics all mesh between two peers (the default budget held 941)`, async () => {
  const names = [...ids(CHAINS).map((id) => stringifyTopic(blocksTopic(id))), stringifyTopic(EVIDENCE_TOPIC)];
  assert.equal(TOPIC_ENTRY_BYTES, 1024 + Math.max(...names.map((n) => n.length)), 'the charge per topic');
  assert.ok(names.length * TOPIC_ENTRY_BYTES > 1024 * 1024, 'more than the default budget holds');
  assert.ok(names.length <= MAX_TOPICS_PER_PEER);
  const nodes: NetworkNode[] = [];
  try {
    const a = await startNode('127.0.4.11', {}, nodes);
    const b = await startNode('127.0.4.12', {}, nodes);
    for (const n of names) {
      a.gossipsub.subscribe(n);
      b.gossipsub.subscribe(n);
    }
    await b.dial(multiaddr(addrOf(a)));
    const meshed = (node: NetworkNode) =>
      names.filter((n) => node.gossipsub.getMeshPeers(n).length > 0).length;
    await waitUntil(() => meshed(a) === names.length && meshed(b) === names.length, {
      timeoutMs: 40_000,
      what: `every topic meshed (a: ${meshed(a)}, b: ${meshed(b)} of ${names.length})`,
    });
    // One tag for a mesh peer, not one per topic: libp2p re-encodes the record on every stream opened.
    const record = await a.libp2p.peerStore.get(b.peerId);
    assert.deepEqual([...record.tags.keys()], [MESH_TAG]);
  } finally {
    await stopAll(nodes);
  }
});
