import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { decodeBlock } from '../../src/chain/block.js';
import { decodeSignedHeader } from '../../src/chain/header.js';
import { decodeAction, type OwnerOp } from '../../src/chain/tx.js';
import { fromHex, toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, verify, type KeyPair } from '../../src/crypto/keys.js';
import { leafFromBytes } from '../../src/tree/contract.js';
import { pathFromProto } from '../../src/tree/path.js';
import { checkPath } from '../../src/tree/verify.js';
import { OperatorStore } from '../../src/operator/store.js';
import type { ContractView, SubmitResult } from '../../src/api/operator.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { http, removeDir, startChainNode, validateStore, waitFor, type TestChainNode } from './helpers.js';
import { join } from 'node:path';

async function ownerCall(
  n: TestChainNode,
  start: bigint,
  owner: KeyPair,
  op: OwnerOp,
): Promise<{ status: number; json: SubmitResult }> {
  const view = (await http<ContractView>(n.url, 'GET', `/v1/contracts/${start}`)).json;
  const leaf = leafFromBytes(fromHex(view.contract!.leaf));
  const signed = act(n.svc.genesis, leaf, owner, op);
  return http<SubmitResult>(n.url, 'POST', `/v1/contracts/${start}/actions`, {
    action: toHex(signed.bytes),
    signature: toHex(signed.signature),
  });
}

/** The view's proof verifies against the signed head, which the operator signed. */
function checkProof(n: TestChainNode, view: ContractView): void {
  const p = view.proof!;
  const sh = decodeSignedHeader(fromHex(p.signedHeader));
  assert.ok(verify(n.svc.genesis.genesis.operatorKey, sh.hash, sh.signature));
  assert.equal(toHex(sh.header.stateRoot), p.stateRoot);
  assert.equal(sh.header.height, p.height);
  const path = pathFromProto(sortition.v1.Path.decode(fromHex(p.path)));
  checkPath(sh.header.stateRoot, path);
  assert.equal(toHex(path.leaf!.bytes), view.committed!.leaf);
}

