// `draw` CLI module: runs drawCommand() in a child process (real stdin/stdout/exit status), since commander
// error handling ends the process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { committeeInput, groupInput } from './fixtures.js';
import { ABC } from './keep-vectors.js';
import { inputFiles, runDraw } from './helpers.js';

const { dir, file } = inputFiles('draw-cli-');

test('draw committee --input FILE prints members and sequence', () => {
  const r = runDraw(['committee', '--input', file('committee.json', committeeInput())]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { members: { credits: number }[]; sequence: string[] };
  assert.deepEqual(
    out.members.map((m) => m.credits),
    [7, 15, 10, 13],
  );
  assert.equal(out.sequence.length, 45);
});

test('draw group --input - reads stdin', () => {
  const r = runDraw(['group', '--input', '-'], JSON.stringify(groupInput()));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { selected: ABC.group3.map((k) => [70, 90, 40][k - 1]) });
});

test('bad input exits with status 2 and names the field', () => {
  const bad = groupInput();
  (bad.operators as { weight: number }[])[1].weight = 0;
  const r = runDraw(['group', '--input', file('bad.json', bad)]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /operators\[1\]\.weight: is 0/);

  const notJson = runDraw(['committee', '--input', file('broken.json', '{"seed": ')]);
  assert.equal(notJson.status, 2);
  assert.match(notJson.stderr, /not valid JSON/);

  const missing = runDraw(['committee', '--input', join(dir, 'does-not-exist.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read --input/);

  const noInput = runDraw(['group']);
  assert.notEqual(noInput.status, 0);
  assert.match(noInput.stderr, /--input/);
});

test('draw committee says on stderr and in its output when the stake ran out before the credits', () => {
  const input = { ...committeeInput(), unit: '1000000000000', credits: 64 };
  const r = runDraw(['committee', '--input', file('short.json', input)]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sequence: string[]; warning?: string };
  assert.equal(out.sequence.length, 10);
  assert.match(out.warning ?? '', /assigned 10 of 64 credits/);
  assert.match(r.stderr, /draw committee: warning: assigned 10 of 64 credits/);

  const typo = runDraw(['committee', '--input', file('typo.json', { ...committeeInput(), units: 100 })]);
  assert.equal(typo.status, 2);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /units: is not a field/);
});
