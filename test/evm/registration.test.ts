/**
 * Nobody can hijack a registration (issue 25 item 1), played as in a public mempool: anvil with automine off, an
 * attacker who reads the operator's pending `register` and sends its own copy first, with a higher tip. The
 * contract takes a chain only with the operator key's signature over the committer and the sender, so the copies
 * revert and the operator's own registration stands; the node never takes a reverted or foreign registration for
 * its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFunctionData, encodeFunctionData } from 'viem';
import { generateKeyPair, sign } from '../../src/crypto/keys.js';
import { toHex as hexOf } from '../../src/crypto/hash.js';
import { decodeGenesis } from '../../src/chain/genesis.js';
import { createLogger } from '../../src/runtime/logger.js';
import { ANCHOR_ABI, evmGenesis } from '../../src/evm/anchor.js';
import { fileJournal } from '../../src/evm/journal.js';
import { EvmAnchor } from '../../src/evm/node-anchor.js';
import { AnchorError } from '../../src/anchor/types.js';
import { waitFor } from '../helpers/net.js';
import { defer } from '../helpers/cleanup.js';
import { newAnchor, registerArgs } from './anchor-helpers.js';
import { devKey, poolTransactions, useAnvil } from './helpers.js';

const env = useAnvil();
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'registration');

const pending = () => poolTransactions(env);

test('a registration copied from the mempool, with the copier as committer or as is, reverts; the operator’s stands', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-register-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const operatorKey = generateKeyPair();
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 7),
    journal: fileJournal(join(dir, 'journal')),
    log,
    pollMs: 20,
  });
  await env.test.setAutomine(false);
  defer(t, () => env.test.setAutomine(true));
  const registering = evm.registerChain({
    operatorKey: operatorKey.publicKey,
    amount: 1000n,
    expiry: Number(await env.pub.getBlockNumber()) + 500,
    deposit: 1_000_000n,
    sign: (m) => sign(operatorKey.secretKey, m),
  });
  await waitFor(async () => (await pending()).length === 1, "the operator's register in the pool");
  const [honest] = await pending();
  const call = decodeFunctionData({ abi: ANCHOR_ABI, data: honest.input });
  assert.equal(call.functionName, 'register');
  const [genesis, , bps, seedHash, signature, round] = call.args;
  const thief = env.account(3).address;
  const tip = 50n * 10n ** 9n;
  const copy = async (args: readonly unknown[]) =>
    env.wallet(3).sendTransaction({
      to: anchor.address,
      data: encodeFunctionData({ abi: ANCHOR_ABI, functionName: 'register', args: args as never }),
      value: 10n ** 15n,
      gas: 1_000_000n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: 200n * 10n ** 9n,
    });
  // The copier names itself committer (to freeze the chain), and also sends the transaction exactly as it is.
  const stolen = await copy([genesis, thief, bps, seedHash, signature, round]);
  const verbatim = await copy(call.args);
  await env.test.mine({ blocks: 1 });
  for (const hash of [stolen, verbatim]) {
    const r = await env.pub.getTransactionReceipt({ hash });
    assert.equal(r.status, 'reverted', 'the copy reverts');
  }
  // The operator's transaction, mined next, registers the chain (its sender waits for the receipt).
  await env.test.setAutomine(true);
  await env.test.mine({ blocks: 1 });
  const reg = await registering;
  const c = await evm.chain(decodeGenesis(reg.genesis!).chainId);
  assert.equal(c.phase, 'active');
  assert.equal(c.committer.toLowerCase(), env.account(7).address.toLowerCase(), 'the operator commits');
  assert.equal(c.operatorKey, `0x${hexOf(operatorKey.publicKey)}`);
});

test('a registration signed for one sender and committer cannot be sent by another', async () => {
  const anchor = await newAnchor(env);
  const key = generateKeyPair();
  const expiry = Number(await env.pub.getBlockNumber()) + 500;
  const g = evmGenesis(anchor.id, { operatorKey: key.publicKey, spaceStart: 0n, spaceEnd: 10n, expiry, amountGwei: 1n }); // prettier-ignore
  const args = registerArgs(anchor.id, g, key, env.account(1).address, env.account(0).address);
  await anchor.reverts(2, 'register', args, 'BadRegistrationSignature', 10n ** 9n);
  await anchor.send(0, 'register', args, 10n ** 9n);
});

test('an operator whose chain the contract holds for another committer stops with an error that says so', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-register-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const key = generateKeyPair();
  const expiry = Number(await env.pub.getBlockNumber()) + 500;
  const g = evmGenesis(anchor.id, { operatorKey: key.publicKey, spaceStart: 0n, spaceEnd: 10n, expiry, amountGwei: 1n }); // prettier-ignore
  // Registered from account 0 with account 1 committing; a node running with account 7's key is not its committer.
  await anchor.send(0, 'register', registerArgs(anchor.id, g, key, env.account(1).address, env.account(0).address), 10n ** 9n); // prettier-ignore
  const evm = await EvmAnchor.open({
    rpcUrl: env.anvil.rpcUrl,
    address: anchor.address,
    key: devKey(env, 7),
    journal: fileJournal(join(dir, 'journal')),
    log,
  });
  await assert.rejects(evm.checkRegistration(g), (e: unknown) => {
    assert.ok(e instanceof AnchorError && e.code === 'NOT_REGISTERED');
    assert.match(e.message, /committer 0x[0-9a-fA-F]{40}, not this node's EVM account/);
    return true;
  });
  const other = evmGenesis(anchor.id, { operatorKey: key.publicKey, spaceStart: 0n, spaceEnd: 11n, expiry, amountGwei: 1n }); // prettier-ignore
  await assert.rejects(evm.checkRegistration(other), /is not registered on the anchor/);
});
