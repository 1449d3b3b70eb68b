import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { decodeBlock } from '../../src/chain/block.js';
import type { GenesisRecord } from '../../src/chain/genesis.js';
import { genesisState, type ChainState } from '../../src/chain/state.js';
import { validateBlock, type ValidationResult } from '../../src/chain/validate.js';
import { toHex } from '../../src/crypto/hash.js';
import type { KeyPair } from '../../src/crypto/keys.js';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger, type Logger } from '../../src/runtime/logger.js';
import { addOperatorRoutes } from '../../src/operator/api.js';
import {
  prepareOperator,
  startOperator,
  type OperatorCliOptions,
  type RunningOperator,
} from '../../src/app/operator.js';
import { faultyPublishing, type Fault } from '../../src/operator/faults.js';
import { OperatorService, type OperatorServiceOptions } from '../../src/operator/service.js';
import { OperatorStore } from '../../src/operator/store.js';
import type { BlockSink, PublishVerdict } from '../../src/operator/types.js';

export const quiet: Logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');

export interface Published {
  readonly chainId: string;
  readonly bytes: Uint8Array;
  readonly raw: boolean;
  readonly height: number;
  /** Validation against the sink's view of the chain (null for raw blocks and untracked chains). */
  readonly result: ValidationResult | null;
}

/** The node, as far as an operator can tell: validates what is published (except raw blocks) and keeps it. */
export class MemorySink implements BlockSink {
  readonly published: Published[] = [];
  /** What meshPeers answers: a test sets 0 to play an operator nobody listens to yet. */
  mesh = 1;

  meshPeers(): number {
    return this.mesh;
  }
  private readonly states = new Map<string, ChainState>();

  track(g: GenesisRecord): this {
    if (!this.states.has(toHex(g.chainId))) this.states.set(toHex(g.chainId), genesisState(g));
    return this;
  }

  state(chainId: Uint8Array): ChainState | undefined {
    return this.states.get(toHex(chainId));
  }

  async publishBlock(
    chainId: Uint8Array,
    bytes: Uint8Array,
    opts: { raw?: boolean } = {},
  ): Promise<PublishVerdict> {
    const k = toHex(chainId);
    const height = decodeBlock(bytes).signed.header.height;
    const st = this.states.get(k);
    if (opts.raw || !st) {
      this.published.push({ chainId: k, bytes, raw: opts.raw === true, height, result: null });
      return { result: 'accept' };
    }
    const r = validateBlock(st, bytes);
    this.published.push({ chainId: k, bytes, raw: false, height, result: r });
    if (!r.ok) return { result: 'reject', code: r.error.code };
    this.states.set(k, r.state);
    return { result: 'accept' };
  }

  rejected(): Published[] {
    return this.published.filter((p) => p.result !== null && !p.result.ok);
  }
}

export async function tempDir(prefix = 'op-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Polls `cond` until it holds or the deadline passes. */
export async function waitFor<T>(
  cond: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly json: T;
}

export async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  rawBody?: string,
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, {
    method,
    headers,
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

/** One operator service on its own store and HTTP API at 127.0.0.1 (port 0). */
export interface TestChainNode {
  readonly svc: OperatorService;
  readonly api: HttpApi;
  readonly url: string;
  readonly sink: MemorySink;
  readonly registry: Registry;
  readonly token: string;
  readonly dir: string;
  stop(opts?: { seal?: boolean }): Promise<void>;
}

export async function startChainNode(
  genesis: GenesisRecord,
  key: KeyPair,
  extra: Partial<OperatorServiceOptions> & {
    dir?: string;
    sink?: MemorySink;
    faults?: readonly Fault[];
  } = {},
): Promise<TestChainNode> {
  const { faults, ...options } = extra;
  const dir = extra.dir ?? (await tempDir());
  const sink = extra.sink ?? new MemorySink();
  sink.track(genesis);
  const registry = new Registry();
  const store = await OperatorStore.open(join(dir, 'db'));
  // Fault injection is wrapped around the publishing as the app layer does it.
  const publishing = faults?.length
    ? faultyPublishing({ faults, genesis, secretKey: key.secretKey, sink, log: quiet })
    : undefined;
  const svc = await OperatorService.open({
    genesis,
    key,
    store,
    sink,
    log: quiet,
    registry,
    blockIntervalMs: 60_000,
    publishing,
    ...options,
  }).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  const api = new HttpApi(quiet);
  const token = 'test-token-0123456789abcdef0123456789abcdef';
  addOperatorRoutes(api, svc, { token });
  const addr = await api.start('127.0.0.1', 0);
  svc.start();
  return {
    svc,
    api,
    url: `http://127.0.0.1:${addr.port}`,
    sink,
    registry,
    token,
    dir,
    async stop(opts) {
      await api.stop();
      await svc.stop(opts);
    },
  };
}

/** An operator built the way the CLI builds it (prepareOperator + startOperator). */
export interface TestOperator {
  readonly op: RunningOperator;
  readonly url: string;
  readonly sink: MemorySink;
  readonly api: HttpApi;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startCliOperator(
  opts: Partial<OperatorCliOptions> & { dataDir: string },
  mode: {
    anchor?: boolean;
    sink?: MemorySink;
    /** Return before the parent's contract holds the chain (by default the helper waits for op.opened). */
    early?: boolean;
  } = {},
): Promise<TestOperator> {
  const api = new HttpApi(quiet);
  const addr = await api.start('127.0.0.1', 0);
  const url = `http://127.0.0.1:${addr.port}`;
  const prepared = await prepareOperator(
    { blockIntervalMs: 50, ...opts },
    { log: quiet, anchor: mode.anchor },
  );
  const sink = (mode.sink ?? new MemorySink()).track(prepared.genesis);
  const op = await startOperator(prepared, { api, registry: new Registry(), log: quiet, sink });
  // A nested chain takes requests once its parent holds it (NOT_ANCHORED before): tests sell right after start.
  if (!mode.early) await op.opened;
  return {
    op,
    url,
    sink,
    api,
    dir: opts.dataDir,
    async stop() {
      await op.stop();
      await api.stop();
    },
  };
}

/** Validates every block of a store from genesis; returns the final state. */
export async function validateStore(store: OperatorStore, genesis: GenesisRecord): Promise<ChainState> {
  let st = genesisState(genesis);
  for await (const { height, bytes } of store.blocks(1)) {
    const r = validateBlock(st, bytes);
    if (!r.ok) throw new Error(`stored block ${height} is invalid: ${r.error.code} ${r.error.message}`);
    st = r.state;
  }
  return st;
}
