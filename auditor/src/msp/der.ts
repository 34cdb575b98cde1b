// The few DER structures the MSP checks need that node:crypto does not expose: a certificate's subject key
// identifier and a CRL (RFC 5280 §5). A strict reader: definite lengths only, every length inside its
// parent, anything else is a DerError (never a guess).

/** A DER structure that does not parse as the one expected. */
export class DerError extends Error {}

/** One DER element: its tag, its contents, and the whole encoding. */
export interface DerElement {
  readonly tag: number;
  readonly contents: Uint8Array;
  readonly encoded: Uint8Array;
}

function readElement(bytes: Uint8Array, offset: number): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new DerError('truncated DER element');
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not used here');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerError('indefinite or oversized DER length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = bytes[offset + 2 + i];
      if (b === undefined) throw new DerError('truncated DER length');
      length = length * 256 + b;
    }
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError('DER element longer than its container');
  return {
    tag,
    contents: bytes.subarray(offset + header, end),
    encoded: bytes.subarray(offset, end),
  };
}

/** Parses exactly one element filling `bytes`. */
export function derElement(bytes: Uint8Array): DerElement {
  const e = readElement(bytes, 0);
  if (e.encoded.length !== bytes.length) throw new DerError('trailing bytes after a DER element');
  return e;
}

/** The elements of a constructed element's contents, in order. */
export function derChildren(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.contents.length) {
    const child = readElement(element.contents, offset);
    out.push(child);
    offset += child.encoded.length;
  }
  return out;
}

const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, OID: 0x06, SEQUENCE: 0x30 } as const;
const OID_SUBJECT_KEY_IDENTIFIER = '551d0e'; // 2.5.29.14
const OID_AUTHORITY_KEY_IDENTIFIER = '551d23'; // 2.5.29.35
const SIGNATURE_HASHES: Record<string, string> = {
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
};

function expect(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element?.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return element;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** An INTEGER's value as upper-case hex without leading zeros, as X509Certificate.serialNumber prints it. */
export function serialHex(contents: Uint8Array): string {
  const h = hex(contents).toUpperCase().replace(/^0+/, '');
  return h === '' ? '0' : h;
}

/** The extnValue of the extension `oid` (hex of its content bytes) in an Extensions SEQUENCE. */
function extensionValue(extensions: DerElement, oid: string): Uint8Array | undefined {
  for (const ext of derChildren(expect(extensions, TAG.SEQUENCE, 'extensions'))) {
    const parts = derChildren(expect(ext, TAG.SEQUENCE, 'extension'));
    if (hex(expect(parts[0], TAG.OID, 'extension id').contents) !== oid) continue;
    return expect(parts[parts.length - 1], TAG.OCTET_STRING, 'extension value').contents;
  }
  return undefined;
}

/** A certificate's subject key identifier (undefined when it has none). */
export function subjectKeyIdentifier(certificateDer: Uint8Array): Uint8Array | undefined {
  const certificate = derChildren(expect(derElement(certificateDer), TAG.SEQUENCE, 'certificate'));
  const tbs = derChildren(expect(certificate[0], TAG.SEQUENCE, 'tbsCertificate'));
  const extensions = tbs.find((e) => e.tag === 0xa3);
  if (!extensions) return undefined;
  const inner = derChildren(extensions)[0];
  if (!inner) return undefined;
  const value = extensionValue(inner, OID_SUBJECT_KEY_IDENTIFIER);
  return value === undefined ? undefined : expect(derElement(value), TAG.OCTET_STRING, 'SKI').contents;
}

/** A certificate revocation list, parsed as far as Fabric's MSP uses it. */
export interface RevocationList {
  /** The bytes the issuer signed (tbsCertList). */
  readonly signedBytes: Uint8Array;
  /** The hash of the signature algorithm, or undefined when it is not one the auditor verifies. */
  readonly hash: string | undefined;
  readonly signature: Uint8Array;
  /** Whether the CRL has an authorityKeyIdentifier extension (Fabric refuses to use a CRL without). */
  readonly hasAuthorityKeyIdentifier: boolean;
  /** The keyIdentifier of the authorityKeyIdentifier extension (undefined when absent). */
  readonly authorityKeyIdentifier: Uint8Array | undefined;
  /** Revoked serial numbers, as {@link serialHex} prints them. */
  readonly revokedSerials: ReadonlySet<string>;
  /** When the issuer said the next CRL would be out (milliseconds since the epoch); undefined when the CRL has no nextUpdate. */
  readonly nextUpdate: number | undefined;
}

/**
 * An X.509 time (RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ, years 50–99 being 19xx, or GeneralizedTime
 * YYYYMMDDHHMMSSZ) in milliseconds since the epoch.
 */
export function derTime(element: DerElement): number {
  const text = Buffer.from(element.contents).toString('latin1');
  const m =
    element.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new DerError(`not an X.509 time: '${text}'`);
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  const year = element.tag === 0x17 ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  const ms = Date.UTC(year, mo - 1, d, h, mi, sec);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59)
    throw new DerError(`not a valid date: '${text}'`);
  return ms;
}

