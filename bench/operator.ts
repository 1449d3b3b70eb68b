/**
 * Operator benchmark: acknowledged transactions per second with durable (fsync) request-log writes, through the
 * service and through HTTP; block build time (seal, sign, atomic durable write, publish) for 1, 100 and 10,000
 * transactions; and for a tree of 10^6 contracts the store size on disk and the restart time (read the
 * contracts, rebuild the tree, check it against the head's state root).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import type { GenesisRecord } from '../src/chain/genesis.js';
import { ChainProducer } from '../src/chain/producer.js';
import { genesisState } from '../src/chain/state.js';
import { toHex } from '../src/crypto/hash.js';
import { generateKeyPair, type KeyPair } from '../src/crypto/keys.js';
import type { Leaf } from '../src/tree/contract.js';
import { ProbabilityTree } from '../src/tree/tree.js';
import { HttpApi } from '../src/runtime/http.js';
import { createLogger } from '../src/runtime/logger.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { addOperatorRoutes } from '../src/operator/api.js';
import { OperatorService } from '../src/operator/service.js';
import { OperatorStore } from '../src/operator/store.js';
import { benchGenesis, heading, jitteredLeaves, now, table } from './util.js';
import { benchHost } from './hosts.js';

const SPACE_END = 1n << 62n;
const log = createLogger('silent', 'bench');
const sink = { publishBlock: async () => undefined };

function genesisFor(key: KeyPair): GenesisRecord {
  return benchGenesis(key.publicKey, SPACE_END, 'bench');
}

/** n leaves with jittered starts, spread over the space (as bench/core.ts builds them). */
function leaves(n: number, owner: Uint8Array): Leaf[] {
  return jitteredLeaves(n, owner, SPACE_END).leaves;
}

/** A store holding `n` contracts and a head block that commits to them (an imported state). */
async function seededStore(dir: string, key: KeyPair, g: GenesisRecord, n: number): Promise<{ ms: number }> {
  const t0 = now();
  const ls = leaves(n, key.publicKey);
  const tree = ProbabilityTree.fromLeaves(ls);
  const s = tree.summary();
  const p = new ChainProducer(g, key.secretKey, {
    tree,
    state: { ...genesisState(g), stateRoot: s.digest, stateMin: s.min, stateMax: s.max },
  });
  const { block } = p.seal(Date.now());
  const store = await OperatorStore.open(dir);
  await store.importState(g, ls, { height: 1, block: block.bytes, signed: block.signed });
  await store.close();
  return { ms: now() - t0 };
}

async function openService(
  dir: string,
  key: KeyPair,
  g: GenesisRecord,
  blockIntervalMs: number,
  maxPending = 10_000,
): Promise<OperatorService> {
  const store = await OperatorStore.open(dir);
  const svc = await OperatorService.open({
    genesis: g,
    key,
    store,
    sink,
    log,
    registry: new Registry(),
    blockIntervalMs,
    maxPending,
  });
  svc.start();
  return svc;
}

/** Runs `submit(i)` with `concurrency` requests in flight for `ms`; returns acknowledged requests per second. */
async function sustained(
  concurrency: number,
  ms: number,
  submit: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = now();
  const worker = async () => {
    while (now() - t0 < ms) {
      await submit(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (done * 1000) / (now() - t0);
}

/** The start of the first of `leaves(n)`. */
function firstStart(n: number): bigint {
  const width = SPACE_END / BigInt(n + 1);
  const seed = (12345 * 1103515245 + 12345) & 0x7fffffff;
  return BigInt(seed) % (width / 4n);
}

const TOKEN = 'bench-token-0000000000000000000000000000';

interface ClientJob {
  readonly port: number;
  readonly concurrency: number;
  readonly ms: number;
  readonly base: string;
  readonly owner: string;
}

/** Keep-alive HTTP clients posting sales for `ms`; returns acknowledged requests per second. */
async function runClient(job: ClientJob): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const stride = 1n << 20n;
  const base = BigInt(job.base);
  let next = 0;
  return sustained(job.concurrency, job.ms, () => {
    const start = base + BigInt(next++) * stride;
    const body = JSON.stringify({ start: start.toString(), end: (start + 10n).toString(), owner: job.owner });
    return new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: benchHost(1),
          port: job.port,
          path: '/v1/contracts',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 202 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }).finally(() => agent.destroy());
}

function httpClient(job: ClientJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { role: 'bench-http-client', job } });
    w.once('message', (tps: number) => resolve(tps));
    w.once('error', reject);
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'bench-http-client') {
  const tps = await runClient((workerData as { job: ClientJob }).job);
  parentPort!.postMessage(tps);
}

