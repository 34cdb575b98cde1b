import { LedgerError } from '@threadseal/ledger-model';

/** Milliseconds since the epoch of a canonical ISO 8601 UTC instant (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
export function instant(iso: string): number {
  return Date.parse(iso);
}

/**
 * Returns true when `value` is an instant in the exact form `Date.prototype.toISOString` produces, so that
 * string comparison and numeric comparison agree and the stored form is canonical.
 */
export function isCanonicalInstant(value: string): boolean {
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
}

/** A transaction's notion of "now": the proposal timestamp, as ISO text and milliseconds. */
export interface TxTime {
  readonly iso: string;
  readonly ms: number;
}

/** Builds a {@link TxTime} from a canonical instant. @throws LedgerError INVALID_ARGUMENT when not canonical. */
export function txTime(iso: string): TxTime {
  if (!isCanonicalInstant(iso))
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `expected a canonical ISO 8601 instant, got ${JSON.stringify(iso)}`,
    );
  return { iso, ms: instant(iso) };
}

/**
 * Refuses a transaction time before an instant the ledger already recorded (a build's start, a license's
 * issue), so that no record reads as ending before it began.
 * @throws LedgerError CLOCK_SKEW.
 */
export function assertNotBefore(now: TxTime, earliest: string, what: string): void {
  if (now.ms < instant(earliest))
    throw new LedgerError('CLOCK_SKEW', `transaction time ${now.iso} is before ${what} at ${earliest}`);
}
