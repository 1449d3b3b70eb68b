/**
 * Failing fast and saying why (issue 27, item 3): a node process refuses a wrong Node version, a bad option, a
 * port in use and a data directory in use before it opens the database or the network, each with one line on
 * stderr saying what was wrong and what to do; Ctrl-C exits 130 without error lines; no log line binds
 * `component` twice. Processes are real (`node dist/src/cli/main.js ...`) on loopback addresses 127.0.0.3x.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startFailure } from '../../src/app/options.js';
import { operatorHttpError } from '../../src/operator/api.js';
import { OperatorError } from '../../src/operator/errors.js';
import { createNetworkNode } from '../../src/p2p/libp2p.js';
import { HttpApi } from '../../src/runtime/http.js';
import { defer } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/net.js';

/** dist/test/cli -> dist/src/cli/main.js */
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'sortition-failfast-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (name: string) => join(root, `${name}-${dirs++}`);

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI to its end. A process still running at the deadline (the bug: it accepted the option and went on)
 * is killed, and the test fails saying so.
 */
function runToEnd(args: string[], node = process.execPath, deadlineMs = 20_000): Promise<Ended> {
  const child = spawn(node, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`still running after ${deadlineMs} ms: ${args.join(' ')}\nstdout: ${stdout.slice(-2000)}`),
      );
    }, deadlineMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The one line a refused start prints: exit 1, a single stderr line, nothing logged on stdout. */
function assertRefused(r: Ended, line: RegExp): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], line);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing started, so nothing logged');
}

interface Running {
  readonly child: ChildProcess;
  /** Raw stdout lines: JSON.parse would merge a key written twice. */
  readonly raw: string[];
  readonly exited: Promise<number | null>;
}

/** Starts a long-running subcommand; resolves once a stdout line matches `ready`. Stopped by the test's cleanup. */
async function startProcess(
  t: { after(f: () => Promise<void>): void },
  args: string[],
  ready: RegExp,
): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const raw: string[] = [];
  let err = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    raw.push(...parts);
  });
  let ended = false;
  void exited.then(() => (ended = true));
  await waitFor(
    () => {
      if (ended) throw new Error(`${args[0]} exited early: ${err}\n${raw.join('\n')}`);
      return raw.some((l) => ready.test(l));
    },
    `${args.join(' ')}: ${ready}`,
    30_000,
  );
  return { child, raw, exited };
}

/** A TCP port held by this test on `host`, as another process would hold it. */
async function holdPort(t: { after(f: () => Promise<void>): void }, host: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  defer(t, () => new Promise((r) => server.close(r)));
  return (server.address() as { port: number }).port;
}

/** A Node older than 22 on this host (the system's, when node-env put a newer one first on PATH), if any. */
function oldNode(): { path: string; version: string } | null {
  const onPath = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'node'));
  for (const path of new Set([...onPath, '/usr/bin/node', '/usr/local/bin/node'])) {
    if (!existsSync(path)) continue;
    const r = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const version = r.stdout?.trim() ?? '';
    if (r.status === 0 && Number(version.split('.')[0]) < 22) return { path, version };
  }
  return null;
}

describe('fail fast: the Node version', () => {
  const old = oldNode();
  it(
    'an older Node is refused before anything loads, saying how to get the right one',
    { skip: old ? false : 'no Node < 22 on this host to run the CLI with' },
    async () => {
      const dataDir = freshDir('old-node');
      const r = await runToEnd(
        ['run', '--data-dir', dataDir, '--api-port', '0', '--listen', '/ip4/127.0.0.31/tcp/0'],
        old!.path,
      );
      assertRefused(
        r,
        new RegExp(
          `^sortition-node: Node\\.js ${old!.version.replace(/\./g, '\\.')} \\(.*\\) is too old: this program needs ` +
            'Node\\.js >= 22\\. In a clone, run `source scripts/node-env\\.sh` first .* install Node\\.js >= 22\\.$',
        ),
      );
      assert.equal(existsSync(dataDir), false, 'no data directory created');
    },
  );
});

