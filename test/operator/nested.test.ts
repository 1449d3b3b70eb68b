/**
 * Issue 27, item 1: operators must not sell contracts that can never win. Real operators (prepareOperator +
 * startOperator, as the CLI builds them) on a devnet anchor, over HTTP:
 *
 * - a chain expires with its parent, whatever level it sits at: once the top-level chain expires (the EVM
 *   committer's `expire`, here called directly: the devnet anchor has no expiry of its own; test/evm/settle.test.ts
 *   has the same with a real expiry on anvil), its child and grandchild stop sealing and refuse requests with
 *   EXPIRED, and each reports the earliest expiry of its line (`effectiveExpiry`);
 * - an operator whose chain cannot be opened in its parent (the contract holds another chain) refuses to start
 *   from a fresh data directory, and with a stored genesis takes no request (NOT_ANCHORED) and says why;
 * - a validator following these operators' blocks flags both: the orphan, and the chains whose parent expired (at
 *   the devnet anchor's height), in its status, health, metrics and alerts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { makeGenesis } from '../../src/chain/genesis.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { act } from '../helpers/chains.js';
import { prepareOperator } from '../../src/app/operator.js';
import type { ChainInfo, ContractView } from '../../src/api/operator.js';
import type { ValidatorNode } from '../../src/node/validator.js';
import { testNet } from '../helpers/net.js';
import {
  http,
  MemorySink,
  quiet,
  removeDir,
  startCliOperator,
  tempDir,
  waitFor,
  type TestOperator,
} from './helpers.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const sell = (o: TestOperator, start: bigint, end: bigint, owner: Uint8Array) =>
  http<ErrorBody>(
    o.url,
    'POST',
    '/v1/contracts',
    { start: start.toString(), end: end.toString(), owner: toHex(owner) },
    o.op.token,
  );

const info = async (o: TestOperator) => (await http<ChainInfo>(o.url, 'GET', '/v1/chain')).json;

/** The anchor and a top-level chain registered with it (its whole space for sale). */
async function topLevel(dirs: string[], started: TestOperator[], expiry: number) {
  const anchor = await startCliOperator({ dataDir: dirs[0], blockIntervalMs: 40 }, { anchor: true });
  started.push(anchor);
  const top = await startCliOperator({
    dataDir: dirs[1],
    parentApi: anchor.url,
    amount: '1000000',
    name: 'top',
    expiry,
  });
  started.push(top);
  return { anchor, top };
}

