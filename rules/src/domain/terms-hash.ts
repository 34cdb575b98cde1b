import { createHash, createHmac } from 'node:crypto';
import { canonicalJson, type ParameterValue, type ProductionTerms } from '@threadseal/ledger-model';

/** Hex SHA-256 of the canonical JSON of a value. */
export function canonicalDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/** Hex HMAC-SHA256 under a hex key of the canonical JSON of a value. */
function keyedDigest(keyHex: string, value: unknown): string {
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(canonicalJson(value), 'utf8').digest('hex');
}

/** The terms without their digest key: what the commitment covers. */
function withoutKey(terms: ProductionTerms): Record<string, unknown> {
  return Object.fromEntries(Object.entries(terms).filter(([name]) => name !== 'digestKey'));
}

/**
 * The channel's commitment to production terms: HMAC-SHA256 keyed by the terms' `digestKey` over the canonical
 * JSON of the rest, for confidential terms (not brute-forceable without the key, which stays in the
 * collection); plain SHA-256 of the canonical JSON for public terms, which carry no key.
 */
export function termsHash(terms: ProductionTerms): string {
  return terms.digestKey === undefined
    ? canonicalDigest(terms)
    : keyedDigest(terms.digestKey, withoutKey(terms));
}

/**
 * The digest of a build's declared parameters on the channel: keyed by the leaf license's `digestKey` under
 * confidential terms (the parameters themselves are not recorded then), SHA-256 otherwise.
 */
export function parametersDigest(
  parameters: Readonly<Record<string, ParameterValue>>,
  leafTerms: ProductionTerms,
): string {
  return leafTerms.digestKey === undefined
    ? canonicalDigest(parameters)
    : keyedDigest(leafTerms.digestKey, parameters);
}
