import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortition } from '../../src/gen/proto.js';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { addValidatorRoutes } from '../../src/node/api.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { pathToProto } from '../../src/tree/path.js';
import { genesisState } from '../../src/chain/state.js';
import { act, anchorAndTop } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import { testNet, waitFor } from '../helpers/net.js';
import type { NodeHealth } from '../../src/node/validator.js';
import { blockWithHeaderU64, ownerTxWithNonce, PAST_SAFE, withU64 } from '../helpers/u64.js';

test('HTTP API: status, proof checks against the verified root, evidence, metrics', async () => {
  const net = await testNet();
  const api = new HttpApi(createLogger('silent', 'api'));
  try {
    const { anchor, top, follow } = anchorAndTop();
    const node = await net.start({ ip: '127.0.0.31', ...follow });
    addValidatorRoutes(api, node, net.registryOf(node));
    const addr = await api.start('127.0.0.1', 0);
    const base = `http://127.0.0.1:${addr.port}`;
    const get = async (p: string) => {
      const r = await fetch(base + p);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const post = async (p: string, body: unknown) => {
      const r = await fetch(base + p, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const id = toHex(top.genesis.chainId);
    const alice = generateKeyPair();
    const p = top.producer;
    p.create({ start: 0n, end: 100n, owner: alice.publicKey });
    assert.equal((await node.publishBlock(top.genesis.chainId, p.seal(1).block.bytes)).result, 'accept');

    const status = await get('/v1/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.peerId, node.peerId.toString());
    const chains = status.body.chains as {
      chainId: string;
      parentId: string | null;
      height: number;
      headHash: string;
      stateRoot: string;
      anchoredHeight: number;
      faulty: boolean;
    }[];
    const mine = chains.find((c) => c.chainId === id)!;
    assert.deepEqual(
      {
        height: mine.height,
        parentId: mine.parentId,
        faulty: mine.faulty,
        stateRoot: mine.stateRoot,
        anchoredHeight: mine.anchoredHeight,
      },
      {
        height: 1,
        parentId: toHex(anchor.genesis.chainId),
        faulty: false,
        stateRoot: toHex(p.tree.root),
        anchoredHeight: 0,
      },
    );
    assert.equal(mine.headHash, toHex(p.state.headHash));

    // A user's proof is current until the contract changes.
    const proof = toHex(sortition.v1.Path.encode(pathToProto(p.tree.memberPath(0n))).finish());
    const fresh = await post(`/v1/chains/${id}/proofs/check`, { path: proof });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.current, true);
    assert.equal((fresh.body.contract as { owner: string }).owner, toHex(alice.publicKey));
    p.owner(
      act(top.genesis, p.tree.get(0n)!, alice, {
        kind: 'transfer',
        newOwner: generateKeyPair().publicKey,
        terms: new Uint8Array(0),
      }),
      0n,
    );
    await node.publishBlock(top.genesis.chainId, p.seal(2).block.bytes);
    const stale = await post(`/v1/chains/${id}/proofs/check`, { path: proof });
    assert.deepEqual(
      [stale.body.current, stale.body.status, stale.body.code, stale.body.height],
      [false, 'superseded', 'CONTRACT_SUPERSEDED', 2],
    );
    assert.equal((await post(`/v1/chains/${id}/proofs/check`, { path: 'zz' })).status, 400);
    assert.equal(
      (await post(`/v1/chains/${'00'.repeat(32)}/proofs/check`, { path: proof })).body.error !== undefined,
      true,
    );

    // Equivocation found locally appears in the evidence list with kind, chain and height.
    await node.publishBlock(top.genesis.chainId, craft(top, genesisState(top.genesis), []));
    const ev = await fetch(base + '/v1/evidence').then(
      (r) => r.json() as Promise<{ kind: string; chainId: string; height: number }[]>,
    );
    assert.deepEqual(
      ev.map((e) => [e.kind, e.chainId, e.height]),
      [['equivocation', id, 1]],
    );
    assert.equal((await get('/v1/status')).body.chains instanceof Array, true);
    const bad = await post('/v1/evidence', { evidence: '0a00' });
    assert.equal(bad.status, 400);

    const metrics = await fetch(base + '/metrics').then((r) => r.text());
    assert.match(
      metrics,
      /sortition_blocks_total\{chain="[0-9a-f]{16}",result="accept",code="OK",source="local"\} 2/,
    );
    assert.match(metrics, /sortition_evidence_total\{kind="equivocation",source="found"\} 1/);
    assert.match(metrics, /sortition_block_validation_seconds_bucket/);
    assert.equal((await get('/v1/nope')).status, 404);
  } finally {
    await api.stop();
    await net.close();
  }
});

test('a value past 2^53 - 1 from a client is a 400 with its code; a block with it that arrives by sync is counted', async () => {
  const net = await testNet();
  const api = new HttpApi(createLogger('silent', 'api'));
  try {
    const { top, follow } = anchorAndTop();
    const node = await net.start({ ip: '127.0.0.32', ...follow });
    addValidatorRoutes(api, node, net.registryOf(node));
    const addr = await api.start('127.0.0.1', 0);
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`http://127.0.0.1:${addr.port}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      return { status: r.status, code: ((await r.json()) as { error?: { code: string } }).error?.code };
    };
    const id = top.genesis.chainId;
    const alice = generateKeyPair();
    const p = top.producer;
    p.create({ start: 0n, end: 100n, owner: alice.publicKey });
    const b1 = p.seal(1).block;
    assert.equal((await node.publishBlock(id, b1.bytes)).result, 'accept');
    const s1 = node.tracker.state(id)!;
    const Ev = sortition.v1.Evidence;
    const member = pathToProto(p.tree.memberPath(0n));
    for (const v of PAST_SAFE) {
      const unreadable = blockWithHeaderU64(top.genesis, top.key.secretKey, s1, 'height', v);
      const ev = Ev.encode(
        Ev.create({ invalidTransition: { previous: b1.signed.bytes, block: unreadable } }),
      ).finish();
      assert.deepEqual(await post('/v1/evidence', { evidence: toHex(ev) }), {
        status: 400,
        code: 'EVIDENCE_MALFORMED',
      });
      const leaf = withU64(sortition.v1.Contract, member.leaf!, 'nonce', v);
      const path = toHex(sortition.v1.Path.encode({ ...member, leaf }).finish());
      assert.deepEqual(await post(`/v1/chains/${toHex(id)}/proofs/check`, { path }), {
        status: 400,
        code: 'DECODE_MALFORMED',
      });
    }
    // Sync hands blocks to the same ingestion as gossip: the operator's block is judged, counted and proven.
    const close = act(top.genesis, p.tree.get(0n)!, alice, { kind: 'close' });
    const tx = ownerTxWithNonce(close, alice.secretKey, p.tree.memberPath(0n), PAST_SAFE[0]);
    assert.deepEqual(await node.ingest(id, craft(top, s1, [tx]), 'sync'), {
      result: 'reject',
      code: 'DECODE_MALFORMED',
    });
    assert.equal(node.tracker.view(id)!.faulty, true);
    assert.deepEqual(
      node.evidenceList().map((e) => [e.kind, e.height]),
      [['invalid_transition', 2]],
    );
    const metrics = await net.registryOf(node).metrics();
    assert.match(
      metrics,
      /sortition_blocks_total\{chain="[0-9a-f]{16}",result="reject",code="DECODE_MALFORMED",source="sync"\} 1/,
    );
  } finally {
    await api.stop();
    await net.close();
  }
});

test('GET /v1/health: 503 with the reason until the node has peers and has caught up, then 200', async () => {
  const net = await testNet();
  const api = new HttpApi(createLogger('silent', 'api'));
  try {
    const { top, follow: chains } = anchorAndTop();
    const a = await net.start({ ip: '127.0.0.33', ...chains });
    const p = top.producer;
    for (let h = 1; h <= 3; h++) {
      p.create({
        start: BigInt(h) * 1000n,
        end: BigInt(h) * 1000n + 10n,
        owner: generateKeyPair().publicKey,
      });
      assert.equal((await a.publishBlock(top.genesis.chainId, p.seal(h).block.bytes)).result, 'accept');
    }
    const b = await net.start({ ip: '127.0.0.34', ...chains });
    addValidatorRoutes(api, b, net.registryOf(b));
    const base = `http://127.0.0.1:${(await api.start('127.0.0.1', 0)).port}`;
    const health = async (q = '') => {
      const r = await fetch(`${base}/v1/health${q}`);
      return { status: r.status, body: (await r.json()) as NodeHealth };
    };
    const alone = await health();
    assert.equal(alone.status, 503);
    assert.ok(
      alone.body.reasons.some((x) => x.includes('0 peers')),
      JSON.stringify(alone.body.reasons),
    );
    assert.equal((await health('?minPeers=0')).status, 200, 'a first node, told it needs no peers');
    assert.equal((await health('?maxLag=x')).status, 400);

    await b.dial(a.multiaddrs()[0]);
    await waitFor(async () => (await health('?maxLag=0')).status === 200, 'b healthy once caught up');
    const ok = (await health('?maxLag=0')).body;
    assert.deepEqual(ok.reasons, []);
    const c = ok.chains.find((x) => x.chainId === toHex(top.genesis.chainId))!;
    assert.deepEqual(
      { height: c.height, peerHead: c.peerHead, lag: c.lag },
      { height: 3, peerHead: 3, lag: 0 },
    );
  } finally {
    await api.stop();
    await net.close();
  }
});
