/**
 * Mutations of protobuf encodings. Byte-level ones (bit flips, inserted and deleted bytes, truncation) and
 * structure-aware ones that read the message's fields first: inflated or shrunk lengths, duplicated, swapped and
 * unknown fields, wrong wire types, huge and overlong varints, 64-bit edges in fixed64 fields, depth bombs
 * (nested groups and nested length-delimited fields), and the same mutations applied inside an embedded message
 * or bytes field with its length fixed up, so that inner decoders are reached past the outer ones.
 */
import type { Rng } from './prng.js';

interface Field {
  readonly num: number;
  readonly wt: number;
  readonly start: number;
  /** Where the value (after the tag, and after the length for wire type 2) begins. */
  readonly value: number;
  readonly end: number;
}

function readVarint(b: Uint8Array, at: number): { v: bigint; next: number } | null {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) return null;
    const x = b[at + i];
    v |= BigInt(x & 0x7f) << BigInt(7 * i);
    if ((x & 0x80) === 0) return { v, next: at + i + 1 };
  }
  return null;
}

export function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = v;
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) byte |= 0x80;
    out.push(byte);
  } while (x > 0n);
  return out;
}

/** The top-level fields of an encoding, or null if it does not parse as one. */
export function scan(b: Uint8Array): Field[] | null {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const tag = readVarint(b, at);
    if (!tag) return null;
    const num = Number(tag.v >> 3n);
    const wt = Number(tag.v & 7n);
    let value = tag.next;
    let end: number;
    if (wt === 0) {
      const v = readVarint(b, value);
      if (!v) return null;
      end = v.next;
    } else if (wt === 1) end = value + 8;
    else if (wt === 5) end = value + 4;
    else if (wt === 2) {
      const len = readVarint(b, value);
      if (!len || len.v > BigInt(b.length)) return null;
      value = len.next;
      end = value + Number(len.v);
    } else return null;
    if (end > b.length) return null;
    out.push({ num, wt, start: at, value, end });
    at = end;
  }
  return out;
}

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const tag = (num: number, wt: number) => varint((BigInt(num) << 3n) | BigInt(wt));
export const BIG_VALUES = [
  (1n << 53n) - 1n,
  1n << 53n,
  (1n << 53n) + 1n,
  1n << 63n,
  (1n << 64n) - 1n,
  (1n << 32n) + 1n,
  1n << 31n,
];
const LENGTHS = [1n, 2n, 7n, 1000n, 1n << 31n, (1n << 32n) + 5n, 1n << 53n, 1n << 63n];

type Mutator = (b: Uint8Array, rng: Rng, f: Field[] | null) => Uint8Array | null;

const byteLevel: Mutator[] = [
  (b, rng) => {
    const out = Uint8Array.from(b);
    for (let k = 1 + rng.int(3); k > 0 && out.length; k--) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  },
  (b, rng) => {
    const at = rng.int(b.length + 1);
    return cat(b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at));
  },
  (b, rng) => {
    if (!b.length) return null;
    const at = rng.int(b.length);
    return cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8))));
  },
  (b, rng) => (b.length ? b.subarray(0, rng.int(b.length)) : null),
  (b, rng) => cat(b.subarray(0, rng.int(b.length + 1)), [0]), // a zero tag
];

function pickField(f: Field[] | null, rng: Rng, want?: (x: Field) => boolean): Field | null {
  const xs = f ? (want ? f.filter(want) : f) : [];
  return xs.length ? rng.pick(xs) : null;
}

