/**
 * Reorg-safe following of the EVM anchor, on anvil (`evm_snapshot`/`evm_revert`, then new blocks: a reorg of any
 * depth). A validator's watcher un-counts a commit that left the chain and judges the commit that replaced it (a
 * different operator-signed header is commit-mismatch evidence, slashed on chain); a reorg shallower than
 * `--confirmations` never reaches what it scanned; a head the endpoint names once and a second read does not
 * confirm moves nothing, and a head below the scanned height is reported stale. The operator's committer commits
 * again when a reorg drops its confirmed commit.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toHex, type Hex } from 'viem';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { ChainProducer } from '../../src/chain/producer.js';
import type { SignedHeader } from '../../src/chain/header.js';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { EvmCommitter } from '../../src/evm/committer.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { AnchorWatcher } from '../../src/evm/watcher.js';
import { EvmEndpoints } from '../../src/evm/endpoints.js';
import { ProvenAnchor } from '../../src/evm/proven.js';
import { craftBlock } from '../../src/operator/faults.js';
import { createLogger } from '../../src/runtime/logger.js';
import { testNet, waitFor } from '../helpers/net.js';
import { header, newAnchor, registerChain, trackedTopChain, type Anchor } from './anchor-helpers.js';
import { devKey, useAnvil } from './helpers.js';
import { defer } from '../helpers/cleanup.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'evm-reorg');

/** A tracked top-level chain on a fresh anchor, a validator gossiped its blocks, and its watcher (key: account 6). */
async function following(t: TestContext, confirmations: number, rpcUrl?: (real: string) => string) {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-reorg-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const net = await testNet();
  defer(t, () => net.close());
  const { key, genesis, producer, node } = await trackedTopChain(env, anchor, net);
  // Aborted first at the end: a submission waiting for confirmations no one mines does not hold the test.
  const ac = new AbortController();
  const evm = await EvmAnchor.open({
    rpcUrl: rpcUrl ? rpcUrl(env.anvil.rpcUrl) : env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 6),
    journal: fileJournal(join(dir, 'journal')),
    confirmations,
    log,
    signal: ac.signal,
  });
  // Proven reads, as the app runs it: a commit that left the chain is also absent from the proven state.
  const endpoints = new EvmEndpoints({ urls: [evm.o.rpcUrl], quorum: 1, log });
  const proven = new ProvenAnchor({ endpoints, address: anchor.address });
  const watcher = new AnchorWatcher({ anchor: evm, node, log, pollMs: 20, proven });
  defer(t, () => watcher.stop());
  defer(t, () => ac.abort());
  watcher.start();
  const id = toHex(genesis.chainId);
  const blocks: SignedHeader[] = [];
  return {
    anchor,
    evm,
    watcher,
    genesis,
    key,
    id,
    blocks,
    anchored: () => node.tracker.view(genesis.chainId)!.anchoredHeight,
    onChain: async () => (await evm.chain(genesis.chainId)).height,
    /** The next block, gossiped to the validator. */
    async gossip(): Promise<SignedHeader> {
      const i = blocks.length;
      producer.create({
        start: BigInt(i) * 10n,
        end: BigInt(i) * 10n + 10n,
        owner: generateKeyPair().publicKey,
      });
      const b = producer.seal(1000 + i).block;
      assert.equal((await node.ingest(genesis.chainId, b.bytes, 'gossip')).result, 'accept');
      blocks.push(b.signed);
      return b.signed;
    },
    commit: (h: SignedHeader) => anchor.send(5, 'commit', [id, toHex(h.bytes)]),
    /** The chain's state at `height`, from a producer of its own (what a forged header at height + 1 builds on). */
    stateAt(height: number) {
      const p = new ChainProducer(genesis, key.secretKey);
      for (let i = 0; i < height; i++) {
        p.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 10n, owner: generateKeyPair().publicKey });
        p.seal(1000 + i);
      }
      return p.state;
    },
  };
}

/** Polls (mining one block each time) until `f` holds: the watcher needs new blocks to see past a fork. */
async function mineUntil(f: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await waitFor(async () => {
    if (await f()) return true;
    await env.test.mine({ blocks: 1 });
    return false;
  }, what);
}

test('reorgs deeper than --confirmations: a commit that left the chain is un-counted, one replaced by another signed header is commit mismatch', async (t) => {
  const f = await following(t, 3);
  for (let i = 0; i < 3; i++) await f.gossip();

  // Height 2 committed and counted with 3 confirmations.
  const before = await env.test.snapshot();
  await f.commit(f.blocks[1]);
  await env.test.mine({ blocks: 4 });
  await waitFor(() => f.anchored() === 2, 'anchored at 2');
  const scanned = f.watcher.status().scannedTo;

  // A reorg 5 deep drops it: the chain forks below the scanned height and grows past it without the commit.
  await env.test.revert({ id: before });
  assert.equal(await f.onChain(), 0, 'the commit left the chain');
  await env.test.mine({ blocks: 7 });
  await waitFor(() => f.anchored() === 0, 'un-counted: anchored back to 0');
  assert.ok(f.watcher.status().reorgs >= 1);
  assert.ok(f.watcher.status().scannedTo >= scanned, 'scanned again past the fork');

  // Height 3 committed and counted; then replaced 5 deep by another header the operator signed at height 3.
  const fork = await env.test.snapshot();
  await f.commit(f.blocks[2]);
  await env.test.mine({ blocks: 4 });
  await waitFor(() => f.anchored() === 3, 'anchored at 3');
  assert.equal(f.watcher.mismatches.length, 0);
  await env.test.revert({ id: fork });
  const alt = craftBlock(f.genesis, f.key.secretKey, f.stateAt(2), [], { timeMs: 99_999 });
  await f.commit(alt.signed);
  await env.test.mine({ blocks: 6 });
  await waitFor(() => f.watcher.mismatches.length === 1, 'the replacing commit judged: commit mismatch');
  assert.equal(f.watcher.mismatches[0].height, 3);
  assert.equal(f.watcher.mismatches[0].committed, toHex(alt.signed.hash).slice(2));
  await waitFor(
    () => f.anchored() === 0,
    'the replaced commit un-counted; the mismatching one anchors nothing',
  );
  // The watcher's key submits the evidence; its transaction needs 3 confirmations.
  await mineUntil(() => f.watcher.mismatches[0].submitted, 'the evidence submitted and confirmed');
  await f.watcher.settled();
  assert.equal((await f.evm.chain(f.genesis.chainId)).slashed, true, 'slashed on chain');
});

