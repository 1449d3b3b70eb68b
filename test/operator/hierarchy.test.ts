import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBlock } from '../../src/chain/block.js';
import { decodeSignedHeader } from '../../src/chain/header.js';
import { beaconOf } from '../../src/chain/state.js';
import { decodeTxAnyVersion as decodeTx } from '../../src/chain/tx.js';
import { fromHex, taggedHash, toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, verify } from '../../src/crypto/keys.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { OperatorStore } from '../../src/operator/store.js';
import type { ChainInfo, ContractView } from '../../src/api/operator.js';
import {
  http,
  removeDir,
  startCliOperator,
  tempDir,
  validateStore,
  waitFor,
  type TestOperator,
} from './helpers.js';

/** The parent block (height, tx index) that committed the child's header at `childHeight` or above. */
function commitIn(
  parent: TestOperator,
  childId: string,
  childHeight: number,
): { height: number } | undefined {
  for (const p of parent.sink.published) {
    const b = decodeBlock(p.bytes);
    for (const t of b.txs) {
      const tx = decodeTx(t);
      if (
        tx.kind === 'childRoot' &&
        toHex(tx.child.header.chainId) === childId &&
        tx.child.header.height >= childHeight
      )
        return { height: b.signed.header.height };
    }
  }
  return undefined;
}

test('a nested chain anchors through its parent: anchor, parent and child operators over HTTP', async () => {
  const dirs = await Promise.all([tempDir('anchor-'), tempDir('parent-'), tempDir('child-')]);
  const started: TestOperator[] = [];
  try {
    const anchor = await startCliOperator({ dataDir: dirs[0], blockIntervalMs: 40 }, { anchor: true });
    started.push(anchor);
    const anchorInfo = (await http<ChainInfo>(anchor.url, 'GET', '/v1/chain')).json;
    assert.equal(anchorInfo.parentChain, null);
    assert.equal(anchorInfo.spaceEnd, ((1n << 64n) - 1n).toString());

    // Top-level chain: registers with the anchor, builds its genesis in the sold interval, opens it there.
    const parent = await startCliOperator({
      dataDir: dirs[1],
      parentApi: anchor.url,
      amount: '1099511627776',
      name: 'parent',
    });
    started.push(parent);
    const pg = parent.op.genesis.genesis;
    assert.equal(toHex(pg.parentChain), anchorInfo.chainId);
    assert.equal(pg.spaceEnd - pg.spaceStart, 1n << 40n);
    const parentId = toHex(parent.op.genesis.chainId);
    assert.equal((await stat(join(dirs[1], 'api-token'))).mode & 0o777, 0o600);
    assert.equal((await readFile(join(dirs[1], 'api-token'), 'utf8')).trim(), parent.op.token);
    await waitFor(async () => {
      const v = (await http<ContractView>(anchor.url, 'GET', `/v1/contracts/${pg.parentContract}`)).json;
      return v.committed?.child?.chain === parentId;
    }, 'the parent chain opened in the anchor');

    // The parent operator sells a contract to the child operator's key; the child opens its chain in it.
    const childKeyFile = join(dirs[2], 'child-key.json');
    const childKey = await writeKeyFile(childKeyFile);
    const cStart = pg.spaceStart + 4096n;
    const sale = await http(
      parent.url,
      'POST',
      '/v1/contracts',
      { start: cStart.toString(), end: (cStart + (1n << 20n)).toString(), owner: toHex(childKey.publicKey) },
      parent.op.token,
    );
    assert.equal(sale.status, 202);
    const child = await startCliOperator({
      dataDir: dirs[2],
      key: childKeyFile,
      parentApi: parent.url,
      parentContract: cStart.toString(),
      name: 'child',
    });
    started.push(child);
    const childId = toHex(child.op.genesis.chainId);
    assert.equal(toHex(child.op.genesis.genesis.parentChain), parentId);

    // A sale on the child makes a child block, whose header goes up to the parent, whose header goes up to the anchor.
    const alice = generateKeyPair();
    const sold = await http(
      child.url,
      'POST',
      '/v1/contracts',
      { start: cStart.toString(), end: (cStart + 100n).toString(), owner: toHex(alice.publicKey) },
      child.op.token,
    );
    assert.equal(sold.status, 202);
    await waitFor(() => child.op.service.head.height >= 1, 'a child block');
    const childHead = child.op.service.head;
    await waitFor(async () => {
      const v = (await http<ContractView>(parent.url, 'GET', `/v1/contracts/${cStart}`)).json;
      const link = v.committed?.child;
      return link && link.chain === childId && link.height >= 1 && link.root === toHex(childHead.stateRoot);
    }, "the child's root committed in the parent");
    const commit = await waitFor(() => commitIn(parent, childId, 1), 'the parent block carrying the commit');
    await waitFor(async () => {
      const v = (await http<ContractView>(anchor.url, 'GET', `/v1/contracts/${pg.parentContract}`)).json;
      return (v.committed?.child?.height ?? 0) >= commit.height;
    }, "the parent's block committed in the anchor");
    // "Anchored": the anchor holds a parent header at or above the block that holds the child's header.
    assert.ok(child.op.upstream!.status().acceptedHeight >= 1);
    assert.ok(parent.op.upstream!.status().acceptedHeight >= commit.height);
    const chainView = (await http<ChainInfo>(child.url, 'GET', '/v1/chain')).json;
    assert.equal(chainView.upstream!.url, parent.url);

    // The beacon chain: beacon_h = H(beacon, sig), sig by the anchor key over H(beacon-sig, beacon_{h-1}).
    await waitFor(() => anchor.op.service.head.height >= 2, 'two anchor blocks');
    let prev = fromHex(anchorInfo.chainId);
    assert.equal(
      (await http<{ beacon: string }>(anchor.url, 'GET', '/v1/anchor/beacon/0')).json.beacon,
      anchorInfo.chainId,
    );
    for (const h of [1, 2]) {
      const b = (
        await http<{ beacon: string; beaconSig: string; signedHeader: string }>(
          anchor.url,
          'GET',
          `/v1/anchor/beacon/${h}`,
        )
      ).json;
      const sh = decodeSignedHeader(fromHex(b.signedHeader));
      assert.ok(
        verify(anchor.op.genesis.genesis.operatorKey, taggedHash('beaconSig', prev), fromHex(b.beaconSig)),
      );
      assert.ok(verify(anchor.op.genesis.genesis.operatorKey, sh.hash, sh.signature));
      assert.equal(b.beacon, toHex(beaconOf(fromHex(b.beaconSig))));
      prev = fromHex(b.beacon);
    }
    assert.equal(toHex((await anchor.op.anchor!.beacon(2))!), toHex(prev));
    assert.equal((await http(anchor.url, 'GET', '/v1/anchor/beacon/99999999')).status, 404);
  } finally {
    for (const s of started.reverse()) await s.stop();
  }
  // Every block any of the three published passed the core validator, and each store is a valid chain.
  for (const s of started) {
    assert.equal(s.sink.rejected().length, 0);
    assert.ok(s.sink.published.length >= 1);
    const store = await OperatorStore.open(join(s.dir, 'operator-db'));
    try {
      const st = await validateStore(store, s.op.genesis);
      assert.equal(st.height, s.op.service.head.height);
    } finally {
      await store.close();
    }
  }
  for (const d of dirs) await removeDir(d);
});