test('a chain expires with its parent at every level: the child and grandchild stop sealing and refuse with EXPIRED', async () => {
  const dirs = await Promise.all(['anchor-', 'top-', 'child-', 'grandchild-'].map((p) => tempDir(p)));
  const started: TestOperator[] = [];
  try {
    const { top } = await topLevel(dirs, started, 1_000_000);
    const tg = top.op.genesis.genesis;
    const childKey = await writeKeyFile(join(dirs[2], 'key.json'));
    const cStart = tg.spaceStart + 1000n;
    assert.equal((await sell(top, cStart, cStart + 10_000n, childKey.publicKey)).status, 202);
    const child = await startCliOperator({
      dataDir: dirs[2],
      key: join(dirs[2], 'key.json'),
      parentApi: top.url,
      parentContract: cStart.toString(),
      name: 'child',
      parentPollMs: 50,
    });
    started.push(child);
    const gcKey = await writeKeyFile(join(dirs[3], 'key.json'));
    const gStart = cStart + 100n;
    assert.equal((await sell(child, gStart, gStart + 1000n, gcKey.publicKey)).status, 202);
    // The grandchild seals only on demand (sealNow): what it acknowledged before the expiry stays out of any block.
    const grandchild = await startCliOperator({
      dataDir: dirs[3],
      key: join(dirs[3], 'key.json'),
      parentApi: child.url,
      parentContract: gStart.toString(),
      name: 'grandchild',
      expiry: 900_000,
      parentPollMs: 50,
      blockIntervalMs: 600_000,
    });
    started.push(grandchild);

    // Each level bounds its expiry by its parent's: the top's down to the child, the grandchild's own below it.
    await waitFor(
      async () =>
        (await info(child)).effectiveExpiry === 1_000_000 &&
        (await info(grandchild)).effectiveExpiry === 900_000,
      "each chain's effective expiry",
    );
    assert.deepEqual(
      [(await info(top)).effectiveExpiry, (await info(child)).expiry, (await info(grandchild)).expiry],
      [1_000_000, 0, 900_000],
    );
    // The anchor's height travels down: the grandchild knows it through two parents.
    await waitFor(async () => ((await info(grandchild)).anchorHeight ?? 0) >= 1, "the anchor's height");
    const alice = generateKeyPair();
    assert.equal((await sell(grandchild, gStart, gStart + 10n, alice.publicKey)).status, 202);
    await grandchild.op.service.sealNow();
    assert.equal((await sell(grandchild, gStart + 10n, gStart + 20n, alice.publicKey)).status, 202);
    assert.equal((await sell(child, cStart, cStart + 10n, alice.publicKey)).status, 202);
    // The grandchild's block 1 reaches the child as a child-root transaction: the child's height is read once that
    // is sealed too, so no block of the child's is still to come from before the expiry.
    await waitFor(async () => {
      const v = (await http<ContractView>(child.url, 'GET', `/v1/contracts/${gStart}`)).json;
      return (
        !v.pending &&
        (v.contract?.child?.height ?? 0) >= 1 &&
        child.op.service.head.height >= 1 &&
        !child.op.service.pendingCount
      );
    }, "a child block, with the grandchild's first root");
    const [childHeight, gcHeight] = [child.op.service.head.height, grandchild.op.service.head.height];
    assert.equal(gcHeight, 1);

    // The top-level chain expires (what the EVM committer does at expiry - finality).
    top.op.service.expire('test: the anchor takes no more commits');
    for (const [o, what] of [
      [child, 'the child'],
      [grandchild, 'the grandchild'],
    ] as const) {
      await waitFor(async () => (await info(o)).expired, `${what} expired with its parent`);
      const i = await info(o);
      assert.match(i.expiredReason ?? '', /the parent chain [0-9a-f]{16} expired/);
      const r = await sell(o, cStart + 5000n, cStart + 5010n, alice.publicKey);
      assert.deepEqual([r.status, r.json.error.code], [409, 'EXPIRED'], `${what} refuses a sale`);
    }
    // The grandchild's reason names the whole line: its parent expired because the top did.
    assert.match(
      (await info(grandchild)).expiredReason ?? '',
      /expired: the parent chain [0-9a-f]{16} expired/,
    );
    // An owner action is refused alike, and nothing more is sealed: not the request acknowledged before either.
    const gsvc = grandchild.op.service;
    const view = (await http<ContractView>(grandchild.url, 'GET', `/v1/contracts/${gStart}`)).json;
    assert.equal(view.contract?.owner, toHex(alice.publicKey));
    await assert.rejects(
      gsvc.ownerAction({
        kind: 'owner',
        start: gStart,
        signed: act(grandchild.op.genesis, gsvc.currentContract(gStart)!, alice, {
          kind: 'transfer',
          newOwner: childKey.publicKey,
          terms: new Uint8Array(0),
        }),
        childGenesis: null,
      }),
      { code: 'EXPIRED' },
    );
    await assert.rejects(gsvc.sealNow(), { code: 'EXPIRED' });
    assert.equal(gsvc.pendingCount, 1, 'the acknowledged sale stays unsealed');
    assert.equal(child.op.service.head.height, childHeight, 'the child sealed nothing after the expiry');
    // A clean stop seals what is pending, except on an expired chain.
    for (const s of started.reverse()) await s.stop();
    started.length = 0;
    assert.deepEqual([gsvc.head.height, child.op.service.head.height], [gcHeight, childHeight]);
  } finally {
    for (const s of started.reverse()) await s.stop();
    for (const d of dirs) await removeDir(d);
  }
});

