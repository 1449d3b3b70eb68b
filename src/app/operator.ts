/**
 * The app layer's operator: from its resolved options (flags, environment, config file) it builds a running
 * operator with what that chain needs around it: the store and key, the chain's genesis (registering with the
 * anchor or reading the parent), the devnet anchor for an anchor chain, the upstream submitter of a nested chain,
 * the EVM anchor and committer of a top-level chain on it, and any devnet fault injection. With the node process
 * (node.ts: the libp2p node, the HTTP server, the metrics registry) it comes up in two steps (runOperatorProcess):
 *
 *   const prepared = await prepareOperator(opts, { log, signal });   // key, store, chain (may register/ask parent)
 *   ... start the node tracking prepared.genesis ...
 *   const op = await startOperator(prepared, { api, registry, log, sink: node });
 *   onStop(() => op.stop());
 *
 * `sortition-node anchor` is the same with `{ anchor: true }` in prepareOperator.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex, toHex } from '../crypto/hash.js';
import type { KeyPair } from '../crypto/keys.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { boolOption, ConfigError, intOption, listOption } from '../runtime/config.js';
import { loadOrCreateKeyFile, readKeyFile } from '../runtime/keyfile.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { abortOnSignal } from '../runtime/shutdown.js';
import { addAnchorRoutes, addRegistrationRoute } from '../anchor/api.js';
import { HttpAnchor } from '../anchor/client.js';
import { DevnetAnchor } from '../anchor/devnet.js';
import { addOperatorRoutes, operatorHttpError } from '../operator/api.js';
import { faultyPublishing, parseFaults, type Fault } from '../operator/faults.js';
import { OperatorService } from '../operator/service.js';
import { OperatorStore } from '../operator/store.js';
import { TOKEN_FILE } from '../api/operator.js';
import { loadOrCreateApiToken } from '../operator/token.js';
import type { OperatorDeps } from '../operator/types.js';
import { ParentWatch } from '../operator/parent.js';
import { Upstream } from '../operator/upstream.js';
import { ApiError, backoff, sleep } from '../runtime/http-client.js';
import { ensureOpened, resolveGenesis } from './bootstrap.js';
import { settlerFor, startNodeProcess, type NodeProcessOptions } from './node.js';
import { checkNodeOptions, dataDirInUse } from './options.js';
import { getAddress, isAddress, type Address } from 'viem';
import { bytesEqual } from '../codec/canonical.js';
import type { Anchor } from '../anchor/types.js';
import { EvmCommitter } from '../evm/committer.js';
import { DataResponder } from '../evm/responder.js';
import { SeedRevealer } from '../evm/seed-revealer.js';
import { EvmAnchor } from '../evm/node-anchor.js';
import { serviceSource } from '../evm/settle.js';
import type { Journal } from '../evm/sender.js';

export interface OperatorCliOptions {
  readonly dataDir: string;
  readonly key?: string;
  readonly name?: string;
  readonly chainGenesis?: string;
  readonly parentApi?: string;
  readonly parentContract?: string | number;
  /** How often a nested chain reads its parent's `/v1/chain` (it expires with its parent). Default 1000 ms. */
  readonly parentPollMs?: string | number;
  readonly amount?: string | number;
  readonly expiry?: string | number;
  readonly blockIntervalMs?: string | number;
  readonly maxPending?: string | number;
  readonly devnet?: boolean | string;
  readonly fault?: string | string[];
  /** The first is the operator's endpoint (it commits through it). */
  readonly evmRpc?: string | string[];
  readonly drandUrl?: string;
  readonly anchorAddress?: string;
  readonly evmKey?: string;
  readonly confirmations?: string | number;
  readonly deposit?: string | number;
  readonly safetyBps?: string | number;
  readonly commitEvery?: string | number;
}

/** The EVM anchor an operator registers with and commits to (`--evm-rpc`, `--anchor-address`, `--evm-key`). */
export interface EvmSettings {
  readonly rpcUrl: string;
  readonly address: Address;
  readonly key: string | undefined;
  readonly confirmations: number;
  readonly safetyBps: number;
  readonly commitEvery: number;
  readonly drandUrl?: string;
}

