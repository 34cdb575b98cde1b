import { createHash } from 'node:crypto';
import { canonicalJson, type ProductionTerms } from '@threadseal/ledger-model';

/** Hex SHA-256 of the canonical JSON of a value. */
export function canonicalDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/** Hex SHA-256 of the canonical JSON of production terms; the channel's commitment to confidential terms. */
export function termsHash(terms: ProductionTerms): string {
  return canonicalDigest(terms);
}