describe('fail fast: options are judged before the database and the network', () => {
  const base = (dataDir: string) => [
    'run',
    '--data-dir',
    dataDir,
    '--api-host',
    '127.0.0.32',
    '--api-port',
    '0',
    '--listen',
    '/ip4/127.0.0.32/tcp/0',
  ];
  const cases: [string, string[], RegExp][] = [
    [
      'a --track that is neither a chain id nor a URL',
      ['--track', 'abcd'],
      /^sortition-node: CONFIG_INVALID: --track abcd: expected a chain id \(64 hex digits\) or an operator API URL \(http:\/\/host:port\)$/,
    ],
    [
      'an --alert-url that is not a URL',
      ['--alert-url', 'notaurl'],
      /^sortition-node: CONFIG_INVALID: --alert-url notaurl: expected an http\(s\) URL such as http:\/\/127\.0\.0\.1:9999\/hook$/,
    ],
    [
      'a --watch <service>/<start> without --join',
      ['--watch', 'operator-child/5'],
      /^sortition-node: CONFIG_INVALID: --watch operator-child\/5: --watch <service>\/<start> needs --join <manifest> .*http:\/\/host:port\/v1\/contracts\/5$/,
    ],
    [
      'more --data-requests than a commit may take',
      ['--data-requests', '65'],
      /^sortition-node: CONFIG_INVALID: --data-requests must be an integer in \[0, 64\], got 65$/,
    ],
    [
      'an --evm-quorum above the --evm-rpc endpoints given',
      [
        '--evm-rpc',
        'http://127.0.0.1:1',
        '--evm-rpc',
        'http://127.0.0.2:1',
        '--anchor-address',
        `0x${'11'.repeat(20)}`,
        '--evm-quorum',
        '3',
      ],
      /^sortition-node: CONFIG_INVALID: --evm-quorum must be an integer in \[1, 2\], got 3$/,
    ],
    [
      'an --evm-checkpoint that is not <number>:<hash>',
      [
        '--evm-rpc',
        'http://127.0.0.1:1',
        '--anchor-address',
        `0x${'11'.repeat(20)}`,
        '--evm-checkpoint',
        '12:0xabc',
      ],
      /^sortition-node: CONFIG_INVALID: --evm-checkpoint 12:0xabc: expected <block number>:<0x block hash \(64 hex digits\)>$/,
    ],
    [
      'an --api-port out of range',
      ['--api-port', '70000'],
      /^sortition-node: CONFIG_INVALID: --api-port must be an integer in \[0, 65535\], got 70000$/,
    ],
  ];
  for (const [what, extra, line] of cases) {
    it(`${what} is refused at once`, async () => {
      const dataDir = freshDir('option');
      assertRefused(await runToEnd([...base(dataDir), ...extra]), line);
      assert.equal(existsSync(dataDir), false, 'no data directory created');
    });
  }

  it('an --api-port in use is named before the database and libp2p start', async (t) => {
    const port = await holdPort(t, '127.0.0.33');
    const dataDir = freshDir('api-busy');
    const r = await runToEnd([
      'run',
      '--data-dir',
      dataDir,
      '--api-host',
      '127.0.0.33',
      '--api-port',
      String(port),
      '--listen',
      '/ip4/127.0.0.33/tcp/0',
    ]);
    assertRefused(
      r,
      new RegExp(
        `^sortition-node: ADDRESS_IN_USE: --api-port ${port}: 127\\.0\\.0\\.33:${port} is already in use ` +
          '\\(another process listens there\\); stop it or pass another --api-port \\(0 picks a free one\\)$',
      ),
    );
    assert.equal(existsSync(dataDir), false, 'no data directory created');
  });

  it('a libp2p listen port in use is named in one line, without libp2p advice or a stack', async (t) => {
    const port = await holdPort(t, '127.0.0.34');
    const dataDir = freshDir('p2p-busy');
    const listen = `/ip4/127.0.0.34/tcp/${port}`;
    const r = await runToEnd([
      'run',
      '--data-dir',
      dataDir,
      '--api-host',
      '127.0.0.34',
      '--api-port',
      '0',
      '--listen',
      listen,
    ]);
    assertRefused(
      r,
      new RegExp(
        `^sortition-node: ADDRESS_IN_USE: --listen ${listen}: 127\\.0\\.0\\.34:${port} is already in use ` +
          '\\(another process listens there\\); stop it or pass another --listen port \\(/tcp/0 picks a free one\\)$',
      ),
    );
    assert.doesNotMatch(r.stderr, /faultTolerance/);
    assert.equal(existsSync(dataDir), false, 'no data directory created');
  });

  it("libp2p's own listen failure (a port taken after the check) becomes the same one line", async (t) => {
    const port = await holdPort(t, '127.0.0.35');
    const listen = `/ip4/127.0.0.35/tcp/${port}`;
    const node = await createNetworkNode({ listen: [listen] });
    defer(t, () => node.stop());
    const e = await node.start().then(
      () => assert.fail('libp2p listened on a port in use'),
      (err: unknown) => err,
    );
    const said = startFailure(e, freshDir('unused')) as Error & { code?: string };
    assert.equal(said.code, 'ADDRESS_IN_USE');
    assert.equal(
      said.message,
      `--listen: ${listen} is already in use (another process listens there); stop what holds it or pass ` +
        'another --listen (/tcp/0 picks a free port)',
    );
  });
});

/** A validator on loopback address `ip` with its API and libp2p on free ports. */
const validatorArgs = (dataDir: string, ip: string) => [
  'run',
  '--data-dir',
  dataDir,
  '--api-host',
  ip,
  '--api-port',
  '0',
  '--listen',
  `/ip4/${ip}/tcp/0`,
];

