/**
 * A strict reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/) for the few hot
 * messages decoded by hand instead of through protobufjs. It accepts exactly the bytes protobufjs's encoder writes
 * for a message with fields 1-15 declared in number order: each present field once (a repeated one as one run),
 * one-byte tags, minimal varint lengths, nothing trailing. That is the rule `decodeCanonical` (canonical.ts)
 * enforces by re-encoding, without building a copy to compare: on a block's multiproof the re-encoding cost as much
 * as the decode. test/codec/wire.test.ts holds the two to the same verdict on every input it tries.
 */
import { DecodeError } from './errors.js';

/** Wire type 0 (varint) tag of field `n` (1-15), as its one byte. */
export function varintTag(n: number): number {
  return n << 3;
}

/** Wire type 1 (fixed64) tag of field `n` (1-15). */
export function fixed64Tag(n: number): number {
  return (n << 3) | 1;
}

/** Wire type 2 (length-delimited) tag of field `n` (1-15). */
export function lengthTag(n: number): number {
  return (n << 3) | 2;
}

export class StrictReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Whether the next field has this one-byte tag; consumes it if so. */
  next(tag: number): boolean {
    if (this.pos < this.buf.length && this.buf[this.pos] === tag) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * A length-delimited field's payload, as a view of the input. `nonEmpty`: a singular scalar whose empty value
   * the encoder leaves out, so an empty one present is not canonical.
   * @throws DecodeError DECODE_MALFORMED past the end, DECODE_NONCANONICAL for a non-minimal length
   */
  bytes(nonEmpty = false): Uint8Array {
    const len = this.length();
    if (nonEmpty && len === 0) this.noncanonical('an empty field that the encoding leaves out');
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, this.pos);
  }

  /**
   * A packed repeated fixed64 field's values (little-endian). Present only when it has values.
   * @throws DecodeError as `bytes`, and DECODE_MALFORMED when the payload is not whole 8-byte values
   */
  fixed64s(): bigint[] {
    const len = this.length();
    if (len === 0) this.noncanonical('an empty packed field that the encoding leaves out');
    if (len % 8 !== 0) this.malformed(`packed fixed64 payload of ${len} bytes`);
    const out = new Array<bigint>(len / 8);
    for (let i = 0; i < out.length; i++) out[i] = this.view.getBigUint64(this.pos + 8 * i, true);
    this.pos += len;
    return out;
  }

  /**
   * A uint32 varint field's value: minimal and, as a singular scalar the encoder leaves out at zero, never zero.
   * @throws DecodeError DECODE_MALFORMED past the end or over 32 bits, DECODE_NONCANONICAL otherwise
   */
  uint32(): number {
    const v = this.uint32Varint('a value');
    if (v === 0) this.noncanonical('a zero field that the encoding leaves out');
    return v;
  }

  /**
   * A singular fixed64 field's value (little-endian), never zero (the encoder leaves a zero out).
   * @throws DecodeError DECODE_MALFORMED past the end, DECODE_NONCANONICAL for a zero
   */
  fixed64(): bigint {
    if (this.buf.length - this.pos < 8) this.malformed('a fixed64 runs past the end');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v === 0n) this.noncanonical('a zero field that the encoding leaves out');
    return v;
  }

  /**
   * A singular uint64 varint field's value, never zero, read as a number when at most 2^53 - 1; null for a
   * larger one, which the caller judges the general way (the protocol's counts stop at 2^53 - 1).
   * @throws DecodeError DECODE_MALFORMED past the end, DECODE_NONCANONICAL for a zero or a non-minimal varint
   */
  safeUint(): number | null {
    // 8 groups carry 56 bits: a longer varint is past 2^53 - 1 or not minimal, either way not read here.
    const v = this.varint('a value', 8);
    if (v === 0) this.noncanonical('a zero field that the encoding leaves out');
    return v === null || v > Number.MAX_SAFE_INTEGER ? null : v;
  }

  /** @throws DecodeError DECODE_NONCANONICAL when anything is left: an unknown, repeated or misplaced field */
  end(): void {
    if (this.pos !== this.buf.length)
      this.noncanonical(
        `byte ${this.pos} starts no field in its place (unknown, repeated or out of order) or trails the message`,
      );
  }

  /** A varint length: minimal, at most 32 bits, within the input. */
  private length(): number {
    const v = this.uint32Varint('a length');
    if (v > this.buf.length - this.pos) this.malformed(`a length of ${v} runs past the end`);
    return v;
  }

  /** A minimal varint of at most 32 bits. */
  private uint32Varint(what: string): number {
    const v = this.varint(what, 5);
    if (v === null || v > 0xffffffff) this.malformed(`${what} over 32 bits`);
    return v;
  }

  /** A minimal varint of at most `groups` 7-bit groups (exact to 2^53 - 1), or null for a longer one. */
  private varint(what: string, groups: number): number | null {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < groups; i++) {
      if (this.pos >= this.buf.length) this.malformed(`${what} runs past the end`);
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) this.noncanonical(`${what} with a non-minimal varint`);
        return v;
      }
      scale *= 128;
    }
    return null;
  }

  private malformed(msg: string): never {
    throw new DecodeError('DECODE_MALFORMED', `${this.what}: ${msg}`);
  }

  private noncanonical(msg: string): never {
    throw new DecodeError('DECODE_NONCANONICAL', `${this.what}: ${msg}`);
  }
}

/** The bytes a varint of `v` (a safe non-negative integer) takes. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Writes a message of known size field by field, as protobufjs's encoder would; the caller leaves out the fields
 * the encoder leaves out and sizes the buffer with `varintSize`.
 */
export class StrictWriter {
  readonly buf: Uint8Array;
  private pos = 0;
  private readonly view: DataView;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  fixed64(tag: number, v: bigint): void {
    this.buf[this.pos++] = tag;
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  uint(tag: number, v: number): void {
    this.buf[this.pos++] = tag;
    this.varint(v);
  }

  bytes(tag: number, b: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The message, checked to fill the buffer exactly. */
  finish(): Uint8Array {
    if (this.pos !== this.buf.length)
      throw new Error(`wire writer: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }

  private varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
}
