/** What a round achieved, computed from the records the workload modules wrote (not from Caliper's report). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from '../report';
import type { TxRecord } from './workload';

export interface RoundFigures {
  readonly label: string;
  readonly successes: number;
  readonly failures: number;
  /** From the first request's start to the last one's end. */
  readonly seconds: number;
  /** Successful requests per second over `seconds`. */
  readonly tps: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Successful requests by kind (`note`, `start`, `complete`, `check`). */
  readonly byKind: Readonly<Record<string, number>>;
}

export function readRecords(recordsDir: string, label: string): TxRecord[] {
  if (!existsSync(recordsDir)) return [];
  return readdirSync(recordsDir)
    .filter((f) => f.startsWith(`${label}-w`) && f.endsWith('.json'))
    .flatMap((f) => JSON.parse(readFileSync(join(recordsDir, f), 'utf8')) as TxRecord[]);
}

export function roundFigures(label: string, records: readonly TxRecord[]): RoundFigures {
  const ok = records.filter((r) => r.ok);
  const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
  const first = Math.min(...records.map((r) => r.startedAt));
  const last = Math.max(...records.map((r) => r.startedAt + r.ms));
  const seconds = records.length === 0 ? 0 : (last - first) / 1000;
  const byKind: Record<string, number> = {};
  for (const r of ok) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  return {
    label,
    successes: ok.length,
    failures: records.length - ok.length,
    seconds,
    tps: seconds === 0 ? 0 : ok.length / seconds,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    byKind,
  };
}

/**
 * Throws unless the round succeeded: at least one success and failures at most `maxFailureRate` of the
 * requests (Caliper's `launch` exits 0 even when every transaction of every round failed).
 */
export function checkRound(f: RoundFigures, maxFailureRate: number): void {
  const sent = f.successes + f.failures;
  if (f.successes === 0) {
    throw new Error(`caliper round ${f.label}: no successful transaction (${f.failures} failed)`);
  }
  if (f.failures / sent > maxFailureRate) {
    throw new Error(
      `caliper round ${f.label}: ${f.failures} of ${sent} transactions failed, more than ${(maxFailureRate * 100).toFixed(1)} %`,
    );
  }
}
