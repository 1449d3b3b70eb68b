/**
 * The app layer's node process, what every process shares (validator, operator, anchor): from the resolved
 * network and tracking options (src/cli/network-options.ts) it wires the validator, the HTTP API with /metrics,
 * the EVM anchor's watcher and automatic settler, logs, and a clean shutdown on SIGINT/SIGTERM.
 */
import { bytesEqual } from '../codec/bytes.js';
import { readFile } from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { decodeGenesis, type GenesisRecord } from '../chain/genesis.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { addValidatorRoutes } from '../node/api.js';
import { ValidatorNode } from '../node/validator.js';
import { baselineJudge } from './baseline.js';
import { DEFAULT_WATCH_MEMORY_MB, decodePathBytes, WatchServiceError } from '../node/watches.js';
import { boolOption, ConfigError, intOption, listOption } from '../runtime/config.js';
import { HttpApi } from '../runtime/http.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { installNativeCrypto } from '../runtime/native-crypto.js';
import { abortOnSignal, onShutdown } from '../runtime/shutdown.js';
import {
  apiListenFailure,
  DEFAULT_API_BURST,
  DEFAULT_API_RATE,
  readManifest,
  startFailure,
  watchSpec,
  type WatchSpec,
} from './options.js';
import { ClientBudgets } from '../runtime/budget.js';
import { join } from 'node:path';
import { getAddress, isAddress, type Address } from 'viem';
import { addEvmAnchorRoute, addWatchtowerRoutes } from '../evm/api.js';
import { fileJournal } from '../evm/journal.js';
import { EvmAnchor } from '../evm/node-anchor.js';
import { EvmEndpoints, parseCheckpoint } from '../evm/endpoints.js';
import { ProvenAnchor } from '../evm/proven.js';
import { AnchorWatcher, DEFAULT_DATA_REQUESTS, DEFAULT_UNSEEN_GRACE_MS } from '../evm/watcher.js';
import { Watchtower } from '../evm/watchtower.js';
import { watchListSource } from '../evm/settle.js';
import { EvmSettler, type SettlerOptions } from '../evm/settler.js';
import { readKeyFile } from '../runtime/keyfile.js';
import { addWebRoutes, loadWebPage } from '../runtime/web.js';

export function evmAddress(v: string, what: string): Address {
  if (!isAddress(v)) throw new ConfigError(`${what} must be a 0x address, got ${v}`);
  return getAddress(v);
}

export interface NodeProcessOptions {
  dataDir: string;
  apiHost: string;
  apiPort: string | number;
  logLevel: string;
  listen: string[] | string;
  announce?: string[] | string;
  bootstrap?: string[] | string;
  track?: string[] | string;
  anchor?: string;
  genesis?: string[] | string;
  join?: string;
  watch?: string[] | string;
  alertUrl?: string;
  maxWatches?: string | number;
  watchMemoryMb?: string | number;
  syncIntervalMs: string | number;
  healthMaxLag: string | number;
  metricsChains?: string | number;
  monitorIntervalMs: string | number;
  crypto?: string;
  benchAcceptAll?: boolean;
  benchSignaturesOnly?: boolean;
  devnet?: boolean | string;
  /** The first endpoint is read for logs and sends transactions; all of them vote on block hashes. */
  evmRpc?: string | string[];
  evmQuorum?: string | number;
  evmCheckpoint?: string;
  drandUrl?: string;
  /** False with `--no-dht`. */
  dht?: boolean;
  /** Serve the holder page (dist/web) at / on the HTTP API. */
  web?: boolean | string;
  anchorAddress?: string;
  evmKey?: string;
  confirmations?: string | number;
  evmPollMs?: string | number;
  unseenGraceMs?: string | number;
  dataRequests?: string | number;
  /** Per-client API budget: requests per second (0: no limit) and the most at once. */
  apiRate?: string | number;
  apiBurst?: string | number;
  settleKey?: string;
  settlePayout?: string;
}

export interface NodeProcess {
  readonly node: ValidatorNode;
  readonly api: HttpApi;
  readonly registry: Registry;
  readonly log: Logger;
  readonly apiUrl: string;
  /** Stops in reverse order; `before` runs first (an operator finishing its block). */
  onStop(before: () => Promise<void>): void;
  stop(): Promise<void>;
}

interface ChainRef {
  readonly chainId: Uint8Array;
  readonly genesis?: GenesisRecord;
}

