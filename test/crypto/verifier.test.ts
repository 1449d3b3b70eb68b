/** The injectable signature verifier: what `verify` keeps for itself whichever implementation runs. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateKeyPair,
  setSignatureVerifier,
  sign,
  verify,
  type SignatureVerifier,
} from '../../src/crypto/keys.js';
import { cryptoStats, resetCryptoStats } from '../../src/crypto/stats.js';
import {
  NATIVE_KEY_CACHE_ENTRIES,
  nativeEd25519Verify,
  nativeKeyCacheSize,
} from '../../src/runtime/native-ed25519.js';

const kp = generateKeyPair();
const msg = new Uint8Array(32).fill(7);
const sig = sign(kp.secretKey, msg);

describe('setSignatureVerifier', () => {
  after(() => setSignatureVerifier(null));

  it('counts every verification on either implementation', () => {
    for (const fn of [null, nativeEd25519Verify]) {
      setSignatureVerifier(fn);
      resetCryptoStats();
      assert.equal(verify(kp.publicKey, msg, sig), true);
      assert.equal(verify(kp.publicKey, new Uint8Array(32), sig), false);
      // Rejected by the shared byte checks (S >= L) before the implementation runs: still a verification.
      const badS = sig.slice();
      badS[63] = 0xff;
      assert.equal(verify(kp.publicKey, msg, badS), false);
      assert.equal(cryptoStats.verifies, 3);
      // Wrong lengths are not signature checks, as before.
      assert.equal(verify(kp.publicKey.subarray(1), msg, sig), false);
      assert.equal(cryptoStats.verifies, 3);
    }
  });

  it('applies the byte checks before the installed implementation, and null restores the default', () => {
    const seen: Uint8Array[] = [];
    const accepting: SignatureVerifier = (pk) => {
      seen.push(pk);
      return true;
    };
    setSignatureVerifier(accepting);
    assert.equal(verify(kp.publicKey, msg, sig), true);
    assert.equal(verify(new Uint8Array(32), msg, sig), false, 'small-order key: never reaches the verifier');
    const badS = sig.slice();
    badS[63] |= 0xf0;
    assert.equal(verify(kp.publicKey, msg, badS), false, 'non-canonical S: never reaches the verifier');
    assert.equal(seen.length, 1);
    setSignatureVerifier(null);
    assert.equal(verify(kp.publicKey, new Uint8Array(32), sig), false);
  });

  it('reads a throwing implementation as invalid', () => {
    setSignatureVerifier(() => {
      throw new Error('boom');
    });
    assert.equal(verify(kp.publicKey, msg, sig), false);
  });
});

describe('nativeEd25519Verify', () => {
  it('keeps a bounded cache of key objects', () => {
    const fake = new Uint8Array(64);
    for (let i = 0; i < NATIVE_KEY_CACHE_ENTRIES + 100; i++) {
      const pk = new Uint8Array(32);
      new DataView(pk.buffer).setUint32(0, i + 1);
      assert.equal(nativeEd25519Verify(pk, msg, fake), false);
    }
    assert.equal(nativeKeyCacheSize(), NATIVE_KEY_CACHE_ENTRIES);
    // The recent key is still a hit, and the answer does not depend on the cache.
    assert.equal(nativeEd25519Verify(kp.publicKey, msg, sig), true);
    assert.equal(nativeEd25519Verify(kp.publicKey, msg, sig), true);
    assert.equal(nativeKeyCacheSize(), NATIVE_KEY_CACHE_ENTRIES);
  });

  it('verifies keys given as views into larger buffers', () => {
    const buf = new Uint8Array(100);
    buf.set(kp.publicKey, 17);
    assert.equal(nativeEd25519Verify(buf.subarray(17, 49), msg, sig), true);
  });
});
