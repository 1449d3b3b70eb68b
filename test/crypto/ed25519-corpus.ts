/**
 * The Ed25519 edge-case corpus (docs/protocol.md section 1): valid signatures, bit flips, scalar bounds,
 * small-order and mixed-order keys and R, non-canonical encodings, wrong lengths, off-curve points and the
 * speccheck vectors, each with the verdict the rule gives by construction. Shared by the agreement test of the
 * node's three verifiers and by the EVM contract's agreement test (test/evm/ed25519.test.ts).
 */
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { keyPairFromSecret, sign, type SignatureEncodingVerdict } from '../../src/crypto/keys.js';

const { Point } = ed25519;
const B = Point.BASE;
const L = Point.Fn.ORDER;
const P = 2n ** 255n - 19n;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function fromLe(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

function le(n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 255n);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic scalars and messages, so every run checks the same corpus. */
const scalar = (label: string): bigint => fromLe(sha512(utf8(`scalar/${label}`))) % L;
const message = (label: string): Uint8Array => sha512(utf8(`msg/${label}`)).subarray(0, 32);
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint =>
  fromLe(sha512(concat(r, a, m))) % L;
const mul = (p: EdwardsPoint, n: bigint): EdwardsPoint =>
  n % L === 0n ? Point.ZERO : p.multiplyUnsafe(n % L);

/** The 8 points of small order; orders 1, 2, 4, 4, 8, 8, 8, 8 (by construction below). */
export const TORSION = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h));
export const orderOf = (t: EdwardsPoint): number => [1, 2, 4, 8].find((m) => mul(t, BigInt(m)).is0())!;
/** A generator of the torsion subgroup (order 8). */
const T8 = TORSION.find((t) => orderOf(t) === 8)!;

export interface Case {
  readonly cls: string;
  readonly name: string;
  readonly pk: Uint8Array;
  readonly msg: Uint8Array;
  readonly sig: Uint8Array;
  readonly expect: boolean;
  /** The shared byte checks' verdict, when the construction fixes it. */
  readonly encoding?: SignatureEncodingVerdict;
  /** Bulk cases (bit flips, random valid signatures) skip the slow raw comparisons. */
  readonly bulk?: boolean;
}

export const corpus: Case[] = [];
const add = (c: Case): void => {
  corpus.push(c);
};

/**
 * A signature by a key A = [a]B + TA (encoded as `pkBytes`, which may be a non-canonical encoding of it) whose
 * R = [r]B + TR. With S = r + k*a, [S]B - [k]A = [r]B - [k]TA, so the cofactorless equation holds exactly when
 * TR = -[k]TA, and the cofactored one always. `want` picks which: guesses j for k mod ord(TA) with TR = -[j]TA
 * until the guess is right ('cofactorless') or wrong ('cofactored-only'). A fixed `tr` instead searches messages.
 */
function craft(opts: {
  label: string;
  pkBytes: Uint8Array;
  a: bigint;
  ta: EdwardsPoint;
  want: 'cofactorless' | 'cofactored-only';
  tr?: EdwardsPoint;
  r?: bigint;
  s0?: boolean;
}): { msg: Uint8Array; sig: Uint8Array } {
  const ord = orderOf(opts.ta);
  for (let c = 0; c < 512; c++) {
    const msg = message(`${opts.label}/${c}`);
    const r = opts.r ?? scalar(`${opts.label}/r/${c}`);
    const j = BigInt(c % ord);
    const tr = opts.tr ?? mul(opts.ta, j).negate();
    const R = mul(B, r).add(tr);
    const rb = R.toBytes();
    const k = challenge(rb, opts.pkBytes, msg);
    // Cofactorless: TR == -[k]TA.
    const holds = tr.equals(mul(opts.ta, k).negate());
    if (holds === (opts.want === 'cofactorless')) {
      const s = opts.s0 ? 0n : (r + k * opts.a) % L;
      return { msg, sig: concat(rb, le(s)) };
    }
  }
  throw new Error(`craft ${opts.label}: no signature found`);
}

// --- 1. valid signatures (RFC 8032 signing), messages of several lengths -------------------------------------
const honest = keyPairFromSecret(sha512(utf8('honest')).subarray(0, 32));
for (let i = 0; i < 64; i++) {
  const kp = keyPairFromSecret(sha512(utf8(`valid/${i}`)).subarray(0, 32));
  const msg = sha512(utf8(`valid-msg/${i}`)).subarray(0, [0, 1, 32, 64][i % 4]);
  add({
    cls: 'valid',
    name: `valid ${i}`,
    pk: kp.publicKey,
    msg,
    sig: sign(kp.secretKey, msg),
    expect: true,
  });
}

