/**
 * A validator following the EVM anchor read-only: a top-level chain's block counts as anchored once the contract
 * holds its header (with the configured confirmations) and it matches the block the node accepted; a committed
 * header that differs is commit-mismatch evidence, and equivocation the node receives is evidence too. A node
 * with an EVM key submits each to the contract once, and `GET /v1/anchor` shows the outcome read from the chain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { toHex, type Hex } from 'viem';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { ChainProducer } from '../../src/chain/producer.js';
import { makeEquivocation } from '../../src/chain/evidence.js';
import { ANCHOR_ABI, evmGenesis } from '../../src/evm/anchor.js';
import { anchorView } from '../../src/evm/api.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { AnchorWatcher } from '../../src/evm/watcher.js';
import { craftBlock } from '../../src/operator/faults.js';
import { createLogger } from '../../src/runtime/logger.js';
import { testNet, waitFor } from '../helpers/net.js';
import { newAnchor, registerArgs, trackedTopChain } from './anchor-helpers.js';
import { useAnvil, type EvmEnv } from './helpers.js';
import { defer } from '../helpers/cleanup.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'evm-watch');
const devKey = (e: EvmEnv, i: number): Hex => toHex(e.account(i).getHdKey().privateKey!);

test('validators anchor gossiped blocks on contract commits; mismatch and equivocation slash on chain once', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-watch-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const net = await testNet();
  defer(t, () => net.close());

  // Two top-level chains registered by their operators (EVM account 5 commits for both).
  const chains = [0n, 1000n].map((start) => {
    const key = generateKeyPair();
    const genesis = evmGenesis(anchor.id, {
      operatorKey: key.publicKey,
      spaceStart: start,
      spaceEnd: start + 1000n,
      expiry: 1_000_000,
      amountGwei: 1_000_000n,
    });
    return { key, genesis, producer: new ChainProducer(genesis, key.secretKey) };
  });
  const five = env.account(5).address;
  for (const c of chains)
    await anchor.send(5, 'register', registerArgs(anchor.id, c.genesis, c.key, five, five, 5000), 10n ** 15n);

  const node = await net.start({
    ip: '127.0.0.1',
    genesis: chains.map((c) => c.genesis),
    track: chains.map((c) => c.genesis.chainId),
    anchorId: anchor.id,
    externalAnchor: true,
  });
  await waitFor(() => chains.every((c) => node.tracker.isTracked(c.genesis.chainId)), 'chains tracked');
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 6),
    journal: fileJournal(join(dir, 'journal')),
    confirmations: 2,
    log,
  });
  const watcher = new AnchorWatcher({ anchor: evm, node, log, pollMs: 20 });
  defer(t, () => watcher.stop());
  watcher.start();

  // Chain A: three blocks by gossip; the operator commits height 2.
  const [a, b] = chains;
  const blocks = [];
  for (let i = 0; i < 3; i++) {
    a.producer.create({
      start: BigInt(i) * 10n,
      end: BigInt(i) * 10n + 10n,
      owner: generateKeyPair().publicKey,
    });
    const s = a.producer.seal(1000 + i);
    blocks.push(s.block);
    assert.equal((await node.ingest(a.genesis.chainId, s.block.bytes, 'gossip')).result, 'accept');
  }
  const idA = toHex(a.genesis.chainId);
  const { blockNumber } = await anchor.send(5, 'commit', [idA, toHex(blocks[1].signed.bytes)]);
  const anchored = () => node.tracker.view(a.genesis.chainId)!.anchoredHeight;
  // Two confirmations: the commit's block alone is not enough.
  await waitFor(() => (watcher.status().evmHead ?? 0) >= Number(blockNumber), 'a scan of the commit block');
  await waitFor(async () => {
    await watcher.poll();
    return true;
  }, 'one more scan');
  assert.equal(anchored(), 0, 'not anchored with one confirmation of two');
  await env.test.mine({ blocks: 1 });
  await waitFor(() => anchored() === 2, 'anchored at height 2');

  // The operator commits another signed header at height 3 than the one gossiped: commit mismatch.
  const alt = craftBlock(a.genesis, a.key.secretKey, stateAt2(), [], { timeMs: 99_999 });
  await anchor.send(5, 'commit', [idA, toHex(alt.signed.bytes)]);
  await env.test.mine({ blocks: 1 });
  await waitFor(() => slashedAndConfirmed(a.genesis.chainId), 'chain A slashed on chain');
  assert.equal(anchored(), 2, 'the mismatching commit anchors nothing');
  assert.equal(watcher.mismatches.length, 1);
  assert.equal(watcher.mismatches[0].height, 3);

  // Chain B: two signed headers at height 1 arrive as evidence.
  b.producer.create({ start: 1000n, end: 1010n, owner: generateKeyPair().publicKey });
  const b1 = b.producer.seal(5000).block;
  await node.ingest(b.genesis.chainId, b1.bytes, 'gossip');
  const b1x = craftBlock(b.genesis, b.key.secretKey, genesisStateOf(b), [], { timeMs: 5001 });
  const ev = makeEquivocation(b1.signed, b1x.signed);
  assert.equal((await node.ingestEvidence(ev, 'api')).result, 'accept');
  await node.ingestEvidence(ev, 'api');
  await waitFor(() => slashedAndConfirmed(b.genesis.chainId), 'chain B slashed on chain');
  await watcher.settled();

  const slashings = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'Slashed',
    fromBlock: 0n,
  });
  assert.deepEqual(
    slashings.map((e) => [e.args.chainId, e.args.kind, e.args.reporter]),
    [
      [idA, 2, env.account(6).address],
      [toHex(b.genesis.chainId), 1, env.account(6).address],
    ],
    'each chain slashed once, by the watching node',
  );
  const view = await anchorView(evm);
  const va = view.find((c) => c.chainId === idA.slice(2))!;
  assert.equal(va.slashed, true);
  assert.equal(va.committedHeight, 3);
  assert.equal(va.depositWei, (10n ** 15n / 2n).toString(), 'the safety half left the deposit');
  assert.equal(va.settlement, null);
  assert.equal(va.beacon, null, 'no beacon before expiry');

  /** Whether the chain is slashed; mines a block each time, so the reporter's transaction gets its confirmations. */
  async function slashedAndConfirmed(id: Uint8Array): Promise<boolean> {
    const slashed = (await evm.chain(id)).slashed;
    await env.test.mine({ blocks: 1 });
    return slashed;
  }
  function stateAt2() {
    // Any state at height 2: the contract records the header, the watcher compares it with block 3.
    const p = new ChainProducer(a.genesis, a.key.secretKey);
    for (let i = 0; i < 2; i++) {
      p.create({ start: BigInt(i) * 10n, end: BigInt(i) * 10n + 10n, owner: generateKeyPair().publicKey });
      p.seal(1000 + i);
    }
    return p.state;
  }
  function genesisStateOf(c: (typeof chains)[number]) {
    return new ChainProducer(c.genesis, c.key.secretKey).state;
  }
});

