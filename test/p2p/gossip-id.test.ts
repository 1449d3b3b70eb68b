// The browser's gossip message id equals the Node one, or browser and Node peers would not agree on IHAVE/IWANT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gossipMessageIdPure } from '../../src/p2p/gossip-id.js';
import { gossipMessageId } from '../../src/p2p/message-id.js';

test('the pure gossip message id equals the Node one', () => {
  for (const [topic, len] of [
    ['', 0],
    ['/sortition/1/evidence/proto', 1],
    [`/sortition/1/${'ab'.repeat(32)}/blocks/proto`, 70_000],
    ['ünïcode', 3],
  ] as const) {
    const data = Uint8Array.from({ length: len }, (_, i) => (i * 31) & 0xff);
    assert.deepEqual(gossipMessageIdPure(topic, data), gossipMessageId(topic, data));
  }
});
