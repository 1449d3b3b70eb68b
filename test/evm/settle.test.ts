/**
 * Settlement driven by the node: an operator on the EVM anchor whose chain expires builds the winner proof from
 * the tree it holds, the winner (the holder of the contract covering the chain's space) claims with its payout
 * signature (`settle claim`), and after the challenge window `timeout` (here through `settleChain`, which must not
 * claim again) pays the prize to the payout address, which withdraws it. Each refusal says what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexToBytes, toHex, type Hex } from 'viem';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { toHex as hexOf } from '../../src/crypto/hash.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { settleCommand } from '../../src/cli/settle.js';
import { operatorApiSource, settleChain, type SettleError } from '../../src/evm/settle.js';
import { ANCHOR_ABI, signPayout } from '../../src/evm/anchor.js';
import { decodeLookupPath, encodeLookupPath } from '../../src/sortition/lottery.js';
import { verifyLookup } from '../../src/tree/verify.js';
import { act } from '../helpers/chains.js';
import { anchorView } from '../../src/evm/api.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startCliOperator } from '../operator/helpers.js';
import { waitFor } from '../helpers/net.js';
import { newAnchor } from './anchor-helpers.js';
import { seedRevealed, useAnvil, type EvmEnv } from './helpers.js';
import { defer } from '../helpers/cleanup.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'settle');
const devKey = (e: EvmEnv, i: number): Hex => toHex(e.account(i).getHdKey().privateKey!);

test('a chain past its expiry settles on chain: claim from the operator’s tree, window, timeout, payout', async (t) => {
  const anchor = await newAnchor(env, 5n);
  const dir = await mkdtemp(join(tmpdir(), 'evm-settle-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const expiry = Number(await env.pub.getBlockNumber()) + 12;
  const op = await startCliOperator({
    dataDir: join(dir, 'op'),
    evmRpc: env.anvil.rpcUrl,
    anchorAddress: anchor.address,
    evmKey: devKey(env, 8),
    amount: 1000,
    deposit: 4_000_000,
    expiry,
  });
  defer(t, () => op.stop());
  const svc = op.op.service;
  const chainId = svc.chainId;
  const holder = generateKeyPair();
  await svc.create({ start: 0n, end: 1000n, owner: holder.publicKey });
  await svc.sealNow();
  const committed = async () =>
    (await anchorView(await evmOf())).find((c) => c.chainId === toHex(chainId).slice(2));
  let evm: EvmAnchor | undefined;
  async function evmOf(): Promise<EvmAnchor> {
    evm ??= await EvmAnchor.open({
      rpcUrl: env.anvil.rpcUrl,
      address: anchor.address,
      key: devKey(env, 9),
      journal: fileJournal(join(dir, 'claimant')),
      log,
    });
    return evm;
  }
  await waitFor(async () => (await committed())?.committedHeight === svc.head.height, 'head committed');
  const deposit = BigInt((await committed())!.depositWei);

  const payout = env.account(9).address;
  const holderFile = join(dir, 'holder.json');
  await writeKeyFile(holderFile, holder);
  const strangerFile = join(dir, 'stranger.json');
  await writeKeyFile(strangerFile, generateKeyPair());
  const evmArgs = [
    '--evm-rpc',
    env.anvil.rpcUrl,
    '--anchor-address',
    anchor.address,
    '--evm-key',
    devKey(env, 9),
  ];
  const cli = async (...args: string[]): Promise<Record<string, string>> => {
    const out: string[] = [];
    await settleCommand((l) => out.push(l)).parseAsync(
      [...args, ...evmArgs, '--journal-dir', join(dir, 'cli')],
      {
        from: 'user',
      },
    );
    return JSON.parse(out[0]) as Record<string, string>;
  };
  const claimArgs = ['claim', '--api', op.url, '--key', holderFile, '--payout', payout];
  await assert.rejects(
    cli(...claimArgs),
    (e: SettleError) => e.code === 'NOT_EXPIRED' && /wait \d+ more blocks/.test(e.message),
    'before the expiry: says how long to wait',
  );

  // Past the expiry: the point, its lookup path in the committed tree, and the holder's payout signature.
  await env.test.mine({ blocks: expiry - Number(await env.pub.getBlockNumber()) + 1 });
  const a = await evmOf();
  await seedRevealed(a, chainId);
  const point = await a.winningPoint(chainId);
  await assert.rejects(
    cli('claim', '--api', op.url, '--key', strangerFile, '--payout', payout),
    (e: SettleError) => e.code === 'NOT_WINNER' && e.message.includes(hexOf(holder.publicKey)),
    'a key that does not own the point is told whose it is',
  );
  await assert.rejects(
    cli('timeout', '--chain', hexOf(chainId)),
    (e: SettleError) => e.code === 'NO_CLAIM',
    'timeout before any claim',
  );
  const claim = await cli(...claimArgs);
  assert.equal(claim.point, point.toString());
  assert.equal(claim.winnerKey, hexOf(holder.publicKey));
  assert.equal(claim.height, svc.head.height, "the claim is for the contract's committed height");
  await assert.rejects(
    cli('timeout', '--chain', hexOf(chainId)),
    (e: SettleError) =>
      e.code === 'WINDOW_OPEN' && /wait \d+ more blocks? \(until block \d+\)/.test(e.message),
    'the window is open: says how many blocks to wait',
  );
  await assert.rejects(
    cli('challenge', '--api', op.url),
    (e: SettleError) => e.code === 'NO_CONSENT',
    'the holder never gave its contract up: no action defeats the claim',
  );
  await assert.rejects(cli(...claimArgs), (e: SettleError) => e.code === 'REFUSED' && /same/.test(e.message));
  // settleChain started now (as after a restart) finds our claim pending and does not send it again: it waits
  // out the window and calls timeout.
  let done = false;
  const settling = settleChain(a, operatorApiSource(op.url), {
    chainId,
    key: holder,
    payout,
    pollMs: 20,
  }).finally(() => (done = true));
  await waitFor(async () => {
    if (!done) await env.test.mine({ blocks: 1 });
    return done;
  }, 'settleChain settles');
  const settled = await settling;
  assert.equal(settled.status, 'settled');
  assert.equal(settled.claim, null, 'the pending claim was not sent again');
  const claims = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'Claimed',
    fromBlock: 0n,
  });
  assert.equal(claims.length, 1, 'one claim on chain');
  const view = (await committed())!;
  assert.equal(view.phase, 'settled');
  assert.ok(view.settlement, 'settled');
  assert.equal(view.settlement.winnerKey, hexOf(holder.publicKey));
  assert.equal(view.settlement.point, point.toString());
  assert.equal(
    BigInt(view.settlement.paidWei),
    deposit / 2n,
    'the prize: the deposit minus the safety share',
  );
  const before = await env.pub.getBalance({ address: payout });
  const w = await cli('withdraw');
  await assert.rejects(cli('withdraw'), (e: SettleError) => e.code === 'NOTHING_OWED');
  const after = await env.pub.getBalance({ address: payout });
  assert.ok(after > before + deposit / 2n - 10n ** 15n, 'the payout address received the prize');
  log.info({ claimGas: claim.gasUsed, withdrawGas: w.gasUsed }, 'settlement gas');
});

test('a stale claim is defeated by `settle challenge` with the seller`s signed transfer; the buyer is paid', async (t) => {
  const anchor = await newAnchor(env, 5n);
  const dir = await mkdtemp(join(tmpdir(), 'evm-challenge-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const expiry = Number(await env.pub.getBlockNumber()) + 14;
  const op = await startCliOperator({
    dataDir: join(dir, 'op'),
    evmRpc: env.anvil.rpcUrl,
    anchorAddress: anchor.address,
    evmKey: devKey(env, 8),
    amount: 1000,
    deposit: 4_000_000,
    expiry,
  });
  defer(t, () => op.stop());
  const svc = op.op.service;
  const chainId = svc.chainId;
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 9),
    journal: fileJournal(join(dir, 'stale')),
    log,
  });
  const committedAt = (h: number) =>
    waitFor(async () => (await evm.chain(chainId)).height >= h, `height ${h} committed`);
  // Height 1: the whole space is the seller's; height 2: sold on to the buyer (an owner-signed transfer).
  const [seller, buyer] = [generateKeyPair(), generateKeyPair()];
  await svc.create({ start: 0n, end: 1000n, owner: seller.publicKey });
  await svc.sealNow();
  await committedAt(1);
  await svc.ownerAction({
    kind: 'owner',
    start: 0n,
    signed: act(svc.genesis, svc.currentContract(0n)!, seller, {
      kind: 'transfer',
      newOwner: buyer.publicKey,
      terms: new Uint8Array(0),
    }),
    childGenesis: null,
  });
  await svc.sealNow();
  await committedAt(2);
  await env.test.mine({ blocks: expiry - Number(await env.pub.getBlockNumber()) + 1 });
  await seedRevealed(evm, chainId);

  // The seller claims with the state of height 1, in which it still held the point (committed, so it verifies).
  const point = await evm.winningPoint(chainId);
  const old = (await svc.lotteryLevelAt(point, 1))!;
  const sellerPayout = env.account(6).address;
  await evm.settle(
    'claim',
    [
      toHex(chainId),
      1n,
      [toHex(encodeLookupPath(old.path))],
      sellerPayout,
      signPayout(seller.secretKey, evm.anchorId, chainId, sellerPayout),
      [],
    ],
    await evm.claimBond(),
  );
  assert.equal((await evm.claimOf(chainId))?.winnerKey, toHex(seller.publicKey));

  // Anyone challenges with the seller's signed transfer, which the operator keeps (GET /v1/authorisations/:digest).
  const buyerFile = join(dir, 'buyer.json');
  await writeKeyFile(buyerFile, buyer);
  const cli = async (...args: string[]): Promise<Record<string, string>> => {
    const out: string[] = [];
    await settleCommand((l) => out.push(l)).parseAsync(
      [
        ...args,
        ...['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', anchor.address],
        ...['--evm-key', devKey(env, 7), '--journal-dir', join(dir, 'cli')],
      ],
      { from: 'user' },
    );
    return JSON.parse(out[0]) as Record<string, string>;
  };
  // The operator seals on its own besides sealNow(), so more heights than 2 may be committed before expiry: the
  // challenge and the buyer's claim use the last one, which expiry fixed (no commit after it).
  const lastCommitted = (await evm.chain(chainId)).height;
  assert.ok(lastCommitted >= 2, `committed up to ${lastCommitted}`);
  const challenged = await cli('challenge', '--api', op.url);
  assert.deepEqual([challenged.outcome, challenged.height, challenged.level], ['claim-removed', 1, 0]);
  assert.equal(await evm.claimOf(chainId), null, 'the stale claim is gone');
  const defeated = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'ClaimDefeated',
    fromBlock: 0n,
  });
  assert.equal(defeated.length, 1);

  // The buyer claims at the last committed height and, after the window, is paid; the seller's payout gets nothing.
  const buyerPayout = env.account(5).address;
  const claim = await cli('claim', '--api', op.url, '--key', buyerFile, '--payout', buyerPayout);
  assert.deepEqual([claim.winnerKey, claim.height], [hexOf(buyer.publicKey), lastCommitted]);
  await env.test.mine({ blocks: Number(claim.deadline) - Number(await env.pub.getBlockNumber()) + 1 });
  await cli('timeout', '--chain', hexOf(chainId));
  assert.equal((await evm.chain(chainId)).phase, 'settled');
  assert.equal(
    await evm.owed(buyerPayout),
    2_000_000n * 10n ** 9n,
    "the prize goes to the challenger's winner",
  );
  assert.equal(await evm.owed(sellerPayout), 0n);
});

test('a point inside a child chain: the claim carries the child level from its operator (--level-api)', async (t) => {
  const anchor = await newAnchor(env, 5n);
  const dir = await mkdtemp(join(tmpdir(), 'evm-nested-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const expiry = Number(await env.pub.getBlockNumber()) + 20;
  const top = await startCliOperator({
    dataDir: join(dir, 'top'),
    evmRpc: env.anvil.rpcUrl,
    anchorAddress: anchor.address,
    evmKey: devKey(env, 8),
    amount: 1000,
    deposit: 4_000_000,
    expiry,
  });
  defer(t, () => top.stop());
  const g = top.op.genesis.genesis;
  // The top chain's whole space is one contract holding a child chain, whose whole space the holder owns.
  const childKeyFile = join(dir, 'child-key.json');
  const childKey = await writeKeyFile(childKeyFile);
  await top.op.service.create({ start: g.spaceStart, end: g.spaceEnd, owner: childKey.publicKey });
  const child = await startCliOperator({
    dataDir: join(dir, 'child'),
    key: childKeyFile,
    parentApi: top.url,
    parentContract: g.spaceStart.toString(),
    name: 'child',
    parentPollMs: 100,
  });
  defer(t, () => child.stop());
  const holder = generateKeyPair();
  await child.op.service.create({ start: g.spaceStart, end: g.spaceEnd, owner: holder.publicKey });
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 9),
    journal: fileJournal(join(dir, 'reader')),
    log,
  });
  const chainId = top.op.genesis.chainId;
  // The child's sale is in a child block, whose header is in a top block, whose header is in the contract.
  await waitFor(async () => {
    const link = top.op.service.contractView(g.spaceStart).committed?.child;
    return (
      (link?.height ?? 0) >= 1 &&
      !top.op.service.pendingCount &&
      (await evm.chain(chainId)).height === top.op.service.head.height
    );
  }, "the child's root committed in the top chain, and that in the contract");
  await env.test.mine({ blocks: expiry - Number(await env.pub.getBlockNumber()) + 1 });
  await seedRevealed(evm, top.op.genesis.chainId);
  // A chain expires with its parent (issue 27): the child stops when the top does, and sells nothing more.
  await waitFor(() => top.op.service.expired && child.op.service.expired, 'the child expired with the top');
  assert.equal(child.op.service.effectiveExpiry, expiry, "the child's expiry is its parent's");
  const childHeight = child.op.service.head.height;
  await assert.rejects(
    child.op.service.create({ start: g.spaceEnd - 1n, end: g.spaceEnd, owner: holder.publicKey }),
    { code: 'EXPIRED' },
  );
  await assert.rejects(child.op.service.sealNow(), { code: 'EXPIRED' });
  assert.equal(child.op.service.head.height, childHeight);

  const holderFile = join(dir, 'holder.json');
  await writeKeyFile(holderFile, holder);
  const payout = env.account(4).address;
  const cli = async (...args: string[]): Promise<Record<string, string>> => {
    const out: string[] = [];
    await settleCommand((l) => out.push(l)).parseAsync(
      [
        ...args,
        ...['--evm-rpc', env.anvil.rpcUrl, '--anchor-address', anchor.address],
        ...['--evm-key', devKey(env, 9), '--journal-dir', join(dir, 'cli')],
      ],
      { from: 'user' },
    );
    return JSON.parse(out[0]) as Record<string, string>;
  };
  const claimArgs = ['claim', '--api', top.url, '--key', holderFile, '--payout', payout];
  await assert.rejects(
    cli(...claimArgs),
    (e: SettleError) => e.code === 'NESTED' && /--level-api/.test(e.message),
    "without the child's operator: says which source is missing",
  );
  const claim = await cli(...claimArgs, '--level-api', child.url);
  assert.equal(claim.winnerKey, hexOf(holder.publicKey), 'the holder in the child chain wins');
  await env.test.mine({ blocks: Number(claim.deadline) - Number(await env.pub.getBlockNumber()) + 1 });
  await cli('timeout', '--chain', hexOf(chainId));
  assert.equal(
    await evm.owed(payout),
    2_000_000n * 10n ** 9n,
    'the prize goes to the holder in the child chain',
  );
});

test('a holder`s data request is answered on chain by the operator on its own; the operator keeps its deposit', async (t) => {
  const anchor = await newAnchor(env, 5n);
  const dir = await mkdtemp(join(tmpdir(), 'evm-data-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const op = await startCliOperator({
    dataDir: join(dir, 'op'),
    evmRpc: env.anvil.rpcUrl,
    anchorAddress: anchor.address,
    evmKey: devKey(env, 8),
    amount: 1000,
    deposit: 4_000_000,
    expiry: Number(await env.pub.getBlockNumber()) + 200,
  });
  defer(t, () => op.stop());
  const svc = op.op.service;
  const chainId = svc.chainId;
  const holder = generateKeyPair();
  await svc.create({ start: 100n, end: 200n, owner: holder.publicKey });
  await svc.sealNow();
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 9),
    journal: fileJournal(join(dir, 'holder')),
    log,
  });
  await waitFor(async () => (await evm.chain(chainId)).height >= 1, 'a commit');
  // The holder demands its contract's path at the last committed height, on chain (again if a commit overtook it).
  let height = 0;
  const bond = await evm.claimBond();
  await waitFor(async () => {
    const last = (await evm.chain(chainId)).height;
    try {
      await evm.settle('requestData', [toHex(chainId), BigInt(last), 150n], bond);
    } catch (e) {
      if (/NotLastCommit/.test(String(e))) return false;
      throw e;
    }
    height = last;
    return true;
  }, 'a data request at the last commit');
  const [request] = await evm.dataRequests(chainId);
  await waitFor(async () => (await evm.dataRequests(chainId))[0].answered, 'the operator answered', 60_000);
  const [answer] = await env.pub.getContractEvents({
    address: anchor.address,
    abi: ANCHOR_ABI,
    eventName: 'DataAnswered',
    args: { chainId: toHex(chainId) },
    fromBlock: 0n,
  });
  assert.equal(answer.args.requestId, request.id);
  const path = decodeLookupPath(hexToBytes(answer.args.path!));
  const root = (await evm.rootAt(chainId, height))!;
  const found = verifyLookup(root, path, 150n, 0n, 1000n);
  assert.equal(found.kind, 'leaf');
  assert.equal(
    hexOf(found.kind === 'leaf' ? found.leaf.contract.owner : new Uint8Array()),
    hexOf(holder.publicKey),
  );
  await env.test.mine({ blocks: 7 });
  // The responder counts its answer once the transaction is confirmed (blocks mined after it).
  await waitFor(() => Promise.resolve(op.op.responder?.answered === 1), 'the responder counted its answer');
  await assert.rejects(evm.settle('slashWithheld', [request.id]), /AlreadyAnswered/);
  assert.equal((await evm.chain(chainId)).slashed, false, 'an operator that answers keeps its deposit');
});