// --- 2. bit flips of one valid signature: every bit of R, S, A and the message ---------------------------------
{
  const msg = message('flip');
  const sig = sign(honest.secretKey, msg);
  const flip = (b: Uint8Array, bit: number): Uint8Array => {
    const c = b.slice();
    c[bit >> 3] ^= 1 << (bit & 7);
    return c;
  };
  for (let bit = 0; bit < 512; bit++)
    add({ cls: 'bit flip (sig)', name: `sig bit ${bit}`, pk: honest.publicKey, msg, sig: flip(sig, bit), expect: false, bulk: true }); // prettier-ignore
  for (let bit = 0; bit < 256; bit++)
    add({ cls: 'bit flip (key)', name: `key bit ${bit}`, pk: flip(honest.publicKey, bit), msg, sig, expect: false, bulk: true }); // prettier-ignore
  for (let bit = 0; bit < 256; bit++)
    add({ cls: 'bit flip (msg)', name: `msg bit ${bit}`, pk: honest.publicKey, msg: flip(msg, bit), sig, expect: false, bulk: true }); // prettier-ignore
}

// --- 3. scalar S: S + nL (passes the equation if unreduced), S = L, 0, L - 1, 2^256 - 1 ---------------------
{
  const msg = message('scalar');
  const sig = sign(honest.secretKey, msg);
  const s = fromLe(sig.subarray(32));
  const withS = (x: bigint) => concat(sig.subarray(0, 32), le(x));
  for (let n = 1n; s + n * L < 2n ** 256n; n++)
    add({ cls: 'S + nL', name: `S + ${n}L`, pk: honest.publicKey, msg, sig: withS(s + n * L), expect: false, encoding: 'scalar-not-canonical' }); // prettier-ignore
  const more: [string, bigint, SignatureEncodingVerdict | undefined][] = [
    ['S = L', L, 'scalar-not-canonical'],
    ['S = 2^256 - 1', 2n ** 256n - 1n, 'scalar-not-canonical'],
    ['S = 2^252 (< L)', 2n ** 252n, 'ok'],
    ['S = L - 1', L - 1n, 'ok'],
    ['S = 0', 0n, 'ok'],
  ];
  for (const [name, x, encoding] of more)
    add({ cls: 'S bounds', name, pk: honest.publicKey, msg, sig: withS(x), expect: false, encoding });
}

// --- 4. small-order A (all 8), and R small/mixed ---------------------------------------------------------------
TORSION.forEach((t, i) => {
  const pk = t.toBytes();
  const ord = orderOf(t);
  const label = `smallA/${i}`;
  // [S]B - [k]A = R with R mixed-order: every cofactorless verifier without a small-order check accepts this.
  const c1 = craft({ label: `${label}/cl`, pkBytes: pk, a: 0n, ta: t, want: 'cofactorless' });
  add({ cls: 'small-order A', name: `A=T${i} (order ${ord}), cofactorless-valid`, pk, ...c1, expect: false, encoding: 'key-small-order' }); // prettier-ignore
  if (ord > 1) {
    const c2 = craft({ label: `${label}/cf`, pkBytes: pk, a: 0n, ta: t, want: 'cofactored-only' });
    add({ cls: 'small-order A', name: `A=T${i} (order ${ord}), cofactored-only`, pk, ...c2, expect: false, encoding: 'key-small-order' }); // prettier-ignore
  }
  // S = 0 and R = -[k]A, itself small: valid for any message under cofactorless rules (speccheck case 0).
  const c3 = craft({
    label: `${label}/s0`,
    pkBytes: pk,
    a: 0n,
    ta: t,
    want: 'cofactorless',
    r: 0n,
    s0: true,
  });
  add({ cls: 'small-order A', name: `A=T${i} (order ${ord}), S=0 R small`, pk, ...c3, expect: false, encoding: 'key-small-order' }); // prettier-ignore
});