const structural: Mutator[] = [
  // length inflation and deflation
  (b, rng, f) => {
    const x = pickField(f, rng, (x) => x.wt === 2);
    if (!x) return null;
    const len = BigInt(x.end - x.value);
    const next = rng.chance(0.7) ? len + rng.pick(LENGTHS) : len > 0n ? len - 1n : 1n;
    return cat(b.subarray(0, x.start), tag(x.num, 2), varint(next), b.subarray(x.value));
  },
  // duplicated field: right after itself, or at the end
  (b, rng, f) => {
    const x = pickField(f, rng);
    if (!x) return null;
    const copy = b.subarray(x.start, x.end);
    return rng.chance(0.5) ? cat(b.subarray(0, x.end), copy, b.subarray(x.end)) : cat(b, copy);
  },
  // unknown field, at a field boundary
  (b, rng, f) => {
    const at = f && f.length ? rng.pick([0, ...f.map((x) => x.end)]) : b.length;
    const num = rng.pick([11, 12, 14, 15, 16, 99, 2047, 536870911]);
    const wt = rng.pick([0, 1, 2, 5]);
    const body =
      wt === 0
        ? varint(rng.u64())
        : wt === 1
          ? rng.bytes(8)
          : wt === 5
            ? rng.bytes(4)
            : [...varint(3n), ...rng.bytes(3)];
    return cat(b.subarray(0, at), tag(num, wt), body, b.subarray(at));
  },
  // huge or overlong varint in a varint field
  (b, rng, f) => {
    const x = pickField(f, rng, (x) => x.wt === 0);
    if (!x) return null;
    let enc: number[];
    if (rng.chance(0.25)) {
      // overlong: the same value padded with continuation bytes (up to an 11-byte varint)
      const v = readVarint(b, x.value)!.v;
      enc = varint(v);
      enc[enc.length - 1] |= 0x80;
      for (let k = rng.int(4); k > 0; k--) enc.push(0x80);
      enc.push(0);
    } else enc = varint(rng.pick(BIG_VALUES));
    return cat(b.subarray(0, x.value), enc, b.subarray(x.end));
  },
  // 64-bit edges in a fixed64 field
  (b, rng, f) => {
    const x = pickField(f, rng, (x) => x.wt === 1);
    if (!x) return null;
    const v = rng.pick([0n, 1n, 1n << 53n, 1n << 63n, (1n << 64n) - 2n, (1n << 64n) - 1n]);
    const le = new Uint8Array(8);
    new DataView(le.buffer).setBigUint64(0, v, true);
    return cat(b.subarray(0, x.value), le, b.subarray(x.end));
  },
  // swapped neighbours
  (b, rng, f) => {
    if (!f || f.length < 2) return null;
    const i = rng.int(f.length - 1);
    const [p, q] = [f[i], f[i + 1]];
    return cat(
      b.subarray(0, p.start),
      b.subarray(q.start, q.end),
      b.subarray(p.start, p.end),
      b.subarray(q.end),
    );
  },
  // wrong wire type
  (b, rng, f) => {
    const x = pickField(f, rng);
    if (!x) return null;
    const wt = rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== x.wt));
    const t = readVarint(b, x.start)!;
    return cat(b.subarray(0, x.start), tag(x.num, wt), b.subarray(t.next));
  },
  // depth bomb: nested groups, or nested length-delimited fields, inserted at a boundary
  (b, rng, f) => {
    const at = f && f.length ? rng.pick([0, ...f.map((x) => x.end)]) : 0;
    const num = f && f.length && rng.chance(0.5) ? rng.pick(f).num : 1 + rng.int(15);
    let bomb: Uint8Array;
    if (rng.chance(0.5)) {
      const depth = rng.pick([100, 1000, 10_000]);
      const open = tag(num, 3);
      const close = tag(num, 4);
      bomb = new Uint8Array((open.length + close.length) * depth);
      for (let k = 0; k < depth; k++) bomb.set(open, k * open.length);
      for (let k = 0; k < depth; k++) bomb.set(close, depth * open.length + k * close.length);
    } else {
      bomb = new Uint8Array(0);
      for (let k = rng.pick([50, 500, 2000]); k > 0; k--)
        bomb = cat(tag(num, 2), varint(BigInt(bomb.length)), bomb);
    }
    return cat(b.subarray(0, at), bomb, b.subarray(at));
  },
  // a repeated field repeated many times
  (b, rng, f) => {
    const x = pickField(f, rng);
    if (!x) return null;
    const copy = b.subarray(x.start, x.end);
    const n = rng.pick([10, 100, 1000]);
    if (copy.length * n > 1 << 20) return null;
    const many = new Uint8Array(copy.length * n);
    for (let k = 0; k < n; k++) many.set(copy, k * copy.length);
    return cat(b.subarray(0, x.end), many, b.subarray(x.end));
  },
];

/** One mutation; with probability, applied inside an embedded field (recursively) with its length fixed up. */
export function mutateWire(b: Uint8Array, rng: Rng, depth = 0): Uint8Array {
  const f = scan(b);
  if (f && depth < 4 && rng.chance(0.45)) {
    const x = pickField(f, rng, (x) => x.wt === 2 && x.end > x.value);
    if (x) {
      const inner = mutateWire(b.subarray(x.value, x.end), rng, depth + 1);
      return cat(
        b.subarray(0, x.start),
        tag(x.num, 2),
        varint(BigInt(inner.length)),
        inner,
        b.subarray(x.end),
      );
    }
  }
  for (let tries = 0; tries < 8; tries++) {
    const m = rng.chance(0.35) ? rng.pick(byteLevel) : rng.pick(structural);
    const out = m(b, rng, f);
    if (out && (out.length !== b.length || out.some((v, i) => v !== b[i]))) return out;
  }
  return byteLevel[1](b, rng, f)!;
}