/** An HTTP proxy in front of anvil's RPC that can go away (connections refused) and come back on its port. */
async function rpcProxy(
  target: string,
): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let port = 0;
  const up = async (): Promise<void> => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': 'application/json' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => res.destroy());
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await up();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    async down() {
      const s = server!;
      server = null;
      for (const x of sockets) x.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    up,
  };
}

test('the EVM RPC goes away and comes back: gossip is still validated, anchoring is stale, then catches up', async (t) => {
  const anchor = await newAnchor(env);
  const net = await testNet();
  defer(t, () => net.close());
  const proxy = await rpcProxy(env.anvil.rpcUrl);
  defer(t, () => proxy.down().catch(() => undefined));
  const { genesis, producer, node } = await trackedTopChain(env, anchor, net);
  const registry = new Registry();
  const evm = await EvmAnchor.open({ rpcUrl: proxy.url, address: anchor.address, log });
  const watcher = new AnchorWatcher({ anchor: evm, node, log, pollMs: 20, registry });
  defer(t, () => watcher.stop());
  watcher.start();
  const stale = async () =>
    (await registry.getSingleMetric('sortition_evm_anchor_stale')!.get()).values[0]?.value;
  const anchored = () => node.tracker.view(genesis.chainId)!.anchoredHeight;
  const block = async (i: number) => {
    producer.create({
      start: BigInt(i) * 10n,
      end: BigInt(i) * 10n + 10n,
      owner: generateKeyPair().publicKey,
    });
    const b = producer.seal(1000 + i).block;
    assert.equal((await node.ingest(genesis.chainId, b.bytes, 'gossip')).result, 'accept');
    await anchor.send(5, 'commit', [toHex(genesis.chainId), toHex(b.signed.bytes)]);
  };

  await block(0);
  await waitFor(() => anchored() === 1, 'anchored at 1');
  await waitFor(async () => (await stale()) === 0, 'fresh');

  await proxy.down();
  await block(1);
  await waitFor(() => watcher.status().stale, 'reported stale');
  await waitFor(async () => (await stale()) === 1, 'stale in /metrics');
  assert.equal(anchored(), 1, 'nothing anchored while the RPC is away');
  assert.equal(node.tracker.state(genesis.chainId)!.height, 2, 'gossip still validated');

  await proxy.up();
  await waitFor(() => anchored() === 2, 'caught up: anchored at 2');
  await waitFor(async () => (await stale()) === 0 && !watcher.status().stale, 'fresh again');
});