// --- 5. small-order R (all 8) with a prime-order key, and with a mixed-order key --------------------------------
{
  const a = scalar('primeA');
  const pk = mul(B, a).toBytes();
  const aMixed = scalar('mixedA-for-smallR');
  const pkMixed = mul(B, aMixed).add(T8).toBytes();
  TORSION.forEach((t, i) => {
    const rb = t.toBytes();
    const msg = message(`smallR/${i}`);
    const k = challenge(rb, pk, msg);
    // S = k*a: [S]B - [k]A = 0, so the cofactored equation 8(R + kA - SB) = 8R = 0 holds for all 8; the
    // cofactorless one only for R = identity.
    add({ cls: 'small-order R', name: `R=T${i}, prime A`, pk, msg, sig: concat(rb, le((k * a) % L)), expect: false, encoding: 'r-small-order' }); // prettier-ignore
    const c = craft({ label: `smallR-mixedA/${i}`, pkBytes: pkMixed, a: aMixed, ta: T8, want: 'cofactorless', tr: t, r: 0n }); // prettier-ignore
    add({ cls: 'small-order R', name: `R=T${i}, mixed A, cofactorless-valid`, pk: pkMixed, ...c, expect: false, encoding: 'r-small-order' }); // prettier-ignore
  });
}

// --- 6. mixed-order A = [a]B + T for each non-identity torsion point ----------------------------------------------
TORSION.forEach((t, i) => {
  if (t.is0()) return;
  const a = scalar(`mixedA/${i}`);
  const pk = mul(B, a).add(t).toBytes();
  const ord = orderOf(t);
  const label = `mixedA/${i}`;
  // Signed like an honest signer would (R = [r]B, S = r + k*a): cofactored always accepts, cofactorless
  // exactly when [k]T = 0.
  for (let n = 0; n < 4; n++) {
    const msg = message(`${label}/honest/${n}`);
    const r = scalar(`${label}/honest/${n}`);
    const rb = mul(B, r).toBytes();
    const k = challenge(rb, pk, msg);
    const expect = mul(t, k).is0();
    add({ cls: 'mixed-order A', name: `A=aB+T${i} (order ${ord}), R=rB #${n} (kT=0: ${expect})`, pk, msg, sig: concat(rb, le((r + k * a) % L)), expect, encoding: 'ok' }); // prettier-ignore
  }
  const c1 = craft({ label: `${label}/cl`, pkBytes: pk, a, ta: t, want: 'cofactorless' });
  add({ cls: 'mixed-order A', name: `A=aB+T${i}, mixed R, cofactorless-valid`, pk, ...c1, expect: true, encoding: 'ok' }); // prettier-ignore
  const c2 = craft({ label: `${label}/cf`, pkBytes: pk, a, ta: t, want: 'cofactored-only' });
  add({ cls: 'mixed-order A', name: `A=aB+T${i}, mixed R, cofactored-only`, pk, ...c2, expect: false, encoding: 'ok' }); // prettier-ignore
});

// --- 7. mixed-order R = [r]B + T with a prime-order key: cofactored accepts, cofactorless rejects -------------
{
  const a = scalar('mixedR/a');
  const pk = mul(B, a).toBytes();
  TORSION.forEach((t, i) => {
    if (t.is0()) return;
    const msg = message(`mixedR/${i}`);
    const r = scalar(`mixedR/${i}`);
    const rb = mul(B, r).add(t).toBytes();
    const k = challenge(rb, pk, msg);
    add({ cls: 'mixed-order R', name: `R=rB+T${i} (order ${orderOf(t)}), prime A`, pk, msg, sig: concat(rb, le((r + k * a) % L)), expect: false, encoding: 'ok' }); // prettier-ignore
  });
}

// --- 8. non-canonical encodings (y >= p, and x = 0 with the sign bit) of A and R ------------------------------
/** Every encoding y + p (< 2^255) or "negative zero" that decodes (leniently) to a curve point. */
function nonCanonical(): { bytes: Uint8Array; point: EdwardsPoint; what: string }[] {
  const out: { bytes: Uint8Array; point: EdwardsPoint; what: string }[] = [];
  for (let y = 0n; P + y < 2n ** 255n; y++) {
    for (const signBit of [0, 0x80]) {
      const bytes = le(P + y);
      bytes[31] |= signBit;
      try {
        out.push({ bytes, point: Point.fromBytes(bytes, true), what: `y=p+${y}${signBit ? ' x<0' : ''}` });
      } catch {
        // not on the curve
      }
    }
  }
  for (const h of [
    '0100000000000000000000000000000000000000000000000000000000000080', // -0: identity
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // -0: order 2
  ]) {
    const bytes = unhex(h);
    out.push({
      bytes,
      point: Point.fromBytes(bytes, true),
      what: `negative zero ${h.slice(0, 4)}..${h.slice(-2)}`,
    });
  }
  return out;
}