/** Parses a DER CRL. */
export function parseRevocationList(der: Uint8Array): RevocationList {
  const top = derChildren(expect(derElement(der), TAG.SEQUENCE, 'CRL'));
  const tbsElement = expect(top[0], TAG.SEQUENCE, 'tbsCertList');
  const algorithm = derChildren(expect(top[1], TAG.SEQUENCE, 'signatureAlgorithm'));
  const bits = expect(top[2], TAG.BIT_STRING, 'signatureValue').contents;
  if (top.length !== 3 || bits[0] !== 0) throw new DerError('CRL: malformed signature');
  const tbs = derChildren(tbsElement);
  let i = 0;
  if (tbs[i]?.tag === TAG.INTEGER) i++; // version
  expect(tbs[i++], TAG.SEQUENCE, 'CRL signature'); // signature AlgorithmIdentifier
  expect(tbs[i++], TAG.SEQUENCE, 'CRL issuer');
  const time = (e: DerElement | undefined): boolean => e?.tag === 0x17 || e?.tag === 0x18;
  if (!time(tbs[i++])) throw new DerError('CRL: thisUpdate is not a time');
  let nextUpdate: number | undefined;
  if (time(tbs[i])) nextUpdate = derTime(tbs[i++] as DerElement);
  const revokedSerials = new Set<string>();
  if (tbs[i]?.tag === TAG.SEQUENCE) {
    for (const entry of derChildren(tbs[i] as DerElement)) {
      const fields = derChildren(expect(entry, TAG.SEQUENCE, 'revoked certificate'));
      revokedSerials.add(serialHex(expect(fields[0], TAG.INTEGER, 'revoked serial').contents));
    }
    i++;
  }
  let authorityKeyIdentifier: Uint8Array | undefined;
  let hasAuthorityKeyIdentifier = false;
  const extensions = tbs[i];
  if (extensions?.tag === 0xa0) {
    const value = extensionValue(
      expect(derChildren(extensions)[0], TAG.SEQUENCE, 'crlExtensions'),
      OID_AUTHORITY_KEY_IDENTIFIER,
    );
    hasAuthorityKeyIdentifier = value !== undefined;
    if (value !== undefined)
      authorityKeyIdentifier = derChildren(expect(derElement(value), TAG.SEQUENCE, 'AKI')).find(
        (e) => e.tag === 0x80,
      )?.contents;
    i++;
  }
  if (i !== tbs.length) throw new DerError('CRL: unexpected fields in tbsCertList');
  return {
    signedBytes: tbsElement.encoded,
    hash: SIGNATURE_HASHES[hex(expect(algorithm[0], TAG.OID, 'signature algorithm').contents)],
    signature: bits.subarray(1),
    hasAuthorityKeyIdentifier,
    authorityKeyIdentifier,
    revokedSerials,
    nextUpdate,
  };
}
