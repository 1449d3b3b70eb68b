/**
 * Node-only: native SHA-256 and Ed25519 step 5 for a node process, installed into the core's injection points
 * (`setSha256` in src/crypto/hash.ts, `setSignatureVerifier` in src/crypto/keys.ts). Judging a block is hundreds
 * of hashes and one signature check per owner action; on the 2-core reference machine one verification costs
 * about 75 us in libsodium, 145 us in OpenSSL 3 and 2-3 ms in pure JS, and a hash 1.4 us, 1.8 us and 3.6 us.
 *
 * libsodium comes from `sodium-native`'s prebuilt addon. Where it does not load (a platform without a prebuild),
 * the node falls back to OpenSSL through node:crypto and says so. Either way `verify` in keys.ts applies steps
 * 1-4 of the signature rule (docs/protocol.md section 1) first, so the backends only ever see inputs on which
 * they agree: libsodium's crypto_sign_verify_detached, like OpenSSL, recomputes [S]B - [k]A and compares its
 * encoding with R byte for byte (cofactorless). test/crypto/verify-agreement.test.ts holds all three to that.
 */
import { hash as opensslHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { setSha256, type Sha256 } from '../crypto/hash.js';
import { setSignatureVerifier, type SignatureVerifier } from '../crypto/keys.js';
import { nativeEd25519Verify } from './native-ed25519.js';

/** The two libsodium calls used here (sodium-native ships no types of its own). */
interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_hash_sha256(out: Uint8Array, data: Uint8Array): void;
}

export type CryptoBackend = 'libsodium' | 'openssl' | 'pure';

let sodium: Sodium | null | undefined;
let sodiumError: string | null = null;

/** libsodium, or null with the reason kept for the log when its addon does not load here. */
function loadSodium(): Sodium | null {
  if (sodium === undefined) {
    try {
      sodium = createRequire(import.meta.url)('sodium-native') as Sodium;
    } catch (e) {
      sodiumError = e instanceof Error ? e.message : String(e);
      sodium = null;
    }
  }
  return sodium;
}

/**
 * SHA-256 by OpenSSL, as a plain Uint8Array (a Buffer's `slice` shares memory, which the core must not see). Node
 * gives each digest its own 32-byte store today; were it ever a slice of the shared pool, a kept digest would pin
 * the pool's 8 KiB, so that case is copied.
 */
export const opensslSha256: Sha256 = (data) => {
  const b = opensslHash('sha256', data, 'buffer');
  return b.byteOffset === 0 && b.buffer.byteLength === 32 ? new Uint8Array(b.buffer) : Uint8Array.from(b);
};

function requireSodium(): Sodium {
  const s = loadSodium();
  if (!s) throw new Error(`sodium-native is not available: ${sodiumError}`);
  return s;
}

/**
 * Inputs from this size up are hashed by OpenSSL: it uses the CPU's SHA extensions where libsodium's portable code
 * does not, which pays once its larger call overhead is spread over enough bytes (measured on the reference
 * machine: 114 B 0.41 us libsodium / 0.78 us OpenSSL; 11 KB, a 16-transaction block's multiproof, 23.7 / 6.1 us).
 */
export const OPENSSL_FROM_BYTES = 512;

/**
 * SHA-256 by libsodium, and by OpenSSL from OPENSSL_FROM_BYTES up (the same digest either way); throws when
 * sodium-native does not load.
 */
export function sodiumSha256(): Sha256 {
  const s = requireSodium();
  // V8 keeps a fresh 32-byte array inside its heap and must move it out before an addon may write to it, which
  // cost as much as the hash itself; the addon writes into one off-heap array instead, copied out in JS.
  const digest = new Uint8Array(new ArrayBuffer(32));
  return (data) => {
    if (data.length >= OPENSSL_FROM_BYTES) return opensslSha256(data);
    s.crypto_hash_sha256(digest, data);
    const out = new Uint8Array(32);
    out.set(digest);
    return out;
  };
}

/** Step 5 of the signature rule by libsodium; throws when sodium-native does not load. */
export function sodiumEd25519Verify(): SignatureVerifier {
  const s = requireSodium();
  return (publicKey, message, signature) =>
    publicKey.length === 32 &&
    signature.length === 64 &&
    s.crypto_sign_verify_detached(signature, message, publicKey);
}

export interface InstalledCrypto {
  readonly backend: CryptoBackend;
  /** Why the preferred backend was not used, when it was not. */
  readonly fallback?: string;
}

/**
 * Installs the fastest backend available (or `prefer`, for benchmarks and tests): libsodium, else OpenSSL.
 * 'pure' restores the core's own noble implementations.
 */
export function installNativeCrypto(prefer: CryptoBackend = 'libsodium'): InstalledCrypto {
  if (prefer === 'pure') {
    setSha256(null);
    setSignatureVerifier(null);
    return { backend: 'pure' };
  }
  if (prefer === 'libsodium' && loadSodium()) {
    setSha256(sodiumSha256());
    setSignatureVerifier(sodiumEd25519Verify());
    return { backend: 'libsodium' };
  }
  setSha256(opensslSha256);
  setSignatureVerifier(nativeEd25519Verify);
  return prefer === 'libsodium'
    ? { backend: 'openssl', fallback: `sodium-native did not load: ${sodiumError}` }
    : { backend: 'openssl' };
}
