import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityError, loadOrCreateIdentity } from '../../src/p2p/identity.js';

describe('persistent identity', () => {
  it('creates an Ed25519 key with mode 0600 once, then loads the same peer id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2p-id-'));
    try {
      const dataDir = join(dir, 'data');
      const first = await loadOrCreateIdentity(dataDir);
      assert.equal(first.created, true);
      assert.equal(first.privateKey.type, 'Ed25519');
      assert.equal((await stat(first.path)).mode & 0o777, 0o600);
      const second = await loadOrCreateIdentity(dataDir);
      assert.equal(second.created, false);
      assert.equal(second.peerId.toString(), first.peerId.toString());
      assert.ok(second.privateKey.equals(first.privateKey));
      // Permissions left too open are tightened.
      await chmod(first.path, 0o644);
      await loadOrCreateIdentity(dataDir);
      assert.equal((await stat(first.path)).mode & 0o777, 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not a key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2p-id-'));
    try {
      await writeFile(join(dir, 'p2p-key'), 'garbage', { mode: 0o600 });
      await assert.rejects(loadOrCreateIdentity(dir), IdentityError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