test('contract lifecycle over HTTP: sell, transfer, split, close; proofs, listing, authorisations, metrics', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const n = await startChainNode(top.genesis, top.key);
  const [alice, bob, carol] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
  try {
    const chain = (
      await http<{ chainId: string; genesis: string; head: { height: number } }>(n.url, 'GET', '/v1/chain')
    ).json;
    assert.equal(chain.chainId, toHex(top.genesis.chainId));
    assert.equal(chain.genesis, toHex(top.genesis.bytes));
    assert.equal(chain.head.height, 0);

    // Sell: operator only.
    const sale = { start: '0', end: '100', owner: toHex(alice.publicKey) };
    assert.equal((await http(n.url, 'POST', '/v1/contracts', sale)).status, 401);
    const sold = await http<SubmitResult>(n.url, 'POST', '/v1/contracts', sale, n.token);
    assert.equal(sold.status, 202);
    assert.equal(sold.json.status, 'accepted');
    assert.equal(sold.json.height, 1);
    assert.equal(sold.json.contract!.owner, toHex(alice.publicKey));
    // The same sale again is a duplicate, not an error (a client retrying after a lost answer).
    const again = await http<SubmitResult>(n.url, 'POST', '/v1/contracts', sale, n.token);
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'duplicate');

    let view = (await http<ContractView>(n.url, 'GET', '/v1/contracts/0')).json;
    assert.equal(view.pending, true);
    assert.equal(view.committed, null);
    assert.equal(view.proof, null);

    const b1 = await n.svc.sealNow();
    assert.equal(b1.state.height, 1);
    view = (await http<ContractView>(n.url, 'GET', '/v1/contracts/0')).json;
    assert.equal(view.pending, false);
    checkProof(n, view);

    // Transfer alice -> bob: pending until sealed, the committed state keeps alice meanwhile.
    const tr = await ownerCall(n, 0n, alice, {
      kind: 'transfer',
      newOwner: bob.publicKey,
      terms: new Uint8Array(0),
    });
    assert.equal(tr.status, 202);
    view = (await http<ContractView>(n.url, 'GET', '/v1/contracts/0')).json;
    assert.equal(view.pending, true);
    assert.equal(view.contract!.owner, toHex(bob.publicKey));
    assert.equal(view.contract!.nonce, 1);
    assert.equal(view.committed!.owner, toHex(alice.publicKey));
    checkProof(n, view);
    const aliceDigest = view.committed!.digest;

    // The same signed transfer again: a duplicate.
    const signed = act(top.genesis, leafFromBytes(fromHex(view.committed!.leaf)), alice, {
      kind: 'transfer',
      newOwner: bob.publicKey,
      terms: new Uint8Array(0),
    });
    const dup = await http<SubmitResult>(n.url, 'POST', '/v1/contracts/0/actions', {
      action: toHex(signed.bytes),
      signature: toHex(signed.signature),
    });
    assert.equal(dup.status, 200);
    assert.equal(dup.json.status, 'duplicate');

    // Split by bob: [0, 40) stays bob's, [40, 100) goes to carol (same block as the transfer).
    const sp = await ownerCall(n, 0n, bob, {
      kind: 'split',
      at: 40n,
      rightOwner: carol.publicKey,
      rightTerms: new Uint8Array(32).fill(7),
    });
    assert.equal(sp.status, 202);
    const b2 = await n.svc.sealNow();
    assert.equal(b2.block.txs.length, 2);
    view = (await http<ContractView>(n.url, 'GET', '/v1/contracts/0')).json;
    assert.equal(view.committed!.end, '40');
    assert.equal(view.committed!.owner, toHex(bob.publicKey));
    checkProof(n, view);
    const right = (await http<ContractView>(n.url, 'GET', '/v1/contracts/40')).json;
    assert.equal(right.committed!.owner, toHex(carol.publicKey));
    assert.equal(right.committed!.terms, toHex(new Uint8Array(32).fill(7)));
    checkProof(n, right);

    // More sales for the listing.
    for (const s of [200n, 300n, 400n])
      await http(
        n.url,
        'POST',
        '/v1/contracts',
        { start: s.toString(), end: (s + 10n).toString(), owner: toHex(bob.publicKey) },
        n.token,
      );
    const list = await http<{ contracts: { start: string }[]; next: string | null }>(
      n.url,
      'GET',
      `/v1/contracts?owner=${toHex(bob.publicKey)}&limit=3`,
    );
    assert.deepEqual(
      list.json.contracts.map((c) => c.start),
      ['0', '200', '300'],
    );
    assert.equal(list.json.next, '300');
    const rest = await http<{ contracts: { start: string }[]; next: string | null }>(
      n.url,
      'GET',
      `/v1/contracts?owner=${toHex(bob.publicKey)}&after=300`,
    );
    assert.deepEqual(
      rest.json.contracts.map((c) => c.start),
      ['400'],
    );
    assert.equal(rest.json.next, null);
    const carols = await http<{ contracts: { start: string }[] }>(
      n.url,
      'GET',
      `/v1/contracts?owner=${toHex(carol.publicKey)}`,
    );
    assert.deepEqual(
      carols.json.contracts.map((c) => c.start),
      ['40'],
    );

    // Close carol's half: gone from the current state at once, from the committed one after the block.
    const cl = await ownerCall(n, 40n, carol, { kind: 'close' });
    assert.equal(cl.status, 202);
    view = (await http<ContractView>(n.url, 'GET', '/v1/contracts/40')).json;
    assert.equal(view.contract, null);
    assert.notEqual(view.committed, null);
    await n.svc.sealNow();
    assert.equal((await http(n.url, 'GET', '/v1/contracts/40')).status, 404);
    const carolsAfter = await http<{ contracts: unknown[] }>(
      n.url,
      'GET',
      `/v1/contracts?owner=${toHex(carol.publicKey)}`,
    );
    assert.equal(carolsAfter.json.contracts.length, 0);

    // The signed message in which alice agreed that her state is superseded.
    const auth = await http<{ action: string; signature: string; height: number }>(
      n.url,
      'GET',
      `/v1/authorisations/${aliceDigest}`,
    );
    assert.equal(auth.status, 200);
    assert.equal(auth.json.height, 2);
    const action = decodeAction(fromHex(auth.json.action));
    assert.equal(toHex(action.contractHash), aliceDigest);
    assert.equal(action.op.kind, 'transfer');

    // Stored blocks over the API.
    const blk = await http<{ block: string }>(n.url, 'GET', '/v1/blocks/2');
    assert.equal(decodeBlock(fromHex(blk.json.block)).signed.header.height, 2);
    assert.equal((await http(n.url, 'GET', '/v1/blocks/99')).status, 404);

    // Every published block passed the core validator.
    assert.equal(n.sink.rejected().length, 0);
    assert.equal(n.sink.published.length, 3);

    const metrics = await n.registry.metrics();
    assert.match(metrics, /operator_blocks_total\{chain="[0-9a-f]+"\} 3/);
    assert.match(metrics, /operator_pending_txs\{chain="[0-9a-f]+"\} 0/);
    assert.match(metrics, /operator_block_build_seconds_count\{chain="[0-9a-f]+"\} 3/);
    assert.match(metrics, /operator_store_bytes/);
  } finally {
    await n.stop();
  }
  // The store holds a valid chain from genesis, and its contracts are the final state.
  const store = await OperatorStore.open(join(n.dir, 'db'));
  try {
    const st = await validateStore(store, top.genesis);
    assert.equal(st.height, 3);
    const leaves = await store.leaves();
    assert.deepEqual(
      leaves.map((l) => l.contract.start),
      [0n, 200n, 300n, 400n],
    );
  } finally {
    await store.close();
    await removeDir(n.dir);
  }
});

