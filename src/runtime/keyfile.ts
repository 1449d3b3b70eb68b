/**
 * Ed25519 key files: JSON with the public and secret key in hex, written with mode 0600 and never overwritten
 * by accident, since losing an operator key loses the chain.
 */
import { CodedError } from '../codec/errors.js';
import { open, readFile, stat } from 'node:fs/promises';
import { fromHex, toHex } from '../crypto/hash.js';
import { generateKeyPair, keyPairFromSecret, type KeyPair } from '../crypto/keys.js';

export interface KeyFile {
  readonly type: 'ed25519';
  readonly publicKey: string;
  readonly secretKey: string;
}

export class KeyFileError extends CodedError<
  'KEYFILE_EXISTS' | 'KEYFILE_UNREADABLE' | 'KEYFILE_INVALID' | 'KEYFILE_INSECURE'
> {
  override readonly name = 'KeyFileError';
}

export async function writeKeyFile(
  path: string,
  key: KeyPair = generateKeyPair(),
  force = false,
): Promise<KeyPair> {
  const body: KeyFile = { type: 'ed25519', publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) };
  let fh;
  try {
    fh = await open(path, force ? 'w' : 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError(
        'KEYFILE_EXISTS',
        `${path} already exists; pass --force to replace it (the old key is lost)`,
      );
    }
    throw e;
  }
  try {
    await fh.chmod(0o600);
    await fh.writeFile(JSON.stringify(body, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return key;
}

export async function readKeyFile(path: string): Promise<KeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KeyFileError('KEYFILE_UNREADABLE', `cannot read key file ${path}: ${(e as Error).message}`);
  }
  const mode = (await stat(path)).mode & 0o077;
  if (mode !== 0) {
    throw new KeyFileError(
      'KEYFILE_INSECURE',
      `${path} is readable by others (mode ${(mode | 0o600).toString(8)}); run chmod 600 ${path}`,
    );
  }
  try {
    const j = JSON.parse(text) as Partial<KeyFile>;
    if (j.type !== 'ed25519' || typeof j.secretKey !== 'string')
      throw new Error('expected {"type":"ed25519","secretKey":hex}');
    const key = keyPairFromSecret(fromHex(j.secretKey, 'secretKey'));
    if (j.publicKey !== undefined && j.publicKey !== toHex(key.publicKey))
      throw new Error('publicKey does not match secretKey');
    return key;
  } catch (e) {
    throw new KeyFileError('KEYFILE_INVALID', `key file ${path} is invalid: ${(e as Error).message}`);
  }
}

/** Reads the key file, or creates it when absent (data-dir identities). */
export async function loadOrCreateKeyFile(path: string): Promise<KeyPair> {
  try {
    return await readKeyFile(path);
  } catch (e) {
    if (e instanceof KeyFileError && e.code === 'KEYFILE_UNREADABLE') return writeKeyFile(path);
    throw e;
  }
}