export function evmSettings(o: OperatorCliOptions): EvmSettings | null {
  const rpcUrl = listOption(o.evmRpc)[0];
  if (!rpcUrl && !o.anchorAddress) return null;
  if (!rpcUrl || !o.anchorAddress)
    throw new ConfigError('the EVM anchor needs both --evm-rpc and --anchor-address');
  if (!isAddress(o.anchorAddress))
    throw new ConfigError(`--anchor-address must be a 0x address, got ${o.anchorAddress}`);
  return {
    rpcUrl,
    address: getAddress(o.anchorAddress),
    key: o.evmKey,
    confirmations: intOption(o.confirmations ?? 1, 'confirmations', 1, 1000),
    safetyBps: intOption(o.safetyBps ?? 5000, 'safety-bps', 1, 9999),
    commitEvery: intOption(o.commitEvery ?? 1, 'commit-every', 1),
    drandUrl: o.drandUrl,
  };
}

/** The operator store's fsync'd JSON records as the EVM transaction journal. */
function storeJournal(store: OperatorStore): Journal {
  return { get: (name) => store.getJson(name), put: (name, value) => store.putJson(name, value) };
}

export interface PreparedOperator {
  readonly dataDir: string;
  readonly key: KeyPair;
  readonly store: OperatorStore;
  readonly genesis: GenesisRecord;
  readonly faults: readonly Fault[];
  readonly parentApi: string | null;
  readonly parentPollMs: number;
  readonly blockIntervalMs: number;
  readonly maxPending: number;
  readonly devnet: boolean;
  readonly evm: EvmSettings | null;
}

export interface RunningOperator {
  readonly service: OperatorService;
  readonly genesis: GenesisRecord;
  /** The operator API token (also in <data-dir>/api-token). */
  readonly token: string;
  readonly upstream: Upstream | null;
  /** Follows the parent's state (its expiry) for a chain with a parent operator. */
  readonly parentWatch: ParentWatch | null;
  /**
   * Settles once the parent's contract is known to hold this chain (true: the service takes requests) or known to
   * hold another one (false: it refuses them with NOT_ANCHORED for good, the reason in `GET /v1/chain`). Resolved
   * true at once for chains with nothing to open (the anchor, a chain on the EVM anchor, a chain with no parent
   * API), and for a nested chain whose store records an earlier opening. Never rejects.
   */
  readonly opened: Promise<boolean>;
  /** Set for `anchor`. */
  readonly anchor: DevnetAnchor | null;
  /** Set for a top-level chain on the EVM anchor. */
  readonly committer: EvmCommitter | null;
  /** Answers data requests for the chain on the EVM anchor (null when the chain is not on one). */
  readonly responder: DataResponder | null;
  /** Reveals the beacon seed after the beacon block (EVM anchor). */
  readonly revealer: SeedRevealer | null;
  /** The EVM anchor a top-level chain commits to with its key (automatic settlement sends from it too). */
  readonly evm: EvmAnchor | null;
  /** Finishes the block being built (sealing what is pending), stops submitting upstream, closes the store. */
  stop(): Promise<void>;
}

function bigOption(v: unknown, name: string): bigint | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  if (!/^[0-9]{1,20}$/.test(s)) throw new ConfigError(`--${name} must be an unsigned integer, got ${s}`);
  const n = BigInt(s);
  if (n >= 1n << 64n) throw new ConfigError(`--${name} does not fit in 64 bits`);
  return n;
}

async function readGenesis(path: string): Promise<GenesisRecord> {
  const text = (await readFile(path, 'utf8')).trim();
  const hex = text.startsWith('{') ? (JSON.parse(text) as { genesis?: string }).genesis : text;
  if (!hex) throw new ConfigError(`${path}: expected a "genesis" hex field`);
  return decodeGenesis(fromHex(hex, path));
}

/**
 * Everything that comes before the network: the key, the store (`<data-dir>/operator-db`), and the chain, which
 * may mean registering with the anchor or reading the parent contract (retried until the parent answers).
 */
