/*
 * A minimal DER reader for the two structures the gateway walks itself (a certificate's extensions, a CRL's
 * revoked serials): tag, content bounds, children — every length checked against its parent, never a byte
 * search.
 */

/** One DER element: its tag and where its content lies. */
export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte (the element's encoding is `der[offset, end)`). */
  readonly offset: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just after the last content byte. */
  readonly end: number;
}

/** Throws the caller's coded error for a malformed structure. */
export type Malformed = (detail: string) => never;

/** The element at `offset`, which must end by `limit`. */
export function tlv(der: Buffer, offset: number, limit: number, malformed: Malformed): Tlv {
  if (offset + 2 > limit) malformed(`element at ${offset} runs past its parent`);
  const tag = der[offset] ?? 0;
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) malformed(`bad length at ${offset}`);
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] ?? 0);
    start += bytes;
  }
  const end = start + length;
  if (end > limit) malformed(`element at ${offset} runs past its parent`);
  return { tag, offset, start, end };
}

/** The elements inside `parent`, which must fill it exactly. */
export function children(der: Buffer, parent: Tlv, malformed: Malformed): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = tlv(der, at, parent.end, malformed);
    out.push(child);
    at = child.end;
  }
  return out;
}