/** The devnet anchor (an operator process) on loopback address `ip`. */
const anchorArgs = (dataDir: string, ip: string) => [
  'anchor',
  '--devnet',
  '--data-dir',
  dataDir,
  '--api-host',
  ip,
  '--api-port',
  '0',
  '--listen',
  `/ip4/${ip}/tcp/0`,
];

const errorLines = (raw: readonly string[]) => raw.filter((l) => /"level":(50|60)/.test(l));

describe('fail fast: a data directory in use', () => {
  it('a second validator on a data dir is told whose lock it is', async (t) => {
    const dataDir = freshDir('validator');
    const first = await startProcess(t, validatorArgs(dataDir, '127.0.0.36'), /"msg":"HTTP API listening"/);
    const r = await runToEnd(validatorArgs(dataDir, '127.0.0.37'));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `sortition-node: DATA_DIR_IN_USE: data dir ${dataDir} is in use by another process (LevelDB lock ` +
        `${join(dataDir, 'validator-db', 'LOCK')}); stop it or pass another --data-dir\n`,
    );
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, 'the first one was not disturbed');
  });

  it("a second operator on a data dir is told whose lock it is (the operator store's)", async (t) => {
    const dataDir = freshDir('anchor');
    const first = await startProcess(t, anchorArgs(dataDir, '127.0.0.38'), /"msg":"anchor operator started"/);
    const r = await runToEnd(anchorArgs(dataDir, '127.0.0.38'));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `sortition-node: DATA_DIR_IN_USE: data dir ${dataDir} is in use by another process (LevelDB lock ` +
        `${join(dataDir, 'operator-db', 'LOCK')}); stop it or pass another --data-dir\n`,
    );
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, 'the first one was not disturbed');
  });
});

describe('fail fast: Ctrl-C and the logs', () => {
  it('Ctrl-C stops a validator with exit code 130 and no error line', async (t) => {
    const node = await startProcess(
      t,
      validatorArgs(freshDir('sigint'), '127.0.0.36'),
      /"msg":"HTTP API listening"/,
    );
    node.child.kill('SIGINT');
    assert.equal(await node.exited, 130, 'Ctrl-C exits 128 + SIGINT');
    assert.deepEqual(errorLines(node.raw), [], 'no error lines on a clean Ctrl-C');
    assert.ok(
      node.raw.some((l) => l.includes('"msg":"stopped"')),
      'it stopped cleanly',
    );
  });

  it('an anchor and an operator registered with it: component once per line; Ctrl-C to both exits 130 without error lines', async (t) => {
    const anchor = await startProcess(
      t,
      [...anchorArgs(freshDir('anchor'), '127.0.0.38'), '--log-level', 'debug'],
      /"msg":"anchor operator started"/,
    );
    const api = /"api":"(http:[^"]+)"/.exec(anchor.raw.find((l) => l.includes('HTTP API listening'))!)![1];
    // A top-level chain registering with the anchor: the anchor's registrar logs it (at debug).
    const operator = await startProcess(
      t,
      [
        'operator',
        ...validatorArgs(freshDir('operator'), '127.0.0.39').slice(1),
        '--parent-api',
        api,
        '--anchor',
        api,
        '--amount',
        '1000000',
        '--log-level',
        'debug',
      ],
      /"msg":"chain opened in its parent"/,
    );
    await waitFor(() => anchor.raw.some((l) => l.includes('"msg":"chain registered"')), 'the registration');
    for (const p of [anchor, operator]) {
      const twice = p.raw.filter((l) => (l.match(/"component":/g) ?? []).length > 1);
      assert.deepEqual(twice, [], 'lines with component twice');
    }
    // Both at once, as a terminal's Ctrl-C does to a shell's jobs: the operator's last header may reach an anchor
    // that is stopping, which refuses it (NOT_RUNNING) and must not call that an error.
    anchor.child.kill('SIGINT');
    operator.child.kill('SIGINT');
    assert.equal(await anchor.exited, 130);
    assert.equal(await operator.exited, 130);
    for (const p of [anchor, operator])
      assert.deepEqual(errorLines(p.raw), [], 'no error lines on a clean Ctrl-C');
  });

  it('an operator refusing requests while it stops (NOT_RUNNING) is logged at debug, without a stack', async (t) => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const api = new HttpApi(pino({ level: 'debug' }, sink));
    api.mapErrors(operatorHttpError);
    api.route('POST', '/v1/child-roots', () => {
      throw new OperatorError('NOT_RUNNING', 'the operator is stopping');
    });
    const addr = await api.start('127.0.0.40', 0);
    defer(t, () => api.stop());
    const res = await fetch(`http://127.0.0.40:${addr.port}/v1/child-roots`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 503, 'the client is still told, and retries');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_RUNNING');
    await waitFor(() => lines.length > 0, 'the log line');
    assert.deepEqual(
      lines.map((l) => [l.level, l.code, typeof l.err]),
      [[20, 'NOT_RUNNING', 'string']],
      'one debug line, the error as its message (no stack)',
    );
  });
});
