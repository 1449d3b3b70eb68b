/**
 * A validator with an EVM key is a watchtower for the contracts it watches (issue 24, docs/protocol.md §12): on
 * anvil with the real CLI processes, a seller who transferred its contract claims the prize with the state it held
 * at an earlier committed height; the validator removes that claim on its own with the seller's signed transfer
 * (which it saw on gossip and stored), and claims for the buyer with the payout signature the buyer gave it in
 * advance, so the buyer is paid without acting at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { toHex } from 'viem';
import { decodeGenesis } from '../../src/chain/genesis.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { fromHex, toHex as hexOf } from '../../src/crypto/hash.js';
import { leafFromBytes } from '../../src/tree/contract.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { signPayout, ANCHOR_ABI } from '../../src/evm/anchor.js';
import { settleCommand } from '../../src/cli/settle.js';
import { act } from '../helpers/chains.js';
import { waitFor } from '../helpers/net.js';
import { devKey, useAnvil } from './helpers.js';
import { get, mineTo, topology } from './watch-topology.js';

const env = useAnvil();

/** The prize of the topology's chain: its 4,000,000 gwei deposit minus the safety share. */
const PRIZE = 2_000_000n * 10n ** 9n;

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

test("the watchtower removes a stale claim with the seller's signed transfer and claims for the buyer", async (t) => {
  const towerAccount = env.account(6).address;
  // A window of 10 blocks: the watchtower polls every 50 ms and anvil mines only what is sent.
  const top = await topology(env, t, () => ['--evm-key', devKey(env, 6)], undefined, 10n);
  const { evm, chainId, val, op } = top;
  const seller = top.holder;
  const buyer = generateKeyPair();
  const buyerPayout = env.account(5).address;
  const sellerPayout = env.account(4).address;

  // The seller's membership path at a committed height: all the space is its contract, so it is the lookup path
  // of any point, and the contract holds the root it proves against.
  const [before] = await get<{ height: number; path: string }[]>(`${val.api}/v1/watch`);
  const sellerHeight = before.height;
  assert.equal((await evm.chain(chainId)).height, sellerHeight);

  // The seller transfers the contract to the buyer (signed by the seller), and the buyer watches its contract.
  const genesis = decodeGenesis(fromHex((await get<{ genesis: string }>(`${op.api}/v1/chain`)).genesis, 'g'));
  const view = await get<{ contract: { leaf: string } }>(`${op.api}/v1/contracts/0`);
  const signed = act(genesis, leafFromBytes(fromHex(view.contract.leaf, 'leaf')), seller, {
    kind: 'transfer',
    newOwner: buyer.publicKey,
    terms: new Uint8Array(0),
  });
  const sent = await post(`${op.api}/v1/contracts/0/actions`, {
    action: hexOf(signed.bytes),
    signature: hexOf(signed.signature),
  });
  assert.ok(sent.status < 300, `transfer: ${sent.status} ${JSON.stringify(sent.json)}`);
  await waitFor(
    async () => (await get<{ pending: boolean }>(`${op.api}/v1/contracts/0`)).pending === false,
    'the transfer sealed',
  );
  await waitFor(async () => (await evm.chain(chainId)).height > sellerHeight, 'the transfer committed');
  const watched = await post(`${val.api}/v1/watch`, {
    chainId: hexOf(chainId),
    ...(await get<{ proof: { path: string } }>(`${op.api}/v1/contracts/0`)),
  });
  assert.ok(watched.status < 300, `watch: ${watched.status} ${JSON.stringify(watched.json)}`);
  await waitFor(async () => {
    const committed = (await evm.chain(chainId)).height;
    const ws = await get<{ status: string; height: number }[]>(`${val.api}/v1/watch?status=current`);
    return ws.length === 1 && ws[0].height === committed;
  }, "the buyer's watch is current at the committed height");

  // The watchtower takes only a payout signature the contract will accept: the buyer's key over this chain.
  const bad = await post(`${val.api}/v1/watchtower/payouts`, {
    chainId: hexOf(chainId),
    winnerKey: hexOf(buyer.publicKey),
    payout: buyerPayout,
    signature: signPayout(seller.secretKey, evm.anchorId, chainId, buyerPayout),
  });
  assert.deepEqual([bad.status, (bad.json.error as { code: string }).code], [422, 'BAD_SIGNATURE']);
  const malformed = await post(`${val.api}/v1/watchtower/payouts`, { chainId: 'zz' });
  assert.deepEqual([malformed.status, (malformed.json.error as { code: string }).code], [400, 'BAD_REQUEST']);
  // The buyer signs in advance with `settle sign-payout`, handing the signature to the watchtower.
  const buyerFile = join(top.dir, 'buyer.json');
  await writeKeyFile(buyerFile, buyer);
  const printed: string[] = [];
  await settleCommand((l) => printed.push(l)).parseAsync(
    [
      'sign-payout',
      ...['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', top.anchor.address],
      ...['--key', buyerFile, '--chain', hexOf(chainId), '--payout', buyerPayout, '--watchtower', val.api],
    ],
    { from: 'user' },
  );
  assert.equal(JSON.parse(printed[0]).winnerKey, hexOf(buyer.publicKey));
  assert.equal((await get<{ payouts: unknown[] }>(`${val.api}/v1/watchtower`)).payouts.length, 1);

  // Past expiry the watchtower claims for the buyer on its own.
  await mineTo(env, top.expiry + 1);
  const bond = await evm.claimBond();
  await waitFor(
    async () => (await evm.claimOf(chainId))?.winnerKey === toHex(buyer.publicKey),
    "the watchtower's claim for the buyer",
  );
  const lastCommitted = (await evm.chain(chainId)).height;

  // The seller claims with the state it held at its committed height: first seen earlier, it outranks the
  // buyer's claim until its own transfer is shown.
  await evm.settle(
    'claim',
    [
      toHex(chainId),
      BigInt(sellerHeight),
      [toHex(fromHex(before.path, 'path'))],
      sellerPayout,
      signPayout(seller.secretKey, evm.anchorId, chainId, sellerPayout),
      (await evm.claimOf(chainId))!.levels,
    ],
    bond,
  );
  // The watchtower removes it with the seller's signed transfer and claims for the buyer again.
  const consentShown = () =>
    env.pub.getContractEvents({
      address: top.anchor.address,
      abi: ANCHOR_ABI,
      eventName: 'ConsentProven',
      fromBlock: 0n,
    });
  await waitFor(
    async () =>
      (await consentShown()).length === 1 &&
      (await evm.claimOf(chainId))?.winnerKey === toHex(buyer.publicKey),
    'the stale claim removed and the buyer claimed for again',
  );
  assert.equal((await consentShown())[0].args.by?.toLowerCase(), towerAccount.toLowerCase());
  const standing = (await evm.claimOf(chainId))!;
  assert.equal(standing.height, lastCommitted);
  assert.equal(standing.payout.toLowerCase(), buyerPayout.toLowerCase());
  assert.equal(standing.claimant.toLowerCase(), towerAccount.toLowerCase());

  // After the window the watchtower calls timeout: the buyer is paid without a single action of its own.
  await mineTo(env, Number(standing.deadline) + 1);
  await waitFor(async () => (await evm.chain(chainId)).phase === 'settled', 'the watchtower timed out');
  assert.equal(await evm.owed(buyerPayout), PRIZE, 'the prize to the buyer');
  assert.equal(await evm.owed(sellerPayout), 0n, 'nothing to the seller');
  // The watchtower's account: its first claim's bond back when the seller's displaced it, the seller's bond for
  // the challenge, its second claim's bond back at timeout.
  assert.equal(await evm.owed(towerAccount), 3n * bond);
  await top.anchor.checkAccounts([chainId]);
  // Its own record of the lottery ends there too (the step that timed out is reported, then the settled state).
  await waitFor(async () => {
    const status = await get<{ chains: { chainId: string; action: string }[] }>(`${val.api}/v1/watchtower`);
    return status.chains.length === 1 && status.chains[0].action === 'settled';
  }, 'the watchtower reports the lottery settled');
  const metrics = await (await fetch(`${val.api}/metrics`)).text();
  assert.match(metrics, /sortition_watchtower_actions_total\{action="challenged"\} 1/);
  assert.match(metrics, /sortition_watchtower_actions_total\{action="claimed"\} 2/);
  assert.match(metrics, /sortition_watchtower_actions_total\{action="timed-out"\} 1/);
});
