/**
 * Cleanups of a test in last-in, first-out order. `t.after` hooks run in the order they were added, so a temporary
 * directory registered before the processes that write into it would be removed under them (ENOTEMPTY when a
 * process writes again), and a failing hook skips the ones after it, leaving processes running that keep the
 * test file from ever ending. Here every cleanup runs, the latest first, and the first failure is reported.
 */
const pending = new WeakMap<object, (() => unknown)[]>();

export function defer(t: { after(f: () => Promise<void>): void }, f: () => unknown): void {
  let list = pending.get(t);
  if (!list) {
    const fs: (() => unknown)[] = [];
    pending.set(t, (list = fs));
    t.after(async () => {
      let failed: { error: unknown } | null = null;
      for (const g of fs.reverse()) {
        try {
          await g();
        } catch (error) {
          failed ??= { error };
        }
      }
      if (failed) throw failed.error;
    });
  }
  list.push(f);
}
