/**
 * The node process's options, checked before anything is opened: a bad value found after the database and the
 * network are up (or never, when the process then waits on it) costs a user a start-up and leaves them reading
 * logs for the cause. `checkNodeOptions` runs first in `run`, `operator` and `anchor`; it also tries the HTTP API
 * and libp2p listen addresses on the host, so that a port in use is named before anything binds. The failures that
 * can only happen later (another process taking a port in between, the data directory's lock) are turned into one
 * line saying the same by `startFailure` and `dataDirInUse`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { isAddress } from 'viem';
import { CodedError } from '../codec/errors.js';
import { fromHex } from '../crypto/hash.js';
import { ConfigError, intOption, listOption } from '../runtime/config.js';
import { parseCheckpoint } from '../evm/endpoints.js';
import { DatabaseLockedError } from '../runtime/level.js';
import { DEFAULT_WATCH_MEMORY_MB } from '../node/watches.js';
import type { NodeProcessOptions } from './node.js';

/** Another process holds what this one needs: a port, or the data directory. Not a usage error: the fix is elsewhere. */
export class InUseError extends CodedError<'ADDRESS_IN_USE' | 'DATA_DIR_IN_USE'> {
  override readonly name = 'InUseError';
}

export interface ManifestEntry {
  readonly name: string;
  readonly role: string;
  readonly apiUrl: string;
  readonly p2p?: string[];
  /** The `evm` entry: the devnet's EVM node and its anchor contract. */
  readonly rpcUrl?: string;
  readonly anchorAddress?: string;
}

export async function readManifest(path: string): Promise<ManifestEntry[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--join ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed))
    throw new ConfigError(`--join ${path}: expected the devnet's manifest (a list)`);
  return parsed as ManifestEntry[];
}

/** A contract to watch: its chain, and either its path or the operator URL to read the path from. */
export interface WatchSpec {
  readonly text: string;
  readonly chainId?: Uint8Array;
  readonly path?: Uint8Array;
  readonly url?: string;
}

const WATCH_FORMS =
  'an operator contract URL (http://host:port/v1/contracts/<start>), <service>/<start> with --join, ' +
  'or <chain-id-hex>:<path-hex>';

/** `manifest` is null without --join. */
export function watchSpec(text: string, manifest: readonly ManifestEntry[] | null): WatchSpec {
  if (/^https?:\/\//.test(text)) {
    if (!/\/v1\/contracts\/[0-9]+$/.test(text) || !URL.canParse(text))
      throw new ConfigError(`--watch ${text}: expected an operator URL ending in /v1/contracts/<start>`);
    return { text, url: text };
  }
  const svc = /^([A-Za-z0-9_.-]+)\/([0-9]+)$/.exec(text);
  if (svc) {
    if (!manifest)
      throw new ConfigError(
        `--watch ${text}: --watch <service>/<start> needs --join <manifest> (the devnet manifest naming ` +
          `${svc[1]}); without --join, give the operator's URL http://host:port/v1/contracts/${svc[2]}`,
      );
    const e = manifest.find((m) => m.name === svc[1]);
    if (!e)
      throw new ConfigError(
        `--watch ${text}: the --join manifest has no service ${svc[1]} (it has ${manifest.map((m) => m.name).join(', ') || 'none'})`,
      );
    return { text, url: `${e.apiUrl}/v1/contracts/${svc[2]}` };
  }
  const m = /^((?:0x)?[0-9a-fA-F]{64}):((?:0x)?[0-9a-fA-F]+)$/.exec(text);
  if (!m || m[2].replace(/^0x/, '').length % 2 !== 0)
    throw new ConfigError(`--watch ${text}: expected ${WATCH_FORMS}`);
  return { text, chainId: fromHex(m[1], '--watch chain id'), path: fromHex(m[2], '--watch path') };
}

const CHAIN_ID = /^(0x)?[0-9a-fA-F]{64}$/;

function isHttpUrl(v: string): boolean {
  if (!URL.canParse(v)) return false;
  const p = new URL(v).protocol;
  return p === 'http:' || p === 'https:';
}

