/** Signer certificate path validation against caller-supplied trusted roots. */
import { X509Certificate } from 'node:crypto';
import { DsiError } from '../errors';
import { LIMITS } from '../format/limits';

/** Parses DER certificates, rejecting any whose encoding does not round-trip. @throws DsiError MALFORMED_HEADER */
export function parseDerCertificates(ders: readonly Buffer[]): X509Certificate[] {
  return ders.map((der, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch (err) {
      throw new DsiError(
        'MALFORMED_HEADER',
        `certificates[${i}] is not a DER X.509 certificate`,
        { certificate: i },
        { cause: err },
      );
    }
    if (!cert.raw.equals(der))
      throw new DsiError('MALFORMED_HEADER', `certificates[${i}] is not in DER form`, { certificate: i });
    // Decode the public key now: a damaged key must fail here, not deep inside a check.
    let keyType: string | undefined;
    try {
      keyType = cert.publicKey.asymmetricKeyType;
    } catch (err) {
      throw new DsiError(
        'MALFORMED_HEADER',
        `certificates[${i}] has an undecodable public key`,
        { certificate: i },
        { cause: err },
      );
    }
    if (keyType === undefined)
      throw new DsiError('MALFORMED_HEADER', `certificates[${i}] has no asymmetric public key`, {
        certificate: i,
      });
    return cert;
  });
}

/** Whether `issuer` issued and signed `cert`; OpenSSL errors on damaged input count as "no". */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

const label = (c: X509Certificate): string => c.subject.replace(/\n/g, ', ');

/**
 * Finds a path leaf → intermediates → one of `roots` where every certificate is signed by the
 * next and every issuer is a CA, then checks each certificate on the path is valid at `at`.
 * @throws DsiError UNTRUSTED_SIGNER | SIGNER_EXPIRED | SIGNER_NOT_YET_VALID
 */
export function verifyChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  at: Date,
): X509Certificate[] {
  if (Number.isNaN(at.getTime()))
    throw new DsiError('INVALID_ARGUMENT', 'the verification time is not a valid date');
  if (roots.length === 0) throw new DsiError('UNTRUSTED_SIGNER', 'no trusted roots were supplied');
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= LIMITS.maxCertificates; depth++) {
    const root = roots.find((r) => issuedBy(current, r));
    if (root) {
      if (!path.some((c) => c.raw.equals(root.raw))) path.push(root);
      for (const cert of path) checkValidity(cert, at, cert === leaf ? 'signer' : 'issuer');
      return path;
    }
    const next = intermediates.find((c) => !path.includes(c) && issuedBy(current, c));
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw new DsiError(
    'UNTRUSTED_SIGNER',
    `signer certificate "${label(leaf)}" does not chain to a trusted root (no trusted issuer for "${current.issuer.replace(/\n/g, ', ')}")`,
    {
      subject: label(leaf),
      issuer: current.issuer.replace(/\n/g, ', '),
    },
  );
}

function checkValidity(cert: X509Certificate, at: Date, role: string): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (at.getTime() > to.getTime()) {
    throw new DsiError(
      'SIGNER_EXPIRED',
      `${role} certificate "${label(cert)}" expired on ${to.toISOString()} (checked at ${at.toISOString()})`,
      {
        subject: label(cert),
      },
    );
  }
  if (at.getTime() < from.getTime()) {
    throw new DsiError(
      'SIGNER_NOT_YET_VALID',
      `${role} certificate "${label(cert)}" is not valid before ${from.toISOString()} (checked at ${at.toISOString()})`,
      {
        subject: label(cert),
      },
    );
  }
}
