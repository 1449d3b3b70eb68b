/**
 * What a hop costs, as /metrics tells it: the judging thread's CPU per block, queue wait and delay from first seen,
 * gossipsub's own metrics on the node's registry, and a fast message id that tells duplicates apart cheaply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { createFastMessageId } from '../../src/p2p/message-id.js';
import { anchorAndTop } from '../helpers/chains.js';
import { testNet, waitFor } from '../helpers/net.js';

/** The value of one series in Prometheus text, e.g. `name{source="gossip"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test('a gossiped block shows its judging CPU, queue wait and delay, and gossipsub reports its own metrics', async () => {
  const net = await testNet();
  try {
    const { top, follow: base } = anchorAndTop();
    const o = await net.start({ ip: '127.0.0.37', ...base });
    const v = await net.start({ ip: '127.0.0.38', bootstrap: [o], ...base });
    const id = top.genesis.chainId;
    for (const n of [o, v]) await waitFor(() => n.meshPeers(id) >= 1, 'block topic mesh');
    const owner = generateKeyPair().publicKey;
    for (let i = 0n; i < 16n; i++) top.producer.create({ start: i * 100n, end: i * 100n + 50n, owner });
    assert.equal((await o.publishBlock(id, top.producer.seal(Date.now()).block.bytes)).result, 'accept');
    await waitFor(() => (v.tracker.state(id)?.height ?? 0) === 1, 'the validator takes the block by gossip');

    const text = await net.registryOf(v).metrics();
    const g = '{source="gossip"}';
    assert.equal(sample(text, `sortition_block_judge_cpu_seconds_count${g}`), 1);
    const cpu = sample(text, `sortition_block_judge_cpu_seconds_sum${g}`);
    assert.ok(cpu > 0 && cpu < 5, `judging a 16-tx block took ${cpu} s of CPU`);
    const wait = sample(text, `sortition_block_queue_wait_seconds_sum${g}`);
    const delay = sample(text, `sortition_block_delay_seconds_sum${g}`);
    const judge = sample(text, `sortition_block_validation_seconds_sum${g}`);
    assert.ok(
      wait >= 0 && delay >= wait && delay >= judge,
      `delay ${delay} = wait ${wait} + judging ${judge}`,
    );
    // gossipsub's own metrics (through metricsRegister), with our topic labels.
    assert.match(text, /^gossipsub_\w+/m);
    assert.match(text, /topic="blocks\/[0-9a-f]{16}"/);
  } finally {
    await net.close();
  }
});

test('the fast message id: same topic and data give one id, any difference another, and the seed is per process', async () => {
  const f = await createFastMessageId();
  const g = await createFastMessageId();
  const data = new TextEncoder().encode('a block');
  const t = '/sortition/1/00/blocks/proto';
  assert.equal(f({ topic: t, data }), f({ topic: t, data: Uint8Array.from(data) }));
  assert.notEqual(f({ topic: t, data }), f({ topic: t + 'x', data }));
  assert.notEqual(f({ topic: t, data }), f({ topic: t, data: new TextEncoder().encode('a block!') }));
  // Another seed: a peer cannot predict our ids, so it cannot aim a collision at an honest message.
  assert.notEqual(f({ topic: t, data }), g({ topic: t, data }));
});
