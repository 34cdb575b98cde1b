/** One benchmark result line: `{"metric", "value", "unit", "baseline", "ratio"}`. */
export interface BenchResult {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
}

export function result(metric: string, value: number, unit: string, baseline: number): BenchResult {
  const round = (n: number): number => Math.round(n * 1000) / 1000;
  return {
    metric,
    value: round(value),
    unit,
    baseline: round(baseline),
    ratio: baseline === 0 ? 0 : round(value / baseline),
  };
}

/** Prints the results last, one JSON object per line (the format every `npm run bench` area uses). */
export function printResults(results: readonly BenchResult[]): void {
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}
