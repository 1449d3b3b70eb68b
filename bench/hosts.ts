/**
 * Loopback addresses of the benchmarks: `<base>.<n>`, the base `127.0.0` unless `npm run bench -- <group> --base
 * 127.0.9` (or SORTITION_BENCH_BASE) moves it, so two benchmarks, or a benchmark and the tests (which use 127.0.0.x
 * to 127.0.4.x), run side by side without taking each other's addresses.
 */
export const BENCH_BASE_ENV = 'SORTITION_BENCH_BASE';

const BASE_RE = /^127\.\d{1,3}\.\d{1,3}$/;

/** The first three octets, checked: only loopback. */
export function benchBase(): string {
  const base = process.env[BENCH_BASE_ENV] ?? '127.0.0';
  if (!BASE_RE.test(base) || base.split('.').some((o) => Number(o) > 255))
    throw new Error(`${BENCH_BASE_ENV}=${base}: expected three octets of a loopback address, as 127.0.9`);
  return base;
}

/** The benchmark's loopback address ending in `n` (1-254). */
export function benchHost(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 254) throw new RangeError(`bench host ${n}: expected 1-254`);
  return `${benchBase()}.${n}`;
}
