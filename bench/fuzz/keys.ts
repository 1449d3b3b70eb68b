/**
 * Keys for the campaign and a record of everything they signed. Oracles judge signatures by that record (was this
 * exact message signed with this key?) rather than by the verifier's own signature check, so a verifier that
 * accepted a signature nobody made is caught. libsodium signs (RFC 8032, byte-identical to noble's deterministic
 * signatures) because a campaign signs a header per input and pure-JS signing would cost a millisecond each.
 */
import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../../src/crypto/hash.js';
import type { Rng } from './prng.js';

interface SodiumSign {
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, msg: Uint8Array, sk: Uint8Array): void;
}

let sodium: SodiumSign | null | undefined;
function loadSodium(): SodiumSign | null {
  if (sodium === undefined) {
    try {
      sodium = createRequire(import.meta.url)('sodium-native') as SodiumSign;
    } catch {
      sodium = null;
    }
  }
  return sodium;
}

export interface FuzzKey {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** libsodium's 64-byte signing key (seed || public key), when libsodium is loaded. */
  readonly sodiumKey: Uint8Array | null;
}

export function keyFromSeed(seed: Uint8Array): FuzzKey {
  const s = loadSodium();
  if (!s) return { publicKey: ed25519.getPublicKey(seed), secretKey: seed, sodiumKey: null };
  const pk = new Uint8Array(32);
  const sk = new Uint8Array(64);
  s.crypto_sign_seed_keypair(pk, sk, seed);
  return { publicKey: pk, secretKey: seed, sodiumKey: sk };
}

export function randomKey(rng: Rng): FuzzKey {
  return keyFromSeed(rng.bytes(32));
}

/** Every (key, message) -> signature one world of the campaign made; a world is short-lived, so this stays small. */
export class SignedRecord {
  private readonly made = new Map<string, string>();

  sign(key: FuzzKey, msg: Uint8Array): Uint8Array {
    let sig: Uint8Array;
    const s = loadSodium();
    if (s && key.sodiumKey) {
      sig = new Uint8Array(64);
      s.crypto_sign_detached(sig, msg, key.sodiumKey);
    } else sig = ed25519.sign(msg, key.secretKey);
    this.made.set(toHex(key.publicKey) + toHex(msg), toHex(sig));
    return sig;
  }

  /** Whether `sig` is the signature this campaign made with `publicKey` over `msg`. */
  signed(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    return this.made.get(toHex(publicKey) + toHex(msg)) === toHex(sig);
  }
}
