/**
 * A copier in the mempool (issue 25 item 4), played on anvil with automine off: a reporter seals its report
 * (commitReport), then sends it; the copier reads the pending report from the pool and sends the very same calldata
 * first, with a higher tip. The chain is slashed (or the claim removed) by whichever lands first, and only a sealed
 * sender is ever paid: the copier earns nothing. The node's own reports go sealed (EvmAnchor.sendSealed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from 'viem';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { waitFor } from '../helpers/net.js';
import { defer } from '../helpers/cleanup.js';
import { header, newAnchor, registerChain, reportCommitment } from './anchor-helpers.js';
import { poolTransactions, useAnvil } from './helpers.js';

const env = useAnvil();

const pending = () => poolTransactions(env);

test('a slash report copied from the mempool and sent first slashes, but pays the copier nothing', async (t) => {
  const anchor = await newAnchor(env);
  const expiry = Number(await env.pub.getBlockNumber()) + 1000;
  const r = await registerChain(anchor, { start: 0n, end: 1000n, expiry, committer: env.account(1).address });
  await anchor.send(1, 'commit', [r.id, toHex(header(r.genesis.chainId, 1, r.key, { salt: 1 }).bytes)]);
  const evidence = [r.id, toHex(header(r.genesis.chainId, 1, r.key, { salt: 2 }).bytes)] as const;
  const [reporter, copier] = [env.account(2).address, env.account(3).address];
  // The reporter seals its report; it is mined before the report is sent.
  await anchor.send(2, 'commitReport', [reportCommitment(reporter, 'slashCommitMismatch', evidence)]);
  const safety = (await anchor.read<readonly unknown[]>('chains', [r.id]))[11] as bigint;

  await env.test.setAutomine(false);
  defer(t, () => env.test.setAutomine(true));
  const honest = await env.wallet(2).writeContract({
    address: anchor.address,
    abi: ANCHOR_ABI,
    functionName: 'slashCommitMismatch',
    args: evidence,
    gas: 2_000_000n,
    maxPriorityFeePerGas: 10n ** 9n,
    maxFeePerGas: 100n * 10n ** 9n,
  });
  await waitFor(async () => (await pending()).length === 1, 'the report in the pool');
  const [seen] = await pending();
  const copy = await env.wallet(3).sendTransaction({
    to: anchor.address,
    data: seen.input,
    gas: 2_000_000n,
    maxPriorityFeePerGas: 50n * 10n ** 9n,
    maxFeePerGas: 200n * 10n ** 9n,
  });
  await env.test.mine({ blocks: 1 });
  await env.test.setAutomine(true);
  const [copied, reported] = await Promise.all(
    [copy, honest].map((hash) => env.pub.getTransactionReceipt({ hash })),
  );
  assert.equal(copied.status, 'success', 'the copy, with the higher tip, lands first and slashes');
  assert.equal(reported.status, 'reverted', 'the report finds the chain slashed');
  assert.equal((await anchor.read<readonly unknown[]>('chains', [r.id]))[3], true);
  assert.equal(await anchor.read<bigint>('owed', [copier]), 0n, 'the copier earns nothing');
  assert.ok(safety > 0n);
  await anchor.checkAccounts([r.genesis.chainId]);
});
