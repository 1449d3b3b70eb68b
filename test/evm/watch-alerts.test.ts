/**
 * A validator's alerts on the EVM anchor's commits, end to end on anvil with the real CLI processes (an operator and
 * a validator over TCP loopback, the validator watching a holder's contract, alerts POSTed to a local webhook):
 *
 * - the committer commits a header other than the gossiped one at a height the validator saw (commit-mismatch), and
 *   one at a height the validator never got on gossip (commit-unseen);
 * - a validator with an EVM key, cut off from the operator's blocks, files data requests for its watched contract at
 *   each unseen committed height: the honest operator answers with the contract in place (no alert); a committed
 *   root with the contract erased (issue 24's attack), answered with the gap, raises watch-removed; a request nobody
 *   answers is slashed after its deadline, the validator credited its bond and the reporter's share;
 * - a validator merely behind, whose head keeps moving towards a commit, raises no commit-unseen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type Hex } from 'viem';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { fromHex, toHex as hexOf } from '../../src/crypto/hash.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import { encodeLookupPath } from '../../src/sortition/lottery.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { Alert } from '../../src/node/alerts.js';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { defer } from '../helpers/cleanup.js';
import { ChainProducer } from '../../src/chain/producer.js';
import type { AnchorAlert } from '../../src/evm/alerts.js';
import { AnchorWatcher } from '../../src/evm/watcher.js';
import { testNet, waitFor } from '../helpers/net.js';
import { header, newAnchor, registerChain, type Anchor } from './anchor-helpers.js';
import { devKey, startCli, stopCli, useAnvil, type CliProc } from './helpers.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'watch-alerts');
/** The anchor's challenge window: the blocks an operator has to answer a data request. */
const WINDOW = 10n;
/** The validator's grace for a commit it has not seen (ms). */
const GRACE_MS = 1500;
const OPERATOR_EVM = 7;
const VALIDATOR_EVM = 6;

