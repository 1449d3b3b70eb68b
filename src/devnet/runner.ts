/**
 * Runs the docker-compose topology as local processes (see compose.ts): starts services in dependency order,
 * each once its dependencies answer their healthcheck, keeps logs per service, writes the manifest, and offers
 * what tests and the summary need (status of every node, kill, restart, partition, convergence checks).
 */
import { CodedError } from '../codec/errors.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../runtime/logger.js';
import type { ChainStatus } from '../light/tracker.js';
import type { ServicePlan } from './compose.js';
import { TOKEN_FILE } from '../api/operator.js';
import { loadOrCreateIdentity } from '../p2p/identity.js';
import { checkListens } from './preflight.js';

export interface NodeStatus {
  readonly peerId: string;
  readonly listen?: string[];
  readonly peers: number;
  readonly chains: ChainStatus[];
}

export interface NodeManifestEntry {
  readonly name: string;
  readonly role: 'anchor' | 'operator' | 'validator';
  readonly apiUrl: string;
  readonly peerId: string;
  /** The node's libp2p addresses with /p2p/<peer id>: what a newcomer's --bootstrap takes. */
  readonly p2p: string[];
  /** Operators: the file holding the API token that selling contracts needs. */
  readonly tokenFile?: string;
}

/** The devnet's EVM node: its JSON-RPC and the anchor contract every top-level chain is registered in. */
export interface EvmManifestEntry {
  readonly name: string;
  readonly role: 'evm';
  readonly rpcUrl: string;
  readonly anchorAddress: string;
}

export type ManifestEntry = NodeManifestEntry | EvmManifestEntry;

/** What the EVM service's status answers (`sortition-node evm node`). */
export interface EvmStatus {
  readonly rpcUrl: string;
  readonly anchorAddress: string;
}

