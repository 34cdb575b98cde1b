/** Strict field readers used by the header and manifest decoders. Each returns or throws `fail(message)`. */

/** Reports a problem with a field; never returns. */
export type Fail = (message: string) => never;

/** A decoded JSON object. */
export type Obj = Readonly<Record<string, unknown>>;

/** Checks `v` is a plain object with exactly the `required` keys plus any of `optional`. */
export function object(v: unknown, where: string, required: readonly string[], fail: Fail): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  const o = v as Obj;
  for (const key of Object.keys(o)) {
    if (!required.includes(key)) fail(`${where} has unknown field "${key}"`);
  }
  for (const key of required) {
    if (!Object.hasOwn(o, key)) fail(`${where} is missing field "${key}"`);
  }
  return o;
}

/** A string of at most `maxLength` UTF-16 code units. */
export function string(v: unknown, where: string, maxLength: number, fail: Fail): string {
  if (typeof v !== 'string') fail(`${where} must be a string`);
  const s = v;
  if (s.length > maxLength) fail(`${where} is longer than ${maxLength} characters`);
  return s;
}

/** A string as {@link string}, or null. */
export function nullableString(v: unknown, where: string, maxLength: number, fail: Fail): string | null {
  return v === null ? null : string(v, where, maxLength, fail);
}

/** A safe integer within [min, max]. */
export function integer(v: unknown, where: string, min: number, max: number, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${where} must be an integer`);
  const n = v;
  if (n < min || n > max) fail(`${where} must be between ${min} and ${max}, found ${n}`);
  return n;
}

/** An array with min…max entries. */
export function array(v: unknown, where: string, min: number, max: number, fail: Fail): readonly unknown[] {
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  const a = v as readonly unknown[];
  if (a.length < min || a.length > max)
    fail(`${where} must have ${min} to ${max} entries, found ${a.length}`);
  return a;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 that must round-trip exactly (no lenient decoding of stray bits). */
export function base64(v: unknown, where: string, maxBytes: number, fail: Fail, exactBytes?: number): Buffer {
  if (typeof v !== 'string') fail(`${where} must be a base64 string`);
  const s = v;
  if (s.length > Math.ceil(maxBytes / 3) * 4 || !B64.test(s)) fail(`${where} is not canonical base64`);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) fail(`${where} is not canonical base64`);
  if (exactBytes !== undefined && b.length !== exactBytes)
    fail(`${where} must be ${exactBytes} bytes, found ${b.length}`);
  return b;
}

const HEX32 = /^[0-9a-f]{64}$/;

/** A SHA-256 value as 64 lowercase hex digits. */
export function hex32(v: unknown, where: string, fail: Fail): string {
  if (typeof v !== 'string' || !HEX32.test(v)) fail(`${where} must be 64 lowercase hex digits`);
  return v;
}

const RFC3339_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A timestamp as produced by `Date.prototype.toISOString` (UTC, milliseconds). */
export function timestamp(v: unknown, where: string, fail: Fail): string {
  if (typeof v !== 'string' || !RFC3339_UTC_MS.test(v))
    fail(`${where} must be an RFC 3339 UTC timestamp with milliseconds`);
  const s = v;
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.toISOString() !== s) fail(`${where} is not a valid date`);
  return s;
}
