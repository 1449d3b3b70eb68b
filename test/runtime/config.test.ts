/** Configuration precedence: flags over SORTITION_* variables over the --config file over defaults. */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  addCommonOptions,
  ConfigError,
  listOption,
  option,
  resolveOptions,
} from '../../src/runtime/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sortition-config-'));
let n = 0;
function file(text: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

/** A command shaped like `run`: the common options, a list, a choice. */
function parse(argv: string[]): Record<string, unknown> {
  const cmd = addCommonOptions(new Command('run'), { dataDir: './data', apiPort: 8080 })
    .addOption(option('--track <chain...>', 'chains'))
    .addOption(option('--crypto <backend>', 'backend', 'libsodium').choices(['libsodium', 'openssl']))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  cmd.parse(argv, { from: 'user' });
  return resolveOptions(cmd);
}

describe('resolveOptions', () => {
  afterEach(() => {
    delete process.env.SORTITION_LOG_LEVEL;
    delete process.env.SORTITION_TRACK;
  });

  it('fills from the file what neither a flag nor the environment set', () => {
    const f = file('log-level: debug\napiPort: 9000\ntrack: abcd\ncrypto: openssl\n');
    process.env.SORTITION_LOG_LEVEL = 'warn';
    const o = parse(['--config', f, '--api-port', '7000']);
    assert.equal(o.apiPort, '7000', 'a flag beats the file');
    assert.equal(o.logLevel, 'warn', 'the environment beats the file');
    assert.deepEqual(o.track, ['abcd'], 'a single value of a list option becomes a list');
    assert.equal(o.crypto, 'openssl');
    assert.equal(o.dataDir, './data', 'defaults stay where nothing set a value');
  });

  it('reads comma-separated lists from the environment', () => {
    process.env.SORTITION_TRACK = 'aa, bb,cc';
    assert.deepEqual(listOption(parse([]).track), ['aa', 'bb', 'cc']);
  });

  it('names the file and the key for an unknown option, a bad choice or an unreadable file', () => {
    assert.throws(
      () => parse(['--config', file('trakc: abcd\n')]),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /unknown option "trakc"/);
        return true;
      },
    );
    assert.throws(
      () => parse(['--config', file('crypto: fast\n')]),
      /crypto must be one of libsodium, openssl, got fast/,
    );
    assert.throws(() => parse(['--config', file('- a\n- b\n')]), /must hold a mapping/);
    assert.throws(() => parse(['--config', join(dir, 'missing.yaml')]), /cannot read config file/);
    // The same bad choice as a flag is commander's own error.
    assert.throws(() => parse(['--crypto', 'fast']), /Allowed choices are libsodium, openssl/);
  });
});