test('blocks are sealed on the interval and as soon as max-pending transactions wait', async () => {
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  const alice = generateKeyPair();
  const n = await startChainNode(top.genesis, top.key, { blockIntervalMs: 60_000, maxPending: 5 });
  try {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        n.svc.create({ start: BigInt(i * 10), end: BigInt(i * 10 + 5), owner: alice.publicKey }),
      ),
    );
    // 12 requests with max-pending 5: two full blocks sealed without waiting for the interval.
    await waitFor(() => n.svc.head.height >= 2, 'two blocks');
    assert.equal(n.svc.pendingCount, 2);
  } finally {
    await n.stop();
  }
  assert.deepEqual(
    n.sink.published.map((p) => decodeBlock(p.bytes).txs.length),
    [5, 5, 2],
    'the last two went into the block sealed at stop',
  );
  assert.equal(n.sink.rejected().length, 0);
  await removeDir(n.dir);

  const m = await startChainNode(top.genesis, top.key, { blockIntervalMs: 30 });
  try {
    await m.svc.create({ start: 1000n, end: 1001n, owner: alice.publicKey });
    await waitFor(() => m.svc.head.height === 1, 'the interval block');
    await waitFor(() => m.sink.published.length === 1, 'the block published');
    await m.svc.create({ start: 2000n, end: 2001n, owner: alice.publicKey });
    await waitFor(() => m.svc.contractView(2000n).committed, 'the second interval block');
    // No empty blocks in between on a chain that is not the anchor.
    assert.equal(m.svc.head.height, 2);
    assert.deepEqual(
      m.sink.published.map((p) => decodeBlock(p.bytes).txs.length),
      [1, 1],
    );
  } finally {
    await m.stop();
    await removeDir(m.dir);
  }
});
