/** Small helpers shared by the benchmarks: timing and aligned table output. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs f repeatedly for at least `minMs` (and at least `minRuns` times); returns ms per run. */
export function timeIt(f: () => void, minMs = 300, minRuns = 3): number {
  f();
  let runs = 0;
  const t0 = now();
  while (runs < minRuns || now() - t0 < minMs) {
    f();
    runs++;
  }
  return (now() - t0) / runs;
}

export function table(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i])).join('  ');
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export function heading(s: string): void {
  console.log(`\n== ${s}`);
}