for (const nc of nonCanonical()) {
  const small = nc.point.clearCofactor().is0();
  if (small) {
    // A small-order point behind a non-canonical key: a verifier that reduces y (OpenSSL) accepts this.
    const c = craft({ label: `ncA/${hex(nc.bytes)}`, pkBytes: nc.bytes, a: 0n, ta: nc.point, want: 'cofactorless' }); // prettier-ignore
    add({ cls: 'non-canonical A', name: `A ${nc.what}, cofactorless-valid if reduced`, pk: nc.bytes, ...c, expect: false, encoding: 'key-not-canonical' }); // prettier-ignore
  } else {
    // Its discrete log is unknown: no valid signature, but the verdict must still agree.
    const msg = message(`ncA/${hex(nc.bytes)}`);
    add({ cls: 'non-canonical A', name: `A ${nc.what}, arbitrary signature`, pk: nc.bytes, msg, sig: sign(honest.secretKey, msg), expect: false, encoding: 'key-not-canonical' }); // prettier-ignore
  }
  if (small) {
    // R: with S = k*a the cofactored equation holds for any small R (read leniently); cofactorless never, as it
    // compares R's bytes with a canonical encoding.
    const a = scalar('ncR/a');
    const pk = mul(B, a).toBytes();
    const msg = message(`ncR/${hex(nc.bytes)}`);
    const k = challenge(nc.bytes, pk, msg);
    add({ cls: 'non-canonical R', name: `R ${nc.what}`, pk, msg, sig: concat(nc.bytes, le((k * a) % L)), expect: false, encoding: 'r-not-canonical' }); // prettier-ignore
  }
}

// --- 9. wrong lengths, points not on the curve ------------------------------------------------------------------
{
  const msg = message('lengths');
  const sig = sign(honest.secretKey, msg);
  const pk = honest.publicKey;
  const shapes: [string, Uint8Array, Uint8Array][] = [
    ['key 31 bytes', pk.subarray(0, 31), sig],
    ['key 33 bytes', concat(pk, new Uint8Array(1)), sig],
    ['key empty', new Uint8Array(0), sig],
    ['sig 63 bytes', pk, sig.subarray(0, 63)],
    ['sig 65 bytes', pk, concat(sig, new Uint8Array(1))],
    ['sig empty', pk, new Uint8Array(0)],
    ['sig 32 bytes (R only)', pk, sig.subarray(0, 32)],
  ];
  for (const [name, k, s] of shapes)
    add({ cls: 'wrong length', name, pk: k, msg, sig: s, expect: false, encoding: 'length' });
  let found = 0;
  for (let c = 0; found < 8; c++) {
    const bytes = le(fromLe(sha512(utf8(`offcurve/${c}`)).subarray(0, 32)) % P);
    try {
      Point.fromBytes(bytes, false);
    } catch {
      found++;
      add({ cls: 'off-curve A', name: `A off curve #${found}`, pk: bytes, msg, sig, expect: false, encoding: 'ok' }); // prettier-ignore
      add({ cls: 'off-curve R', name: `R off curve #${found}`, pk, msg, sig: concat(bytes, sig.subarray(32)), expect: false, encoding: 'ok' }); // prettier-ignore
    }
  }
}

// --- 10. "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, 2020) vectors --------------------------------
// novifinancial/ed25519-speccheck cases.txt: 0 S=0 small A small R; 1 small A mixed R; 2 mixed A small R; 3 mixed
// A mixed R (cofactorless-valid); 4 cofactored-only; 5 cofactored-only, "pre-reduced" scalar; 6 S > L; 7 S >> L;
// 8-9 non-canonical R; 10-11 non-canonical ("negative zero") A. Published results (results.md): OpenSSL 3
// accepts 0, 1, 2, 3 and 11; libsodium and ed25519-dalek verify_strict accept only 3.
const SPECCHECK: [string, string, string][] = [
  ['8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000'], // prettier-ignore
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04'], // prettier-ignore
  ['aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e'], // prettier-ignore
  ['9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009'], // prettier-ignore
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09'], // prettier-ignore
  ['e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c', 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d', '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405'], // prettier-ignore
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', 'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514'], // prettier-ignore
  ['85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40', '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623', '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22'], // prettier-ignore
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f'], // prettier-ignore
  ['9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41', 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908'], // prettier-ignore
  ['e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04'], // prettier-ignore
  ['39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04'], // prettier-ignore
];
SPECCHECK.forEach(([m, k, s], i) =>
  add({
    cls: 'speccheck',
    name: `speccheck case ${i}`,
    pk: unhex(k),
    msg: unhex(m),
    sig: unhex(s),
    expect: i === 3,
  }),
);