export async function benchOperator(): Promise<void> {
  // As in an operator process (src/app/node.ts): native hashing and signature checks.
  const crypto = installNativeCrypto();
  console.log(`crypto backend: ${crypto.backend}`);
  const root = await mkdtemp(join(tmpdir(), 'bench-operator-'));
  const key = generateKeyPair();
  const g = genesisFor(key);
  const owner = generateKeyPair().publicKey;
  const stride = 1n << 20n;
  try {
    heading(
      'operator: sustained acknowledged transactions (creates; each durable in the request log before its answer)',
    );
    const rows: Record<string, string | number>[] = [];
    {
      const svc = await openService(join(root, 'svc'), key, g, 250);
      let base = 0n;
      for (const c of [1, 16, 256]) {
        const b = base;
        const tps = await sustained(c, 2500, (i) =>
          svc.create({ start: b + BigInt(i) * stride, end: b + BigInt(i) * stride + 10n, owner }),
        );
        base += 1n << 50n;
        rows.push({ path: 'service', 'in flight': c, 'tx/s': tps, 'blocks so far': svc.head.height });
      }
      await svc.stop();
    }
    {
      const svc = await openService(join(root, 'http'), key, g, 250);
      const api = new HttpApi(log);
      addOperatorRoutes(api, svc, { token: TOKEN });
      const addr = await api.start(benchHost(1), 0);
      let base = 0n;
      for (const c of [1, 16, 64]) {
        // The client runs in a worker thread, so that it does not share the server's event loop.
        const tps = await httpClient({
          port: addr.port,
          concurrency: c,
          ms: 2500,
          base: base.toString(),
          owner: toHex(owner),
        });
        base += 1n << 50n;
        rows.push({ path: 'HTTP', 'in flight': c, 'tx/s': tps, 'blocks so far': svc.head.height });
      }
      await api.stop();
      await svc.stop();
    }
    table(rows);

    heading(
      'operator: block build on a tree of 100,000 contracts (admission = producer checks + log append)',
    );
    const brows: Record<string, string | number>[] = [];
    {
      const dir = join(root, 'blocks');
      await seededStore(dir, key, g, 100_000);
      const svc = await openService(dir, key, g, 3_600_000, 20_000);
      // Creates go into the free space after the seeded contracts' halves.
      const width = SPACE_END / 100_001n;
      let i = 0;
      for (const n of [1, 100, 10_000]) {
        const t0 = now();
        const acks: Promise<unknown>[] = [];
        for (let k = 0; k < n; k++, i++) {
          const s = BigInt(i) * width + width / 2n + width / 4n;
          acks.push(svc.create({ start: s, end: s + 1n, owner }));
        }
        await Promise.all(acks);
        const t1 = now();
        const sealed = await svc.sealNow();
        const t2 = now();
        brows.push({
          txs: n,
          'admit ms': t1 - t0,
          'admit us/tx': ((t1 - t0) * 1000) / n,
          'seal+write+publish ms': t2 - t1,
          'block KiB': sealed.block.bytes.length / 1024,
        });
      }
      await svc.stop();
    }
    table(brows);

    heading(
      'operator: 10^6 contracts: store size on disk and restart (read contracts, rebuild tree, check root)',
    );
    {
      const dir = join(root, 'million');
      const seeded = await seededStore(dir, key, g, 1_000_000);
      const store0 = await OperatorStore.open(dir);
      const size = await store0.sizeOnDisk();
      await store0.close();
      const rss0 = process.memoryUsage().rss;
      const t0 = now();
      const store = await OperatorStore.open(dir);
      const t1 = now();
      const svc = await OperatorService.open({
        genesis: g,
        key,
        store,
        sink,
        log,
        blockIntervalMs: 3_600_000,
      });
      const t2 = now();
      svc.start();
      // The first proof hashes the committed tree (built lazily beside the producer's).
      svc.contractView(firstStart(1_000_000));
      const t3 = now();
      const rss1 = process.memoryUsage().rss;
      await svc.stop();
      table([
        {
          contracts: 1_000_000,
          'seed s': seeded.ms / 1000,
          'store MiB': size / 2 ** 20,
          'bytes/contract': size / 1_000_000,
          'open s': (t1 - t0) / 1000,
          'restart s': (t2 - t1) / 1000,
          'first proof s': (t3 - t2) / 1000,
          'rss +MiB': (rss1 - rss0) / 2 ** 20,
        },
      ]);
    }
  } finally {
    installNativeCrypto('pure');
    await rm(root, { recursive: true, force: true });
  }
}
