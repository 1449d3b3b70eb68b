/**
 * Every custom error the anchor contract can revert with is documented in docs/protocol.md section 12, and every
 * name that section lists is one the contract has: a renamed or added error would otherwise leave the settle CLI's
 * explanations and the specification silently out of date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrandBeacon, SortitionAnchor } from '../../src/gen/contracts.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the anchor and drand contracts` errors and docs/protocol.md section 12 name the same set', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## 12. '), doc.indexOf('## 13. '));
  const listed = section.slice(section.indexOf('**Errors.**'), section.indexOf('**Naming the anchor.**'));
  const documented = new Set([...listed.matchAll(/`([A-Z][A-Za-z]+)(?:\([a-z]+\))?`/g)].map((m) => m[1]));
  const inAbi = new Set<string>(
    [...SortitionAnchor.abi, ...DrandBeacon.abi].filter((e) => e.type === 'error').map((e) => e.name),
  );
  assert.ok(inAbi.size >= 40, `the ABI has ${inAbi.size} errors`);
  assert.deepEqual([...inAbi].filter((n) => !documented.has(n)).sort(), [], 'errors missing from section 12');
  assert.deepEqual(
    [...documented].filter((n) => !inAbi.has(n)).sort(),
    [],
    'section 12 names errors the ABI lacks',
  );
});