/** What a health answer carries that says which process gave it. */
interface HealthAnswer extends Partial<NodeStatus>, Partial<EvmStatus> {
  readonly pid?: number;
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export class DevnetError extends CodedError<
  'DEVNET_UNHEALTHY' | 'DEVNET_EXITED' | 'DEVNET_SERVICE_DIED' | 'DEVNET_UNKNOWN_SERVICE'
> {
  override readonly name = 'DevnetError';
}

export class RunningService {
  child: ChildProcess | null = null;
  peerId = '';
  listen: string[] = [];
  /** The EVM service: its RPC and contract, from its status once healthy. */
  evm: EvmStatus | null = null;
  exits = 0;
  /** The peer id its health answers must carry (from the identity the runner made in its data dir). */
  expectedPeerId: string | null = null;
  /** Set by Devnet.kill: this exit was asked for, not a failure. */
  stopRequested = false;
  /** How the last process of this service ended: its exit code, or the signal that ended it. */
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  constructor(
    readonly plan: ServicePlan,
    readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get apiUrl(): string {
    if (!this.plan.healthUrl) return '';
    const u = new URL(this.plan.healthUrl);
    return `${u.protocol}//${u.host}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
}

export interface DevnetOptions {
  readonly plans: ServicePlan[];
  readonly workDir: string;
  readonly log: Logger;
  /** Extra environment per service (fault injection, test tuning). */
  readonly overrides?: Record<string, Record<string, string>>;
  readonly healthTimeoutMs?: number;
  /** Runs just before a service's first launch, its dependencies healthy: may add to its environment. */
  readonly prepare?: (s: RunningService) => Promise<void>;
}

async function getJson<T>(url: string, timeoutMs = 3000): Promise<T | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? ((await r.json()) as T) : null;
  } catch {
    return null;
  }
}

export class Devnet {
  readonly services: RunningService[];
  private stopping = false;
  private died: (e: DevnetError) => void = () => undefined;
  /**
   * Resolves with the first service that exits without being asked to (Devnet.kill, stop): its name, how it
   * ended and its last log lines. The runner has no restart policy: a dead service is a failed devnet.
   */
  readonly failure: Promise<DevnetError> = new Promise((r) => (this.died = r));

  constructor(private readonly o: DevnetOptions) {
    this.services = o.plans.map((p) => {
      // The file's environment only: nothing SORTITION_* leaks in from the shell that started the devnet.
      const base = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('SORTITION_')),
      ) as Record<string, string>;
      return new RunningService(
        p,
        { ...base, ...p.env, ...(o.overrides?.[p.name] ?? {}) },
        join(o.workDir, 'logs', `${p.name}.log`),
      );
    });
  }

  service(name: string): RunningService {
    const s = this.services.find((x) => x.plan.name === name);
    if (!s) throw new DevnetError('DEVNET_UNKNOWN_SERVICE', `no service ${name}`);
    return s;
  }

  /** The sortition nodes (anchor, operators, validators): not the load clients, not the EVM chain. */
  nodes(): RunningService[] {
    return this.services.filter((s) => s.plan.role !== 'client' && s.plan.role !== 'evm');
  }

  /** The EVM service, if the topology runs on one. */
  evmService(): RunningService | undefined {
    return this.services.find((s) => s.plan.role === 'evm');
  }

  /** Starts every service, each after its dependencies are healthy. */
  async start(): Promise<void> {
    // Again here for callers of this class alone (tests); the CLI checked before it touched the work dir.
    await checkListens(this.o.plans);
    await mkdir(join(this.o.workDir, 'logs'), { recursive: true });
    const started = new Map<string, Promise<void>>();
    const startOne = (s: RunningService): Promise<void> => {
      const k = s.plan.name;
      if (!started.has(k)) {
        started.set(
          k,
          (async () => {
            await Promise.all(s.plan.dependsOn.map((d) => startOne(this.service(d))));
            // Stopped meanwhile (a service died): nothing more is started.
            if (this.stopping) throw new DevnetError('DEVNET_EXITED', 'the devnet is stopping');
            await this.o.prepare?.(s);
            await this.launch(s);
            await this.waitHealthy(s);
          })(),
        );
      }
      return started.get(k)!;
    };
    await Promise.all(this.services.map(startOne));
  }

  /** Spawns a service's process (again, after a kill) with its data folders in place. */
  async launch(s: RunningService): Promise<void> {
    for (const d of s.plan.dataDirs) await mkdir(d, { recursive: true, mode: 0o700 });
    await mkdir(dirname(s.logFile), { recursive: true });
    // The node's libp2p identity, made here the way the node would make it: its peer id is then known before it
    // answers, and an answer with another one (another devnet on these addresses) is not counted as its own.
    const dataDir = s.env.SORTITION_DATA_DIR;
    if (s.plan.role !== 'evm' && s.plan.role !== 'client' && dataDir)
      s.expectedPeerId = (await loadOrCreateIdentity(dataDir)).peerId.toString();
    s.stopRequested = false;
    const out = createWriteStream(s.logFile, { flags: 'a' });
    // Its own process group: Ctrl-C on a terminal reaches the runner alone, which sends each child one SIGTERM (a
    // child that saw the terminal's SIGINT and then the runner's SIGTERM would take the second as "exit now" and
    // skip sealing its block). The IPC channel closes when the runner dies however it dies, and a node process
    // takes that as its shutdown signal (runtime/shutdown.ts), so no service outlives its runner.
    const child = spawn(process.execPath, [CLI, ...s.plan.args], {
      env: s.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    child.on('exit', (code, signal) => {
      s.exits++;
      s.lastExit = { code, signal };
      if (this.stopping || s.stopRequested) return;
      this.o.log.warn({ service: s.plan.name, code, signal }, 'service exited');
      void exitReport(s, 'exited').then((m) => this.died(new DevnetError('DEVNET_SERVICE_DIED', m)));
    });
    s.child = child;
    this.o.log.info(
      { service: s.plan.name, role: s.plan.role, address: s.plan.address, pid: child.pid },
      'service started',
    );
  }

  async waitHealthy(s: RunningService, timeoutMs = this.o.healthTimeoutMs ?? 90_000): Promise<void> {
    if (!s.plan.healthUrl) return;
    const deadline = Date.now() + timeoutMs;
    let lastForeign: string | null = null;
    for (;;) {
      if (!s.running)
        throw new DevnetError('DEVNET_EXITED', await exitReport(s, 'exited before it was healthy'));
      const st = await getJson<HealthAnswer>(s.plan.healthUrl, 2000);
      const foreign = st ? this.foreign(s, st) : null;
      if (foreign) lastForeign = foreign;
      if (st && !foreign) {
        s.peerId = st.peerId ?? '';
        s.listen = st.listen ?? [];
        if (st.rpcUrl && st.anchorAddress) s.evm = { rpcUrl: st.rpcUrl, anchorAddress: st.anchorAddress };
        return;
      }
      if (Date.now() > deadline)
        throw new DevnetError(
          'DEVNET_UNHEALTHY',
          `${s.plan.name} not healthy after ${timeoutMs} ms (see ${s.logFile})` +
            (lastForeign
              ? `; ${s.plan.healthUrl} was answered by ${lastForeign}: pass another --subnet`
              : ''),
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Why a health answer is not this service's (another process on its address), or null when it is. */
  private foreign(s: RunningService, st: HealthAnswer): string | null {
    if (s.expectedPeerId !== null && st.peerId !== s.expectedPeerId)
      return `another node (peer id ${st.peerId ?? 'none'}, expected ${s.expectedPeerId})`;
    if (s.plan.role === 'evm' && st.pid !== undefined && st.pid !== s.child?.pid)
      return `another process (pid ${st.pid}, expected ${s.child?.pid})`;
    return null;
  }

  async status(s: RunningService): Promise<NodeStatus | null> {
    if (!s.plan.healthUrl || !s.running) return null;
    const st = await getJson<NodeStatus>(`${s.apiUrl}/v1/status`);
    return st && !this.foreign(s, st) ? st : null;
  }

  async evidence(s: RunningService): Promise<{ kind: string; chainId: string; height: number }[]> {
    return (
      (await getJson<{ kind: string; chainId: string; height: number }[]>(`${s.apiUrl}/v1/evidence`)) ?? []
    );
  }

  manifest(): ManifestEntry[] {
    const evm = this.evmService();
    const head: EvmManifestEntry[] = evm?.evm ? [{ name: evm.plan.name, role: 'evm', ...evm.evm }] : [];
    return [...head, ...this.nodeManifest()];
  }

  private nodeManifest(): NodeManifestEntry[] {
    return this.nodes().map((s) => ({
      name: s.plan.name,
      role: s.plan.role as NodeManifestEntry['role'],
      apiUrl: s.apiUrl,
      peerId: s.peerId,
      p2p: s.listen.map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${s.peerId}`)),
      ...(s.plan.role === 'operator' && s.env.SORTITION_DATA_DIR
        ? { tokenFile: join(s.env.SORTITION_DATA_DIR, TOKEN_FILE) }
        : {}),
    }));
  }

  async writeManifest(file: string): Promise<void> {
    await writeFile(file, JSON.stringify(this.manifest(), null, 2) + '\n');
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    const s = this.service(name);
    const child = s.child;
    if (!child || !s.running) return;
    s.stopRequested = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  }

  async restart(name: string): Promise<void> {
    const s = this.service(name);
    await this.launch(s);
    await this.waitHealthy(s);
  }

  /** Closes a node's connections and refuses new ones for `ms` (devnet admin API). */
  async partition(name: string, ms: number): Promise<void> {
    const s = this.service(name);
    const r = await fetch(`${s.apiUrl}/v1/devnet/partition`, {
      method: 'POST',
      body: JSON.stringify({ ms }),
    });
    if (!r.ok) throw new Error(`partition ${name}: HTTP ${r.status} ${await r.text()}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of [...this.services].reverse().filter((x) => x.plan.role === 'client'))
      await this.kill(s.plan.name);
    await Promise.all(this.nodes().map((s) => this.kill(s.plan.name)));
    // The EVM chain last: operators finishing their last block still commit it.
    const evm = this.evmService();
    if (evm) await this.kill(evm.plan.name);
  }
}

/** Why a service's process ended, with the last lines it logged: what a user needs to fix it. */
async function exitReport(s: RunningService, what: string): Promise<string> {
  // The exit event may trail the state change by a tick; the log file is flushed by then.
  await new Promise((r) => setTimeout(r, 100));
  const how = s.lastExit
    ? s.lastExit.signal
      ? `killed by ${s.lastExit.signal}`
      : `exit code ${s.lastExit.code}`
    : 'ended';
  const lines = (await readFile(s.logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-5);
  return `${s.plan.name} ${what} (${how}); last lines of ${s.logFile}:\n${lines.join('\n')}`;
}