export async function prepareOperator(
  o: OperatorCliOptions,
  ctx: { log: Logger; signal?: AbortSignal; anchor?: boolean },
): Promise<PreparedOperator> {
  // Every option is judged before the directory, the key and the store are touched.
  const devnet = boolOption(o.devnet);
  const faults = parseFaults(listOption(o.fault), devnet);
  const blockIntervalMs = intOption(o.blockIntervalMs ?? 1000, 'block-interval-ms', 1);
  const parentPollMs = intOption(o.parentPollMs ?? 1000, 'parent-poll-ms', 10);
  const maxPending = intOption(o.maxPending ?? 10000, 'max-pending', 1, 20000);
  const parentApi = ctx.anchor ? null : (o.parentApi ?? null);
  if (parentApi !== null && !/^https?:\/\/./.test(parentApi))
    throw new ConfigError(`--parent-api ${parentApi}: expected an http(s) URL such as http://127.0.0.1:8080`);
  const evm = ctx.anchor ? null : evmSettings(o);
  const amount = bigOption(o.amount, 'amount');
  const parentContract = bigOption(o.parentContract, 'parent-contract');
  const expiry = intOption(o.expiry ?? 0, 'expiry');
  const deposit = bigOption(o.deposit, 'deposit');
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const key = o.key
    ? await readKeyFile(o.key)
    : await loadOrCreateKeyFile(join(o.dataDir, 'operator-key.json'));
  const store = await OperatorStore.open(join(o.dataDir, 'operator-db')).catch((e: unknown) => {
    throw dataDirInUse(e, o.dataDir);
  });
  try {
    let registrar: Anchor | undefined = parentApi
      ? new HttpAnchor(parentApi, { signal: ctx.signal })
      : undefined;
    if (evm && !parentApi && !(await store.genesis()) && !o.chainGenesis) {
      if (!evm.key) throw new ConfigError('registering with the EVM anchor needs --evm-key');
      registrar = await EvmAnchor.open({
        ...evm,
        journal: storeJournal(store),
        log: ctx.log.child({ component: 'evm' }),
        signal: ctx.signal,
      });
    }
    const genesis = await resolveGenesis({
      store,
      key,
      log: ctx.log,
      signal: ctx.signal,
      genesis: o.chainGenesis ? await readGenesis(o.chainGenesis) : undefined,
      anchor: ctx.anchor,
      parentApi: parentApi ?? undefined,
      parentContract,
      amount,
      registrar,
      name: o.name,
      expiry,
      deposit,
    });
    if (ctx.anchor && !isAnchor(genesis.genesis))
      throw new ConfigError('this data directory holds a chain that is not an anchor');
    return {
      dataDir: o.dataDir,
      key,
      store,
      genesis,
      faults,
      parentApi,
      parentPollMs,
      blockIntervalMs,
      maxPending,
      devnet,
      evm,
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Opens the service on the prepared store, adds the API routes, starts block production and anchoring. */
export async function startOperator(p: PreparedOperator, deps: OperatorDeps): Promise<RunningOperator> {
  // deps.log is the process's logger. Every part below binds its own component on it, never on another part's
  // logger: pino writes a key bound twice twice ({"component":"operator","component":"upstream"}).
  const base = deps.log;
  const log = base.child({ component: isAnchor(p.genesis.genesis) ? 'anchor' : 'operator' });
  const service = await OperatorService.open({
    genesis: p.genesis,
    key: p.key,
    store: p.store,
    sink: deps.sink,
    log,
    registry: deps.registry,
    blockIntervalMs: p.blockIntervalMs,
    maxPending: p.maxPending,
    publishing: p.faults.length
      ? faultyPublishing({
          faults: p.faults,
          genesis: p.genesis,
          secretKey: p.key.secretKey,
          sink: deps.sink,
          log,
        })
      : undefined,
  }).catch(async (e: unknown) => {
    await p.store.close();
    throw e;
  });
  const token = await loadOrCreateApiToken(p.dataDir);
  // A chain with a parent operator takes requests once the parent holds it (openInParent): held from the start,
  // before any route can reach the service, unless the store records the opening already.
  const nested = p.parentApi !== null && !isAnchor(p.genesis.genesis);
  const recorded = nested && (await openedRecorded(p));
  if (nested && !recorded)
    service.holdUntilAnchored(
      `waiting for the parent's contract at ${p.genesis.genesis.parentContract} to hold it`,
    );
  addOperatorRoutes(deps.api, service, { token });
  const anchor = isAnchor(p.genesis.genesis)
    ? new DevnetAnchor(service, base.child({ component: 'anchor' }))
    : null;
  if (anchor) addAnchorRoutes(deps.api, anchor, operatorHttpError);
  else if (p.devnet)
    addRegistrationRoute(
      deps.api,
      new DevnetAnchor(service, base.child({ component: 'registrar' }), { registrarOnly: true }),
      operatorHttpError,
    );
  const abort = new AbortController();
  let upstream: Upstream | null = null;
  let parentWatch: ParentWatch | null = null;
  let opened: Promise<boolean> = Promise.resolve(true);
  const parentApi = p.parentApi;
  if (parentApi && !anchor) {
    upstream = new Upstream({ parentApi, log: base.child({ component: 'upstream' }) }).attach(service);
    upstream.start();
    parentWatch = new ParentWatch({
      parentApi,
      log: base.child({ component: 'parent' }),
      pollMs: p.parentPollMs,
    })
      .attach(service)
      .start();
    opened = openInParent(p, service, parentApi, recorded, log, abort.signal);
  }
  let committer: EvmCommitter | null = null;
  let responder: DataResponder | null = null;
  let revealer: SeedRevealer | null = null;
  let evm: EvmAnchor | null = null;
  if (p.evm && !anchor && !parentApi && p.evm.key) {
    const evmAnchor = await EvmAnchor.open({
      ...p.evm,
      journal: storeJournal(p.store),
      log: base.child({ component: 'evm' }),
      signal: abort.signal,
    });
    if (bytesEqual(p.genesis.genesis.parentChain, evmAnchor.anchorId)) {
      // At every start: the registration this node believes in is in the contract, with its account committing.
      await evmAnchor.checkRegistration(p.genesis).catch((e: unknown) => {
        throw new ConfigError((e as Error).message);
      });
      evm = evmAnchor;
      committer = new EvmCommitter({
        anchor: evmAnchor,
        chainId: p.genesis.chainId,
        every: p.evm.commitEvery,
        log: base.child({ component: 'evm-commit' }),
      }).attach(service);
      committer.start();
      // Seed 001's data request: every demand for a path at a committed height is answered on chain.
      responder = new DataResponder({
        anchor: evmAnchor,
        chainId: p.genesis.chainId,
        source: serviceSource(service),
        log: log.child({ component: 'evm-data' }),
      });
      responder.start();
      // The beacon: the seed committed at registration is revealed once the beacon block is past.
      revealer = new SeedRevealer({
        anchor: evmAnchor,
        chainId: p.genesis.chainId,
        log: log.child({ component: 'evm-seed' }),
        pollMs: 500,
      }).start();
    }
  }
  service.start();
  log.info(
    {
      chain: toHex(p.genesis.chainId),
      height: service.head.height,
      pending: service.pendingCount,
      token: join(p.dataDir, TOKEN_FILE),
      faults: p.faults.length ? p.faults : undefined,
    },
    anchor ? 'anchor operator started' : 'operator started',
  );
  let stopped = false;
  return {
    service,
    genesis: p.genesis,
    token,
    upstream,
    parentWatch,
    opened,
    anchor,
    committer,
    responder,
    revealer,
    evm,
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await opened;
      await parentWatch?.stop();
      await service.stop();
      // The last block's header gets one chance to go up before the submitter stops.
      if (upstream) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise((r) => (timer = setTimeout(r, 2000)));
        await Promise.race([upstream.accepted(service.head.height), timeout]);
        clearTimeout(timer);
        await upstream.stop();
      }
      await responder?.stop();
      await revealer?.stop();
      await committer?.stop();
    },
  };
}

/** The store's record that the parent's contract holds this chain (so that a restart takes requests at once). */
const OPENED = 'opened-in-parent';

interface OpenedRecord {
  readonly chainId: string;
  readonly parentChain: string;
  readonly parentContract: string;
}

function openedRecord(g: GenesisRecord): OpenedRecord {
  return {
    chainId: toHex(g.chainId),
    parentChain: toHex(g.genesis.parentChain),
    parentContract: g.genesis.parentContract.toString(),
  };
}

async function openedRecorded(p: PreparedOperator): Promise<boolean> {
  const want = openedRecord(p.genesis);
  const known = await p.store.getJson<OpenedRecord>(OPENED);
  return (
    known?.chainId === want.chainId &&
    known.parentChain === want.parentChain &&
    known.parentContract === want.parentContract
  );
}

/**
 * A chain with a parent operator takes no request (NOT_ANCHORED; startOperator holds the service) until the
 * parent's contract holds it: opens it there (ensureOpened, retried while the parent is unreachable, not ready or
 * not anchored itself), records that in the store and releases the service. A parent contract holding another
 * chain (or owned by another key) is final: the service keeps refusing, with the reason. A contract holds its
 * chain for good, so once recorded no later start waits for the parent.
 */
async function openInParent(
  p: PreparedOperator,
  service: OperatorService,
  parentApi: string,
  recorded: boolean,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  const g = p.genesis;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await ensureOpened({ genesis: g, key: p.key, parentApi, log, signal });
      if (!recorded) await p.store.putJson(OPENED, openedRecord(g));
      service.markAnchored();
      return true;
    } catch (e) {
      if (signal.aborted) break;
      if (e instanceof ConfigError) {
        if (recorded) {
          // Cannot happen with an honest parent (a contract holds its chain for good): say so and go on.
          log.error({ err: e.message }, 'the parent no longer shows this chain where it was opened');
          return true;
        }
        service.holdUntilAnchored(e.message);
        log.error({ err: e.message }, 'the chain cannot be opened in its parent: it takes no requests');
        return false;
      }
      if (e instanceof ApiError && e.code === 'EXPIRED') {
        // The parent is over before this chain got into it: so is this chain.
        service.expire(`the parent chain expired before this chain was opened in it (${e.message})`);
        return false;
      }
      // Anything else (the parent answering 404 before its routes are up, a store write failing): try again.
      if (attempt % 10 === 0)
        log.warn({ err: (e as Error).message, attempt }, 'opening the chain in its parent failed; retrying');
      await sleep(backoff(attempt, 200, 5000), signal);
    }
  }
  return service.anchored;
}

