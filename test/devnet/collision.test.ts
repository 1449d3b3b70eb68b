/**
 * Two devnets on one machine (issue 27 item 2): a second runner on the first one's subnet refuses before it starts
 * anything, naming what is taken and a free --subnet; a second runner on the first one's work dir refuses before it
 * removes anything; a health answer from another devnet's node is not taken as the service's own; and a service
 * that dies stops the devnet, naming it. Own loopback blocks: 127.0.27.x and 127.0.28.x.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadCompose, planServices } from '../../src/devnet/compose.js';
import { Devnet, DevnetError } from '../../src/devnet/runner.js';
import { createLogger } from '../../src/runtime/logger.js';
import { waitFor } from '../helpers/net.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const SUBNET = '127.0.27';
const OTHER_SUBNET = '127.0.28';
const root = mkdtempSync(join(tmpdir(), 'devnet-collision-'));
const running: ChildProcess[] = [];
after(() => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A one-service topology: an anchor, healthy once its API answers. */
const COMPOSE = join(root, 'anchor.yml');
writeFileSync(
  COMPOSE,
  `services:
  anchor:
    command: ['anchor']
    healthcheck:
      test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:8080/v1/status')"]
    environment:
      SORTITION_DATA_DIR: /data
      SORTITION_API_HOST: 0.0.0.0
      SORTITION_API_PORT: '8080'
      SORTITION_LISTEN: /ip4/0.0.0.0/tcp/9000
      SORTITION_LOG_LEVEL: warn
      SORTITION_BLOCK_INTERVAL_MS: '1000'
    volumes: ['anchor-data:/data']
`,
);

interface Runner {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

function runner(workDir: string, subnet: string): Runner {
  const child = spawn(
    process.execPath,
    [CLI, 'devnet', '--compose', COMPOSE, '--work-dir', workDir, '--subnet', subnet],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  running.push(child);
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // the summary table, not a log line
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

/** The exit code, or a failure naming what the runner did instead of exiting (it ran on as a second devnet). */
async function exitOf(r: Runner, what: string): Promise<number | null> {
  let code: number | null | undefined;
  void r.exited.then((c) => (code = c));
  await waitFor(async () => code !== undefined, `${what} exits`, 30_000).catch((e: Error) => {
    throw new Error(`${e.message}; it logged: ${r.lines.map((l) => l.msg).join(' | ')}`);
  });
  return code!;
}

const first = { work: join(root, 'first'), runner: null as Runner | null };

test('devnet: a second devnet on the same subnet refuses before it starts anything', async () => {
  first.runner = runner(first.work, SUBNET);
  const r1 = first.runner;
  await waitFor(async () => r1.lines.some((x) => x.msg === 'devnet up'), 'the first devnet is up', 60_000);

  const r2 = runner(join(root, 'second'), SUBNET);
  assert.equal(await exitOf(r2, 'the second runner'), 1);
  const refused = r2.lines.find((x) => x.msg === 'devnet refused');
  assert.ok(refused, `the second runner refused: ${JSON.stringify(r2.lines)}`);
  assert.equal(refused.code, 'DEVNET_ADDRESS_IN_USE');
  assert.match(String(refused.err), /127\.0\.27\.1:8080 \(anchor api\)/);
  assert.match(String(refused.err), /127\.0\.27\.1:9000 \(anchor p2p\)/);
  assert.match(String(refused.err), /pass --subnet 127\.\d+\.\d+ \(free\)/);
  assert.equal(r2.lines.filter((x) => x.msg === 'service started').length, 0, 'nothing was started');
});

test('devnet: a second devnet on the same work dir refuses and removes nothing', async () => {
  const r1 = first.runner!;
  const log = join(first.work, 'logs', 'anchor.log');
  const data = join(first.work, 'volumes', 'anchor-data');
  assert.ok(existsSync(log) && existsSync(data));
  const r3 = runner(first.work, OTHER_SUBNET);
  assert.equal(await exitOf(r3, 'the runner on the same work dir'), 1);
  const refused = r3.lines.find((x) => x.msg === 'devnet refused');
  assert.ok(refused, `the runner refused: ${JSON.stringify(r3.lines)}`);
  assert.equal(refused.code, 'DEVNET_LOCKED');
  assert.match(String(refused.err), new RegExp(`in use by the devnet of pid ${r1.child.pid}`));
  assert.ok(existsSync(log) && existsSync(data), "the first devnet's logs and data are still there");
  assert.equal(r3.lines.filter((x) => x.msg === 'service started').length, 0);
});

test("devnet: a health answer from another devnet's node is not the service's own", async () => {
  // What the address check cannot rule out: another devnet taking the addresses between the check and the start.
  const workDir = join(root, 'third');
  const plans = planServices(loadCompose(COMPOSE), { workDir, subnet: SUBNET });
  const devnet = new Devnet({
    plans,
    workDir,
    log: createLogger('silent', 'devnet'),
    healthTimeoutMs: 30_000,
  });
  const s = devnet.service('anchor');
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  await devnet.launch(s);
  // The anchor finds its addresses taken and exits; meanwhile the first devnet's anchor answers on them.
  await assert.rejects(devnet.waitHealthy(s), (e: DevnetError) => {
    assert.equal(e.code, 'DEVNET_EXITED', e.message);
    return true;
  });
  await devnet.stop();
});

test('devnet: a service that dies stops the devnet, naming it', async () => {
  const r1 = first.runner!;
  const started = r1.lines.find((x) => x.msg === 'service started');
  assert.ok(started);
  process.kill(started.pid as number, 'SIGKILL');
  assert.equal(await exitOf(r1, 'the first runner'), 1);
  const died = r1.lines.find((x) => x.msg === 'a service died: stopping the devnet');
  assert.ok(died, `the runner said a service died: ${JSON.stringify(r1.lines.map((l) => l.msg))}`);
  assert.equal(died.code, 'DEVNET_SERVICE_DIED');
  assert.match(String(died.err), /^anchor exited \(killed by SIGKILL\); last lines of /);
  assert.equal(existsSync(join(first.work, 'devnet.lock')), false, 'the work dir is free again');
});
