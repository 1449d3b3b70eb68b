import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCompose, planServices } from '../../src/devnet/compose.js';
import { Devnet } from '../../src/devnet/runner.js';
import { chainOf } from '../../src/devnet/checks.js';
import { createLogger } from '../../src/runtime/logger.js';
import { waitFor } from '../helpers/net.js';

export const COMPOSE = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));

export interface Up {
  readonly devnet: Devnet;
  /** Chain ids of the child and top chains. */
  readonly child: string;
  readonly top: string;
  height(service: string, chainId: string): Promise<number>;
  /** Stops every service and removes the data; with `keepLogs` (a failed test) the logs stay for reading. */
  close(opts?: { keepLogs?: boolean }): Promise<void>;
}

/** Starts the compose topology as processes (fresh data), with per-service environment overrides. */
export async function up(overrides: Record<string, Record<string, string>> = {}): Promise<Up> {
  const workDir = await mkdtemp(join(tmpdir(), 'devnet-'));
  // SORTITION_DEVNET_SUBNET moves the devnet off 127.0.2.x (another devnet running on this machine).
  const plans = planServices(loadCompose(COMPOSE), { workDir, subnet: process.env.SORTITION_DEVNET_SUBNET });
  const devnet = new Devnet({
    plans,
    workDir,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'devnet'),
    overrides,
  });
  const close = async (opts: { keepLogs?: boolean } = {}) => {
    await devnet.stop();
    if (opts.keepLogs) {
      const kept = await mkdtemp(join(tmpdir(), 'devnet-failed-'));
      await rename(join(workDir, 'logs'), join(kept, 'logs')).catch(() => undefined);
      process.stderr.write(`devnet test failed: service logs kept in ${join(kept, 'logs')}\n`);
    }
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    await devnet.start();
    const child = (await chainOf(devnet.service('operator-child')))!;
    const top = (await chainOf(devnet.service('operator-top')))!;
    const height = async (service: string, chainId: string) =>
      (await devnet.status(devnet.service(service)))?.chains.find((c) => c.chainId === chainId)?.height ?? -1;
    return { devnet, child, top, height, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Waits until every node follows the child chain past `h`. */
export async function allPast(u: Up, chainId: string, h: number, timeoutMs = 90_000): Promise<void> {
  for (const s of u.devnet
    .nodes()
    .filter((x) => x.plan.role !== 'anchor' && x.plan.name !== 'operator-top')) {
    await waitFor(
      async () => (await u.height(s.plan.name, chainId)) > h,
      `${s.plan.name} past height ${h}`,
      timeoutMs,
    );
  }
}
