import { verify, X509Certificate } from 'node:crypto';
import { ThreadsealError } from '@threadseal/ledger-model';
import { children as childrenOf, tlv as tlvOf, type Tlv } from './der';

/*
 * The org CA's certificate revocation list as the gateway checks it on every request (the TLS layer checks
 * it only at the handshake, so a connection kept alive across a revocation would otherwise go on acting).
 * CertificateList = SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }, and
 * tbsCertList = SEQUENCE { version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?,
 * [0] crlExtensions? } (RFC 5280 §5.1). The signature must verify with the CA's key before any serial
 * is believed.
 */

/** DER contents of the signature algorithm OIDs accepted, and the digest each names. */
const SIGNATURE_ALGORITHMS: readonly { readonly oid: Buffer; readonly digest: string }[] = [
  { oid: Buffer.from('2a8648ce3d040302', 'hex'), digest: 'sha256' }, // ecdsa-with-SHA256
  { oid: Buffer.from('2a8648ce3d040303', 'hex'), digest: 'sha384' }, // ecdsa-with-SHA384
  { oid: Buffer.from('2a864886f70d01010b', 'hex'), digest: 'sha256' }, // sha256WithRSAEncryption
];

const TIME_TAGS = new Set([0x17, 0x18]);

function malformed(detail: string): never {
  throw new ThreadsealError('INVALID_ARGUMENT', `certificate revocation list: ${detail}`);
}

const tlv = (der: Buffer, offset: number, limit: number): Tlv => tlvOf(der, offset, limit, malformed);
const children = (der: Buffer, parent: Tlv): Tlv[] => childrenOf(der, parent, malformed);

/** A serial number as upper-case hex without leading zeros (as `X509Certificate.serialNumber`, normalized). */
export function normalSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

function derOf(crl: string | Buffer): Buffer {
  const text = Buffer.isBuffer(crl) ? crl.toString('latin1') : crl;
  const pem = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(text);
  if (pem) return Buffer.from((pem[1] as string).replace(/\s+/g, ''), 'base64');
  if (typeof crl === 'string') malformed('expected a PEM "X509 CRL" block');
  return crl;
}

/** The serial numbers a CA revoked, from a CRL whose signature verified with that CA's key. */
export class RevocationList {
  readonly #serials: ReadonlySet<string>;

  private constructor(serials: ReadonlySet<string>) {
    this.#serials = serials;
  }

  /** A list that revokes nothing (no CRL configured). */
  static empty(): RevocationList {
    return new RevocationList(new Set());
  }

  /**
   * Parses `crl` (PEM or DER) and verifies its signature with `caCertificatePem`'s key.
   * @throws ThreadsealError INVALID_ARGUMENT when it is malformed, signed otherwise or with an algorithm
   * not accepted.
   */
  static parse(crl: string | Buffer, caCertificatePem: string): RevocationList {
    const der = derOf(crl);
    const list = tlv(der, 0, der.length);
    if (list.tag !== 0x30 || list.end !== der.length) malformed('not a DER SEQUENCE');
    const [tbs, algorithm, signature, ...extra] = children(der, list);
    if (!tbs || !algorithm || !signature || extra.length > 0 || tbs.tag !== 0x30 || signature.tag !== 0x03)
      malformed('not a CertificateList');
    const oid = children(der, algorithm)[0];
    if (!oid || oid.tag !== 0x06) malformed('signature algorithm without an OID');
    const accepted = SIGNATURE_ALGORITHMS.find((a) => a.oid.equals(der.subarray(oid.start, oid.end)));
    if (!accepted) malformed('signature algorithm not accepted (ECDSA with SHA-256/384, RSA with SHA-256)');
    if (der[signature.start] !== 0) malformed('signature BIT STRING has unused bits');
    const ca = new X509Certificate(caCertificatePem);
    const signed = verify(
      accepted.digest,
      der.subarray(tbs.offset, tbs.end),
      ca.publicKey,
      der.subarray(signature.start + 1, signature.end),
    );
    if (!signed)
      malformed(`its signature does not verify with the key of ${ca.subject.replace(/\n/g, ', ')}`);
    const fields = children(der, tbs);
    let at = 0;
    if (fields[at]?.tag === 0x02) at++; // version
    if (fields[at]?.tag !== 0x30) malformed('no signature algorithm in tbsCertList');
    at++;
    if (fields[at]?.tag !== 0x30) malformed('no issuer');
    at++;
    if (!TIME_TAGS.has(fields[at]?.tag ?? -1)) malformed('no thisUpdate');
    at++;
    if (TIME_TAGS.has(fields[at]?.tag ?? -1)) at++; // nextUpdate
    const serials = new Set<string>();
    const revoked = fields[at];
    if (revoked?.tag === 0x30) {
      for (const entry of children(der, revoked)) {
        const serial = children(der, entry)[0];
        if (entry.tag !== 0x30 || serial?.tag !== 0x02) malformed('a revoked entry without a serial');
        serials.add(normalSerial(der.subarray(serial.start, serial.end).toString('hex')));
      }
      at++;
    }
    if (fields[at] !== undefined && fields[at]?.tag !== 0xa0) malformed('unexpected field in tbsCertList');
    return new RevocationList(serials);
  }

  /** Whether the certificate with this serial number (hex, as `X509Certificate.serialNumber`) is on the list. */
  revokes(serialNumber: string): boolean {
    return this.#serials.has(normalSerial(serialNumber));
  }

  /** How many serials the list holds. */
  get size(): number {
    return this.#serials.size;
  }
}
