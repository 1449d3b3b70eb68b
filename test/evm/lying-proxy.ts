/**
 * An attacker's JSON-RPC endpoint: an HTTP proxy in front of a real anvil that forwards every call and lets a test
 * rewrite the answer of any method (`lie`), hold it unanswered (`stall`), or answer garbage (`garbage`). Listens on
 * its own loopback address (127.0.4.x) so its traffic is told apart from the honest endpoint's.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { defer } from '../helpers/cleanup.js';

export interface RpcCall {
  readonly id: number | string;
  readonly method: string;
  readonly params: readonly unknown[];
}

/** Rewrites a method's real result (undefined: leave it). */
export type Lie = (result: unknown, call: RpcCall) => unknown;

export interface LyingProxy {
  readonly url: string;
  /** Per method: how its answers are rewritten. */
  readonly lies: Map<string, Lie>;
  /** Methods left unanswered (held open until the proxy closes). */
  readonly stall: Set<string>;
  /** Methods answered with bytes that are not JSON. */
  readonly garbage: Set<string>;
  /** Calls seen, by method. */
  readonly calls: Map<string, number>;
}

export async function lyingProxy(t: TestContext, target: string, host: string): Promise<LyingProxy> {
  const held = new Set<ServerResponse>();
  const p: Omit<LyingProxy, 'url'> = {
    lies: new Map(),
    stall: new Set(),
    garbage: new Set(),
    calls: new Map(),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const call = JSON.parse(body.toString()) as RpcCall;
        p.calls.set(call.method, (p.calls.get(call.method) ?? 0) + 1);
        if (p.stall.has(call.method)) {
          held.add(res);
          return;
        }
        if (p.garbage.has(call.method)) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"jsonrpc":"2.0","id":');
          return;
        }
        const r = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const real = (await r.json()) as { result?: unknown };
        const lie = p.lies.get(call.method);
        const out =
          lie && 'result' in real ? { ...real, result: lie(real.result, call) ?? real.result } : real;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  defer(
    t,
    () =>
      new Promise<void>((resolve) => {
        for (const r of held) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { ...p, url: `http://${host}:${(server.address() as AddressInfo).port}` };
}
