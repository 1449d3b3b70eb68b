/**
 * An operator of a top-level chain on the EVM anchor, in its own process: it registers with a deposit, commits
 * its head every N blocks, and, SIGKILLed while a commit waits in the mempool (or after the mempool lost it),
 * resumes that very transaction: every height is committed once and no commit transaction is sent twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { toHex, type Address, type Hex } from 'viem';
import { ANCHOR_ABI } from '../../src/evm/anchor.js';
import { useAnvil, type EvmEnv } from './helpers.js';
import { newAnchor } from './anchor-helpers.js';
import { defer } from '../helpers/cleanup.js';

const env = useAnvil();
const script = join(import.meta.dirname, 'operator-child.js');

/** anvil's dev account 1's key (public: for local chains only). */
function devKey(env: EvmEnv, i: number): Hex {
  return toHex(env.account(i).getHdKey().privateKey!);
}

interface Child {
  readonly proc: ChildProcess;
  readonly lines: Interface;
  readonly first: { chainId: Hex; height: number };
  readonly exited: Promise<number | null>;
  next(): Promise<Record<string, unknown>>;
}

async function spawnOperator(dir: string, address: Address, key: Hex, every: number): Promise<Child> {
  const proc = spawn(process.execPath, [script, dir, env.anvil.rpcUrl, address, key, String(every)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: proc.stdout! });
  const queue: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  lines.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else queue.push(l);
  });
  const next = async (): Promise<Record<string, unknown>> => {
    const line =
      queue.shift() ??
      (await Promise.race([
        new Promise<string>((resolve) => waiting.push(resolve)),
        exited.then((c) => Promise.reject(new Error(`operator exited (${c})`))),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('operator did not answer in 30 s')), 30_000).unref(),
        ),
      ]));
    return JSON.parse(line) as Record<string, unknown>;
  };
  const first = (await next()) as { chainId: Hex; height: number };
  return { proc, lines, first, exited, next };
}

async function create(c: Child): Promise<number> {
  c.proc.stdin!.write('create\n');
  return (await c.next()).height as number;
}

/** Waits until the operator has broadcast the commit of `height` and waits for its receipt. */
async function awaitingReceipt(c: Child, height: number): Promise<void> {
  await until(`commit:${height} in flight`, async () => {
    c.proc.stdin!.write('status\n');
    return (await c.next()).inFlight === `commit:${height}`;
  });
}

async function kill9(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exited;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function committedHeights(address: Address, chainId: Hex): Promise<number[]> {
  const events = await env.pub.getContractEvents({
    address,
    abi: ANCHOR_ABI,
    eventName: 'Committed',
    args: { chainId },
    fromBlock: 0n,
    toBlock: 'latest',
  });
  return events.map((e) => Number(e.args.height));
}

async function onChainHeight(address: Address, chainId: Hex): Promise<number> {
  const c = await env.pub.readContract({ address, abi: ANCHOR_ABI, functionName: 'chains', args: [chainId] });
  return Number(c[8]);
}

test('an operator registers with its deposit and commits its head every N blocks', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-op-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const from = env.account(1).address;
  const nonce0 = await env.pub.getTransactionCount({ address: from });
  const c = await spawnOperator(dir, anchor.address, devKey(env, 1), 2);
  defer(t, () => kill9(c));
  const chainId = `0x${c.first.chainId}` as Hex;
  const chain = await env.pub.readContract({
    address: anchor.address,
    abi: ANCHOR_ABI,
    functionName: 'chains',
    args: [chainId],
  });
  assert.equal(chain[0], from, 'the committer is the operator’s EVM account');
  assert.equal(chain[2], 1, 'active');
  assert.equal(chain[10], 2_000_000n * 10n ** 9n, 'the deposit (gwei) is locked');
  const committed = (h: number) =>
    until(`commit at height ${h}`, async () => (await onChainHeight(anchor.address, chainId)) >= h);
  await create(c);
  await create(c);
  await committed(2);
  await create(c);
  await create(c);
  await committed(4);
  assert.deepEqual(await committedHeights(anchor.address, chainId), [2, 4], 'every second block');
  assert.equal(await env.pub.getTransactionCount({ address: from }), nonce0 + 3, 'register + 2 commits');
});

test('SIGKILL while a commit is pending: after the restart it is mined once, never sent twice or lost', async (t) => {
  const anchor = await newAnchor(env);
  const dir = await mkdtemp(join(tmpdir(), 'evm-op-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  defer(t, () => env.test.setAutomine(true));
  const key = devKey(env, 2);
  const from = env.account(2).address;
  const nonce0 = await env.pub.getTransactionCount({ address: from });
  let c = await spawnOperator(dir, anchor.address, key, 1);
  const chainId = `0x${c.first.chainId}` as Hex;
  await create(c);
  await until('commit 1', async () => (await onChainHeight(anchor.address, chainId)) === 1);
  const inMempool = () =>
    until('a commit in the mempool', async () => {
      const [pending, mined] = await Promise.all([
        env.pub.getTransactionCount({ address: from, blockTag: 'pending' }),
        env.pub.getTransactionCount({ address: from, blockTag: 'latest' }),
      ]);
      return pending > mined;
    });

  // 1. Killed with its commit of height 2 in the mempool; restarted before it is mined.
  await env.test.setAutomine(false);
  await create(c);
  await inMempool();
  await kill9(c);
  c = await spawnOperator(dir, anchor.address, key, 1);
  await awaitingReceipt(c, 2);
  await env.test.mine({ blocks: 1 });
  await until('commit 2', async () => (await onChainHeight(anchor.address, chainId)) === 2);

  // 2. Killed with its commit of height 3 in the mempool, which then loses it: the restart sends the same bytes.
  await create(c);
  await inMempool();
  await kill9(c);
  await env.test.request({ method: 'anvil_dropAllTransactions' as never, params: [] as never });
  assert.equal(
    await env.pub.getTransactionCount({ address: from, blockTag: 'pending' }),
    await env.pub.getTransactionCount({ address: from, blockTag: 'latest' }),
    'the mempool lost the commit',
  );
  c = await spawnOperator(dir, anchor.address, key, 1);
  defer(t, () => kill9(c));
  await awaitingReceipt(c, 3);
  await inMempool();
  await env.test.mine({ blocks: 1 });
  await until('commit 3', async () => (await onChainHeight(anchor.address, chainId)) === 3);
  await env.test.setAutomine(true);

  // Mine whatever else it might have sent, then count.
  await env.test.mine({ blocks: 2 });
  assert.deepEqual(await committedHeights(anchor.address, chainId), [1, 2, 3], 'each height committed once');
  assert.equal(
    await env.pub.getTransactionCount({ address: from }),
    nonce0 + 4,
    'register + 3 commits: no commit transaction was sent twice',
  );
});
