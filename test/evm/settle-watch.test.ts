/**
 * Settlement without the operator, end to end on anvil with the real CLI processes: `sortition-node operator`
 * registers a chain with an expiry and commits its blocks; `sortition-node run --watch` keeps the holder's
 * membership path current. After expiry, with the operator gone, the holder claims from the validator's watch
 * (`settle claim --from-watch`), and a validator configured with `--settle-key`/`--settle-payout` settles a chain
 * past expiry with no manual command, as an operator with them does from its own tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { decodeGenesis } from '../../src/chain/genesis.js';
import { leafFromBytes } from '../../src/tree/contract.js';
import { fromHex, toHex as hexOf } from '../../src/crypto/hash.js';
import { settleCommand } from '../../src/cli/settle.js';
import { SortitionAnchor } from '../../src/gen/contracts.js';
import { act } from '../helpers/chains.js';
import { waitFor } from '../helpers/net.js';
import { devKey, stopCli, useAnvil } from './helpers.js';
import { get, mineTo, topology, type Topology } from './watch-topology.js';

const env = useAnvil();

test("a holder claims from a validator's watch, without the operator, and is paid out", async (t) => {
  const top = await topology(env, t);
  const { evm, chainId } = top;
  // The operator goes away: the proof comes from the validator alone.
  await stopCli(top.op);
  // Gone, it never reveals its beacon seed: a challenge window past the beacon block the draw goes ahead without
  // it, and the operator is slashed for withholding it (the holder's prize is untouched).
  const window = Number(await evm.challengeWindow());
  const beaconBlock = top.expiry + Number(await evm.finality());
  await mineTo(env, beaconBlock + window + 1);
  const payout = env.account(4).address;
  const cli = async (...args: string[]): Promise<Record<string, string>> => {
    const out: string[] = [];
    await settleCommand((l) => out.push(l)).parseAsync(
      [
        ...args,
        ...['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', top.anchor.address],
        ...['--evm-key', devKey(env, 3), '--journal-dir', join(top.dir, 'cli')],
      ],
      { from: 'user' },
    );
    return JSON.parse(out[0]) as Record<string, string>;
  };
  const from = ['--api', top.val.api, '--from-watch', '--chain', hexOf(chainId)];
  // Did I win? Asked before any claim, from the validator's watch: the point, the winning key and the proof.
  const asked: string[] = [];
  await settleCommand((l) => asked.push(l)).parseAsync(
    ['winner', ...from, '--evm-rpc', env.anvil.rpcUrl, '--anchor-address', top.anchor.address],
    { from: 'user' },
  );
  const won = JSON.parse(asked[0]) as { point: string; height: number; winnerKey: string; levels: string[] };
  assert.equal(won.winnerKey, hexOf(top.holder.publicKey));
  assert.equal(won.point, (await evm.winningPoint(chainId)).toString());
  assert.equal(won.height, (await evm.chain(chainId)).height);
  assert.equal(won.levels.length, 1);
  assert.equal(await evm.claimOf(chainId), null, 'asking claims nothing');
  // The line is a proof the holder keeps: checked again offline, against the root the contract holds.
  const kept = join(top.dir, 'kept-proof.json');
  writeFileSync(kept, asked[0]);
  const checked: string[] = [];
  await settleCommand((l) => checked.push(l)).parseAsync(
    ['check-proof', '--file', kept, '--root', hexOf((await evm.rootAt(chainId, won.height))!)],
    { from: 'user' },
  );
  assert.equal((JSON.parse(checked[0]) as { winnerKey: string }).winnerKey, won.winnerKey);
  const claim = await cli('claim', ...from, '--key', top.holderFile, '--payout', payout);
  assert.equal(claim.winnerKey, hexOf(top.holder.publicKey));
  assert.equal(claim.point, (await evm.winningPoint(chainId)).toString());
  assert.equal(Number(claim.height), (await evm.chain(chainId)).height, 'at the committed height');
  await mineTo(env, Number(claim.deadline) + 1);
  await cli('timeout', '--chain', hexOf(chainId));
  const c = await evm.chain(chainId);
  assert.equal(c.phase, 'settled');
  assert.equal(c.slashed, true, 'the operator that withheld its seed');
  assert.equal(
    await evm.owed(payout),
    2_000_000n * 10n ** 9n,
    'the prize (the deposit minus the safety share)',
  );
});

/** The prize of the topology's chain: its 4,000,000 gwei deposit minus the safety share. */
const PRIZE = 2_000_000n * 10n ** 9n;

/** Mines a block a poll until the chain is settled (the settler acts on new blocks), then checks the prize. */
async function paidOut(top: Topology, payout: Address, who: string): Promise<void> {
  await waitFor(
    async () => {
      if ((await top.evm.chain(top.chainId)).phase === 'settled') return true;
      await env.test.mine({ blocks: 1 });
      return false;
    },
    `${who} settled the chain`,
    60_000,
  );
  assert.equal(await top.evm.owed(payout), PRIZE, 'the prize credited to the payout');
}

/**
 * The holder keeps changing its contract (a transfer to itself, a block each) until the operator refuses: what the
 * devnet's child chain does to its parent. Resolves with the refusal's code and the last accepted block.
 */
