/**
 * `--log-format pretty` (issue 27 item 4): one readable line per log entry for a person at a terminal, JSON lines
 * otherwise; an unknown format is refused before anything runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(DIST, 'src', 'cli', 'main.js');
const LOGGER = join(DIST, 'src', 'runtime', 'logger.js');

/** What a process logging one warning and one info line with `format` writes to stdout. */
function logged(format: string): string {
  const code =
    `const m = await import(${JSON.stringify(LOGGER)}); m.setLogFormat(${JSON.stringify(format)});` +
    `const log = m.createLogger('info', 'node').child({ component: 'sync' });` +
    `log.warn({ peers: 0, chain: 'ab cd' }, 'no peers'); log.debug('hidden'); log.info('heads');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('pretty logs are one readable line an entry; json stays JSON', () => {
  const lines = logged('pretty').trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} WARN {2}node\/sync: no peers peers=0 chain="ab cd"$/);
  assert.match(lines[1], /^\d\d:\d\d:\d\d\.\d{3} INFO {2}node\/sync: heads$/);
  const json = logged('json')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    json.map((e) => [e.level, e.component, e.msg]),
    [
      [40, 'sync', 'no peers'],
      [30, 'sync', 'heads'],
    ],
  );
});

test('--log-format takes json or pretty, on every command that logs', () => {
  const r = spawnSync(process.execPath, [CLI, 'run', '--log-format', 'xml'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--log-format.*xml.*json, pretty/s);
});