/** A local webhook on 127.0.0.1 that keeps what it is sent. */
async function webhook(t: { after(f: () => Promise<void>): void }) {
  const got: Alert[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push(JSON.parse(body) as Alert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(t, () => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function get<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return (await r.json()) as T;
}

interface Topology {
  readonly anchor: Anchor;
  readonly evm: EvmAnchor;
  readonly op: CliProc;
  readonly val: CliProc;
  readonly chainId: Uint8Array;
  readonly opKey: KeyPair;
  readonly token: string;
  readonly holder: KeyPair;
}

/**
 * An operator (chain [0, 1000), its key in a file the test reads, EVM account 7 its committer) with the holder's
 * contract [0, 100) in block 1, and a validator tracking the chain and watching that contract.
 */
async function topology(
  t: { after(f: () => Promise<void>): void },
  o: { operator: string[]; validator: string[] },
): Promise<Topology> {
  const anchor = await newAnchor(env, WINDOW);
  const dir = await mkdtemp(join(tmpdir(), 'evm-watch-alerts-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const opKey = generateKeyPair();
  await writeKeyFile(join(dir, 'operator.json'), opKey);
  const evmArgs = ['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', anchor.address];
  const op = await startCli([
    'operator',
    ...['--data-dir', join(dir, 'op'), '--key', join(dir, 'operator.json')],
    ...evmArgs,
    ...['--listen', '/ip4/127.0.0.1/tcp/0', '--evm-key', devKey(env, OPERATOR_EVM)],
    ...['--amount', '1000', '--deposit', '4000000', '--block-interval-ms', '50'],
    ...['--expiry', String(Number(await env.pub.getBlockNumber()) + 1000)],
    ...o.operator,
  ]);
  defer(t, () => stopCli(op));
  await waitFor(async () => (await fetch(`${op.api}/v1/chain`)).status === 200, 'the operator API');
  const chainId = fromHex((await get<{ chainId: string }>(`${op.api}/v1/chain`)).chainId, 'chainId');
  const token = (await readFile(join(dir, 'op', 'api-token'), 'utf8')).trim();
  const holder = generateKeyPair();
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    journal: fileJournal(join(dir, 'reader')),
    log,
  });
  await sell(op.api, token, 0n, 100n, holder);
  const val = await startCli([
    'run',
    ...['--data-dir', join(dir, 'val'), ...evmArgs, '--listen', '/ip4/127.0.0.1/tcp/0'],
    ...['--track', op.api, '--bootstrap', op.p2p, '--watch', `${op.api}/v1/contracts/0`],
    ...['--evm-poll-ms', '50', '--unseen-grace-ms', String(GRACE_MS)],
    ...o.validator,
  ]);
  defer(t, () => stopCli(val));
  await waitFor(async () => {
    const ws = await get<{ status: string; height: number }[]>(`${val.api}/v1/watch`);
    return ws.length === 1 && ws[0].status === 'current' && ws[0].height === 1;
  }, "the validator's watch is current at height 1");
  return { anchor, evm, op, val, chainId, opKey, token, holder };
}

/** The operator at `api` sells [start, end) and seals it in a block. */
async function sell(api: string, token: string, start: bigint, end: bigint, owner: KeyPair): Promise<void> {
  const r = await fetch(`${api}/v1/contracts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ start: start.toString(), end: end.toString(), owner: hexOf(owner.publicKey) }),
  });
  assert.ok(r.status < 300, `create: ${r.status} ${await r.text()}`);
  await waitFor(
    async () => (await get<{ pending: boolean }>(`${api}/v1/contracts/${start}`)).pending === false,
    'the sale sealed',
  );
}

/** The committer (the operator's EVM account) commits a header the test made. */
async function commit(top: Topology, height: number, opts: Parameters<typeof header>[3] = {}): Promise<Hex> {
  const sh = header(top.chainId, height, top.opKey, opts);
  await top.anchor.send(OPERATOR_EVM, 'commit', [toHex(top.chainId), toHex(sh.bytes)]);
  return toHex(sh.hash);
}

async function metric(top: Topology, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${top.val.api}/metrics`)).text();
  const m = new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The data request the validator filed at committed `height`, once it is on chain. */
async function requestAt(top: Topology, height: number): Promise<Hex> {
  let id: Hex | undefined;
  await waitFor(async () => {
    const events = await env.pub.getContractEvents({
      address: top.anchor.address,
      abi: ANCHOR_ABI,
      eventName: 'DataRequested',
      args: { chainId: toHex(top.chainId) },
      fromBlock: 0n,
    });
    id = events.find((e) => Number(e.args.height) === height)?.args.requestId;
    return id !== undefined;
  }, `a data request at height ${height}`);
  return id!;
}

test('a commit naming another header at a seen height, or a height never gossiped, is alerted and counted', async (t) => {
  const hook = await webhook(t);
  // The operator never commits: the test commits with its committer key instead.
  const top = await topology(t, {
    operator: ['--commit-every', '1000'],
    validator: ['--alert-url', hook.url],
  });
  await sell(top.op.api, top.token, 500n, 600n, generateKeyPair());
  await waitFor(
    async () =>
      (await get<{ chains: { height: number }[] }>(`${top.val.api}/v1/status`)).chains.some(
        (c) => c.height === 2,
      ),
    'the validator at height 2',
  );
  await stopCli(top.op);
  const watch = `${hexOf(top.chainId)}-0`;

  const other = await commit(top, 2, { salt: 9 });
  await waitFor(() => hook.got.some((a) => a.kind === 'commit-mismatch'), 'the commit-mismatch alert');
  const m = hook.got.find((a) => a.kind === 'commit-mismatch')!;
  assert.equal(m.chainId, hexOf(top.chainId));
  assert.equal(m.height, 2);
  assert.equal(m.committed, other.slice(2));
  assert.ok(m.seen && m.seen !== m.committed, 'the header the validator accepted at 2');
  assert.deepEqual(m.watches, [watch]);

  const unseen = await commit(top, 5);
  await waitFor(() => hook.got.some((a) => a.kind === 'commit-unseen'), 'the commit-unseen alert');
  const u = hook.got.find((a) => a.kind === 'commit-unseen')!;
  assert.equal(u.height, 5);
  assert.equal(u.seenHeight, 2);
  assert.equal(u.committed, unseen.slice(2));
  assert.deepEqual(u.watches, [watch]);
  assert.equal(await metric(top, 'sortition_watch_alerts_total', 'kind="commit-mismatch"'), 1);
  assert.equal(await metric(top, 'sortition_watch_alerts_total', 'kind="commit-unseen"'), 1);
  // Without an EVM key, nothing is filed.
  assert.deepEqual((await get<{ dataRequests: unknown[] }>(`${top.val.api}/v1/anchor`)).dataRequests, []);
});

test("a validator's data requests for its watch: answered intact, answered with the contract erased, withheld and slashed", async (t) => {
  const hook = await webhook(t);
  const top = await topology(t, {
    operator: [],
    validator: ['--alert-url', hook.url, '--evm-key', devKey(env, VALIDATOR_EVM), '--devnet'],
  });
  const { anchor, evm, chainId } = top;
  const me = env.account(VALIDATOR_EVM).address;
  const bond = await evm.claimBond();
  const alerts = (kind: string) => hook.got.filter((a) => a.kind === kind && a.height >= 2);
  await waitFor(async () => (await evm.chain(chainId)).height === 1, 'block 1 committed');

  // (i) The validator is cut off from the operator's blocks; the operator seals and commits block 2 and answers
  // the request on its own (its DataResponder): the watched contract stands, no alert.
  const cut = await fetch(`${top.val.api}/v1/devnet/partition`, {
    method: 'POST',
    body: JSON.stringify({ ms: 120_000 }),
  });
  assert.equal(cut.status, 200);
  await sell(top.op.api, top.token, 500n, 600n, generateKeyPair());
  await waitFor(async () => (await evm.chain(chainId)).height === 2, 'block 2 committed');
  const first = await requestAt(top, 2);
  await waitFor(() => alerts('commit-unseen').length === 1, 'commit-unseen for height 2');
  await waitFor(
    async () => (await metric(top, 'sortition_evm_data_requests_total', 'event="answered"')) === 1,
    "the operator's answer judged",
  );
  assert.equal((await evm.dataRequest(first))!.requester, me);
  assert.equal(await evm.owed(env.account(OPERATOR_EVM).address), bond, 'the answerer is paid the bond');
  assert.equal(alerts('watch-removed').length, 0, 'the contract stands');
  await stopCli(top.op);

  // (ii) The committer commits a root with the holder's contract erased (issue 24); whoever answers can only prove
  // the gap there: watch-removed.
  const erased = ProbabilityTree.fromLeaves([
    makeLeaf({
      start: 500n,
      end: 600n,
      owner: generateKeyPair().publicKey,
      nonce: 0,
      terms: new Uint8Array(0),
    }),
  ]);
  const s = erased.summary();
  // A watch is asked again only a challenge window after its last request (an operator withholding its blocks but
  // answering would otherwise collect a bond per commit).
  await env.test.mine({ blocks: Number(WINDOW) });
  const at3 = await commit(top, 3, { root: s.digest, min: s.min, max: s.max });
  const second = await requestAt(top, 3);
  await anchor.send(3, 'answerData', [second, toHex(encodeLookupPath(erased.lookupPath(0n)))]);
  await waitFor(() => alerts('watch-removed').length === 1, 'the watch-removed alert');
  const removed = alerts('watch-removed')[0];
  assert.equal(removed.height, 3);
  assert.equal(removed.committed, at3.slice(2));
  assert.equal(removed.watchId, `${hexOf(chainId)}-0`);
  assert.equal(removed.request, second);
  assert.deepEqual(removed.found, { kind: 'gap', start: '0', end: '500' });

  // (iii) Another commit at once: the watch was asked within the window, so nothing is filed (the operator cannot
  // make the validator pay a bond per commit); a window later it is asked, nobody answers, and after the deadline
  // the validator slashes the operator.
  await commit(top, 4, { root: s.digest, min: s.min, max: s.max, salt: 4 });
  const committedAt = Date.now();
  await waitFor(async () => {
    const w = (await get<{ watcher: { lastOkMs: number | null } }>(`${top.val.api}/v1/anchor`)).watcher;
    return (w.lastOkMs ?? 0) > committedAt + 3 * GRACE_MS;
  }, 'the validator polled the anchor well past the grace');
  assert.equal(await metric(top, 'sortition_evm_data_requests_total', 'event="filed"'), 2, 'none filed');
  await env.test.mine({ blocks: Number(WINDOW) });
  const third = await requestAt(top, 4);
  const safety = (await evm.chain(chainId)).safetyWei;
  const owedBefore = await evm.owed(me);
  const { deadline } = (await evm.dataRequest(third))!;
  await env.test.mine({ blocks: Number(deadline - (await env.pub.getBlockNumber())) + 1 });
  await waitFor(async () => (await evm.chain(chainId)).slashed, 'the operator slashed');
  const [slash] = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'Slashed',
    args: { chainId: toHex(chainId) },
    fromBlock: 0n,
  });
  assert.equal(slash.args.kind, 4, 'withheld data');
  assert.equal(slash.args.reporter, me);
  // The requester's bond back and the reporter's share (newAnchor: 10%) of the safety share; the rest burnt.
  assert.equal(await evm.owed(me), owedBefore + bond + safety / 10n);
  assert.equal(slash.args.burnt, safety - safety / 10n);
  await anchor.checkAccounts([chainId]);
  await waitFor(() => alerts('data-withheld').length === 1, 'the data-withheld alert');
  assert.equal(alerts('data-withheld')[0].request, third);

  // One request per watch per committed height, each counted; one commit-unseen for the whole stretch.
  const requested = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'DataRequested',
    fromBlock: 0n,
  });
  assert.deepEqual(
    requested.map((e) => [Number(e.args.height), e.args.point]),
    [
      [2, 0n],
      [3, 0n],
      [4, 0n],
    ],
  );
  assert.equal(await metric(top, 'sortition_evm_data_requests_total', 'event="filed"'), 3);
  assert.equal(await metric(top, 'sortition_evm_data_requests_total', 'event="answered"'), 2);
  assert.equal(await metric(top, 'sortition_evm_data_requests_total', 'event="slashed"'), 1);
  assert.equal(await metric(top, 'sortition_watch_alerts_total', 'kind="watch-removed"'), 1);
  assert.equal(await metric(top, 'sortition_watch_alerts_total', 'kind="data-withheld"'), 1);
  assert.equal(alerts('commit-unseen').length, 1);
  const listed = (await get<{ dataRequests: { id: Hex; state: string }[] }>(`${top.val.api}/v1/anchor`))
    .dataRequests;
  assert.deepEqual(
    listed.map((r) => [r.id, r.state]),
    [
      [first, 'answered'],
      [second, 'answered'],
      [third, 'slashed'],
    ],
  );
});

