/**
 * Tagged SHA-256 (FIPS 180-4, via @noble/hashes). Every hashed structure gets its own domain tag, so bytes that
 * are valid as one structure can never be passed off as another (a leaf as a node, a header as a transaction).
 * A tag is the ASCII string `sortition/1/<name>` followed by one zero byte: tags are prefix-free.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { cryptoStats } from './stats.js';

export const HASH_BYTES = 32;

function tag(name: string): Uint8Array {
  return new TextEncoder().encode(`sortition/1/${name}\0`);
}

export const TAGS = {
  genesis: tag('genesis'),
  leaf: tag('leaf'),
  node: tag('node'),
  empty: tag('empty'),
  header: tag('header'),
  tx: tag('tx'),
  txNode: tag('txnode'),
  txEmpty: tag('txempty'),
  action: tag('action'),
  beacon: tag('beacon'),
  beaconSig: tag('beacon-sig'),
  evidence: tag('evidence'),
  lottery: tag('lottery'),
} as const;

export type TagName = keyof typeof TAGS;

export function taggedHash(name: TagName, ...parts: Uint8Array[]): Uint8Array {
  const t = TAGS[name];
  let len = t.length;
  for (const p of parts) len += p.length;
  const buf = new Uint8Array(len);
  buf.set(t, 0);
  let off = t.length;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  cryptoStats.hashes++;
  cryptoStats.hashedBytes += len;
  return sha256(buf);
}

export { sha256 };

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function fromHex(s: string, what = 'hex'): Uint8Array {
  const clean = s.startsWith('0x') ? s.slice(2) : s;
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new TypeError(`${what}: not a hex string: ${JSON.stringify(s.slice(0, 80))}`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
