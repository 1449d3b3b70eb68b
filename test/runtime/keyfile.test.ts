import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KeyFileError, readKeyFile, writeKeyFile } from '../../src/runtime/keyfile.js';
import { sign, verify } from '../../src/crypto/keys.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');

test('keygen writes a 0600 key file that signs, and refuses to overwrite it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keys-'));
  try {
    const file = join(dir, 'op.json');
    const { stdout } = await run(process.execPath, [cli, 'keygen', '--out', file]);
    const printed = JSON.parse(stdout) as { publicKey: string };
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const key = await readKeyFile(file);
    assert.equal(Buffer.from(key.publicKey).toString('hex'), printed.publicKey);
    const msg = new Uint8Array([1, 2, 3]);
    assert.ok(verify(key.publicKey, msg, sign(key.secretKey, msg)));
    await assert.rejects(
      run(process.execPath, [cli, 'keygen', '--out', file]),
      (e: Error & { stderr: string; code: number }) => {
        assert.match(e.stderr, /KEYFILE_EXISTS/);
        assert.equal(e.code, 1);
        return true;
      },
    );
    // The key is unchanged after the refused overwrite.
    assert.equal(
      Buffer.from((await readKeyFile(file)).secretKey).toString('hex'),
      Buffer.from(key.secretKey).toString('hex'),
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('key files readable by others or with bad content are refused with a reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keys-'));
  try {
    const file = join(dir, 'k.json');
    await writeKeyFile(file);
    await chmod(file, 0o644);
    await assert.rejects(
      readKeyFile(file),
      (e: unknown) => e instanceof KeyFileError && e.code === 'KEYFILE_INSECURE',
    );
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"type":"ed25519","secretKey":"zz"}', { mode: 0o600 });
    await assert.rejects(
      readKeyFile(bad),
      (e: unknown) => e instanceof KeyFileError && e.code === 'KEYFILE_INVALID',
    );
    await assert.rejects(
      readKeyFile(join(dir, 'missing.json')),
      (e: unknown) => e instanceof KeyFileError && e.code === 'KEYFILE_UNREADABLE',
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});
