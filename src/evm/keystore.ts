/**
 * Encrypted EVM key files in the Web3 Secret Storage format (version 3: geth's keystore, as ethers, foundry's
 * `cast wallet` and MetaMask exports write it): scrypt or PBKDF2-SHA256 from the password, a keccak MAC, AES-128-CTR.
 * Decryption only; make one with any of those tools.
 */
import { createDecipheriv, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { scrypt } from '@noble/hashes/scrypt.js';
import { concat, keccak256, toHex, type Hex } from 'viem';
import { CodedError } from '../codec/errors.js';

export class KeystoreError extends CodedError<'KEYSTORE_INVALID' | 'KEYSTORE_PASSWORD'> {
  override readonly name = 'KeystoreError';
}

interface V3 {
  version?: number;
  crypto?: V3Crypto;
  Crypto?: V3Crypto;
}

interface V3Crypto {
  cipher: string;
  cipherparams: { iv: string };
  ciphertext: string;
  kdf: string;
  kdfparams: Record<string, number | string>;
  mac: string;
}

/** Whether parsed JSON looks like a keystore (and so needs a password). */
export function isKeystore(j: unknown): boolean {
  return j !== null && typeof j === 'object' && ('crypto' in j || 'Crypto' in j);
}

const hex = (s: unknown, what: string): Buffer => {
  if (typeof s !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(s))
    throw new KeystoreError('KEYSTORE_INVALID', `keystore: ${what} is not hex`);
  return Buffer.from(s.replace(/^0x/, ''), 'hex');
};

const int = (v: unknown, what: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new KeystoreError('KEYSTORE_INVALID', `keystore: bad ${what}`);
  return n;
};

function deriveKey(c: V3Crypto, password: string): Buffer {
  const p = c.kdfparams;
  const salt = hex(p.salt, 'kdfparams.salt');
  const dklen = int(p.dklen, 'dklen');
  if (dklen < 32) throw new KeystoreError('KEYSTORE_INVALID', 'keystore: dklen below 32');
  if (c.kdf === 'scrypt') {
    const N = int(p.n, 'n');
    const r = int(p.r, 'r');
    // noble's, not node:crypto's: OpenSSL refuses N >= 2^(16 r), and the format's own test vector (N = 2^18, r = 1)
    // is such a file. About a second either way, once per command.
    return Buffer.from(scrypt(password, salt, { N, r, p: int(p.p, 'p'), dkLen: dklen, maxmem: 2 ** 31 }));
  }
  if (c.kdf === 'pbkdf2') {
    if (p.prf !== 'hmac-sha256')
      throw new KeystoreError('KEYSTORE_INVALID', `keystore: prf ${String(p.prf)}`);
    return pbkdf2Sync(password, salt, int(p.c, 'c'), dklen, 'sha256');
  }
  throw new KeystoreError('KEYSTORE_INVALID', `keystore: unknown kdf ${c.kdf}`);
}

/** The private key in a version-3 keystore; `KEYSTORE_PASSWORD` when the MAC says the password is wrong. */
export function decryptKeystore(json: unknown, password: string): Hex {
  const j = json as V3;
  const c = j.crypto ?? j.Crypto;
  if (j.version !== 3 || !c)
    throw new KeystoreError('KEYSTORE_INVALID', 'keystore: not a version-3 keystore');
  if (c.cipher !== 'aes-128-ctr')
    throw new KeystoreError('KEYSTORE_INVALID', `keystore: cipher ${c.cipher}, not aes-128-ctr`);
  const dk = deriveKey(c, password);
  const ciphertext = hex(c.ciphertext, 'ciphertext');
  const mac = Buffer.from(keccak256(concat([dk.subarray(16, 32), ciphertext])).slice(2), 'hex');
  const want = hex(c.mac, 'mac');
  if (want.length !== 32 || !timingSafeEqual(mac, want))
    throw new KeystoreError('KEYSTORE_PASSWORD', 'keystore: wrong password (the MAC does not match)');
  const d = createDecipheriv('aes-128-ctr', dk.subarray(0, 16), hex(c.cipherparams?.iv, 'iv'));
  const key = Buffer.concat([d.update(ciphertext), d.final()]);
  if (key.length !== 32) throw new KeystoreError('KEYSTORE_INVALID', 'keystore: the key is not 32 bytes');
  return toHex(key);
}