/** A chain given as its id or as the API URL to read it from (`--track`, `--anchor`). */
function checkChainRef(flag: string, ref: string, api: string): void {
  if (/^https?:\/\//.test(ref) ? isHttpUrl(ref) : CHAIN_ID.test(ref)) return;
  throw new ConfigError(`${flag} ${ref}: expected a chain id (64 hex digits) or ${api} (http://host:port)`);
}

function checkHttpUrl(flag: string, v: string | undefined, example: string): void {
  if (v !== undefined && !isHttpUrl(v))
    throw new ConfigError(`${flag} ${v}: expected an http(s) URL such as ${example}`);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A TCP address the process will listen on, and the option that asked for it. */
interface Bind {
  readonly host: string;
  readonly port: number;
  readonly flag: string;
  readonly value: string;
  /** The option and value naming the host (`--api-host <host>` for the API's port). */
  readonly hostOption: string;
  /** How to ask for another port with that option. */
  readonly instead: string;
  /**
   * Only a port in use is reported. libp2p carries on when every IPv6 listen address fails but the IPv4 ones work
   * (a host without IPv6); the check must not refuse what libp2p would accept.
   */
  readonly onlyInUse?: boolean;
}

function multiaddrs(flag: string, v: unknown): string[] {
  const list = listOption(v);
  for (const a of list) {
    try {
      multiaddr(a);
    } catch (e) {
      throw new ConfigError(
        `${flag} ${a}: not a multiaddr (${(e as Error).message}); expected e.g. /ip4/127.0.0.1/tcp/9000`,
      );
    }
  }
  return list;
}

/** The TCP host and port of a listen multiaddr (`/ip4/<a>/tcp/<p>`, `/ip6/...`); null for other kinds. */
function tcpOf(addr: string): { host: string; port: number; ipv6: boolean } | null {
  const [ip, tcp] = multiaddr(addr).getComponents();
  if ((ip?.name !== 'ip4' && ip?.name !== 'ip6') || tcp?.name !== 'tcp') return null;
  if (ip.value === undefined || tcp.value === undefined) return null;
  return { host: ip.value, port: Number(tcp.value), ipv6: ip.name === 'ip6' };
}

function bindMessage(b: Bind, e: NodeJS.ErrnoException): Error {
  const where = `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new InUseError(
        'ADDRESS_IN_USE',
        `${b.flag} ${b.value}: ${where} is already in use (another process listens there); stop it or ${b.instead}`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        `${b.hostOption}: ${b.host} is not an address of this host (${e.code}); use one of its ` +
          'addresses, 127.0.0.1 or 0.0.0.0',
      );
    case 'EACCES':
      return new ConfigError(
        `${b.flag} ${b.value}: no permission to listen on ${where} (ports below 1024 need privileges); ` +
          `${b.instead}`,
      );
    default:
      return new ConfigError(`${b.flag} ${b.value}: cannot listen on ${where}: ${e.message}`);
  }
}

/**
 * Listens on every address at once (so that two options naming one address collide here too), then lets go. Port 0
 * is left out: any free port will do. Another process may still take a port before the node binds it; startFailure
 * reports that case the same way.
 */
async function checkBindable(binds: readonly Bind[]): Promise<void> {
  for (const [i, a] of binds.entries()) {
    const b = binds.slice(0, i).find((x) => x.host === a.host && x.port === a.port);
    if (b)
      throw new ConfigError(
        `${b.flag} ${b.value} and ${a.flag} ${a.value} both name ${a.host}:${a.port}; give each its own port`,
      );
  }
  const held: Server[] = [];
  try {
    for (const b of binds) {
      const server = createServer();
      const bound = await new Promise<boolean>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          b.onlyInUse && e.code !== 'EADDRINUSE' ? resolve(false) : reject(bindMessage(b, e)),
        );
        server.listen({ host: b.host, port: b.port, exclusive: true }, () => resolve(true));
      });
      if (bound) held.push(server);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}

/** The API's default budget per client: requests per second, and at most at once (a 1,024-block replay is 128). */
export const DEFAULT_API_RATE = 100;
export const DEFAULT_API_BURST = 400;

/**
 * Every option of a node process (validator, operator, anchor) that can be judged without its database or the
 * network: values, forms, the --join manifest, and whether the HTTP API and libp2p addresses are free. Throws
 * ConfigError (a usage error) or InUseError, each with one line saying what was wrong and what to do.
 */
export async function checkNodeOptions(o: NodeProcessOptions): Promise<void> {
  if (!LOG_LEVELS.includes(o.logLevel))
    throw new ConfigError(`--log-level ${o.logLevel}: expected one of ${LOG_LEVELS.join(', ')}`);
  const apiPort = intOption(o.apiPort, 'api-port', 0, 65535);
  intOption(o.syncIntervalMs, 'sync-interval-ms', 100);
  intOption(o.healthMaxLag, 'health-max-lag', 0);
  intOption(o.metricsChains ?? 32, 'metrics-chains', 0);
  intOption(o.monitorIntervalMs, 'monitor-interval-ms', 100);
  intOption(o.maxWatches ?? 20000, 'max-watches', 0);
  intOption(o.watchMemoryMb ?? DEFAULT_WATCH_MEMORY_MB, 'watch-memory-mb', 1, 1 << 20);
  intOption(o.confirmations ?? 1, 'confirmations', 1, 1000);
  intOption(o.evmPollMs ?? 1000, 'evm-poll-ms', 10);
  intOption(o.unseenGraceMs ?? 60_000, 'unseen-grace-ms', 0);
  intOption(o.dataRequests ?? 4, 'data-requests', 0, 64);
  intOption(o.apiRate ?? DEFAULT_API_RATE, 'api-rate', 0, 1_000_000);
  intOption(o.apiBurst ?? DEFAULT_API_BURST, 'api-burst', 1, 1_000_000);
  const listen = multiaddrs('--listen', o.listen);
  multiaddrs('--announce', o.announce);
  multiaddrs('--bootstrap', o.bootstrap);
  for (const t of listOption(o.track)) checkChainRef('--track', t, 'an operator API URL');
  if (o.anchor !== undefined) checkChainRef('--anchor', o.anchor, 'the anchor API URL');
  checkHttpUrl('--alert-url', o.alertUrl, 'http://127.0.0.1:9999/hook');
  checkHttpUrl(
    '--drand-url',
    o.drandUrl,
    'https://api.drand.sh/52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  );
  const manifest = o.join ? await readManifest(o.join) : null;
  for (const w of listOption(o.watch)) watchSpec(w, manifest);
  const evmUrls = listOption(o.evmRpc);
  if (evmUrls.length > 0 || o.anchorAddress !== undefined) {
    if (evmUrls.length === 0 || o.anchorAddress === undefined)
      throw new ConfigError('the EVM anchor needs both --evm-rpc and --anchor-address');
    for (const u of evmUrls) checkHttpUrl('--evm-rpc', u, 'http://127.0.0.1:8545');
    intOption(o.evmQuorum ?? 1, 'evm-quorum', 1, evmUrls.length);
    if (o.evmCheckpoint !== undefined && !parseCheckpoint(o.evmCheckpoint))
      throw new ConfigError(
        `--evm-checkpoint ${o.evmCheckpoint}: expected <block number>:<0x block hash (64 hex digits)>`,
      );
    if (!isAddress(o.anchorAddress))
      throw new ConfigError(`--anchor-address ${o.anchorAddress}: expected a 0x address`);
  }
  if ((o.settleKey === undefined) !== (o.settlePayout === undefined))
    throw new ConfigError('automatic settlement needs both --settle-key and --settle-payout');
  if (o.settlePayout !== undefined && !isAddress(o.settlePayout))
    throw new ConfigError(`--settle-payout ${o.settlePayout}: expected a 0x address`);

  const binds: Bind[] = [];
  if (apiPort !== 0)
    binds.push({
      host: o.apiHost,
      port: apiPort,
      flag: '--api-port',
      value: String(apiPort),
      hostOption: `--api-host ${o.apiHost}`,
      instead: 'pass another --api-port (0 picks a free one)',
    });
  for (const a of listen) {
    const t = tcpOf(a);
    if (t && t.port !== 0)
      binds.push({
        host: t.host,
        port: t.port,
        onlyInUse: t.ipv6,
        flag: '--listen',
        value: a,
        hostOption: `--listen ${a}`,
        instead: 'pass another --listen port (/tcp/0 picks a free one)',
      });
  }
  await checkBindable(binds);
}

/**
 * What the validator's start failed with, as one line where the cause is known: another process on the data
 * directory, or a libp2p listen address that could not be bound. libp2p's own error suggests a libp2p setting
 * (`transportManager.faultTolerance`) and carries stack traces; a user of this CLI needs the address and the flag.
 */
export function startFailure(e: unknown, dataDir: string): unknown {
  const inUse = dataDirInUse(e, dataDir);
  if (inUse !== e) return inUse;
  const err = e as Error;
  if (err?.name !== 'UnsupportedListenAddressesError') return e;
  // libp2p lists each failed address on a line of its own: "  /ip4/.../tcp/N: Error: listen EADDRINUSE: ...".
  const failed = [...err.message.matchAll(/^ {2}(\/\S+): (?:Error: )?(.*)$/gm)].map(([, addr, why]) =>
    /EADDRINUSE/.test(why)
      ? `${addr} is already in use (another process listens there)`
      : `cannot listen on ${addr} (${why})`,
  );
  if (failed.length === 0) return e;
  const code = failed.every((f) => f.includes('already in use')) ? 'ADDRESS_IN_USE' : 'CONFIG_INVALID';
  const message = `--listen: ${failed.join('; ')}; stop what holds it or pass another --listen (/tcp/0 picks a free port)`;
  return code === 'ADDRESS_IN_USE'
    ? new InUseError(code, message, { cause: e })
    : new ConfigError(message, { cause: e });
}

/** The HTTP API's listen failing after checkNodeOptions found the address free (taken in between). */
export function apiListenFailure(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) return e;
  return bindMessage(
    {
      host,
      port,
      flag: '--api-port',
      value: String(port),
      hostOption: `--api-host ${host}`,
      instead: 'pass another --api-port (0 picks a free one)',
    },
    e as NodeJS.ErrnoException,
  );
}

/** A database lock held by another process, as what the user can act on: the data directory it belongs to. */
export function dataDirInUse(e: unknown, dataDir: string): unknown {
  if (!(e instanceof DatabaseLockedError)) return e;
  // Absolute paths: the user may have started the other process from another directory.
  return new InUseError(
    'DATA_DIR_IN_USE',
    `data dir ${resolve(dataDir)} is in use by another process (LevelDB lock ${resolve(e.lockFile)}); ` +
      'stop it or pass another --data-dir',
    { cause: e },
  );
}
