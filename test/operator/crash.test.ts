import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { signAction } from '../../src/chain/tx.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { OperatorStore } from '../../src/operator/store.js';
import type { ContractView } from '../../src/api/operator.js';
import { anchorChain, childChain, SPACE } from '../helpers/chains.js';
import { removeDir, tempDir, validateStore } from './helpers.js';

const script = join(import.meta.dirname, 'crash-child.js');
const ROUNDS = 5;
const WORKERS = 8;

interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly token: string;
  readonly height: number;
  readonly pending: number;
  readonly exited: Promise<number | null>;
}

async function spawnOperator(dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: proc.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((c) => Promise.reject(new Error(`operator exited (${c}) before serving`))),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('operator did not start in 20 s')), 20_000).unref(),
    ),
  ]);
  lines.close();
  return {
    proc,
    exited,
    ...(JSON.parse(first) as { url: string; token: string; height: number; pending: number }),
  };
}

type Op = { kind: 'create' | 'transfer'; start: bigint };

test('kill -9 in a loop while a client submits: no acknowledged transaction is lost, the chain stays valid', async (t) => {
  const dir = await tempDir('crash-');
  const top = childChain(anchorChain().genesis, 0n, SPACE);
  await writeKeyFile(join(dir, 'key.json'), top.key);
  await writeFile(join(dir, 'genesis.hex'), toHex(top.genesis.bytes));
  const [alice, bob] = [generateKeyPair(), generateKeyPair()];
  const width = 50n;
  const created = (start: bigint) =>
    makeLeaf({ start, end: start + width, owner: alice.publicKey, nonce: 0, terms: new Uint8Array(0) });
  const transfer = signAction.bind(null);

  /** Expected final owner by start, for every acknowledged request. */
  const expected = new Map<bigint, 'alice' | 'bob'>();
  /** Requests whose outcome is unknown (the process died under them). */
  let maybe: Op[] = [];
  let next = 0n;
  let acked = 0;
  let replayed = 0;
  const transferable: bigint[] = [];

  async function send(c: Child, op: Op): Promise<'ok' | 'lost'> {
    let res: Response;
    try {
      if (op.kind === 'create') {
        res = await fetch(`${c.url}/v1/contracts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
          body: JSON.stringify({
            start: op.start.toString(),
            end: (op.start + width).toString(),
            owner: toHex(alice.publicKey),
          }),
          signal: AbortSignal.timeout(10_000),
        });
      } else {
        const s = transfer(
          {
            chainId: top.genesis.chainId,
            contractHash: created(op.start).digest,
            nonce: 1,
            op: { kind: 'transfer', newOwner: bob.publicKey, terms: new Uint8Array(0) },
          },
          alice.secretKey,
        );
        res = await fetch(`${c.url}/v1/contracts/${op.start}/actions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ action: toHex(s.bytes), signature: toHex(s.signature) }),
          signal: AbortSignal.timeout(10_000),
        });
      }
      await res.text();
    } catch {
      return 'lost';
    }
    assert.ok(res.status === 202 || res.status === 200, `${op.kind} ${op.start}: HTTP ${res.status}`);
    expected.set(op.start, op.kind === 'create' ? 'alice' : 'bob');
    if (op.kind === 'create') transferable.push(op.start);
    acked++;
    return 'ok';
  }

  async function verifyAll(c: Child): Promise<void> {
    for (const [start, owner] of expected) {
      const r = await fetch(`${c.url}/v1/contracts/${start}`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(r.status, 200, `contract ${start} lost`);
      const v = (await r.json()) as ContractView;
      const key = owner === 'alice' ? alice : bob;
      assert.equal(v.contract!.owner, toHex(key.publicKey), `contract ${start}: acknowledged ${owner}`);
    }
  }

  let child: Child | null = null;
  try {
    let lastHeight = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      child = await spawnOperator(dir);
      assert.ok(child.height >= lastHeight, 'the head never goes back');
      lastHeight = child.height;
      t.diagnostic(
        `round ${round}: restarted at height ${child.height} with ${child.pending} replayed requests; ` +
          `${acked} acknowledged so far, ${maybe.length} unknown`,
      );
      // Retrying requests with unknown outcomes is safe: each is either applied now or found applied.
      if (child.pending > 0) replayed++;
      const retry = maybe;
      maybe = [];
      for (const op of retry) assert.equal(await send(child, op), 'ok');
      await verifyAll(child);
      if (round === ROUNDS) break;

      let stop = false;
      const c = child;
      const worker = async () => {
        while (!stop) {
          const op: Op =
            transferable.length > 0 && Math.random() < 0.4
              ? {
                  kind: 'transfer',
                  start: transferable.splice(Math.floor(Math.random() * transferable.length), 1)[0],
                }
              : { kind: 'create', start: (next++ * 100n) as bigint };
          if ((await send(c, op)) === 'lost') {
            maybe.push(op);
            return;
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, worker);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 450));
      child.proc.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await child.exited;
      child = null;
    }
    // Clean shutdown seals what is pending.
    child!.proc.kill('SIGTERM');
    assert.equal(await child!.exited, 0);
    child = null;
  } finally {
    if (child) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
  assert.ok(acked > 50, `only ${acked} requests acknowledged`);
  t.diagnostic(`${acked} acknowledged; ${replayed} restarts found acknowledged requests to replay`);

  const store = await OperatorStore.open(join(dir, 'operator-db'));
  try {
    const st = await validateStore(store, top.genesis);
    assert.ok(st.height > ROUNDS, `only ${st.height} blocks`);
    assert.equal((await store.logEntries()).length, 0, 'a clean stop leaves nothing in the request log');
    const leaves = await store.leaves();
    assert.equal(leaves.length, expected.size);
    for (const l of leaves) {
      const owner = expected.get(l.contract.start);
      assert.ok(owner, `unexpected contract ${l.contract.start}`);
      assert.equal(toHex(l.contract.owner), toHex((owner === 'alice' ? alice : bob).publicKey));
      assert.equal(l.contract.nonce, owner === 'alice' ? 0 : 1);
    }
  } finally {
    await store.close();
    await removeDir(dir);
  }
});
