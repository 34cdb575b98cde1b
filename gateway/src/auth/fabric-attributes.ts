import { ThreadsealError } from '@threadseal/ledger-model';
import { children as childrenOf, tlv as tlvOf, type Tlv } from './der';

/*
 * Fabric CA puts an enrolled identity's attributes (`--id.attrs role=…:ecert`) into its enrollment certificate as
 * the extension 1.2.3.4.5.6.7.8.1, whose value is the JSON `{"attrs":{"role":"ip-admin",…}}`. Node's
 * X509Certificate does not expose arbitrary extensions, so this walks the DER of the certificate down to its
 * extensions (Certificate → TBSCertificate → [3] → Extensions) — never a byte search that a subject name
 * could fool.
 */

/** DER encoding of the object identifier 1.2.3.4.5.6.7.8.1 (without tag and length). */
const FABRIC_ATTRS_OID = Buffer.from([0x2a, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01]);

function malformed(detail: string): never {
  throw new ThreadsealError('UNAUTHENTICATED', `client certificate is not valid DER: ${detail}`);
}

const tlv = (der: Buffer, offset: number, limit: number): Tlv => tlvOf(der, offset, limit, malformed);
const children = (der: Buffer, parent: Tlv): Tlv[] => childrenOf(der, parent, malformed);

/**
 * The Fabric CA attributes of a certificate (`{}` when it has none).
 * @throws ThreadsealError UNAUTHENTICATED when the DER or the attribute extension cannot be parsed.
 */
export function fabricAttributes(certificateDer: Buffer): Readonly<Record<string, string>> {
  const certificate = tlv(certificateDer, 0, certificateDer.length);
  const tbs = children(certificateDer, certificate)[0];
  if (!tbs || tbs.tag !== 0x30) malformed('no TBSCertificate');
  const explicitExtensions = children(certificateDer, tbs).find((c) => c.tag === 0xa3);
  if (!explicitExtensions) return {};
  const list = children(certificateDer, explicitExtensions)[0];
  if (!list || list.tag !== 0x30) malformed('extensions are not a SEQUENCE');
  for (const extension of children(certificateDer, list)) {
    const [oid, ...rest] = children(certificateDer, extension);
    if (!oid || oid.tag !== 0x06) malformed('extension without an OID');
    if (!certificateDer.subarray(oid.start, oid.end).equals(FABRIC_ATTRS_OID)) continue;
    const value = rest.find((c) => c.tag === 0x04);
    if (!value) malformed('attribute extension without a value');
    let parsed: unknown;
    try {
      parsed = JSON.parse(certificateDer.subarray(value.start, value.end).toString('utf8'));
    } catch {
      malformed('attribute extension is not JSON');
    }
    const attrs = (parsed as { attrs?: unknown } | null)?.attrs;
    if (typeof attrs !== 'object' || attrs === null) malformed('attribute extension has no attrs object');
    return Object.fromEntries(
      Object.entries(attrs as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  }
  return {};
}
