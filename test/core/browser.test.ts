/**
 * The core runs where Node does not: a browser wallet has no `Buffer`. This imports the core in a process whose
 * `globalThis.Buffer` was deleted before any module loaded, builds a chain, and validates a block and evidence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

test('the core validates a block and evidence with globalThis.Buffer deleted', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', join(HERE, 'no-buffer.js'), join(HERE, 'browser-child.js')],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^ok /m);
});
