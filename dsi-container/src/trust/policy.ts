/**
 * What a signer path must satisfy beyond "each certificate signed by the next, all valid now"
 * (trust/chain.ts): RFC 5280 path constraints and the leaf's fitness to sign a DSI. Certificates
 * are decoded and name constraints evaluated by pkijs (docs/decisions/0007-signer-path-validation.md);
 * the checks here are the ones pkijs leaves to its caller.
 */
import type { X509Certificate } from 'node:crypto';
import { BasicConstraints, Certificate, CertificateChainValidationEngine, ExtKeyUsage } from 'pkijs';
import { DsiError } from '../errors';

/** OIDs of the extensions this library (with pkijs) processes; any other critical one is refused. */
const PROCESSED_EXTENSIONS: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.33': 'policyMappings',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.37': 'extendedKeyUsage',
  '2.5.29.54': 'inhibitAnyPolicy',
};

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** pkijs result codes of its name-constraint processing (RFC 5280 §6.1.3 b–c). */
const PKIJS_NAME_CONSTRAINT_CODES = new Set([21, 41, 42]);

const label = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');

function decode(cert: X509Certificate): Certificate {
  try {
    return Certificate.fromBER(new Uint8Array(cert.raw));
  } catch (err) {
    throw new DsiError(
      'MALFORMED_HEADER',
      `certificate "${label(cert)}" cannot be decoded`,
      { subject: label(cert) },
      { cause: err },
    );
  }
}

function extension(cert: Certificate, oid: string): unknown {
  return cert.extensions?.find((e) => e.extnID === oid)?.parsedValue as unknown;
}

/**
 * Checks the signer path `path` (leaf first, trusted root last, as `verifyChain` returns it) in
 * order: the leaf is an end entity; no certificate has an unprocessed critical extension; every
 * CA's pathLenConstraint holds; name constraints hold (pkijs); the leaf may sign (keyUsage, when
 * present, names digitalSignature; extendedKeyUsage, when present, is not only TLS).
 * @throws DsiError SIGNER_NOT_A_LEAF | UNKNOWN_CRITICAL_EXTENSION | PATH_LENGTH_EXCEEDED |
 * NAME_CONSTRAINT_VIOLATION | UNTRUSTED_SIGNER | SIGNER_KEY_USAGE
 */
export async function checkSignerPath(path: readonly X509Certificate[], at: Date): Promise<void> {
  const leaf = path[0] as X509Certificate;
  const decoded = path.map(decode);
  const leafDecoded = decoded[0] as Certificate;
  // a. A CA certificate never signs a DSI: it would let any issuing CA act as any of its users.
  if (leaf.ca) {
    throw new DsiError(
      'SIGNER_NOT_A_LEAF',
      `signer certificate "${label(leaf)}" is a CA certificate (basicConstraints cA=true), not an end entity`,
      { subject: label(leaf) },
    );
  }
  // b. RFC 5280 §4.2: a critical extension that is not processed must make the path invalid.
  decoded.forEach((cert, i) => {
    for (const ext of cert.extensions ?? []) {
      if (ext.critical && PROCESSED_EXTENSIONS[ext.extnID] === undefined) {
        const c = path[i] as X509Certificate;
        throw new DsiError(
          'UNKNOWN_CRITICAL_EXTENSION',
          `certificate "${label(c)}" has critical extension ${ext.extnID}, which is not processed`,
          { subject: label(c), extension: ext.extnID },
        );
      }
    }
  });
  // c. A CA at position i has i − 1 CAs between it and the leaf; pathLenConstraint bounds that.
  decoded.forEach((cert, i) => {
    if (i === 0) return;
    const bc = extension(cert, '2.5.29.19');
    if (!(bc instanceof BasicConstraints) || typeof bc.pathLenConstraint !== 'number') return;
    const below = i - 1;
    if (below > bc.pathLenConstraint) {
      const c = path[i] as X509Certificate;
      throw new DsiError(
        'PATH_LENGTH_EXCEEDED',
        `CA certificate "${label(c)}" allows ${bc.pathLenConstraint} CA certificate(s) below it; the signer path has ${below}`,
        { subject: label(c), pathLenConstraint: bc.pathLenConstraint, found: below },
      );
    }
  });
  // d. Name constraints (and the rest of RFC 5280 path processing) by pkijs, on the path found.
  const engine = new CertificateChainValidationEngine({
    trustedCerts: [decoded[decoded.length - 1] as Certificate],
    // pkijs takes the last of `certs` as the end entity.
    certs: decoded.slice(0, -1).reverse(),
    checkDate: at,
  });
  const result = await engine.verify();
  if (!result.result) {
    const code = PKIJS_NAME_CONSTRAINT_CODES.has(result.resultCode)
      ? 'NAME_CONSTRAINT_VIOLATION'
      : 'UNTRUSTED_SIGNER';
    throw new DsiError(code, `signer path of "${label(leaf)}" is invalid: ${result.resultMessage}`, {
      subject: label(leaf),
      pkijsCode: result.resultCode,
    });
  }
  // e. The leaf must be meant for signatures, and not be a TLS certificate of the same CA. An
  // absent keyUsage places no restriction (RFC 5280 §4.2.1.3); a present one must name
  // digitalSignature (bit 0, the first byte's high bit).
  const usage = leafDecoded.extensions?.find((e) => e.extnID === '2.5.29.15')?.parsedValue as
    { valueBlock: { valueHexView: Uint8Array } } | undefined;
  if (usage !== undefined && ((usage.valueBlock.valueHexView[0] ?? 0) & 0x80) === 0) {
    throw new DsiError(
      'SIGNER_KEY_USAGE',
      `signer certificate "${label(leaf)}" does not allow digitalSignature`,
      { subject: label(leaf) },
    );
  }
  const eku = extension(leafDecoded, '2.5.29.37');
  if (eku instanceof ExtKeyUsage) {
    const purposes = eku.keyPurposes;
    if (purposes.every((p) => p === EKU_SERVER_AUTH || p === EKU_CLIENT_AUTH)) {
      throw new DsiError(
        'SIGNER_KEY_USAGE',
        `signer certificate "${label(leaf)}" is a TLS certificate (extendedKeyUsage ${purposes.join(', ')})`,
        { subject: label(leaf) },
      );
    }
  }
}
