/**
 * A validator that does not take its EVM endpoint's word (issue 26, items 2 and 3), on anvil behind lying proxies:
 * headers hash to anvil's block hashes (Prague/Osaka fields), the anchor's storage read by eth_getProof at slots
 * from solc's storage layout equals what its getters return, a fake `Committed` log and a forged `eth_call` never
 * count a commit the chain does not hold, and with three endpoints of which one lies (another block hash, a head
 * far ahead, fake logs; or silent, or garbage) the quorum of the other two holds.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFunctionData,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeEventTopics,
  encodeFunctionResult,
  keccak256,
  hexToBytes,
  toHex,
  type Hex,
} from 'viem';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { ChainProducer } from '../../src/chain/producer.js';
import type { SignedHeader } from '../../src/chain/header.js';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { anchorView } from '../../src/evm/api.js';
import { EvmEndpoints, QuorumError } from '../../src/evm/endpoints.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { checkHeader, headerHash, ProofError, type RpcBlock } from '../../src/evm/proof.js';
import { ProvenAnchor } from '../../src/evm/proven.js';
import { AnchorWatcher } from '../../src/evm/watcher.js';
import { createLogger } from '../../src/runtime/logger.js';
import { testNet, waitFor } from '../helpers/net.js';
import { defer } from '../helpers/cleanup.js';
import { newAnchor, trackedTopChain } from './anchor-helpers.js';
import { devKey, useAnvil } from './helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileJournal } from '../../src/evm/journal.js';
import { craftBlock } from '../../src/operator/faults.js';
import { lyingProxy, type LyingProxy, type RpcCall } from './lying-proxy.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'evm-proven');

/** A `Committed` log of `height` with `headerHash` at the block the real answer was asked about. */
function fakeCommitted(address: Hex, chainId: Hex, height: number, hash: Hex, block: bigint) {
  const topics = encodeEventTopics({ abi: ANCHOR_ABI, eventName: 'Committed', args: { chainId } });
  return {
    address,
    topics,
    data: encodeAbiParameters(
      [{ type: 'uint64' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint64' }, { type: 'uint64' }],
      [BigInt(height), hash, keccak256(hash), 0n, 1000n],
    ),
    blockNumber: toHex(block),
    blockHash: keccak256(toHex(block)),
    transactionHash: keccak256(hash),
    transactionIndex: '0x0',
    logIndex: '0x0',
    removed: false,
  };
}

/** Appends `logs()` to every eth_getLogs answer whose range covers the newest block asked (once per range). */
function injectLogs(p: LyingProxy, logs: (to: bigint) => object[]): void {
  p.lies.set('eth_getLogs', (result, call: RpcCall) => {
    const f = call.params[0] as { toBlock?: Hex };
    if (!f.toBlock || !f.toBlock.startsWith('0x')) return undefined;
    return [...(result as object[]), ...logs(BigInt(f.toBlock))];
  });
}

/** Rewrites the liar's answers to `chains(id)` calls (a tuple of the Chain struct's fields). */
function forgeChains(p: LyingProxy, f: (fields: unknown[]) => void): void {
  p.lies.set('eth_call', (result, call) => {
    const { data } = call.params[0] as { data: Hex };
    if (decodeFunctionData({ abi: ANCHOR_ABI, data }).functionName !== 'chains') return undefined;
    const r = [...decodeFunctionResult({ abi: ANCHOR_ABI, functionName: 'chains', data: result as Hex })];
    f(r);
    return encodeFunctionResult({ abi: ANCHOR_ABI, functionName: 'chains', result: r as never });
  });
}

/** A block whose state root is another and whose hash is recomputed: a consistent header of a chain that is not. */
function forgedBlock(result: unknown): unknown {
  if (!result) return result;
  const b = { ...(result as Record<string, unknown>) };
  b.stateRoot = keccak256(b.stateRoot as Hex);
  b.hash = headerHash(b as RpcBlock);
  return b;
}

async function following(
  t: TestContext,
  urls: (anvil: string) => Promise<{ urls: string[]; quorum: number }>,
  /** An EVM key (anvil account) to submit evidence with. */
  keyOf?: number,
) {
  const anchor = await newAnchor(env);
  const net = await testNet();
  defer(t, () => net.close());
  const { genesis, producer, node, key } = await trackedTopChain(env, anchor, net);
  const e = await urls(env.anvil.rpcUrl);
  const dir = await mkdtemp(join(tmpdir(), 'evm-proven-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const ac = new AbortController();
  defer(t, () => ac.abort());
  const evm = await EvmAnchor.open({
    rpcUrl: e.urls[0],
    address: anchor.address,
    confirmations: 1,
    log,
    ...(keyOf === undefined
      ? {}
      : { key: devKey(env, keyOf), journal: fileJournal(join(dir, 'journal')), signal: ac.signal }),
  });
  const endpoints = new EvmEndpoints({ urls: e.urls, quorum: e.quorum, timeoutMs: 1000, log });
  const proven = new ProvenAnchor({ endpoints, address: anchor.address });
  evm.proveWith(proven);
  const watcher = new AnchorWatcher({ anchor: evm, node, log, pollMs: 20, proven });
  defer(t, () => watcher.stop());
  watcher.start();
  const id = toHex(genesis.chainId);
  const blocks: SignedHeader[] = [];
  return {
    anchor,
    evm,
    endpoints,
    proven,
    watcher,
    id,
    blocks,
    genesis,
    key,
    producer,
    anchored: () => node.tracker.view(genesis.chainId)!.anchoredHeight,
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
    /** The genesis state: what a forged header at height 1 builds on. */
    stateAt0: () => new ChainProducer(genesis, key.secretKey).state,
  };
}

test("headers hash to anvil's block hashes; proven storage equals the getters; tampered answers are refused", async (t) => {
  const anchor = await newAnchor(env);
  const net = await testNet();
  defer(t, () => net.close());
  const { genesis, producer } = await trackedTopChain(env, anchor, net);
  const id = toHex(genesis.chainId);
  const b = producer.seal(1000).block;
  await anchor.send(5, 'commit', [id, toHex(b.signed.bytes)]);
  const n = await env.pub.getBlockNumber();
  // Every block so far (genesis, deployments, a registration, a commit) hashes as anvil hashed it.
  for (let i = 0n; i <= n; i++) {
    const raw = (await env.pub.request({
      method: 'eth_getBlockByNumber',
      params: [toHex(i), false],
    })) as RpcBlock;
    assert.equal(checkHeader(raw).hash, raw.hash, `block ${i}`);
  }
  const raw = (await env.pub.request({
    method: 'eth_getBlockByNumber',
    params: [toHex(n), false],
  })) as RpcBlock;
  assert.throws(
    () => checkHeader({ ...raw, stateRoot: keccak256('0x01') }),
    (e) => e instanceof ProofError && e.code === 'HEADER_HASH',
  );
  assert.throws(
    () => checkHeader({ ...raw, withdrawalsRoot: undefined }),
    (e) => e instanceof ProofError && e.code === 'HEADER_FIELDS',
  );

  const endpoints = new EvmEndpoints({ urls: [env.anvil.rpcUrl], quorum: 1, log });
  const proven = new ProvenAnchor({ endpoints, address: anchor.address });
  const at = (await endpoints.block(n))!;
  assert.equal(at.by, 'trusted');
  const evm = await EvmAnchor.open({ rpcUrl: env.anvil.rpcUrl, address: anchor.address, log });
  const got = await proven.chain(id, at);
  const want = await evm.chain(genesis.chainId);
  assert.deepEqual(
    { ...got, committer: got.committer.toLowerCase() },
    { ...want, committer: want.committer.toLowerCase() },
  );
  assert.equal(got.height, 1);
  assert.equal(await proven.commit(id, 1, at), toHex(b.signed.hash));
  assert.equal(await proven.commit(id, 2, at), null, 'no commit at 2: proven absent');
  assert.equal(await proven.claim(id, at), null);
  // The block before the commit: its state holds none.
  const before = (await endpoints.block(n - 1n))!;
  assert.equal(await proven.commit(id, 1, before), null);
  assert.equal(proven.reads()['commit/proven/OK'], 3);
});

test('one lying endpoint: fake Committed logs, a forged eth_call and a garbage proof never count a commit', async (t) => {
  let liar!: LyingProxy;
  const f = await following(t, async (anvil) => {
    liar = await lyingProxy(t, anvil, '127.0.4.1');
    return { urls: [liar.url], quorum: 1 };
  });
  const h1 = await f.gossip();
  const h2 = await f.gossip();
  // The liar shows height 2 committed with the gossiped header, and height 1 with another header.
  injectLogs(liar, (to) => [
    fakeCommitted(f.anchor.address, f.id, 2, toHex(h2.hash), to),
    fakeCommitted(f.anchor.address, f.id, 1, keccak256('0xbad'), to),
  ]);
  // ... and its chains() call says height 2 is committed.
  forgeChains(liar, (r) => (r[8] = 2n));
  await waitFor(() => f.watcher.status().verification.rejectedCommits >= 2, 'both fake logs rejected');
  assert.equal(f.anchored(), 0, 'nothing counted');
  assert.equal(f.watcher.mismatches.length, 0, 'a fake log of another header is no commit mismatch');
  assert.deepEqual(
    f.watcher.rejected.slice(0, 2).map((r) => [r.height, r.proven, r.code]),
    [
      [2, null, 'COMMIT_NOT_IN_STATE'],
      [1, null, 'COMMIT_NOT_IN_STATE'],
    ],
  );
  assert.equal(f.watcher.status().verification.commits, 'proven');
  // The forged call shows to a reader that takes the endpoint's word; the proven view holds the chain's state.
  const trusting = await EvmAnchor.open({ rpcUrl: liar.url, address: f.anchor.address, log });
  assert.equal((await anchorView(trusting))[0].committedHeight, 2);
  assert.equal((await f.evm.chain(hexToBytes(f.id))).height, 0, 'chain() proven (proveWith)');
  const at = f.watcher.agreedBlock!;
  const view = await anchorView(f.evm, { proven: f.proven, at });
  assert.equal(view[0].committedHeight, 0);
  assert.equal(view[0].verified, 'proven');

  // A real commit of height 1 is proven and counted, the fakes still not.
  liar.lies.delete('eth_getLogs');
  await f.commit(h1);
  await waitFor(() => f.anchored() === 1, 'the real commit counted');

  // Garbage instead of a proof: the poll fails and nothing is counted until a proof verifies.
  liar.garbage.add('eth_getProof');
  await f.commit(h2);
  await waitFor(
    () => /eth_getProof|JSON|proof/i.test(f.watcher.status().lastError ?? ''),
    'the garbage reported',
  );
  assert.equal(f.anchored(), 1);
  liar.garbage.delete('eth_getProof');
  await waitFor(() => f.anchored() === 2, 'counted once a proof verifies');
});

test('an endpoint saying the chain is slashed does not keep the node from submitting commit-mismatch evidence', async (t) => {
  let liar!: LyingProxy;
  const f = await following(
    t,
    async (anvil) => {
      liar = await lyingProxy(t, anvil, '127.0.4.10');
      return { urls: [liar.url], quorum: 1 };
    },
    6,
  );
  await f.gossip();
  // The operator commits another header at height 1 than the one it gossiped; the liar says the chain is slashed.
  forgeChains(liar, (r) => (r[3] = true));
  const alt = craftBlock(f.genesis, f.key.secretKey, f.stateAt0(), [], { timeMs: 99_999 });
  await f.commit(alt.signed);
  await waitFor(() => f.watcher.mismatches.length === 1, 'commit mismatch judged');
  await waitFor(() => f.watcher.mismatches[0].submitted, 'the evidence submitted all the same');
  await f.watcher.settled();
  const c = await env.pub.readContract({
    address: f.anchor.address,
    abi: ANCHOR_ABI,
    functionName: 'chains',
    args: [f.id],
  });
  assert.equal(c[3], true, 'slashed on chain');
});

test('three endpoints, one lies (another block hash, a head far ahead, fake logs): the quorum holds', async (t) => {
  let liar!: LyingProxy;
  const f = await following(t, async (anvil) => {
    liar = await lyingProxy(t, anvil, '127.0.4.2');
    const honest = [await lyingProxy(t, anvil, '127.0.4.3'), await lyingProxy(t, anvil, '127.0.4.4')];
    // The liar first: its logs are the ones read, the worst place for it.
    return { urls: [liar.url, ...honest.map((h) => h.url)], quorum: 2 };
  });
  const h1 = await f.gossip();
  const h2 = await f.gossip();
  liar.lies.set('eth_getBlockByNumber', forgedBlock);
  liar.lies.set('eth_blockNumber', (r) => toHex(BigInt(r as Hex) + 1_000_000n));
  injectLogs(liar, (to) => [fakeCommitted(f.anchor.address, f.id, 2, toHex(h2.hash), to)]);
  await f.commit(h1);
  await waitFor(() => f.anchored() === 1, 'the real commit counted');
  await waitFor(() => f.watcher.status().verification.rejectedCommits >= 1, 'the fake log rejected');
  assert.equal(f.anchored(), 1, 'the fake commit of 2 not counted');
  const s = f.watcher.status();
  assert.ok(s.scannedTo <= Number(await env.pub.getBlockNumber()), 'scanned no further than the real head');
  assert.equal(s.verification.blockHashes, 'quorum');
  assert.deepEqual([s.verification.provenAt?.agreeing, s.verification.provenAt?.of], [2, 3]);
  assert.ok((s.verification.disagreements['0/BLOCK_HASH'] ?? 0) >= 1, 'the liar named other block hashes');
  assert.ok((s.verification.disagreements['0/HEAD'] ?? 0) >= 1, 'the liar named a head far ahead');
  assert.equal(s.verification.disagreements['1/BLOCK_HASH'], undefined);
});

test('a silent, a garbage and a bad-header endpoint: two honest ones still make the quorum; one does not', async (t) => {
  const silent = await lyingProxy(t, env.anvil.rpcUrl, '127.0.4.5');
  silent.stall.add('eth_getBlockByNumber');
  silent.stall.add('eth_blockNumber');
  const n = await env.pub.getBlockNumber();
  const real = (await env.pub.getBlock({ blockNumber: n })).hash;
  const three = new EvmEndpoints({
    urls: [env.anvil.rpcUrl, silent.url, env.anvil.rpcUrl],
    quorum: 2,
    timeoutMs: 300,
    log,
  });
  const b = (await three.block(n))!;
  assert.deepEqual([b.hash, b.by, b.agreeing, b.of], [real, 'quorum', 2, 3]);
  assert.equal(await three.head(), n);
  assert.ok(three.disagreements()['1/NO_ANSWER'] >= 2, 'the silent one counted');

  const garbage = await lyingProxy(t, env.anvil.rpcUrl, '127.0.4.6');
  garbage.garbage.add('eth_getBlockByNumber');
  const bad = await lyingProxy(t, env.anvil.rpcUrl, '127.0.4.7');
  bad.lies.set('eth_getBlockByNumber', (r) => ({ ...(r as object), stateRoot: keccak256('0x01') }));
  const two = new EvmEndpoints({
    urls: [env.anvil.rpcUrl, garbage.url, bad.url],
    quorum: 2,
    timeoutMs: 300,
    log,
  });
  await assert.rejects(two.block(n), (e) => e instanceof QuorumError && e.code === 'NO_QUORUM');
  assert.deepEqual(two.disagreements(), { '1/NO_ANSWER': 1, '2/BAD_HEADER': 1 });

  // A checkpoint the bad endpoint's chain does not hold leaves it out.
  const forged = await lyingProxy(t, env.anvil.rpcUrl, '127.0.4.8');
  forged.lies.set('eth_getBlockByNumber', forgedBlock);
  const cp = new EvmEndpoints({
    urls: [env.anvil.rpcUrl, forged.url],
    quorum: 1,
    checkpoint: { number: n, hash: real },
    log,
  });
  await cp.checkCheckpoint();
  assert.deepEqual(
    cp.clients().map((c) => c.index),
    [0],
  );
  assert.equal(cp.disagreements()['1/CHECKPOINT'], 1);
});
