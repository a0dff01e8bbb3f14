/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One row of a benchmark's table: n, p50, p99, mean and max of a series (ms). */
export function summary(name: string, values: number[]) {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return {
    name,
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    mean,
    max: Math.max(...values),
  };
}