async function churn(top: Topology): Promise<{ code: string; lastHeight: number }> {
  const genesis = decodeGenesis(
    fromHex((await get<{ genesis: string }>(`${top.op.api}/v1/chain`)).genesis, 'g'),
  );
  let lastHeight = 0;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const view = await get<{ contract: { leaf: string } }>(`${top.op.api}/v1/contracts/0`);
    const signed = act(genesis, leafFromBytes(fromHex(view.contract.leaf, 'leaf')), top.holder, {
      kind: 'transfer',
      newOwner: top.holder.publicKey,
      terms: new Uint8Array(0),
    });
    const r = await fetch(`${top.op.api}/v1/contracts/0/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: hexOf(signed.bytes), signature: hexOf(signed.signature) }),
    });
    const j = (await r.json()) as { height?: number; error?: { code: string } };
    if (j.error) return { code: j.error.code, lastHeight };
    lastHeight = j.height!;
    // The next transfer names the state this one made: wait until it is the committed one.
    await waitFor(
      async () =>
        (await get<{ pending: boolean }>(`${top.op.api}/v1/contracts/0`)).pending === false ||
        (await get<{ expired: boolean }>(`${top.op.api}/v1/chain`)).expired,
      'the transfer sealed (or the chain expired with it pending)',
    );
  }
  throw new Error('the operator still took transactions a minute on');
}

/** A validator that settles on its own: EVM account 6 sends, the holder's key claims, `payout` is paid. */
function validatorSettler(payout: Address): (holderFile: string) => string[] {
  return (holderFile) => ['--evm-key', devKey(env, 6), '--settle-key', holderFile, '--settle-payout', payout];
}

test('a validator with --settle-key settles a chain past expiry with no manual command', async (t) => {
  const payout = env.account(2).address;
  const top = await topology(env, t, validatorSettler(payout));
  await mineTo(env, top.expiry + 1);
  await paidOut(top, payout, 'the validator');
});

test("a validator's claim that a reorg took off the chain is sent again, and the chain settles", async (t) => {
  const payout = env.account(2).address;
  const top = await topology(env, t, validatorSettler(payout));
  // Before the beacon block: nothing can be claimed yet, so the claim below is mined after this point.
  await mineTo(env, top.expiry - 1);
  const before = await env.test.snapshot();
  const claims = async () =>
    (
      await env.pub.getContractEvents({
        address: top.anchor.address,
        abi: SortitionAnchor.abi,
        eventName: 'Claimed',
        fromBlock: 0n,
      })
    ).length;
  await waitFor(
    async () => {
      if ((await claims()) > 0) return true;
      await env.test.mine({ blocks: 1 });
      return false;
    },
    'the settler claimed',
    60_000,
  );
  // The reorg: the chain goes back before the claim and grows without it.
  await env.test.revert({ id: before });
  assert.equal(await claims(), 0, 'the claim left the chain');
  await paidOut(top, payout, 'the validator, claiming again');
  assert.equal(await claims(), 1, 'claimed again on the new chain');
});

test('a settler paid to its own EVM account draws the prize into it once the chain settled', async (t) => {
  const own = env.account(6).address;
  const before = await env.pub.getBalance({ address: own });
  const top = await topology(env, t, validatorSettler(own));
  const from = await env.pub.getBlockNumber();
  await mineTo(env, top.expiry + 1);
  const withdrawn = async () =>
    env.pub.getContractEvents({
      address: top.anchor.address,
      abi: SortitionAnchor.abi,
      eventName: 'Withdrawn',
      args: { to: own },
      fromBlock: from,
    });
  await waitFor(
    async () => {
      if ((await withdrawn()).length > 0) return true;
      await env.test.mine({ blocks: 1 });
      return false;
    },
    'the settler withdrew the prize',
    60_000,
  );
  const events = await withdrawn();
  assert.equal(events.length, 1, 'one withdrawal');
  // The settler claimed from its own account: the prize and its claim's bond come back together.
  const bond = await top.evm.claimBond();
  assert.deepEqual((events[0] as unknown as { args: { amount: bigint } }).args.amount, PRIZE + bond);
  assert.equal(await top.evm.owed(own), 0n, 'nothing left owed');
  const after = await env.pub.getBalance({ address: own });
  // The account paid gas for the claim, the timeout and the withdrawal (well under 0.001 ether on anvil).
  assert.ok(after > before + PRIZE - 10n ** 15n, `the prize reached the account: ${after - before} wei`);
});

test('an operator with --settle-key settles its chain from its own tree', async (t) => {
  const payout = env.account(1).address;
  const top = await topology(env, t, undefined, (holderFile) => [
    '--settle-key',
    holderFile,
    '--settle-payout',
    payout,
    '--evm-poll-ms',
    '50',
  ]);
  await mineTo(env, top.expiry + 1);
  await paidOut(top, payout, 'the operator');
});

test('an operator busy across its expiry stops sealing there and still settles from its own tree', async (t) => {
  const payout = env.account(1).address;
  const top = await topology(env, t, undefined, (holderFile) => [
    '--settle-key',
    holderFile,
    '--settle-payout',
    payout,
    '--evm-poll-ms',
    '50',
  ]);
  // Blocks keep coming while the EVM chain moves past the expiry (every commit mines a block too).
  const busy = churn(top);
  const mining = (async () => {
    await waitFor(
      async () => (await get<{ head: { height: number } }>(`${top.op.api}/v1/chain`)).head.height >= 3,
      'a few blocks of transfers',
    );
    await mineTo(env, top.expiry + 1);
  })();
  const refused = await busy;
  await mining;
  assert.equal(refused.code, 'EXPIRED', 'the expired chain refuses transactions');
  const sealed = (await get<{ head: { height: number } }>(`${top.op.api}/v1/chain`)).head.height;
  await paidOut(top, payout, 'the operator');
  const c = await top.evm.chain(top.chainId);
  assert.ok(c.height <= sealed && sealed <= refused.lastHeight, 'nothing sealed after the refusal');
  assert.equal(
    (await get<{ head: { height: number } }>(`${top.op.api}/v1/chain`)).head.height,
    sealed,
    'no block after the expiry',
  );
});
