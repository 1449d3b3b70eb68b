// Goodness-of-fit helper for the frequency properties of the sortition tests.

/** Pearson's chi-square statistic. */
export function chiSquare(observed: readonly number[], expected: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < observed.length; i++) s += (observed[i] - expected[i]) ** 2 / expected[i];
  return s;
}

/** Upper 0.1% critical values of the chi-square distribution, indexed by degrees of freedom. */
export const CHI2_CRITICAL_P001: Record<number, number> = {
  1: 10.828,
  2: 13.816,
  3: 16.266,
  4: 18.467,
  5: 20.515,
  6: 22.458,
  7: 24.322,
  8: 26.124,
  9: 27.877,
  10: 29.588,
  15: 37.697,
  19: 43.82,
};
