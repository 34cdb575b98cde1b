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
