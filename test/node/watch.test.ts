import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { sortition } from '../../src/gen/proto.js';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { addValidatorRoutes } from '../../src/node/api.js';
import { Alerter, type Alert } from '../../src/node/alerts.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex } from '../../src/crypto/hash.js';
import { txHash } from '../../src/chain/txroot.js';
import { pathToProto, type Path } from '../../src/tree/path.js';
import { genesisState } from '../../src/chain/state.js';
import type { ValidatorNode } from '../../src/node/validator.js';
import { act, anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { craft } from '../helpers/craft.js';
import { testNet, waitFor } from '../helpers/net.js';
import { decodePathBytes } from '../../src/node/watches.js';
import { pathRoot } from '../../src/tree/verify.js';
import { fromHex } from '../../src/crypto/hash.js';
import { watchApiSource } from '../../src/evm/settle.js';

const hexPath = (p: Path) => toHex(sortition.v1.Path.encode(pathToProto(p)).finish());

/** A local webhook on 127.0.0.1 that fails its first `failures` requests with 503. */
async function webhook(failures: number) {
  const got: Alert[] = [];
  let calls = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      calls++;
      if (calls <= failures) {
        res.writeHead(503).end();
        return;
      }
      got.push(JSON.parse(body) as Alert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    got,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function serve(node: ValidatorNode, registry: Registry) {
  const api = new HttpApi(createLogger('silent', 'api'));
  addValidatorRoutes(api, node, registry);
  const addr = await api.start('127.0.0.1', 0);
  const base = `http://127.0.0.1:${addr.port}`;
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(base + p, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  return { api, call, base };
}

test('watched contracts: kept current from blocks, checked, superseded with an alert, restored after a restart, followed through backfill', async () => {
  const net = await testNet();
  const hook = await webhook(2);
  const apis: HttpApi[] = [];
  try {
    const anchor = anchorChain();
    const top = childChain(anchor.genesis, 0n, SPACE, 'top');
    const id = toHex(top.genesis.chainId);
    const opts = {
      genesis: [anchor.genesis, top.genesis],
      track: [top.genesis.chainId],
      anchorId: anchor.genesis.chainId,
      alertUrl: hook.url,
    };
    let node = await net.start({ ip: '127.0.0.41', ...opts });
    const dataDir = net.dataDirOf(node);
    let { api, call } = await serve(node, net.registryOf(node));
    apis.push(api);
    const alice = generateKeyPair();
    const p = top.producer;
    const publish = async () =>
      assert.equal((await node.publishBlock(top.genesis.chainId, p.seal(1).block.bytes)).result, 'accept');
    p.create({ start: 1000n, end: 2000n, owner: alice.publicKey });
    p.create({ start: 5000n, end: 6000n, owner: alice.publicKey });
    await publish();

    // The operator's contract view is accepted as it comes ({chainId, proof: {path}}).
    const bought = hexPath(p.tree.memberPath(1000n));
    const other = hexPath(p.tree.memberPath(5000n));
    const w = await call('POST', '/v1/watch', { chainId: id, proof: { path: bought } });
    assert.equal(w.status, 201);
    const wid = w.body.id as string;
    assert.deepEqual([w.body.status, w.body.height, w.body.start], ['current', 1, '1000']);
    assert.equal((await call('POST', '/v1/watch', { chainId: id, path: bought })).status, 200);
    assert.equal((await call('POST', '/v1/watch', { chainId: id, path: 'zz' })).status, 400);
    assert.equal((await call('POST', '/v1/watch', { chainId: '00'.repeat(32), path: bought })).status, 404);

    // Other contracts come and go beside it, above and below it in the tree: its path follows the root.
    p.create({ start: 2500n, end: 2600n, owner: alice.publicKey });
    p.create({ start: 900n, end: 950n, owner: alice.publicKey });
    await publish();
    p.owner(act(top.genesis, p.tree.get(900n)!, alice, { kind: 'close' }), 900n);
    p.create({ start: 3000n, end: 3100n, owner: alice.publicKey });
    await publish();
    const one = await call('GET', `/v1/watch/${wid}`);
    assert.deepEqual([one.body.status, one.body.height, one.body.verified], ['current', 3, true]);
    assert.equal(one.body.path, hexPath(p.tree.memberPath(1000n)));

    // A proof from height 1 is outdated, not a mismatch: the contract is unchanged, and its current path comes back.
    const old = await call('POST', `/v1/chains/${id}/proofs/check`, { path: bought });
    assert.deepEqual(
      [old.body.current, old.body.status, old.body.code, old.body.provenAt, old.body.watch],
      [false, 'outdated', 'PROOF_OUTDATED', 1, wid],
    );
    assert.equal(old.body.path, hexPath(p.tree.memberPath(1000n)));
    // An unwatched contract's old proof is brought forward from the stored blocks the same way.
    const unwatched = await call('POST', `/v1/chains/${id}/proofs/check`, { path: other });
    assert.deepEqual([unwatched.body.status, unwatched.body.watch], ['outdated', null]);
    assert.equal(unwatched.body.path, hexPath(p.tree.memberPath(5000n)));

    // Restart: the watch comes back from the store, and blocks after it keep it current.
    await net.stop(node);
    await api.stop();
    node = await net.start({ ip: '127.0.0.41', dataDir, ...opts });
    ({ api, call } = await serve(node, net.registryOf(node)));
    apis.push(api);
    p.create({ start: 1500n + 2048n, end: 4000n, owner: alice.publicKey });
    await publish();
    const after = await call('GET', `/v1/watch/${wid}`);
    assert.deepEqual([after.body.status, after.body.height, after.body.verified], ['current', 4, true]);

    // The holder's contract is transferred away: superseded at that height by that transaction, and alerted.
    p.create({ start: 7000n, end: 7100n, owner: alice.publicKey });
    const given = p.tree.get(1000n)!;
    const transfer = act(top.genesis, given, alice, {
      kind: 'transfer',
      newOwner: generateKeyPair().publicKey,
      terms: new Uint8Array(0),
    });
    const txBytes = p.owner(transfer, 1000n);
    await publish();
    const gone = await call('GET', '/v1/watch');
    const rec = (gone.body as unknown as Record<string, unknown>[]).find((x) => x.id === wid)!;
    assert.deepEqual([rec.status, rec.height], ['superseded', 4]);
    // The end keeps the owner's signed transfer: the consent that defeats a claim of the old state on the anchor.
    const ownerAction = { action: toHex(transfer.bytes), signature: toHex(transfer.signature) };
    assert.deepEqual(rec.end, {
      height: 5,
      tx: toHex(txHash(txBytes)),
      txIndex: 1,
      op: 'transfer',
      ...ownerAction,
    });
    const consent = await call('GET', `/v1/chains/${id}/authorisations/${toHex(given.digest)}?after=4`);
    assert.deepEqual(consent.body, { digest: toHex(given.digest), ...ownerAction, height: 5 });
    // Sealed at height 5, so not after it; and a state nobody gave up has none.
    const later = await call('GET', `/v1/chains/${id}/authorisations/${toHex(given.digest)}?after=5`);
    assert.deepEqual([later.status, (later.body.error as { code: string }).code], [404, 'NOT_FOUND']);
    const kept = p.tree.get(5000n)!;
    const none = await call('GET', `/v1/chains/${id}/authorisations/${toHex(kept.digest)}`);
    assert.equal(none.status, 404);
    assert.equal((await call('GET', `/v1/chains/${id}/authorisations/zz`)).status, 400);
    const check = await call('POST', `/v1/chains/${id}/proofs/check`, { path: bought });
    assert.deepEqual(
      [check.body.status, check.body.code, (check.body.end as { height: number }).height],
      ['superseded', 'CONTRACT_SUPERSEDED', 5],
    );
    // The webhook failed twice (503) and got the alert on the third try.
    await waitFor(() => hook.got.length === 1, 'the webhook to receive the alert', 20_000);
    assert.equal(hook.calls(), 3);
    assert.deepEqual(
      [hook.got[0].kind, hook.got[0].watchId, hook.got[0].height, hook.got[0].op],
      ['superseded', wid, 5, 'transfer'],
    );
    const metrics = await net.registryOf(node).metrics();
    assert.match(metrics, /sortition_watch_alerts_total\{kind="superseded"\} 1/);
    assert.match(metrics, /sortition_alert_webhook_total\{result="delivered"\} 1/);

    // Evidence on the watched chain alerts too.
    const w2 = await call('POST', '/v1/watch', { chainId: id, path: hexPath(p.tree.memberPath(5000n)) });
    assert.deepEqual([w2.status, w2.body.status], [201, 'current']);
    await node.publishBlock(top.genesis.chainId, craft(top, genesisState(top.genesis), []));
    await waitFor(() => hook.got.some((a) => a.kind === 'evidence'), 'the evidence alert', 20_000);
    const ev = hook.got.find((a) => a.kind === 'evidence')!;
    assert.deepEqual([ev.chainId, ev.evidence?.kind], [id, 'equivocation']);

    // A second validator that starts late: it has block 1, watches a proof of that height, and then backfills the rest.
    const late = await net.start({ ip: '127.0.0.42', ...opts });
    const lateApi = await serve(late, net.registryOf(late));
    apis.push(lateApi.api);
    const [b1] = await node.storedBlocks(top.genesis.chainId, 1, 1);
    assert.equal((await late.ingest(top.genesis.chainId, b1, 'sync')).result, 'accept');
    const lw0 = await lateApi.call('POST', '/v1/watch', { chainId: id, path: other });
    assert.deepEqual([lw0.status, lw0.body.height], [201, 1]);
    await late.dial(node.multiaddrs()[0]);
    await waitFor(
      () => late.tracker.state(top.genesis.chainId)?.height === 5,
      'the late node to backfill to 5',
    );
    const lw = await lateApi.call('GET', `/v1/watch/${lw0.body.id as string}`);
    assert.deepEqual([lw.body.status, lw.body.height, lw.body.verified], ['current', 5, true]);
    assert.equal(lw.body.path, hexPath(p.tree.memberPath(5000n)));
    assert.ok((await net.registryOf(late).metrics()).includes('sortition_blocks_total'));

    assert.equal((await call('DELETE', `/v1/watch/${wid}`)).status, 200);
    assert.equal((await call('DELETE', `/v1/watch/${wid}`)).status, 404);
  } finally {
    for (const a of apis) await a.stop().catch(() => undefined);
    await net.close();
    await hook.close();
  }
});

test('a watch as it was at an earlier height: the path a lottery claim proves against a committed root', async () => {
  const net = await testNet();
  const apis: HttpApi[] = [];
  try {
    const anchor = anchorChain();
    const top = childChain(anchor.genesis, 0n, SPACE, 'top');
    const chain = top.genesis.chainId;
    const id = toHex(chain);
    const node = await net.start({
      ip: '127.0.0.43',
      genesis: [anchor.genesis, top.genesis],
      track: [chain],
      anchorId: anchor.genesis.chainId,
    });
    const { api, call, base } = await serve(node, net.registryOf(node));
    apis.push(api);
    const alice = generateKeyPair();
    const p = top.producer;
    const roots = new Map<number, string>();
    const publish = async () => {
      const { block } = p.seal(1);
      assert.equal((await node.publishBlock(chain, block.bytes)).result, 'accept');
      roots.set(block.signed.header.height, toHex(block.signed.header.stateRoot));
    };
    p.create({ start: 1000n, end: 2000n, owner: alice.publicKey });
    await publish();
    const w = await call('POST', '/v1/watch', { chainId: id, path: hexPath(p.tree.memberPath(1000n)) });
    const wid = w.body.id as string;
    // Other contracts change the root at every height; the watched contract stays the same.
    for (let h = 2; h <= 4; h++) {
      p.create({ start: BigInt(h) * 10_000n, end: BigInt(h) * 10_000n + 10n, owner: alice.publicKey });
      await publish();
    }
    type Rec = { id: string; status: string; height: number; path: string };
    const at = async (q: string): Promise<Rec> => {
      const r = await call('GET', `/v1/watch?chainId=${id}${q}`);
      assert.equal(r.status, 200);
      return (r.body as unknown as Rec[]).find((x) => x.id === wid)!;
    };
    const rootOf = (r: Rec) => toHex(pathRoot(decodePathBytes(fromHex(r.path, 'path'))).digest);
    for (let h = 1; h <= 4; h++) {
      const r = await at(`&height=${h}`);
      assert.deepEqual([r.status, r.height], ['current', h]);
      assert.equal(rootOf(r), roots.get(h), `the path at ${h} proves against the root of ${h}`);
    }
    assert.equal((await at('')).height, 4);
    assert.equal((await at('&height=9')).height, 4, 'a height not reached: the watch as it is');
    assert.equal((await call('GET', `/v1/watch?height=x`)).status, 400);

    // A claim from the watch proves against the root of the height asked, not the head's.
    const claimAt2 = await watchApiSource(base).level(chain, 1500n, 2);
    assert.equal(toHex(pathRoot(claimAt2).digest), roots.get(2));

    // Heights below the anchored one are forgotten (nothing can be committed there any more).
    node.markAnchored(chain, 3);
    p.create({ start: 90_000n, end: 90_010n, owner: alice.publicKey });
    await publish();
    assert.equal((await at('&height=2')).height, 5, 'below the anchored height: not kept');
    assert.equal(rootOf(await at('&height=3')), roots.get(3));

    // Transferred away at 6: as it was at 5 and 3 the contract was still the holder's, and is listed so.
    p.owner(
      act(top.genesis, p.tree.get(1000n)!, alice, {
        kind: 'transfer',
        newOwner: generateKeyPair().publicKey,
        terms: new Uint8Array(0),
      }),
      1000n,
    );
    await publish();
    assert.deepEqual([(await at('')).status, (await at('')).height], ['superseded', 5]);
    for (const h of [3, 5]) {
      const r = await at(`&height=${h}&status=current`);
      assert.deepEqual([r.status, r.height], ['current', h]);
      assert.equal(rootOf(r), roots.get(h));
    }
  } finally {
    for (const a of apis) await a.stop().catch(() => undefined);
    await net.close();
  }
});

test('alert webhook: the queue is bounded, the oldest alert is dropped and counted, a refused alert is not retried', async () => {
  const hook = await webhook(0);
  const registry = new Registry();
  // A webhook that is down: every attempt fails to connect, and alerts pile up behind the first.
  const down = new Alerter({
    url: 'http://127.0.0.1:1/down',
    log: createLogger('silent', 'alerts'),
    registry,
    maxQueue: 3,
    maxAttempts: 2,
    baseDelayMs: 1,
  });
  for (let i = 0; i < 10; i++) down.raise({ kind: 'closed', chainId: 'c', height: i });
  await waitFor(
    async () => /sortition_alert_webhook_total\{result="dropped"\} 6/.test(await registry.metrics()),
    'six dropped (the one being delivered is not)',
  );
  await waitFor(
    async () => /sortition_alert_webhook_total\{result="failed"\} 4/.test(await registry.metrics()),
    'the first and the three queued alerts to fail',
  );
  await down.stop();

  const refused = createServer((_req, res) => res.writeHead(400).end());
  await new Promise<void>((r) => refused.listen(0, '127.0.0.1', r));
  const reg2 = new Registry();
  const a = new Alerter({
    url: `http://127.0.0.1:${(refused.address() as AddressInfo).port}/`,
    log: createLogger('silent', 'alerts'),
    registry: reg2,
    baseDelayMs: 1,
  });
  a.raise({ kind: 'closed', chainId: 'c', height: 1 });
  await waitFor(
    async () => /sortition_alert_webhook_total\{result="failed"\} 1/.test(await reg2.metrics()),
    'the refused alert',
  );
  assert.doesNotMatch(await reg2.metrics(), /result="retried"/);
  await a.stop();
  await new Promise<void>((r) => refused.close(() => r()));
  await hook.close();
});