test('a validator behind but catching up raises no commit-unseen; one whose head stalls below a commit does', async (t) => {
  const anchor = await newAnchor(env);
  const r = await registerChain(anchor, {
    start: 0n,
    end: 1000n,
    expiry: 1_000_000,
    committer: env.account(5).address,
    from: 5,
  });
  const net = await testNet();
  defer(t, () => net.close());
  const node = await net.start({
    ip: '127.0.0.1',
    genesis: [r.genesis],
    track: [r.genesis.chainId],
    anchorId: anchor.id,
    externalAnchor: true,
  });
  await waitFor(() => node.tracker.isTracked(r.genesis.chainId), 'chain tracked');
  const raised: AnchorAlert[] = [];
  const watcher = new AnchorWatcher({
    anchor: await EvmAnchor.open({ rpcUrl: env.anvil.rpcUrl, address: anchor.address, log }),
    node,
    log,
    pollMs: 20,
    alerts: { raise: (a) => raised.push(a) },
    watches: node.watches,
    unseenGraceMs: 2000,
  });
  defer(t, () => watcher.stop());
  watcher.start();
  const producer = new ChainProducer(r.genesis, r.key.secretKey);
  const blocks = Array.from({ length: 9 }, (_, i) => {
    producer.create({
      start: BigInt(i) * 10n,
      end: BigInt(i) * 10n + 10n,
      owner: generateKeyPair().publicKey,
    });
    return producer.seal(1000 + i).block;
  });
  const ingest = async (h: number) =>
    assert.equal((await node.ingest(r.genesis.chainId, blocks[h - 1].bytes, 'gossip')).result, 'accept');
  const commitBlock = (h: number) => anchor.send(5, 'commit', [r.id, toHex(blocks[h - 1].signed.bytes)]);
  const anchored = () => node.tracker.view(r.genesis.chainId)!.anchoredHeight;

  // Height 6 is committed while the node holds 1; its blocks come in one by one, each well within the grace,
  // though the whole catch-up takes longer than it.
  await ingest(1);
  const { blockNumber } = await commitBlock(6);
  await waitFor(() => watcher.status().scannedTo >= Number(blockNumber), 'the commit read');
  for (let h = 2; h <= 6; h++) {
    await new Promise((res) => setTimeout(res, 500));
    await ingest(h);
  }
  await waitFor(() => anchored() === 6, 'anchored at 6');
  assert.equal(raised.length, 0, 'catching up is no alert');

  // Height 9 is committed; the node's head stays at 6.
  await commitBlock(9);
  await waitFor(() => raised.some((a) => a.kind === 'commit-unseen'), 'commit-unseen');
  const [u] = raised;
  assert.equal(u.height, 9);
  assert.equal(u.seenHeight, 6);
  assert.equal(u.committed, hexOf(blocks[8].signed.hash));
});
