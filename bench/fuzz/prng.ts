/** A seeded PRNG (sfc32): every campaign input follows from the seed, so a finding is replayed by its seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Uniform in [lo, hi); hi > lo. */
  big(lo: bigint, hi: bigint): bigint {
    return lo + (this.u64() % (hi - lo));
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A derived generator, so one part of the campaign drawing more does not shift another's inputs. */
  fork(salt: number): Rng {
    return new Rng((this.u32() ^ Math.imul(salt, 0x85ebca6b)) >>> 0);
  }
}
