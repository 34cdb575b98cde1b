/** A JSON value as the canonical codec accepts it (no `undefined`, no functions, finite numbers only). */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Encodes a value as canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined`
 * object members omitted. Two equal values always give the same bytes, so the result can be hashed
 * and signed; the ledger state, event payloads and machine-signed requests all use it.
 * @throws TypeError when the value holds a non-finite number, a bigint, a function or a symbol.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`canonical JSON cannot encode ${String(value)} at ${path}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((item: unknown, i) => encode(item === undefined ? null : item, `${path}[${i}]`)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${encode(member, `${path}.${key}`)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value} at ${path}`);
  }
}
