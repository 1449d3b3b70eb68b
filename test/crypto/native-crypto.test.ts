/**
 * The native backends a node process installs (src/runtime/native-crypto.ts): every SHA-256 gives the same
 * digests, so the tree, the tx root and every chain id come out the same whichever runs; digests are fresh arrays
 * that later hashing never overwrites; the installer reports what it installed.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256, setSha256, taggedHash, toHex } from '../../src/crypto/hash.js';
import { generateKeyPair, setSignatureVerifier, sign, verify } from '../../src/crypto/keys.js';
import { makeLeaf } from '../../src/tree/contract.js';
import { ProbabilityTree } from '../../src/tree/tree.js';
import {
  installNativeCrypto,
  opensslSha256,
  OPENSSL_FROM_BYTES,
  sodiumSha256,
  type CryptoBackend,
} from '../../src/runtime/native-crypto.js';

const BACKENDS: readonly CryptoBackend[] = ['pure', 'openssl', 'libsodium'];

/** A tree of `n` contracts built under the installed backend: its root hashes every level. */
function treeRoot(n: number): string {
  const owner = new Uint8Array(32).fill(9);
  const t = new ProbabilityTree();
  for (let i = 0; i < n; i++) {
    const start = BigInt(i) * 1000n + BigInt((i * 7919) % 500);
    t.insert(makeLeaf({ start, end: start + 100n, owner, nonce: 0, terms: new Uint8Array(0) }));
  }
  return toHex(t.root);
}

describe('native crypto backends', () => {
  after(() => installNativeCrypto('pure'));

  it('hash exactly as FIPS 180-4 says, on every length around the block boundaries', () => {
    const abc = new TextEncoder().encode('abc');
    const sodium = sodiumSha256();
    for (const f of [nobleSha256, opensslSha256, sodium]) {
      assert.equal(toHex(f(abc)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      assert.equal(
        toHex(f(new Uint8Array(0))),
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      );
    }
    const lengths = [...Array(300).keys(), OPENSSL_FROM_BYTES - 1, OPENSSL_FROM_BYTES, 11_000, 200_000];
    for (const len of lengths) {
      const data = randomBytes(len);
      const want = toHex(nobleSha256(data));
      assert.equal(toHex(opensslSha256(data)), want, `openssl, ${len} bytes`);
      assert.equal(toHex(sodium(data)), want, `libsodium, ${len} bytes`);
    }
  });

  it('return plain, fresh arrays that later hashing does not overwrite', () => {
    for (const b of BACKENDS) {
      installNativeCrypto(b);
      const first = taggedHash('leaf', new Uint8Array([1, 2, 3]));
      const copy = toHex(first);
      taggedHash('leaf', new Uint8Array(5000).fill(4)); // grows the shared scratch buffer
      taggedHash('node', new Uint8Array([5]));
      assert.equal(toHex(first), copy, b);
      assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype, b);
      assert.equal(first.byteLength, 32, b);
    }
  });

  it('give the same tree roots, tagged hashes and signature verdicts', () => {
    const kp = generateKeyPair();
    const msg = new Uint8Array(40).fill(3);
    const sig = sign(kp.secretKey, msg);
    const bad = sig.slice();
    bad[5] ^= 1;
    const seen = new Map<string, CryptoBackend>();
    for (const b of BACKENDS) {
      assert.equal(installNativeCrypto(b).backend, b);
      const fingerprint = [
        treeRoot(300),
        toHex(taggedHash('header', new Uint8Array(100).fill(1))),
        toHex(sha256(new Uint8Array(64))),
        String(verify(kp.publicKey, msg, sig)),
        String(verify(kp.publicKey, msg, bad)),
      ].join('/');
      seen.set(fingerprint, b);
    }
    assert.equal(seen.size, 1, [...seen.values()].join(' vs '));
    assert.ok([...seen.keys()][0].endsWith('/true/false'));
  });

  it('prefers libsodium, says why it fell back, and restores the pure core on request', () => {
    const got = installNativeCrypto();
    // sodium-native ships a prebuilt addon for this platform; elsewhere the fallback must say why.
    if (process.platform === 'linux' && process.arch === 'x64')
      assert.deepEqual(got, { backend: 'libsodium' });
    else if (got.backend !== 'libsodium') assert.match(got.fallback ?? '', /sodium-native/);
    assert.deepEqual(installNativeCrypto('openssl'), { backend: 'openssl' });
    assert.deepEqual(installNativeCrypto('pure'), { backend: 'pure' });
    setSha256(null);
    setSignatureVerifier(null);
  });
});