export type OperatorProcessOptions = NodeProcessOptions & OperatorCliOptions;

/**
 * `sortition-node operator` and `sortition-node anchor`: a node process (validator, API, metrics) that also
 * operates a chain. The chain is resolved first (key, store, registration with the anchor or the parent), then
 * the node starts following it and its ancestors, then block production starts and publishes through the node.
 */
export async function runOperatorProcess(
  o: OperatorProcessOptions,
  name: 'operator' | 'anchor',
): Promise<void> {
  await checkNodeOptions(o);
  const log = createLogger(o.logLevel, name);
  const abort = new AbortController();
  const started = abortOnSignal(abort);
  const prepared = await prepareOperator(o, { log, signal: abort.signal, anchor: name === 'anchor' });
  started();
  // The anchor trusts itself; an operator trusts the anchor it was configured with.
  const anchor = name === 'anchor' ? undefined : o.anchor;
  const proc = await startNodeProcess({ ...o, anchor }, name, [prepared.genesis]);
  const op = await startOperator(prepared, {
    api: proc.api,
    registry: proc.registry,
    log: proc.log,
    sink: proc.node,
  });
  proc.onStop(() => op.stop());
  // An operator's automatic settlement: the proof of a point comes from its own tree.
  const settler = op.evm
    ? await settlerFor(o, op.evm, proc.log, {
        source: serviceSource(op.service),
        chains: () => [op.genesis.chainId],
      })
    : null;
  if (o.settleKey && !settler)
    throw new Error('--settle-key needs a top-level chain on the EVM anchor with --evm-key');
  settler?.start();
  if (settler) proc.onStop(() => settler.stop());
}
