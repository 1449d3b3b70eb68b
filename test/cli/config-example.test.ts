/**
 * The example config files (issue 27 item 4): docs/config/validator.yaml and operator.yaml name every option of
 * `run` and `operator` (set, or commented out where there is no default), and each parses as that command's
 * --config file: no unknown key, every value the command's own default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { commands } from '../../src/cli/commands.js';
import { resolveOptions } from '../../src/runtime/config.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'config');

for (const [name, file] of [
  ['run', 'validator.yaml'],
  ['operator', 'operator.yaml'],
] as const) {
  test(`docs/config/${file} names every option of ${name} and parses as its --config`, async () => {
    const path = join(DOCS, file);
    const text = readFileSync(path, 'utf8');
    const cmd = commands().find((c) => c.name() === name)!;
    const missing = cmd.options
      .filter((o) => o.long !== '--config' && !o.hidden)
      .map((o) => o.long!.slice(2))
      .filter((k) => !new RegExp(`^(# )?${k}:`, 'm').test(text));
    assert.deepEqual(missing, [], `options missing from ${file}`);

    let resolved: Record<string, unknown> = {};
    cmd.exitOverride().action(function (this: Command) {
      resolved = resolveOptions(this);
    });
    await cmd.parseAsync(['--config', path], { from: 'user' });
    const defaults = Object.fromEntries(cmd.options.map((o) => [o.attributeName(), o.defaultValue]));
    for (const [k, v] of Object.entries(resolved))
      if (k !== 'config' && defaults[k] !== undefined) assert.deepEqual(v, defaults[k], k);
  });
}