test('an operator whose parent contract holds another chain refuses to start, or with a stored genesis sells nothing (NOT_ANCHORED)', async () => {
  const dirs = await Promise.all(
    ['anchor-', 'top-', 'child-', 'orphan-', 'twin-', 'stored-'].map((p) => tempDir(p)),
  );
  const started: TestOperator[] = [];
  try {
    const { top } = await topLevel(dirs, started, 0);
    const tg = top.op.genesis.genesis;
    const keyFile = join(dirs[2], 'key.json');
    const childKey = await writeKeyFile(keyFile);
    const cStart = tg.spaceStart + 1000n;
    assert.equal((await sell(top, cStart, cStart + 10_000n, childKey.publicKey)).status, 202);
    const child = await startCliOperator({
      dataDir: dirs[2],
      key: keyFile,
      parentApi: top.url,
      parentContract: cStart.toString(),
      name: 'child',
    });
    started.push(child);
    const childId = toHex(child.op.genesis.chainId);
    assert.ok((await info(child)).anchored);

    // The same key and contract from another data directory, for another chain: refused before anything is stored.
    const same = { key: keyFile, parentApi: top.url, parentContract: cStart.toString() };
    await assert.rejects(prepareOperator({ ...same, dataDir: dirs[3], name: 'orphan' }, { log: quiet }), {
      name: 'ConfigError',
      message: new RegExp(
        `^the parent contract at ${cStart} already holds chain ${childId}, not this chain [0-9a-f]{64}: .*could never be anchored`,
      ),
    });
    // The very same genesis from another data directory: a second copy would equivocate.
    await assert.rejects(prepareOperator({ ...same, dataDir: dirs[4], name: 'child' }, { log: quiet }), {
      name: 'ConfigError',
      message: new RegExp(
        `already holds chain ${childId}, this very chain, .*another data directory runs it`,
      ),
    });

    // A genesis given to the operator (stored from then on) whose contract holds another chain: it starts, but
    // takes no request, and says why.
    const orphan = makeGenesis({
      ...child.op.genesis.genesis,
      name: 'orphan',
    });
    const genesisFile = join(dirs[5], 'genesis.hex');
    await writeFile(genesisFile, toHex(orphan.bytes));
    const stored = await startCliOperator({ ...same, dataDir: dirs[5], chainGenesis: genesisFile });
    started.push(stored);
    assert.equal(await stored.op.opened, false);
    const alice = generateKeyPair();
    const r = await sell(stored, cStart, cStart + 10n, alice.publicKey);
    assert.deepEqual([r.status, r.json.error.code], [503, 'NOT_ANCHORED']);
    assert.match(r.json.error.message, new RegExp(`already holds chain ${childId}`));
    const i = await info(stored);
    assert.deepEqual([i.anchored, i.chainId], [false, toHex(orphan.chainId)]);
    assert.match(i.notAnchoredReason ?? '', /could never be anchored/);
    await assert.rejects(stored.op.service.sealNow(), { code: 'NOT_ANCHORED' });
    assert.equal(stored.op.service.head.height, 0, 'the orphan sealed nothing');
    // The real child is untouched and sells.
    assert.equal((await sell(child, cStart, cStart + 10n, alice.publicKey)).status, 202);
  } finally {
    for (const s of started.reverse()) await s.stop();
    for (const d of dirs) await removeDir(d);
  }
});

test('a nested operator takes no request until its parent holds the chain; a restart does not wait for the parent', async () => {
  const dirs = await Promise.all(['anchor-', 'top-', 'child-'].map((p) => tempDir(p)));
  const started: TestOperator[] = [];
  try {
    const { top } = await topLevel(dirs, started, 0);
    const tg = top.op.genesis.genesis;
    const keyFile = join(dirs[2], 'key.json');
    const childKey = await writeKeyFile(keyFile);
    const cStart = tg.spaceStart + 1000n;
    assert.equal((await sell(top, cStart, cStart + 10_000n, childKey.publicKey)).status, 202);
    const opts = { dataDir: dirs[2], key: keyFile, parentApi: top.url, parentContract: cStart.toString() };
    // The top refuses the open-child for a while (its service is held): the child waits and refuses sales.
    top.op.service.holdUntilAnchored('test: held');
    let child = await startCliOperator(opts, { early: true });
    started.push(child);
    const alice = generateKeyPair();
    const r = await sell(child, cStart, cStart + 10n, alice.publicKey);
    assert.deepEqual([r.status, r.json.error.code], [503, 'NOT_ANCHORED']);
    assert.equal((await info(child)).anchored, false);
    top.op.service.markAnchored();
    assert.equal(await child.op.opened, true);
    assert.equal((await sell(child, cStart, cStart + 10n, alice.publicKey)).status, 202);
    await child.stop();
    started.pop();
    // Restarted with the parent refusing everything: the store remembers the chain is held (a contract holds its
    // chain for good), so it sells at once.
    top.op.service.holdUntilAnchored('test: held again');
    child = await startCliOperator(opts, { early: true });
    started.push(child);
    assert.ok((await info(child)).anchored);
    assert.equal((await sell(child, cStart + 10n, cStart + 20n, alice.publicKey)).status, 202);
    top.op.service.markAnchored();
  } finally {
    for (const s of started.reverse()) await s.stop();
    for (const d of dirs) await removeDir(d);
  }
});

/** The operators' sink, which also hands every block, from the first, to a validator (as the node process does). */
class Relay extends MemorySink {
  private node: ValidatorNode | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  override async publishBlock(chainId: Uint8Array, bytes: Uint8Array, opts: { raw?: boolean } = {}) {
    const v = await super.publishBlock(chainId, bytes, opts);
    if (this.node) this.forward(chainId, bytes);
    return v;
  }

  /** Replays what was published so far, in order, then forwards the rest. */
  connect(node: ValidatorNode): void {
    for (const p of this.published) if (!p.raw) this.forward(fromHex(p.chainId), p.bytes);
    this.node = node;
  }

  private forward(chainId: Uint8Array, bytes: Uint8Array): void {
    const node = this.node;
    this.chain = this.chain.then(() =>
      (node ?? this.node)!.publishBlock(chainId, bytes).catch(() => undefined),
    );
  }
}

