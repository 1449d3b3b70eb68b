/**
 * `sortition-node devnet` as a user runs it: a bad option starts nothing; Ctrl-C on a terminal (SIGINT to the
 * runner's whole process group) gives each service exactly one signal; a runner killed with SIGKILL leaves no
 * service behind; a service that dies before it is healthy is reported with its real exit reason.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/net.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'devnet-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A one-service topology: an anchor, healthy once its API answers. */
function compose(name: string, command: string[], logLevel = 'info'): string {
  const file = join(root, `${name}.yml`);
  writeFileSync(
    file,
    `services:
  anchor:
    command: ${JSON.stringify(command)}
    healthcheck:
      test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:8080/v1/status')"]
    environment:
      SORTITION_DATA_DIR: /data
      SORTITION_API_HOST: 0.0.0.0
      SORTITION_API_PORT: '8080'
      SORTITION_LISTEN: /ip4/0.0.0.0/tcp/9000
      SORTITION_NAME: anchor
      SORTITION_LOG_LEVEL: ${logLevel}
      SORTITION_BLOCK_INTERVAL_MS: '1000'
    volumes: ['anchor-data:/data']
`,
  );
  return file;
}

interface Runner {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts the runner as the leader of its own process group, as a shell does for a foreground job. */
function runner(args: string[]): Runner {
  const child = spawn(process.execPath, [CLI, 'devnet', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: Record<string, unknown>[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // the summary table, not a log line
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, stderr: () => err, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function servicePid(r: Runner): number {
  const l = r.lines.find((x) => x.msg === 'service started');
  assert.ok(l, 'the runner logged the service it started');
  return l.pid as number;
}

test('devnet: an invalid option is refused before any service starts', async () => {
  const work = join(root, 'bad-option');
  const r = runner(['--duration', 'abc', '--work-dir', work]);
  assert.notEqual(await r.exited, 0);
  assert.match(r.stderr(), /duration/);
  assert.equal(r.lines.filter((x) => x.msg === 'service started').length, 0);
  assert.equal(existsSync(join(work, 'logs')), false, 'nothing was started');
});

test('devnet: Ctrl-C gives each service one signal; the anchor shuts down cleanly', async () => {
  const work = join(root, 'sigint');
  const r = runner(['--compose', compose('sigint', ['anchor']), '--work-dir', work]);
  await waitFor(async () => r.lines.some((x) => x.msg === 'devnet up'), 'devnet up', 60_000);
  const pid = servicePid(r);
  // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
  process.kill(-r.child.pid!, 'SIGINT');
  assert.equal(await r.exited, 0);
  await waitFor(async () => !alive(pid), 'the anchor process exits', 30_000);
  const log = readFileSync(join(work, 'logs', 'anchor.log'), 'utf8');
  assert.equal(log.match(/"msg":"shutting down"/g)?.length, 1, log);
  assert.doesNotMatch(log, /second signal/);
  assert.match(log, /"msg":"stopped"/);
});

test('devnet: a runner killed with SIGKILL leaves no service running', async () => {
  const work = join(root, 'sigkill');
  // A quiet service: one that logs, dies of EPIPE on its next line once the runner's pipe is gone; a quiet one
  // (most validators) would live on unless it notices its runner went away.
  const r = runner(['--compose', compose('sigkill', ['anchor'], 'warn'), '--work-dir', work]);
  await waitFor(async () => r.lines.some((x) => x.msg === 'devnet up'), 'devnet up', 60_000);
  const pid = servicePid(r);
  r.child.kill('SIGKILL');
  await r.exited;
  await waitFor(async () => !alive(pid), 'the orphaned anchor notices and exits', 30_000);
});

test('devnet: a service that dies before it is healthy is reported with its exit reason', async () => {
  const work = join(root, 'dies');
  const r = runner([
    '--compose',
    compose('dies', ['anchor', '--block-interval-ms', 'soon']),
    '--work-dir',
    work,
  ]);
  assert.equal(await r.exited, 1);
  const failed = r.lines.find((x) => x.msg === 'devnet failed to start');
  assert.ok(failed, 'the runner says the devnet failed to start');
  assert.match(String(failed.err), /exit code 1/);
  assert.match(String(failed.err), /block-interval-ms/);
});
