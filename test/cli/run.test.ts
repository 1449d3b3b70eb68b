/**
 * `sortition-node run` as a process: it says which crypto backend judges blocks (log and /metrics), honours
 * `--crypto`, and exits 0 on SIGTERM.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/net.js';

/** dist/test/cli -> dist/src/cli/main.js */
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'sortition-run-'));

interface Started {
  readonly lines: Record<string, unknown>[];
  readonly api: string;
  stop(): Promise<number | null>;
}

async function start(name: string, extra: string[]): Promise<Started> {
  const args = [
    CLI,
    'run',
    '--data-dir',
    join(root, name),
    '--api-port',
    '0',
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
  ];
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: Record<string, unknown>[] = [];
  const api = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no HTTP API within 30 s`)), 30_000);
    void exited.then((code) => reject(new Error(`${name} exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      lines.push(o);
      if (o.msg === 'HTTP API listening') {
        clearTimeout(timer);
        resolve(o.api as string);
      }
    });
  });
  return {
    lines,
    api,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('run', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const [flags, backend] of [
    [[], 'libsodium'],
    [['--crypto', 'openssl'], 'openssl'],
  ] as const) {
    it(`judges with ${backend} ${flags.length ? 'when asked' : 'by default'}, says so, and stops cleanly`, async () => {
      const node = await start(backend, [...flags]);
      try {
        assert.ok(node.lines.some((l) => l.msg === 'crypto backend' && l.backend === backend));
        const metrics = await fetch(`${node.api}/metrics`).then((r) => r.text());
        assert.match(metrics, new RegExp(`^sortition_crypto_backend_info\\{backend="${backend}"\\} 1$`, 'm'));
      } finally {
        assert.equal(await node.stop(), 0);
      }
    });
  }

  it('tells a newcomer it has no peers and no tracked chain, and logs head progress', async () => {
    // The intervals are 30 s and 60 s; the hidden --monitor-interval-ms shortens them for this test.
    const node = await start('lonely', ['--monitor-interval-ms', '300']);
    try {
      await waitFor(
        () =>
          node.lines.some((l) => l.msg === 'heads') &&
          node.lines.some((l) => /^no peers after/.test(String(l.msg))),
        'the warnings and a heads line',
        20_000,
      );
      const warns = node.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      assert.ok(warns.some((m) => m.startsWith('no peers after 0.3 s: check --bootstrap')));
      assert.ok(warns.some((m) => m.startsWith('no tracked chain after 0.3 s: check --track')));
      const heads = node.lines.find((l) => l.msg === 'heads')!;
      assert.deepEqual({ peers: heads.peers, chains: heads.chains }, { peers: 0, chains: [] });
    } finally {
      assert.equal(await node.stop(), 0);
    }
  });
});
