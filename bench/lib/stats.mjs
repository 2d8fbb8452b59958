/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @param {number[]} values */
export function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length, values };
}

/**
 * Per-round ratios a[i] / b[i] of paired samples, summarised.
 * @param {number[]} a
 * @param {number[]} b
 */
export function pairedRatio(a, b) {
  return summary(a.map((value, i) => value / b[i]));
}
