import { createHash, X509Certificate } from 'node:crypto';
import { IDENTITY_ATTRIBUTE, ThreadsealError } from '@threadseal/ledger-model';
import { fabricAttributes } from './fabric-attributes';

/** Who sent a request: an enrolled identity of the gateway's org, as its client certificate says. */
export interface Caller {
  readonly mspId: string;
  /** The certificate's subject common name (the enrollment id). */
  readonly name: string;
  /** The Fabric CA `role` attribute, or null when the identity has none. */
  readonly role: string | null;
  readonly qualifications: readonly string[];
  /** The enrollment certificate (PEM), the identity every ledger call of this request acts as. */
  readonly certificatePem: string;
  /** SHA-256 of the certificate's DER, lower-case hex: binds idempotency keys and signing handles. */
  readonly fingerprint: string;
}

/** The org a gateway serves: its MSP id and the CA that enrolls its identities. */
export interface GatewayOrg {
  readonly mspId: string;
  /** PEM of the org's CA certificate. */
  readonly caCertificatePem: string;
}

/** extendedKeyUsage serverAuth. */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function refused(detail: string): never {
  throw new ThreadsealError('UNAUTHENTICATED', detail);
}

/**
 * The caller a client certificate names, after checking — again, behind the TLS layer that already did — that
 * the org's CA issued and signed it and that it is within its validity period.
 * @throws ThreadsealError UNAUTHENTICATED when it is not a current enrolled identity of `org`.
 */
export function callerOf(certificateDer: Buffer, org: GatewayOrg, now = new Date()): Caller {
  let certificate: X509Certificate;
  let ca: X509Certificate;
  try {
    certificate = new X509Certificate(certificateDer);
    ca = new X509Certificate(org.caCertificatePem);
  } catch {
    refused('client certificate cannot be parsed');
  }
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey))
    refused(`client certificate is not issued by the CA of ${org.mspId}`);
  if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now)
    refused(`client certificate is outside its validity period (until ${certificate.validTo})`);
  if (certificate.ca) refused('client certificate is a CA certificate');
  // Only enrolled client identities act (Fabric NodeOU `client`): not the org admin, a peer or an orderer,
  // and not a TLS server certificate of the same CA (the gateway's own, a peer's).
  if (!/(?:^|\n)OU=client(?:\n|$)/.test(certificate.subject))
    refused('client certificate is not an enrolled client identity (OU=client)');
  // Node types keyUsage (the extended key usages) as an array, but it is undefined without the extension.
  const extendedKeyUsage = certificate.keyUsage as readonly string[] | undefined;
  if (extendedKeyUsage?.includes(SERVER_AUTH) === true)
    refused('client certificate is a TLS server certificate, not an enrollment certificate');
  const attrs = fabricAttributes(certificateDer);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1] ?? '';
  const qualification = attrs[IDENTITY_ATTRIBUTE.qualification];
  return {
    mspId: org.mspId,
    name: cn,
    role: attrs[IDENTITY_ATTRIBUTE.role] ?? null,
    qualifications: qualification ? qualification.split(',').filter((q) => q.length > 0) : [],
    certificatePem: certificate.toString(),
    fingerprint: createHash('sha256').update(certificate.raw).digest('hex'),
  };
}
