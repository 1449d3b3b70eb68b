/**
 * What a proof check costs a validator's API (issue 27 item 5), with and without the per-client budgets: CPU per
 * request for a current path and for a path 1,024 blocks old (a replay through every stored block), and a flood of
 * old-path checks from one client, 8 at a time: requests served and refused, CPU spent, and the RSS it added.
 * The validator runs in this process, so CPU and RSS are the server's (plus the client's small share).
 */
import { sortition } from '../src/gen/proto.js';
import { HttpApi } from '../src/runtime/http.js';
import { ClientBudgets } from '../src/runtime/budget.js';
import { createLogger } from '../src/runtime/logger.js';
import { addValidatorRoutes } from '../src/node/api.js';
import { DEFAULT_API_BURST, DEFAULT_API_RATE } from '../src/app/options.js';
import { generateKeyPair } from '../src/crypto/keys.js';
import { toHex } from '../src/crypto/hash.js';
import { pathToProto, type Path } from '../src/tree/path.js';
import { WATCH_REPLAY_WINDOW } from '../src/node/watches.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { anchorChain, childChain, SPACE } from '../test/helpers/chains.js';
import { testNet } from '../test/helpers/net.js';
import { heading, table } from './util.js';

const hexPath = (p: Path) => toHex(sortition.v1.Path.encode(pathToProto(p)).finish());

interface Flood {
  served: number;
  refused: number;
  cpuMs: number;
  wallMs: number;
  rssAddedMb: number;
}

/** `total` requests, `parallel` at a time, while RSS is sampled; CPU is the process's (user + system). */
async function flood(send: () => Promise<number>, total: number, parallel: number): Promise<Flood> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let served = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        const status = await send();
        if (status === 200) served++;
        else if (status === 429) refused++;
        else throw new Error(`unexpected HTTP ${status}`);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    served,
    refused,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    rssAddedMb: (peak - rss0) / 2 ** 20,
  };
}

export async function benchApi(): Promise<void> {
  const backend = installNativeCrypto('libsodium').backend;
  heading(
    `api: proof checks on a validator's API, ${WATCH_REPLAY_WINDOW} stored blocks of one transaction, with and ` +
      `without the budget per client (${DEFAULT_API_RATE}/s, burst ${DEFAULT_API_BURST}, a fresh one per row), ${backend}`,
  );
  const net = await testNet();
  const apis: HttpApi[] = [];
  try {
    const anchor = anchorChain();
    const top = childChain(anchor.genesis, 0n, SPACE, 'top');
    const chain = top.genesis.chainId;
    const node = await net.start({
      ip: '127.0.0.46',
      genesis: [anchor.genesis, top.genesis],
      track: [chain],
      anchorId: anchor.genesis.chainId,
    });
    const p = top.producer;
    const owner = generateKeyPair();
    p.create({ start: 1000n, end: 2000n, owner: owner.publicKey });
    await node.publishBlock(chain, p.seal(1).block.bytes);
    const old = hexPath(p.tree.memberPath(1000n));
    // Every later block changes the root: the height-1 path is the oldest still brought forward (1,023 blocks).
    for (let h = 2; h <= WATCH_REPLAY_WINDOW; h++) {
      p.create({ start: 10_000n + BigInt(h) * 10n, end: 10_005n + BigInt(h) * 10n, owner: owner.publicKey });
      await node.publishBlock(chain, p.seal(1).block.bytes);
    }
    const current = hexPath(p.tree.memberPath(1000n));
    /** A new API on the node: without a budget, or with a fresh one (a full bucket). */
    const serve = async (budget: boolean): Promise<string> => {
      const api = new HttpApi(
        createLogger('silent', 'api'),
        undefined,
        budget
          ? { table: new ClientBudgets({ perSecond: DEFAULT_API_RATE, burst: DEFAULT_API_BURST }) }
          : undefined,
      );
      addValidatorRoutes(api, node, net.registryOf(node));
      apis.push(api);
      return `http://127.0.0.1:${(await api.start('127.0.0.1', 0)).port}`;
    };
    const check = (url: string, path: string) => async () => {
      const r = await fetch(`${url}/v1/chains/${toHex(chain)}/proofs/check`, {
        method: 'POST',
        body: JSON.stringify({ path }),
      });
      const body = (await r.json()) as { status?: string };
      if (r.status === 200 && body.status !== (path === old ? 'outdated' : 'current'))
        throw new Error(`the path was not judged as expected: ${JSON.stringify(body)}`);
      return r.status;
    };
    const plain = await serve(false);
    // Warm up both kinds (JIT, store caches) before measuring.
    await flood(check(plain, current), 20, 1);
    await flood(check(plain, old), 2, 1);

    const rows: Record<string, string | number>[] = [];
    const row = (what: string, f: Flood) =>
      rows.push({
        request: what,
        served: f.served,
        refused: f.refused,
        'CPU ms / request': (f.cpuMs / (f.served + f.refused)).toFixed(2),
        'CPU ms total': f.cpuMs.toFixed(0),
        'wall ms': f.wallMs.toFixed(0),
        'RSS added MB': f.rssAddedMb.toFixed(1),
      });
    row('current path, one at a time, no budget', await flood(check(plain, current), 200, 1));
    row(
      `old path (${WATCH_REPLAY_WINDOW - 1} blocks), one at a time, no budget`,
      await flood(check(plain, old), 16, 1),
    );
    row('old path, 32 from one client, 8 at once, no budget', await flood(check(plain, old), 32, 8));
    row('old path, 32 from one client, 8 at once, budget', await flood(check(await serve(true), old), 32, 8));
    row(
      'current path, 800 from one client, 8 at once, no budget',
      await flood(check(plain, current), 800, 8),
    );
    row(
      'current path, 800 from one client, 8 at once, budget',
      await flood(check(await serve(true), current), 800, 8),
    );
    table(rows);
  } finally {
    for (const api of apis) await api.stop();
    await net.close();
  }
}
