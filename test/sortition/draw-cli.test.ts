// `draw` CLI module: runs drawCommand() in a child process (real stdin/stdout/exit status), since commander
// error handling ends the process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { committeeInput, groupInput } from './fixtures.js';
import { ABC } from './keep-vectors.js';

const drawModule = pathToFileURL(fileURLToPath(new URL('../../src/cli/draw.js', import.meta.url))).href;
const dir = mkdtempSync(join(tmpdir(), 'draw-cli-'));

function run(args: string[], stdin?: string) {
  const script = `import { drawCommand } from ${JSON.stringify(drawModule)};
await drawCommand().parseAsync(process.argv.slice(1), { from: 'user' });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], {
    input: stdin ?? '',
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

test('draw committee --input FILE prints members and sequence', () => {
  const r = run(['committee', '--input', file('committee.json', committeeInput())]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { members: { credits: number }[]; sequence: string[] };
  assert.deepEqual(
    out.members.map((m) => m.credits),
    [7, 15, 10, 13],
  );
  assert.equal(out.sequence.length, 45);
});

test('draw group --input - reads stdin', () => {
  const r = run(['group', '--input', '-'], JSON.stringify(groupInput()));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { selected: ABC.group3.map((k) => [70, 90, 40][k - 1]) });
});

test('bad input exits with status 2 and names the field', () => {
  const bad = groupInput();
  (bad.operators as { weight: number }[])[1].weight = 0;
  const r = run(['group', '--input', file('bad.json', bad)]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /operators\[1\]\.weight: is 0/);

  const notJson = run(['committee', '--input', file('broken.json', '{"seed": ')]);
  assert.equal(notJson.status, 2);
  assert.match(notJson.stderr, /not valid JSON/);

  const missing = run(['committee', '--input', join(dir, 'does-not-exist.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read --input/);

  const noInput = run(['group']);
  assert.notEqual(noInput.status, 0);
  assert.match(noInput.stderr, /--input/);
});

test('draw committee says on stderr and in its output when the stake ran out before the credits', () => {
  const input = { ...committeeInput(), unit: '1000000000000', credits: 64 };
  const r = run(['committee', '--input', file('short.json', input)]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sequence: string[]; warning?: string };
  assert.equal(out.sequence.length, 10);
  assert.match(out.warning ?? '', /assigned 10 of 64 credits/);
  assert.match(r.stderr, /draw committee: warning: assigned 10 of 64 credits/);

  const typo = run(['committee', '--input', file('typo.json', { ...committeeInput(), units: 100 })]);
  assert.equal(typo.status, 2);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /units: is not a field/);
});
