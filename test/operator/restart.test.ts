import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../../src/chain/block.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { OperatorError } from '../../src/operator/errors.js';
import { OperatorStore } from '../../src/operator/store.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { MemorySink, removeDir, startChainNode, tempDir, waitFor } from './helpers.js';
import { join } from 'node:path';

test('a restart rebuilds the tree, restores the head and replays the request log to the same root', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const [alice, bob] = [generateKeyPair(), generateKeyPair()];
  const dir = await tempDir();
  const sink = new MemorySink();
  const a = await startChainNode(top.genesis, top.key, { dir, sink });
  for (let i = 0n; i < 20n; i++)
    await a.svc.create({ start: i * 100n, end: i * 100n + 60n, owner: alice.publicKey });
  await a.svc.sealNow();
  // Acknowledged but not sealed: creates, transfers and a split.
  for (let i = 20n; i < 25n; i++)
    await a.svc.create({ start: i * 100n, end: i * 100n + 60n, owner: alice.publicKey });
  for (const s of [0n, 100n, 200n]) {
    const leaf = a.svc.currentContract(s)!;
    await a.svc.ownerAction({
      kind: 'owner',
      start: s,
      signed: act(top.genesis, leaf, alice, {
        kind: 'transfer',
        newOwner: bob.publicKey,
        terms: new Uint8Array(0),
      }),
      childGenesis: null,
    });
  }
  const leaf = a.svc.currentContract(0n)!;
  await a.svc.ownerAction({
    kind: 'owner',
    start: 0n,
    signed: act(top.genesis, leaf, bob, {
      kind: 'split',
      at: 30n,
      rightOwner: alice.publicKey,
      rightTerms: new Uint8Array(0),
    }),
    childGenesis: null,
  });
  const root = toHex(a.svc.pendingRoot);
  const pending = a.svc.pendingCount;
  assert.equal(pending, 9);
  await a.stop({ seal: false });

  const b = await startChainNode(top.genesis, top.key, { dir, sink });
  try {
    assert.equal(b.svc.head.height, 1);
    assert.equal(b.svc.pendingCount, pending);
    assert.equal(toHex(b.svc.pendingRoot), root);
    assert.equal(b.svc.droppedOnReplay, 0);
    assert.equal(toHex(b.svc.currentContract(100n)!.contract.owner), toHex(bob.publicKey));
    assert.equal(b.svc.currentContract(30n)!.contract.end, 60n);
    const sealed = await b.svc.sealNow();
    assert.equal(sealed.block.txs.length, pending);
    assert.equal(toHex(sealed.state.stateRoot), root);
    assert.equal(sink.rejected().length, 0);
    assert.equal(sink.published.length, 2);
  } finally {
    await b.stop();
  }
  // The wrong key, or another chain's genesis, cannot open this store.
  const other = childChain(anchorChain().genesis, 0n, SPACE);
  await assert.rejects(
    startChainNode(other.genesis, other.key, { dir }),
    (e: unknown) => e instanceof OperatorError && e.code === 'STORE_MISMATCH',
  );
  await assert.rejects(
    startChainNode(top.genesis, other.key, { dir }),
    (e: unknown) => e instanceof OperatorError && e.code === 'STORE_MISMATCH',
  );
  await removeDir(dir);
});

test('a request log longer than one block is replayed into several blocks', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const dir = await tempDir();
  const sink = new MemorySink();
  const a = await startChainNode(top.genesis, top.key, { dir, sink, maxPending: 1000 });
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      a.svc.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 5n, owner: alice.publicKey }),
    ),
  );
  const root = toHex(a.svc.pendingRoot);
  await a.stop({ seal: false });

  const b = await startChainNode(top.genesis, top.key, { dir, sink, maxPending: 10 });
  try {
    // Two full blocks were sealed while replaying; start() published them.
    assert.equal(b.svc.head.height, 2);
    assert.equal(b.svc.pendingCount, 10);
    assert.equal(toHex(b.svc.pendingRoot), root);
    await waitFor(() => sink.published.length === 2, 'the replayed blocks published');
    const last = await b.svc.sealNow();
    assert.equal(toHex(last.state.stateRoot), root);
    assert.deepEqual(
      sink.published.map((p) => decodeBlock(p.bytes).txs.length),
      [10, 10, 10],
    );
    assert.equal(sink.rejected().length, 0);
  } finally {
    await b.stop();
  }
  const store = await OperatorStore.open(join(dir, 'db'));
  assert.equal((await store.logEntries()).length, 0);
  await store.close();
  await removeDir(dir);
});

test('blocks written but not published (the node was down) are published in order later', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const dir = await tempDir();
  const inner = new MemorySink();
  let down = true;
  const flaky = new (class extends MemorySink {
    override async publishBlock(chainId: Uint8Array, bytes: Uint8Array, opts: { raw?: boolean } = {}) {
      if (down) throw new Error('node unavailable');
      return inner.publishBlock(chainId, bytes, opts);
    }
  })();
  inner.track(top.genesis);
  const a = await startChainNode(top.genesis, top.key, { dir, sink: flaky, blockIntervalMs: 20 });
  await a.svc.create({ start: 0n, end: 10n, owner: alice.publicKey });
  await a.svc.sealNow();
  await a.svc.create({ start: 10n, end: 20n, owner: alice.publicKey });
  await a.svc.sealNow();
  assert.equal(inner.published.length, 0);
  await a.stop();

  down = false;
  const b = await startChainNode(top.genesis, top.key, { dir, sink: flaky, blockIntervalMs: 20 });
  try {
    assert.ok(b.svc.head.height >= 2);
    await waitFor(
      () => inner.published.length === b.svc.head.height,
      'the written blocks published after the restart',
    );
    await b.svc.create({ start: 20n, end: 30n, owner: alice.publicKey });
    await b.svc.sealNow();
    // While running, a failed publication is retried on the next tick.
    down = true;
    await b.svc.create({ start: 30n, end: 40n, owner: alice.publicKey });
    await b.svc.sealNow();
    down = false;
    // (The interval timer may have sealed the last request first, and sealNow an empty block after it.)
    await waitFor(
      () => b.svc.head.height >= 4 && inner.published.length === b.svc.head.height,
      'the retried blocks published',
    );
    assert.deepEqual(
      inner.published.map((p) => p.height),
      Array.from({ length: b.svc.head.height }, (_, k) => k + 1),
    );
    assert.equal(inner.rejected().length, 0);
  } finally {
    await b.stop();
    await removeDir(dir);
  }
});