async function readGenesisFile(path: string): Promise<GenesisRecord> {
  const text = (await readFile(path, 'utf8')).trim();
  const hex = text.startsWith('{') ? (JSON.parse(text) as { genesis?: string }).genesis : text;
  if (!hex) throw new ConfigError(`${path}: expected a "genesis" hex field`);
  return decodeGenesis(fromHex(hex, path));
}

/** A chain id in hex, or an operator/anchor API URL whose /v1/chain names the chain (retried until up). */
async function resolveChain(ref: string, log: Logger, signal: AbortSignal): Promise<ChainRef> {
  if (!/^https?:\/\//.test(ref)) return { chainId: fromHex(ref, 'chain id') };
  const url = ref.replace(/\/$/, '') + '/v1/chain';
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
      if (res.ok) {
        const j = (await res.json()) as { chainId?: string; genesis?: string };
        if (!j.genesis) throw new Error('no genesis in the answer');
        const genesis = decodeGenesis(fromHex(j.genesis, 'genesis'));
        if (j.chainId && j.chainId !== toHex(genesis.chainId))
          throw new Error('chain id does not match its genesis');
        return { chainId: genesis.chainId, genesis };
      }
      throw new Error(`HTTP ${res.status}`);
    } catch (e) {
      if (signal.aborted) throw e;
      if (attempt % 10 === 0) log.info({ url, err: (e as Error).message }, 'waiting for chain API');
      await new Promise((r) => setTimeout(r, Math.min(3000, 200 * (attempt + 1))));
    }
  }
}

/** Reads a contract's chain and current proof from its operator; undefined until the contract is in a block. */
async function fetchWatch(
  url: string,
): Promise<{ chainId: Uint8Array; path: Uint8Array; height: number } | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const j = (await res.json()) as { chainId?: string; proof?: { path?: string; height?: number } | null };
  if (!j.chainId || !j.proof?.path) return undefined;
  return {
    chainId: fromHex(j.chainId, 'chainId'),
    path: fromHex(j.proof.path, 'path'),
    height: j.proof.height ?? 0,
  };
}

/**
 * Adds the configured watches once their chains are tracked and the node has reached the proof's height, retrying
 * (each second, for up to ten minutes) while the node is still catching up. A watch already kept is left as it is.
 */
