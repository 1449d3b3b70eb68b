/**
 * End to end on anvil with the real CLI: `sortition-node operator` registers a top-level chain on the EVM anchor
 * with its deposit and commits its blocks; `sortition-node run` follows it by gossip and the anchor read-only, and
 * reports the anchored height in /v1/status and the contract's view in GET /v1/anchor, proven against block hashes
 * two endpoints agree on (`--evm-rpc` twice, `--evm-quorum 2`, `--evm-checkpoint`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress } from 'viem';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex as hexOf } from '../../src/crypto/hash.js';
import { waitFor } from '../helpers/net.js';
import { newAnchor } from './anchor-helpers.js';
import { devKey, startCli, stopCli, useAnvil } from './helpers.js';
import { defer } from '../helpers/cleanup.js';
import { lyingProxy } from './lying-proxy.js';

const env = useAnvil();

async function get<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return (await r.json()) as T;
}

interface AnchorJson {
  kind: string;
  address: string;
  chains: {
    chainId: string;
    depositWei: string;
    committedHeight: number;
    slashed: boolean;
    settlement: null;
    verified: string;
  }[];
}
interface StatusJson {
  chains: { chainId: string; height: number; anchoredHeight: number }[];
  anchor?: {
    stale: boolean;
    verification: {
      commits: string;
      blockHashes: string;
      endpoints: number;
      quorum: number;
      checkpoint: { number: number; hash: string } | null;
    };
  };
}

test('operator and validator processes on anvil: registration, commits, anchored height, GET /v1/anchor', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-cli-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const evm = [
    '--evm-rpc',
    env.anvil.rpcUrl,
    '--anchor-address',
    anchor.address,
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
  ];
  const op = await startCli([
    'operator',
    '--data-dir',
    join(dir, 'op'),
    ...evm,
    '--evm-key',
    devKey(env, 7),
    '--amount',
    '1000000',
    '--deposit',
    '3000000',
    '--block-interval-ms',
    '50',
  ]);
  defer(t, () => stopCli(op));
  // The validator asks two endpoints (anvil, and a proxy in front of it) and counts a block hash both name, from a
  // checkpoint at block 0.
  const second = await lyingProxy(t, env.anvil.rpcUrl, '127.0.4.9');
  const zero = (await env.pub.getBlock({ blockNumber: 0n })).hash;
  const val = await startCli([
    'run',
    '--data-dir',
    join(dir, 'val'),
    ...evm,
    '--evm-rpc',
    second.url,
    '--evm-quorum',
    '2',
    '--evm-checkpoint',
    `0:${zero}`,
    '--track',
    op.api,
    '--bootstrap',
    op.p2p,
    '--evm-poll-ms',
    '50',
  ]);
  defer(t, () => stopCli(val));

  const info = await get<{ chainId: string }>(`${op.api}/v1/chain`);
  const token = (await readFile(join(dir, 'op', 'api-token'), 'utf8')).trim();
  const owner = hexOf(generateKeyPair().publicKey);
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${op.api}/v1/contracts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ start: String(i * 10), end: String(i * 10 + 10), owner }),
    });
    assert.ok(r.status < 300, `create: ${r.status} ${await r.text()}`);
  }
  await waitFor(async () => {
    const s = await get<StatusJson>(`${val.api}/v1/status`);
    const c = s.chains.find((x) => x.chainId === info.chainId);
    return !!c && c.height >= 1 && c.anchoredHeight === c.height && s.anchor?.stale === false;
  }, 'the validator anchors the chain at its head');
  for (const node of [op, val]) {
    const a = await get<AnchorJson>(`${node.api}/v1/anchor`);
    assert.equal(a.kind, 'evm');
    assert.equal(a.address, getAddress(anchor.address));
    const c = a.chains.find((x) => x.chainId === info.chainId);
    assert.ok(c, 'the chain is registered in the contract');
    assert.equal(c.depositWei, (3_000_000n * 10n ** 9n).toString());
    assert.ok(c.committedHeight >= 1);
    assert.equal(c.slashed, false);
    assert.equal(c.settlement, null);
    assert.equal(c.verified, 'proven');
  }
  const v = (await get<StatusJson>(`${val.api}/v1/status`)).anchor!.verification;
  assert.deepEqual(
    [v.commits, v.blockHashes, v.endpoints, v.quorum, v.checkpoint],
    ['proven', 'quorum', 2, 2, { number: 0, hash: zero }],
  );
  assert.ok((second.calls.get('eth_getBlockByNumber') ?? 0) > 0, 'the second endpoint was asked');
});
