/**
 * Ed25519 (RFC 8032) keys and signatures via @noble/curves. Signatures are deterministic, which the anchor's
 * randomness beacon relies on: an operator cannot grind the beacon by re-signing.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
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

/** False for any malformed key or signature: callers turn that into their own named error. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  cryptoStats.verifies++;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
