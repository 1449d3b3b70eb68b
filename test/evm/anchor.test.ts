/**
 * The anchor contract on a real EVM (anvil), with real transactions: registration, commits, proof of existence,
 * and slashing with evidence verified on chain (genuine evidence slashes, forged never does), with the accounts
 * checked after every step: the balance is always live deposits plus credits not yet withdrawn.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, type Hex } from 'viem';
import { ReentrancyProbe } from '../../src/gen/contracts.js';
import { evmAnchorId, evmGenesis } from '../../src/evm/anchor.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { useAnvil } from './helpers.js';
import {
  header,
  newAnchor,
  registerArgs,
  registerChain,
  reportCommitment,
  sealedReport,
  type Anchor,
  type Registered,
} from './anchor-helpers.js';

const hexOf = (b: Uint8Array): Hex => toHex(b);

describe('anchor contract: register, commit, proof of existence, slashing', () => {
  const env = useAnvil();
  let anchor: Anchor;
  const ids: Uint8Array[] = [];
  let a: Registered;
  let b: Registered;
  const committer = () => env.account(1).address;

  before(async () => {
    anchor = await newAnchor(env);
  });

  it('names itself by EVM chain id and address, as top-level genesis records name it', async () => {
    assert.equal(await anchor.read<Hex>('anchorId'), hexOf(evmAnchorId(31337, anchor.address)));
  });

  it('registers chains signed by their operator key, locking each deposit; spaces are per chain, never locked', async () => {
    const expiry = Number(await env.pub.getBlockNumber()) + 1000;
    a = await registerChain(anchor, { start: 1000n, end: 2000n, expiry, committer: committer() });
    ids.push(a.genesis.chainId);
    const c = await anchor.read<readonly unknown[]>('chains', [a.id]);
    assert.equal(c[0], committer());
    assert.equal(c[2], 1); // Active
    assert.equal(c[9], hexOf(a.key.publicKey));
    assert.equal(c[10], a.depositWei);
    assert.equal(c[11], a.depositWei / 5n); // 20% safety share
    await anchor.checkAccounts(ids);
    // The space [0, 2^64 - 1) registered by one chain locks nothing: another overlapping it registers as well.
    b = await registerChain(anchor, { start: 0n, end: (1n << 64n) - 1n, expiry, committer: committer() });
    ids.push(b.genesis.chainId);
    const inside = await registerChain(anchor, { start: 1500n, end: 1501n, expiry, committer: committer() });
    ids.push(inside.genesis.chainId);
    await anchor.checkAccounts(ids);

    const key = generateKeyPair();
    const g = (start: bigint, end: bigint, parent = anchor.id, amountGwei = 1n) =>
      evmGenesis(parent, { operatorKey: key.publicKey, spaceStart: start, spaceEnd: end, expiry, amountGwei }); // prettier-ignore
    const sender0 = env.account(0).address;
    const args = (rec: ReturnType<typeof g>) => registerArgs(anchor.id, rec, key, committer(), sender0);
    await anchor.reverts(0, 'register', args(g(5000n, 6000n, new Uint8Array(32))), 'ParentNotAnchor', 1_000_000_000n); // prettier-ignore
    await anchor.reverts(0, 'register', args(g(5000n, 6000n)), 'ValueNotAmount', 1n);
    await anchor.reverts(0, 'register', registerArgs(anchor.id, a.genesis, a.key, committer(), sender0), 'AlreadyRegistered', a.depositWei); // prettier-ignore
    // Non-canonical bytes (a trailing byte) never register.
    const bad = new Uint8Array([...g(5000n, 6000n).bytes, 0]);
    await anchor.reverts(0, 'register', [hexOf(bad), ...args(g(5000n, 6000n)).slice(1)], 'Malformed', 1_000_000_000n); // prettier-ignore
    // The operator signed for sender 0 and this committer: a copy from another sender, or naming another committer
    // (a hijacker's own), or with another safety share, or signed by another key, is refused.
    const rec = g(5000n, 6000n);
    const signed = args(rec);
    await anchor.reverts(3, 'register', signed, 'BadRegistrationSignature', 1_000_000_000n);
    await anchor.reverts(0, 'register', [signed[0], env.account(3).address, 2000, signed[3], signed[4], 0n], 'BadRegistrationSignature', 1_000_000_000n); // prettier-ignore
    await anchor.reverts(0, 'register', [signed[0], signed[1], 2001, signed[3], signed[4], 0n], 'BadRegistrationSignature', 1_000_000_000n); // prettier-ignore
    await anchor.reverts(0, 'register', registerArgs(anchor.id, rec, generateKeyPair(), committer(), sender0), 'BadRegistrationSignature', 1_000_000_000n); // prettier-ignore
    await anchor.checkAccounts(ids);
  });

  it('records the committer`s headers at strictly increasing heights, and no one else`s', async () => {
    const h1 = header(a.genesis.chainId, 1, a.key, {
      root: new Uint8Array(32).fill(1),
      min: 1000n,
      max: 1500n,
    });
    await anchor.send(1, 'commit', [a.id, hexOf(h1.bytes)]);
    const c = await anchor.read<readonly unknown[]>('commits', [a.id, 1n]);
    assert.deepEqual(c, [hexOf(h1.hash), hexOf(new Uint8Array(32).fill(1)), 1000n, 1500n]);
    await anchor.reverts(1, 'commit', [a.id, hexOf(h1.bytes)], 'HeightNotIncreasing');
    await anchor.reverts(
      2,
      'commit',
      [a.id, hexOf(header(a.genesis.chainId, 2, a.key).bytes)],
      'NotCommitter',
    );
    await anchor.reverts(
      1,
      'commit',
      [a.id, hexOf(header(b.genesis.chainId, 2, b.key).bytes)],
      'HeaderOfAnotherChain',
    );
    await anchor.send(1, 'commit', [a.id, hexOf(header(a.genesis.chainId, 5, a.key).bytes)]);
    assert.equal((await anchor.read<readonly unknown[]>('chains', [a.id]))[8], 5n);
    await anchor.checkAccounts(ids);
  });

  it('records 32 bytes with the block height, the first record standing', async () => {
    const data = hexOf(new Uint8Array(32).fill(0xab));
    const { blockNumber } = await anchor.send(3, 'recordExistence', [data]);
    const h = await anchor.read<bigint>('existence', [data]);
    assert.equal(h, blockNumber);
    await anchor.send(4, 'recordExistence', [data]);
    assert.equal(await anchor.read<bigint>('existence', [data]), h);
  });

  it('never slashes on forged equivocation evidence', async () => {
    const h = (height: number, salt: number, key = b.key, chain = b.genesis.chainId) =>
      hexOf(header(chain, height, key, { salt }).bytes);
    const eq = (x: Hex, y: Hex, error: string) => anchor.reverts(2, 'slashEquivocation', [b.id, x, y], error);
    await eq(h(3, 1), h(3, 2, generateKeyPair()), 'BadOperatorSignature'); // one signed by another key
    await eq(h(3, 1), h(4, 2), 'DifferentHeights');
    await eq(h(3, 1), h(3, 1), 'SameHeader'); // the same header twice
    await eq(h(3, 1, a.key, a.genesis.chainId), h(3, 2, a.key, a.genesis.chainId), 'HeaderOfAnotherChain');
    // A flipped signature bit.
    const forged = header(b.genesis.chainId, 3, b.key, { salt: 2 });
    const bytes = forged.bytes.slice();
    bytes[bytes.length - 5] ^= 1;
    await eq(h(3, 1), hexOf(bytes), 'BadOperatorSignature');
    assert.equal((await anchor.read<readonly unknown[]>('chains', [b.id]))[3], false);
    await anchor.checkAccounts(ids);
  });

  it('slashes on genuine equivocation: the reporter`s reward is credited, the rest burnt', async () => {
    const burnBefore = await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' });
    const first = hexOf(header(b.genesis.chainId, 3, b.key, { salt: 1 }).bytes);
    const second = hexOf(header(b.genesis.chainId, 3, b.key, { salt: 2 }).bytes);
    const { gasUsed } = await sealedReport(anchor, 2, 'slashEquivocation', [b.id, first, second]);
    assert.ok(gasUsed > 600_000n, 'two Ed25519 verifications on chain');
    const c = await anchor.read<readonly unknown[]>('chains', [b.id]);
    const safety = b.depositWei / 5n;
    assert.equal(c[3], true);
    assert.equal(c[11], 0n);
    assert.equal(c[10], b.depositWei - safety);
    assert.equal(await anchor.read<bigint>('owed', [env.account(2).address]), safety / 10n);
    const burnt =
      (await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' })) - burnBefore;
    assert.equal(burnt, safety - safety / 10n);
    await anchor.reverts(2, 'slashEquivocation', [b.id, first, second], 'AlreadySlashed');
    await anchor.checkAccounts(ids);
  });

  it('slashes on a commit mismatch, and never on forged or matching evidence', async () => {
    const at1 = (salt: number, key = a.key) => hexOf(header(a.genesis.chainId, 1, key, { salt }).bytes);
    const committed = header(a.genesis.chainId, 1, a.key, {
      root: new Uint8Array(32).fill(1),
      min: 1000n,
      max: 1500n,
    });
    await anchor.reverts(2, 'slashCommitMismatch', [a.id, hexOf(committed.bytes)], 'CommittedHeader');
    await anchor.reverts(2, 'slashCommitMismatch', [a.id, at1(9, generateKeyPair())], 'BadOperatorSignature');
    await anchor.reverts(2, 'slashCommitMismatch', [a.id, hexOf(header(a.genesis.chainId, 2, a.key).bytes)], 'NoCommitAtHeight'); // prettier-ignore
    await anchor.checkAccounts(ids);
    // Sent without a seal (what a copier of a report in the mempool does): the chain is slashed all the same, but
    // nobody is rewarded; the whole safety share is burnt.
    const burnBefore = await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' });
    const safety = (await anchor.read<readonly unknown[]>('chains', [a.id]))[11] as bigint;
    const owedBefore = await anchor.read<bigint>('owed', [env.account(2).address]);
    await anchor.send(2, 'slashCommitMismatch', [a.id, at1(9)]);
    assert.equal((await anchor.read<readonly unknown[]>('chains', [a.id]))[3], true);
    assert.equal(
      await anchor.read<bigint>('owed', [env.account(2).address]),
      owedBefore,
      'no reward unsealed',
    );
    const burnt =
      (await env.pub.getBalance({ address: '0x000000000000000000000000000000000000dEaD' })) - burnBefore;
    assert.equal(burnt, safety);
    await anchor.checkAccounts(ids);
  });

  it('pays credits once, to a reporter that tries to re-enter', async () => {
    const c = await registerChain(anchor, { start: 10_000n, end: 20_000n, expiry: Number(await env.pub.getBlockNumber()) + 1000, committer: committer() }); // prettier-ignore
    ids.push(c.genesis.chainId);
    const hash = await env.wallet(2).deployContract({ abi: ReentrancyProbe.abi, bytecode: ReentrancyProbe.bytecode, args: [anchor.address] }); // prettier-ignore
    const receipt = await env.pub.waitForTransactionReceipt({ hash });
    const reporter = receipt.contractAddress!;
    const w = env.wallet(2);
    const send = async (functionName: 'seal' | 'report' | 'drain', args: readonly unknown[]) => {
      const tx = await w.writeContract({ address: reporter, abi: ReentrancyProbe.abi, functionName, args: args as never }); // prettier-ignore
      assert.equal((await env.pub.waitForTransactionReceipt({ hash: tx })).status, 'success');
    };
    const evidence = [c.id, hexOf(header(c.genesis.chainId, 1, c.key, { salt: 1 }).bytes), hexOf(header(c.genesis.chainId, 1, c.key, { salt: 2 }).bytes)]; // prettier-ignore
    await send('seal', [reportCommitment(reporter, 'slashEquivocation', evidence)]);
    await send('report', evidence);
    const reward = await anchor.read<bigint>('owed', [reporter]);
    assert.equal(reward, c.depositWei / 5n / 10n);
    await anchor.checkAccounts(ids);
    await send('drain', []);
    const read = (functionName: 'attempted' | 'reentered' | 'received') =>
      env.pub.readContract({ address: reporter, abi: ReentrancyProbe.abi, functionName });
    assert.equal(await read('attempted'), true);
    assert.equal(await read('reentered'), false);
    assert.equal(await read('received'), reward);
    assert.equal(await anchor.read<bigint>('owed', [reporter]), 0n);
    await anchor.checkAccounts(ids);
  });
});
