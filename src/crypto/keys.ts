/**
 * Ed25519 (RFC 8032) keys and signatures via @noble/curves. Signatures are deterministic, which the anchor's
 * randomness beacon relies on: an operator cannot grind the beacon by re-signing.
 *
 * Verification is consensus-critical: every node, and a wallet embedding the pure core, must reach the same
 * verdict on every signature, adversarial ones included. The rule (docs/protocol.md section 1) is "strict
 * cofactorless", the one libsodium's crypto_sign_verify_detached applies:
 *
 *   1. the public key is 32 bytes and the signature `R || S` 64 bytes;
 *   2. S < L (canonical scalar);
 *   3. A and R are canonical point encodings: y < p, and not "negative zero" (x = 0 with the sign bit set);
 *   4. neither A nor R is one of the 8 points of small order;
 *   5. encode([S]B - [k]A) == R byte for byte, where k = SHA-512(R || A || M) mod L and A decodes on the curve.
 *
 * Steps 1-4 are checks on bytes, made here whichever implementation runs. Step 5 is the pluggable part: the
 * default is pure JS (noble's point arithmetic, `verifyEquation`); a Node process may install OpenSSL's Ed25519
 * (src/runtime/native-ed25519.ts), which computes exactly that equation, with `setSignatureVerifier`. The
 * cofactored equation noble's own `ed25519.verify` checks would not do: it accepts signatures whose R or A has a
 * torsion component that OpenSSL (cofactorless) rejects, and no cheap byte check can tell those apart.
 */
import { fromHex } from '../codec/bytes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { cryptoStats } from './stats.js';

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== SECRET_KEY_BYTES) throw new RangeError('an Ed25519 secret key is 32 bytes');
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/**
 * Step 5 of the rule: whether encode([S]B - [k]A) equals R, for a key and signature that passed steps 1-4 (the
 * only inputs it is ever given). May throw on input it cannot decode; the caller reads that as invalid.
 */
export type SignatureVerifier = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

/** The group order L = 2^252 + 27742317777372353535851937790883648493. */
const L = ed25519.Point.Fn.ORDER;

/** The canonical encodings of the 8 points of small order (the torsion subgroup). */
const SMALL_ORDER: readonly Uint8Array[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
].map((h) => fromHex(h));

function leToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function equal32(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/** y < p = 2^255 - 19 for the 32-byte point encoding at `off` (the sign bit aside). */
function canonicalY(b: Uint8Array, off: number): boolean {
  if ((b[off + 31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (b[off + i] !== 0xff) return true;
  return b[off] < 0xed;
}

/** The sign bit is set on y = 1 or y = p - 1, the two points whose x is 0 (RFC 8032 5.1.3 step 4 rejects it). */
function negativeZero(b: Uint8Array, off: number): boolean {
  if ((b[off + 31] & 0x80) === 0) return false;
  const hi = b[off + 31] & 0x7f;
  if (b[off] === 0x01 && hi === 0) {
    for (let i = 1; i <= 30; i++) if (b[off + i] !== 0) return false;
    return true;
  }
  if (b[off] === 0xec && hi === 0x7f) {
    for (let i = 1; i <= 30; i++) if (b[off + i] !== 0xff) return false;
    return true;
  }
  return false;
}

function smallOrder(b: Uint8Array, off: number): boolean {
  for (const t of SMALL_ORDER) if (equal32(b, off, t)) return true;
  return false;
}

/** Which of steps 1-4 a key and signature fail first, or 'ok'. */
export type SignatureEncodingVerdict =
  | 'ok'
  | 'length'
  | 'scalar-not-canonical'
  | 'key-not-canonical'
  | 'key-small-order'
  | 'r-not-canonical'
  | 'r-small-order';

/** Steps 1-4 of the rule: byte checks only, no point decoding (so they cost next to nothing). */
export function checkSignatureEncoding(
  publicKey: Uint8Array,
  signature: Uint8Array,
): SignatureEncodingVerdict {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return 'length';
  // S < 2^252 < L needs no arithmetic; only the top 4 bits set call for the full comparison.
  if (signature[63] & 0xf0 && leToBigInt(signature.subarray(32)) >= L) return 'scalar-not-canonical';
  if (!canonicalY(publicKey, 0) || negativeZero(publicKey, 0)) return 'key-not-canonical';
  if (smallOrder(publicKey, 0)) return 'key-small-order';
  if (!canonicalY(signature, 0) || negativeZero(signature, 0)) return 'r-not-canonical';
  if (smallOrder(signature, 0)) return 'r-small-order';
  return 'ok';
}

/** Step 5 in pure JS with noble's point arithmetic: the default verifier. */
export function verifyEquation(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const { Point } = ed25519;
  const A = Point.fromBytes(publicKey, false); // throws if y is not on the curve
  const r = signature.subarray(0, 32);
  const s = leToBigInt(signature.subarray(32));
  const h = new Uint8Array(64 + message.length);
  h.set(r, 0);
  h.set(publicKey, 32);
  h.set(message, 64);
  const k = leToBigInt(sha512(h)) % L;
  const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return equal32(check.toBytes(), 0, r);
}

let verifier: SignatureVerifier = verifyEquation;

/**
 * Installs the implementation of step 5 (e.g. OpenSSL's, in a Node process); null restores the pure default.
 * Steps 1-4 and the `cryptoStats.verifies` count stay here, whichever runs.
 */
export function setSignatureVerifier(fn: SignatureVerifier | null): void {
  verifier = fn ?? verifyEquation;
}

/** The installed implementation of step 5 (src/crypto/async.ts wraps it for a while and puts it back). */
export function currentSignatureVerifier(): SignatureVerifier {
  return verifier;
}

/** False for any malformed or invalid key or signature: callers turn that into their own named error. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  cryptoStats.verifies++;
  if (checkSignatureEncoding(publicKey, signature) !== 'ok') return false;
  try {
    return verifier(publicKey, message, signature) === true;
  } catch {
    return false;
  }
}
