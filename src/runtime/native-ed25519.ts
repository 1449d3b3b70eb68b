/**
 * Node-only: step 5 of the signature rule (docs/protocol.md section 1) with OpenSSL's Ed25519, about 15x faster
 * than the pure-JS default. Install it with `setSignatureVerifier(nativeEd25519Verify)` from src/crypto/keys.ts;
 * `verify` there applies steps 1-4 (canonical S, A and R, no small-order A or R) before calling it, so it is
 * never given input on which OpenSSL and the default could differ. OpenSSL checks exactly step 5: it recomputes
 * [S]B - [k]A and compares its encoding with R byte for byte (cofactorless). Not to be used on its own: without
 * those checks it accepts keys with y >= p and "negative zero" keys. Never imported by the pure core.
 */
import { toHex } from '../codec/bytes.js';
import { createPublicKey, verify as opensslVerify, type KeyObject } from 'node:crypto';

/** The DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410), before its 32 raw bytes. */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** Bound on cached KeyObjects: operator and owner keys recur, and an import costs about half a verification. */
export const NATIVE_KEY_CACHE_ENTRIES = 4096;

/** Least recently used first (a Map iterates in insertion order; a hit re-inserts). */
const keys = new Map<string, KeyObject>();

function keyObject(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey);
  let key = keys.get(id);
  if (key) {
    keys.delete(id);
  } else {
    const der = new Uint8Array(SPKI_PREFIX.length + publicKey.length);
    der.set(SPKI_PREFIX, 0);
    der.set(publicKey, SPKI_PREFIX.length);
    key = createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' });
    if (keys.size >= NATIVE_KEY_CACHE_ENTRIES) keys.delete(keys.keys().next().value!);
  }
  keys.set(id, key);
  return key;
}

/** A `SignatureVerifier`: OpenSSL's Ed25519 verification of a 32-byte key and a 64-byte signature. */
export function nativeEd25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return opensslVerify(null, message, keyObject(publicKey), signature);
}

/** How many KeyObjects are cached (for tests and metrics). */
export function nativeKeyCacheSize(): number {
  return keys.size;
}