async function addWatches(
  node: ValidatorNode,
  specs: WatchSpec[],
  log: Logger,
  stopped: () => boolean,
): Promise<void> {
  for (const spec of specs) {
    const deadline = Date.now() + 600_000;
    for (let attempt = 0; !stopped(); attempt++) {
      try {
        const got = spec.url
          ? await fetchWatch(spec.url)
          : { chainId: spec.chainId!, path: spec.path!, height: 0 };
        const height = got && (node.tracker.state(got.chainId)?.height ?? -1);
        if (got && height !== undefined && height >= got.height) {
          const r = await node.watches.add(got.chainId, decodePathBytes(got.path));
          log.info(
            { watch: r.watch.id, status: r.watch.status, height: r.watch.height },
            'watch from config',
          );
          break;
        }
      } catch (e) {
        const code = (e as { code?: string }).code;
        const retry =
          !(e instanceof WatchServiceError) || code === 'UNKNOWN_CHAIN' || code === 'UNKNOWN_ROOT';
        if (!retry || Date.now() > deadline) {
          log.error({ watch: spec.text, code, err: (e as Error).message }, 'cannot watch contract');
          break;
        }
        if (attempt % 10 === 0)
          log.info({ watch: spec.text, err: (e as Error).message }, 'waiting to watch contract');
      }
      if (Date.now() > deadline) {
        log.error({ watch: spec.text }, 'cannot watch contract: its proof never matched this node');
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * What a newcomer needs to see: a warning while the node has no peers or tracks no chain (each 30 s), and head
 * progress once a minute.
 */
function monitor(node: ValidatorNode, log: Logger, warnMs: number): () => void {
  const last = new Map<string, number>();
  const warn = setInterval(() => {
    const peers = node.connectedPeers().length;
    const chains = node.tracker.trackedIds().length;
    if (peers === 0)
      log.warn(
        `no peers after ${warnMs / 1000} s: check --bootstrap (or --join) and that the peers are reachable`,
      );
    if (chains === 0)
      log.warn(
        `no tracked chain after ${warnMs / 1000} s: check --track and --anchor, and that peers know the genesis`,
      );
  }, warnMs);
  const progress = setInterval(() => {
    const chains = node.tracker.status().map((c) => {
      const delta = c.height - (last.get(c.chainId) ?? 0);
      last.set(c.chainId, c.height);
      return {
        chain: c.name || c.chainId.slice(0, 16),
        height: c.height,
        perMinute: delta,
        faulty: c.faulty,
      };
    });
    log.info({ peers: node.connectedPeers().length, watches: node.watches.size, chains }, 'heads');
  }, 2 * warnMs);
  warn.unref();
  progress.unref();
  return () => {
    clearInterval(warn);
    clearInterval(progress);
  };
}

export async function startNodeProcess(
  opts: NodeProcessOptions,
  name: string,
  extraTrack: GenesisRecord[] = [],
): Promise<NodeProcess> {
  const manifest = opts.join ? await readManifest(opts.join) : null;
  // A devnet on an EVM node: its manifest names the RPC and the contract, which a joining node trusts as its anchor.
  const evmEntry = manifest?.find((m) => m.role === 'evm');
  const o: NodeProcessOptions =
    evmEntry && !opts.evmRpc && !opts.anchorAddress && !opts.anchor
      ? { ...opts, evmRpc: evmEntry.rpcUrl, anchorAddress: evmEntry.anchorAddress }
      : opts;
  const log = createLogger(o.logLevel, name);
  const crypto = installNativeCrypto(o.crypto === 'openssl' ? 'openssl' : 'libsodium');
  if (crypto.fallback)
    log.warn({ backend: crypto.backend, reason: crypto.fallback }, 'crypto backend fallback');
  else log.info({ backend: crypto.backend }, 'crypto backend');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Which backend judges blocks: a node that fell back to OpenSSL judges at about half the speed.
  new Gauge({
    name: 'sortition_crypto_backend_info',
    help: 'The hashing and signature backend in use (1 for the one installed)',
    labelNames: ['backend'],
    registers: [registry],
  }).set({ backend: crypto.backend }, 1);
  const abort = new AbortController();
  const started = abortOnSignal(abort);
  const genesis = await Promise.all(listOption(o.genesis).map(readGenesisFile));
  const bootstrap = [...listOption(o.bootstrap), ...(manifest ?? []).flatMap((m) => m.p2p ?? [])];
  const anchorRef = o.anchor ?? manifest?.find((m) => m.role === 'anchor')?.apiUrl;
  const watches = listOption(o.watch).map((w) => watchSpec(w, manifest));
  const trackRefs = listOption(o.track);
  // A watched contract's chain is tracked: from its operator's URL, or its id.
  for (const w of watches) {
    const ref = w.url ? w.url.replace(/\/v1\/contracts\/[0-9]+$/, '') : toHex(w.chainId!);
    if (!trackRefs.includes(ref)) trackRefs.push(ref);
  }
  const track: Uint8Array[] = [];
  for (const ref of trackRefs) {
    const c = await resolveChain(ref, log, abort.signal);
    track.push(c.chainId);
    if (c.genesis) genesis.push(c.genesis);
  }
  let anchorId: Uint8Array | undefined;
  if (anchorRef) {
    const a = await resolveChain(anchorRef, log, abort.signal);
    anchorId = a.chainId;
    if (a.genesis) genesis.push(a.genesis);
  }
  // The EVM anchor, when configured, is the trusted root: its id names it as every top-level chain's parent.
  let evm: EvmAnchor | null = null;
  const evmUrls = listOption(o.evmRpc);
  if (evmUrls.length > 0 || o.anchorAddress) {
    if (evmUrls.length === 0 || !o.anchorAddress || !isAddress(o.anchorAddress))
      throw new ConfigError('the EVM anchor needs --evm-rpc and --anchor-address (a 0x address)');
    const evmOpts = {
      rpcUrl: evmUrls[0],
      address: getAddress(o.anchorAddress),
      // An operator's EVM account sends its commits; a second sender on it would race for nonces.
      key: name === 'operator' ? undefined : o.evmKey,
      journal: fileJournal(join(o.dataDir, 'evm-journal')),
      confirmations: intOption(o.confirmations ?? 1, 'confirmations', 1, 1000),
      drandUrl: o.drandUrl,
      log: log.child({ component: 'evm' }),
      signal: abort.signal,
    };
    for (let attempt = 0; !evm; attempt++) {
      try {
        evm = await EvmAnchor.open(evmOpts);
      } catch (e) {
        if (abort.signal.aborted) throw e;
        if (attempt % 10 === 0) log.info({ err: (e as Error).message }, 'waiting for the EVM anchor');
        await new Promise((r) => setTimeout(r, Math.min(3000, 200 * (attempt + 1))));
      }
    }
    anchorId ??= evm.anchorId;
  }
  for (const g of extraTrack) {
    genesis.push(g);
    track.push(g.chainId);
  }
  if (track.length === 0 && anchorId) track.push(anchorId);
  started();

  const node = new ValidatorNode({
    dataDir: o.dataDir,
    listen: listOption(o.listen),
    announce: listOption(o.announce),
    bootstrap,
    anchorId,
    // The EVM contract is an anchor without a genesis record; the devnet anchor (--anchor alone) is a chain.
    externalAnchor: evm !== null && anchorId !== undefined && bytesEqual(anchorId, evm.anchorId),
    track,
    genesis,
    own: extraTrack,
    metricChains: intOption(o.metricsChains ?? 32, 'metrics-chains', 0),
    registry,
    log,
    syncIntervalMs: intOption(o.syncIntervalMs, 'sync-interval-ms', 100),
    progressBar: process.stderr.isTTY === true,
    judge: o.benchAcceptAll
      ? baselineJudge('accept-all')
      : o.benchSignaturesOnly
        ? baselineJudge('signatures-only')
        : undefined,
    alertUrl: o.alertUrl,
    maxWatches: intOption(o.maxWatches ?? 20000, 'max-watches', 0),
    maxWatchBytes: intOption(o.watchMemoryMb ?? DEFAULT_WATCH_MEMORY_MB, 'watch-memory-mb', 1) * 2 ** 20,
    // The DHT finds the peers of a chain (src/node/discovery.ts; `--no-dht` turns it off), and peers and bans
    // live on disk, so a restart reconnects with no bootstrap list (src/p2p/peer-memory.ts).
    network: { dht: o.dht !== false, peerStorePath: join(o.dataDir, 'peers') },
  });
  await node.start().catch((e: unknown) => {
    throw startFailure(e, o.dataDir);
  });
  const api = new HttpApi(log.child({ component: 'api' }), undefined, apiBudgets(o, name, registry));
  let watcher: AnchorWatcher | null = null;
  addValidatorRoutes(api, node, registry, {
    devnet: boolOption(o.devnet),
    healthMaxLag: intOption(o.healthMaxLag, 'health-max-lag', 0),
    anchorStatus: evm ? () => watcher?.status() ?? null : undefined,
  });
  if (evm) {
    const endpoints = new EvmEndpoints({
      urls: evmUrls,
      quorum: intOption(o.evmQuorum ?? 1, 'evm-quorum', 1, evmUrls.length),
      checkpoint: o.evmCheckpoint ? (parseCheckpoint(o.evmCheckpoint) ?? undefined) : undefined,
      registry,
      log: log.child({ component: 'evm-endpoints' }),
    });
    // An endpoint on another chain than the checkpoint's is left out before anything is read from it.
    await endpoints.checkCheckpoint();
    const proven = new ProvenAnchor({ endpoints, address: evm.address, registry });
    evm.proveWith(proven);
    watcher = new AnchorWatcher({
      proven,
      anchor: evm,
      node,
      log: log.child({ component: 'evm-watch' }),
      pollMs: intOption(o.evmPollMs ?? 1000, 'evm-poll-ms', 10),
      registry,
      // The validator's alerts and watches; the compiler holds an AnchorAlert to be an Alert here.
      alerts: { raise: (a) => node.alerts.raise(a) },
      watches: node.watches,
      unseenGraceMs: intOption(o.unseenGraceMs ?? DEFAULT_UNSEEN_GRACE_MS, 'unseen-grace-ms', 0),
      dataRequests: intOption(o.dataRequests ?? DEFAULT_DATA_REQUESTS, 'data-requests', 0, 64),
    });
    addEvmAnchorRoute(api, evm, watcher, proven);
    watcher.start();
    // Expiries are EVM block numbers: a chain whose ancestor's expiry the EVM head has reached is flagged.
    const w = watcher;
    node.setAnchorHeight(() => w.status().evmHead);
  }
  // A validator's settlement: the proof of a point comes from its watch of the contract holding it, an owner's
  // signed action from a watch it ended or the blocks the node stored.
  const watchSource = watchListSource(
    (id, height) => node.watches.list({ chainId: toHex(id), status: 'current', limit: 100_000, height }),
    (id, digest, after) => node.watches.consent(id, digest, after),
  );
  const settler =
    evm && name !== 'operator'
      ? await settlerFor(o, evm, log, {
          source: watchSource,
          chains: () =>
            [
              ...new Map(
                node.watches.list({ status: 'current', limit: 100_000 }).map((w) => [w.chainId, w.chainId]),
              ).values(),
            ].map((id) => fromHex(id, 'chainId')),
        })
      : null;
  settler?.start();
  // With an EVM key a validator is a watchtower for the lotteries its watched contracts take part in.
  const tower =
    evm?.evmAddress && name !== 'operator'
      ? await new Watchtower({
          anchor: evm,
          source: watchSource,
          chains: () => lotteriesOf(node, evm.anchorId),
          journal: fileJournal(join(o.dataDir, 'evm-journal')),
          log: log.child({ component: 'watchtower' }),
          registry,
          pollMs: intOption(o.evmPollMs ?? 1000, 'evm-poll-ms', 10),
        }).start()
      : null;
  if (tower) addWatchtowerRoutes(api, tower);
  if (boolOption(o.web)) addWebRoutes(api, await loadWebPage());
  const apiPort = intOption(o.apiPort, 'api-port', 0, 65535);
  const addr = await api.start(o.apiHost, apiPort).catch((e: unknown) => {
    throw apiListenFailure(e, o.apiHost, apiPort);
  });
  const apiUrl = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info({ api: apiUrl }, 'HTTP API listening');
  const befores: (() => Promise<void>)[] = [];
  let stopped = false;
  const unmonitor =
    name === 'validator'
      ? monitor(node, log, intOption(o.monitorIntervalMs, 'monitor-interval-ms', 100))
      : () => undefined;
  const watching = addWatches(node, watches, log, () => stopped);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unmonitor();
    await watching;
    for (const b of befores.reverse()) await b();
    abort.abort();
    await settler?.stop();
    await tower?.stop();
    await watcher?.stop();
    await api.stop();
    await node.stop();
    log.info('stopped');
  };
  onShutdown(log, stop);
  return { node, api, registry, log, apiUrl, onStop: (b) => befores.push(b), stop };
}

/**
 * The public API's per-client budget (`--api-rate` per second, `--api-burst` at once; rate 0: none; an operator's
 * default none), with a metric of the requests it refused.
 */
function apiBudgets(
  o: Pick<NodeProcessOptions, 'apiRate' | 'apiBurst'>,
  name: string,
  registry: Registry,
): { table: ClientBudgets; refused: () => void } | undefined {
  // An operator's API takes its own sales (token-authenticated) at thousands a second: no budget unless asked.
  const perSecond = intOption(
    o.apiRate ?? (name === 'operator' ? 0 : DEFAULT_API_RATE),
    'api-rate',
    0,
    1_000_000,
  );
  if (perSecond === 0) return undefined;
  const burst = intOption(o.apiBurst ?? DEFAULT_API_BURST, 'api-burst', 1, 1_000_000);
  const refused = new Counter({
    name: 'sortition_api_rate_limited_total',
    help: 'API requests refused with 429 RATE_LIMITED: a client over its budget (--api-rate, --api-burst)',
    registers: [registry],
  });
  return { table: new ClientBudgets({ perSecond, burst }), refused: () => refused.inc() };
}

/**
 * The lotteries a validator's watched contracts take part in: the top-level chain (the one registered on the
 * anchor) of each watched contract's chain, whose winner proof may descend into it.
 */
function lotteriesOf(node: ValidatorNode, anchorId: Uint8Array): Uint8Array[] {
  const out = new Map<string, Uint8Array>();
  const chains = new Set(node.watches.list({ limit: 100_000 }).map((w) => w.chainId));
  for (const c of chains) {
    const top = node.tracker.ancestry(fromHex(c, 'chainId'), anchorId)?.at(-1);
    if (top && bytesEqual(top.genesis.parentChain, anchorId)) out.set(toHex(top.chainId), top.chainId);
  }
  return [...out.values()];
}

/**
 * The automatic settler `--settle-key` and `--settle-payout` configure (null without them); it sends from the
 * anchor's EVM account (`--evm-key`).
 */
export async function settlerFor(
  o: Pick<NodeProcessOptions, 'settleKey' | 'settlePayout' | 'evmPollMs'>,
  evm: EvmAnchor,
  log: Logger,
  from: Pick<SettlerOptions, 'source' | 'chains'>,
): Promise<EvmSettler | null> {
  if (!o.settleKey && !o.settlePayout) return null;
  if (!o.settleKey || !o.settlePayout)
    throw new ConfigError('automatic settlement needs both --settle-key and --settle-payout');
  if (!evm.evmAddress) throw new ConfigError('automatic settlement needs --evm-key (it sends the claim)');
  return new EvmSettler({
    ...from,
    anchor: evm,
    key: await readKeyFile(o.settleKey),
    payout: evmAddress(o.settlePayout, '--settle-payout'),
    log: log.child({ component: 'evm-settle' }),
    pollMs: intOption(o.evmPollMs ?? 1000, 'evm-poll-ms', 10),
  });
}
