/**
 * Keys from files first (issue 27 item 4): a key given itself on the command line, to any command, is warned about
 * on stderr (every user of the machine can read it); a key file, or the key in its SORTITION_* variable, is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const KEY = '0x' + 'ab'.repeat(32);

/** `run` with an option check that fails before anything starts: only what the program says up to there. */
function run(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [CLI, 'run', '--track', 'abcd', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  assert.notEqual(r.status, 0, 'the bad --track is refused');
  return r.stderr;
}

test('a key on the command line is warned about; from a file or a variable it is not', () => {
  assert.match(run(['--evm-key', KEY]), /warning: --evm-key: a key given on the command line is visible/);
  assert.match(run(['--settle-key', KEY.slice(2)]), /warning: --settle-key: a key given on the command line/);
  assert.doesNotMatch(run(['--evm-key', '/etc/evm.key']), /warning/);
  assert.doesNotMatch(run([], { SORTITION_EVM_KEY: KEY }), /warning/);
});
