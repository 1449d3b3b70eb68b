/**
 * What a devnet must own before it starts anything: every address and port its services will listen on, and its
 * work dir. A second devnet on the same subnet would otherwise answer its health checks with the first one's
 * nodes, and a second devnet on the same work dir would wipe the first one's data under it.
 */
import { createServer } from 'node:net';
import { mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { CodedError } from '../codec/errors.js';
import type { ServicePlan } from './compose.js';

export type PreflightCode = 'DEVNET_ADDRESS_IN_USE' | 'DEVNET_ADDRESS_UNAVAILABLE' | 'DEVNET_LOCKED';

export class PreflightError extends CodedError<PreflightCode> {
  override readonly name = 'PreflightError';
}

/** One address a service will listen on. */
export interface Listen {
  readonly service: string;
  /** What listens there: `api`, `p2p`, `evm rpc`. */
  readonly what: string;
  readonly host: string;
  readonly port: number;
}

/** The value of `--flag` in a service's arguments, else its SORTITION_* variable. */
function setting(plan: ServicePlan, flag: string, env: string): string | undefined {
  const i = plan.args.indexOf(flag);
  if (i >= 0 && i + 1 < plan.args.length) return plan.args[i + 1];
  const eq = plan.args.find((a) => a.startsWith(`${flag}=`));
  if (eq) return eq.slice(flag.length + 1);
  return plan.env[env];
}

function tcp(addr: string): { host: string; port: number } | null {
  try {
    const [ip, port] = multiaddr(addr).getComponents();
    if (ip?.name !== 'ip4' || port?.name !== 'tcp' || !ip.value || !port.value) return null;
    return { host: ip.value, port: Number(port.value) };
  } catch {
    // A malformed address is the service's own option check to report, with its flag.
    return null;
  }
}

/** Every fixed TCP address the plan's services will listen on (port 0 is any free port: never taken). */
export function listensOf(plans: readonly ServicePlan[]): Listen[] {
  const out: Listen[] = [];
  const add = (service: string, what: string, host: string | undefined, port: string | undefined) => {
    const p = Number(port);
    if (host && Number.isInteger(p) && p > 0 && p < 65536) out.push({ service, what, host, port: p });
  };
  for (const plan of plans) {
    const health = plan.healthUrl ? new URL(plan.healthUrl) : null;
    add(
      plan.name,
      'api',
      setting(plan, '--api-host', 'SORTITION_API_HOST') ?? health?.hostname,
      setting(plan, '--api-port', 'SORTITION_API_PORT') ?? health?.port,
    );
    if (plan.role === 'evm') {
      add(
        plan.name,
        'evm rpc',
        setting(plan, '--host', 'SORTITION_HOST'),
        setting(plan, '--port', 'SORTITION_PORT'),
      );
      continue;
    }
    for (const a of (setting(plan, '--listen', 'SORTITION_LISTEN') ?? '').split(',').filter(Boolean)) {
      const t = tcp(a.trim());
      if (t) add(plan.name, 'p2p', t.host, String(t.port));
    }
  }
  return out;
}

/** Listens on the address and lets go: null when it is free, else the error code (EADDRINUSE, ...). */
async function probe(host: string, port: number): Promise<string | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ERROR'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

async function taken(listens: readonly Listen[]): Promise<{ l: Listen; code: string }[]> {
  const out: { l: Listen; code: string }[] = [];
  for (const l of listens) {
    const code = await probe(l.host, l.port);
    if (code) out.push({ l, code });
  }
  return out;
}

/** The same listens moved to another /24 (`127.0.2.3` on `127.0.5` is `127.0.5.3`). */
function moved(listens: readonly Listen[], from: string, to: string): Listen[] {
  return listens.map((l) =>
    l.host.startsWith(`${from}.`) ? { ...l, host: to + l.host.slice(from.length) } : l,
  );
}

/** The first loopback block after `subnet` where every listen is free, to name in the refusal. */
async function freeSubnet(listens: readonly Listen[], subnet: string): Promise<string | null> {
  const [, b, c] = subnet.split('.').map(Number);
  for (let i = 1; i <= 32; i++) {
    const n = (b * 256 + c + i) % 65536;
    const candidate = `127.${Math.floor(n / 256)}.${n % 256}`;
    if (candidate === '127.0.0' || candidate === '127.0.1') continue;
    if ((await taken(moved(listens, subnet, candidate))).length === 0) return candidate;
  }
  return null;
}

/**
 * Refuses (PreflightError) when any address a service will listen on is taken or not an address of this host,
 * naming each one, its service, and a free `--subnet` to use instead.
 */
export async function checkListens(plans: readonly ServicePlan[]): Promise<void> {
  const listens = listensOf(plans);
  // Every service's address is <subnet>.N (compose.ts).
  const subnet = plans[0]?.address.replace(/\.\d+$/, '') ?? '';
  const seen = new Map<string, Listen>();
  for (const l of listens) {
    const k = `${l.host}:${l.port}`;
    const first = seen.get(k);
    if (first)
      throw new PreflightError(
        'DEVNET_ADDRESS_IN_USE',
        `${first.service} (${first.what}) and ${l.service} (${l.what}) both listen on ${k}; give each its own port`,
      );
    seen.set(k, l);
  }
  const bad = await taken(listens);
  if (bad.length === 0) return;
  const unavailable = bad.filter((b) => b.code === 'EADDRNOTAVAIL');
  if (unavailable.length > 0)
    throw new PreflightError(
      'DEVNET_ADDRESS_UNAVAILABLE',
      `${unavailable.map((b) => b.l.host).join(', ')} not an address of this host (EADDRNOTAVAIL): the devnet ` +
        `gives each service its own loopback address, which Linux routes for all of 127.0.0.0/8; elsewhere add ` +
        `them to the loopback interface or pass --subnet`,
    );
  const list = bad.map(
    (b) =>
      `${b.l.host}:${b.l.port} (${b.l.service} ${b.l.what}${b.code === 'EADDRINUSE' ? '' : `, ${b.code}`})`,
  );
  const free = await freeSubnet(listens, subnet);
  throw new PreflightError(
    'DEVNET_ADDRESS_IN_USE',
    `taken: ${list.join(', ')}. Another devnet (or another process) listens on subnet ${subnet}; ` +
      (free
        ? `pass --subnet ${free} (free) or stop it`
        : 'no other subnet is free either, so a process listens on these ports on every address (0.0.0.0): stop it') +
      '. Nothing was started.',
  );
}

/** The lock file inside a devnet's work dir: the pid of the runner that owns the dir. */
export const LOCK_FILE = 'devnet.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: a process of another user holds that pid, so it is alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface WorkDirLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Takes the work dir for this process (creating it): a live runner's lock refuses with DEVNET_LOCKED, naming its
 * pid; a dead one's (a runner killed with SIGKILL) is taken over.
 */
export async function lockWorkDir(workDir: string): Promise<WorkDirLock> {
  await mkdir(workDir, { recursive: true });
  const file = join(workDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      // 'wx' is atomic: of two runners starting at once, one creates the file and the other finds it.
      await writeFile(file, mine, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await readFile(file, 'utf8').catch(() => '');
    let owner: { pid?: number; startedAt?: string } = {};
    try {
      owner = JSON.parse(held) as typeof owner;
    } catch {
      // Half written by a runner starting this instant, or garbage: judged as a lock with no live owner.
    }
    if (typeof owner.pid === 'number' && alive(owner.pid))
      throw new PreflightError(
        'DEVNET_LOCKED',
        `work dir ${workDir} is in use by the devnet of pid ${owner.pid} (since ${owner.startedAt ?? '?'}); ` +
          'stop it, or pass another --work-dir (and --subnet). Nothing was started or removed.',
      );
    if (attempt > 0)
      throw new PreflightError(
        'DEVNET_LOCKED',
        `work dir ${workDir}: cannot take ${file}; remove it if no devnet runs`,
      );
    await unlink(file).catch(() => undefined);
  }
  return {
    file,
    release: async () => {
      if ((await readFile(file, 'utf8').catch(() => '')) === mine) await unlink(file).catch(() => undefined);
    },
  };
}

/** Empties a locked work dir for a fresh run, the lock itself kept. */
export async function wipeWorkDir(workDir: string): Promise<void> {
  for (const entry of await readdir(workDir))
    if (entry !== LOCK_FILE) await rm(join(workDir, entry), { recursive: true, force: true });
}