test('a validator flags an orphan chain and the chains whose parent expired: status, health, metrics, alerts', async () => {
  const dirs = await Promise.all(['anchor-', 'top-', 'child-', 'orphan-'].map((p) => tempDir(p)));
  const started: TestOperator[] = [];
  const relay = new Relay();
  const net = await testNet();
  try {
    const anchor = await startCliOperator(
      { dataDir: dirs[0], blockIntervalMs: 150 },
      { anchor: true, sink: relay },
    );
    started.push(anchor);
    // The top-level chain expires 60 anchor blocks from now (about 9 s): its operator reads the anchor's height.
    const expiry = anchor.op.service.head.height + 60;
    const top = await startCliOperator(
      { dataDir: dirs[1], parentApi: anchor.url, amount: '1000000', name: 'top', expiry, parentPollMs: 50 },
      { sink: relay },
    );
    started.push(top);
    const tg = top.op.genesis.genesis;
    const keyFile = join(dirs[2], 'key.json');
    const childKey = await writeKeyFile(keyFile);
    const cStart = tg.spaceStart + 1000n;
    assert.equal((await sell(top, cStart, cStart + 10_000n, childKey.publicKey)).status, 202);
    const same = { key: keyFile, parentApi: top.url, parentContract: cStart.toString(), parentPollMs: 50 };
    const child = await startCliOperator({ ...same, dataDir: dirs[2], name: 'child' }, { sink: relay });
    started.push(child);
    const orphan = makeGenesis({ ...child.op.genesis.genesis, name: 'orphan' });
    const genesisFile = join(dirs[3], 'genesis.hex');
    await writeFile(genesisFile, toHex(orphan.bytes));
    const stray = await startCliOperator(
      { ...same, dataDir: dirs[3], chainGenesis: genesisFile },
      { sink: relay },
    );
    started.push(stray);
    assert.equal(await stray.op.opened, false);
    const alice = generateKeyPair();
    assert.equal((await sell(child, cStart, cStart + 10n, alice.publicKey)).status, 202);

    const [childId, orphanId] = [toHex(child.op.genesis.chainId), toHex(orphan.chainId)];
    const node = await net.start({
      ip: '127.0.0.61',
      genesis: [anchor.op.genesis, top.op.genesis, child.op.genesis, orphan],
      track: [child.op.genesis.chainId, orphan.chainId],
      anchorId: anchor.op.genesis.chainId,
    });
    relay.connect(node);
    const registry = net.registryOf(node);
    const status = (id: string) => node.chainStatus().find((c) => c.chainId === id);
    const metric = async (re: RegExp) => re.test(await registry.metrics());

    // The orphan: the top's contract holds the child, not it.
    await waitFor(() => status(orphanId)?.orphanOf === childId, 'the orphan flagged');
    assert.deepEqual([status(childId)?.held, status(childId)?.orphanOf], [true, null]);
    assert.equal(status(orphanId)?.held, false);
    assert.ok(
      node
        .health({ minPeers: 0, maxLag: 1_000_000 })
        .reasons.some((r) => r.includes(`chain ${orphanId.slice(0, 16)} is an orphan`)),
    );
    await waitFor(
      () => metric(new RegExp(`sortition_chain_orphan\\{chain="${orphanId.slice(0, 16)}"\\} 1`)),
      'the orphan gauge',
    );
    await waitFor(() => metric(/sortition_watch_alerts_total\{kind="orphan"\} 1/), 'one orphan alert');
    assert.equal(status(childId)?.parentExpired, false);

    // The anchor passes the top's expiry: the top and the child stop (the child refuses with EXPIRED), and the
    // validator flags the child and the orphan, whose parent is the top.
    await waitFor(
      () => status(childId)?.parentExpired,
      "the child flagged: its parent's expiry is past",
      30_000,
    );
    assert.equal(status(childId)?.effectiveExpiry, expiry);
    await waitFor(() => top.op.service.expired && child.op.service.expired, 'the operators stopped', 30_000);
    const r = await sell(child, cStart + 10n, cStart + 20n, alice.publicKey);
    assert.deepEqual([r.status, r.json.error.code], [409, 'EXPIRED']);
    await waitFor(
      () => metric(/sortition_watch_alerts_total\{kind="parent-expired"\} 2/),
      'parent-expired alerts',
    );
    assert.ok(
      await metric(new RegExp(`sortition_chain_parent_expired\\{chain="${childId.slice(0, 16)}"\\} 1`)),
    );
    // The child stopped with its parent: health does not say it sealed past the expiry.
    assert.ok(
      !node
        .health({ minPeers: 0, maxLag: 1_000_000 })
        .reasons.some((x) => x.includes('after its parent expired')),
    );
  } finally {
    for (const s of started.reverse()) await s.stop();
    await net.close();
    for (const d of dirs) await removeDir(d);
  }
});
