/**
 * Canonical JSON as in RFC 8785 (JCS) restricted to what the DSI format uses:
 * objects, arrays, strings, safe integers, booleans and null; object keys sorted by UTF-16 code
 * units; no whitespace. Decoding is strict: the bytes must be valid UTF-8 and must equal the
 * canonical re-encoding of what they parse to, which rejects duplicate keys, whitespace, key
 * reordering, escapes a canonical encoder would not produce and non-integer numbers.
 */

/** A JSON value of the restricted model. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Serialises `value` canonically. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${(value as readonly Json[]).map(canonicalJson).join(',')}]`;
  const obj = value as { readonly [key: string]: Json };
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k] as Json)}`).join(',')}}`;
}

/** Canonical JSON as UTF-8 bytes. */
export function canonicalJsonBytes(value: Json): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses `bytes` and checks they are canonical. Returns the value, or a string describing the
 * first problem (the caller wraps it in its own error code).
 */
export function parseCanonicalJson(bytes: Uint8Array): { value: unknown } | { problem: string } {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { problem: 'is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `is not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  let again: string;
  try {
    again = canonicalJson(value as Json);
  } catch {
    return { problem: 'contains a number that is not a safe integer' };
  }
  if (again !== text) {
    return { problem: 'is not canonical JSON (duplicate key, whitespace, key order or escaping)' };
  }
  return { value };
}