test('a reorg shallower than --confirmations never reaches the scanned blocks', async (t) => {
  const f = await following(t, 3);
  const h1 = await f.gossip();
  const before = await env.test.snapshot();
  const { blockNumber } = await f.commit(h1);
  await waitFor(() => (f.watcher.status().evmHead ?? 0) >= Number(blockNumber), 'the commit block read');
  assert.ok(f.watcher.status().scannedTo < Number(blockNumber), 'not confirmed: not scanned');
  await env.test.revert({ id: before });
  await env.test.mine({ blocks: 4 });
  const head = Number(await env.pub.getBlockNumber());
  await waitFor(() => f.watcher.status().scannedTo === head - 2, 'scanned the new blocks');
  assert.equal(f.anchored(), 0, 'the commit that left the chain was never counted');
  assert.equal(f.watcher.status().reorgs, 0, 'nothing scanned was replaced');
  await f.commit(h1);
  await env.test.mine({ blocks: 2 });
  await waitFor(() => f.anchored() === 1, 'committed again: anchored at 1');
});

test('a head answered once far ahead moves nothing; a head below the scanned height is stale', async (t) => {
  // A proxy in front of anvil whose eth_blockNumber can lie: once far ahead, or below the real head for a while.
  let lieOnce: bigint | null = null;
  let lower = 0n;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const call = JSON.parse(body.toString()) as { id: number; method: string };
        const r = await fetch(env.anvil.rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        let out = Buffer.from(await r.arrayBuffer());
        if (call.method === 'eth_blockNumber') {
          const real = BigInt((JSON.parse(out.toString()) as { result: Hex }).result);
          const lie = lieOnce !== null ? lieOnce : lower > 0n ? real - lower : null;
          lieOnce = null;
          if (lie !== null)
            out = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: toHex(lie) }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(out);
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const f = await following(t, 1, () => url);

  await f.commit(await f.gossip());
  await waitFor(() => f.anchored() === 1, 'anchored at 1');
  const real = await env.pub.getBlockNumber();
  lieOnce = real + 1_000_000n;
  await waitFor(() => f.watcher.status().headDisagreements >= 1, 'the jump read again and not trusted');
  assert.ok(f.watcher.status().scannedTo <= Number(real), 'scanned no further than the real head');
  await f.commit(await f.gossip());
  await waitFor(() => f.anchored() === 2, 'still following: anchored at 2');
  assert.equal(f.watcher.status().stale, false);
  assert.ok(f.watcher.status().scannedTo <= Number(await env.pub.getBlockNumber()));

  // The endpoint answers a head 5 below the scanned height: stale until it is back.
  lower = 5n;
  await waitFor(() => f.watcher.status().stale, 'stale while the scanned height is above the head');
  lower = 0n;
  await waitFor(() => !f.watcher.status().stale, 'fresh again');
});

test('the operator commits again when a reorg drops its confirmed commit', async (t) => {
  const anchor: Anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-reorg-op-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const committer = env.account(7).address;
  const r = await registerChain(anchor, { start: 0n, end: 1000n, expiry: 1_000_000, committer, from: 7 });
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 7),
    journal: fileJournal(join(dir, 'journal')),
    confirmations: 1,
    log,
  });
  const c = new EvmCommitter({ anchor: evm, chainId: r.genesis.chainId, every: 1, log, reorgPollMs: 20 });
  defer(t, () => c.stop());
  c.start();
  const onChain = async () => (await evm.chain(r.genesis.chainId)).height;

  const before = await env.test.snapshot();
  c.submit(header(r.genesis.chainId, 1, r.key));
  await waitFor(async () => (await onChain()) === 1 && c.status().acceptedHeight === 1, 'committed 1');
  await env.test.mine({ blocks: 3 });
  await env.test.revert({ id: before });
  await env.test.mine({ blocks: 1 });
  // Sent again (a second accepted commit), not found on chain as a duplicate.
  await waitFor(async () => c.sent === 2 && (await onChain()) === 1, 'committed again');
  const commits = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'Committed',
    fromBlock: 0n,
  });
  assert.equal(commits.length, 1, 'one commit on the chain, the second: the first left it');
  assert.equal(c.status().acceptedHeight, 1);
});
