/** registrationOf(): what the ledger's `dsi:Register` needs from a container, read from its header. */
import { X509Certificate } from 'node:crypto';
import { DsiError, atBoundary } from '../errors';
import { parseContainer } from './layout';
import { openSource, type ContainerSource } from './source';

/** The signed manifest of a DSI as its header holds it: the input of the ledger's `dsi:Register`. */
export interface DsiRegistration {
  /** Hex SHA-256 of the signed manifest bytes. */
  readonly dsiId: string;
  /** Base64 of the signed manifest bytes (the DSSE payload). */
  readonly manifest: string;
  /** Base64 of the DER ECDSA signature over the DSSE pre-authentication encoding of the manifest. */
  readonly signature: string;
  /** PEM of the signer certificate (the header's first certificate). */
  readonly signerCertificate: string;
}

/**
 * Reads the signed manifest, its signature and the signer certificate of a container file or buffer (the
 * whole layout is checked, nothing is verified: the ledger verifies the signature and the signer itself).
 * @throws DsiError as `inspect`, MALFORMED_HEADER when the signer certificate is not X.509
 */
export async function registrationOf(source: string | Uint8Array): Promise<DsiRegistration> {
  return atBoundary('registrationOf', async () => {
    const ra = await openSource(source as ContainerSource);
    try {
      const { header, dsiId } = await parseContainer(ra);
      let signer: X509Certificate;
      try {
        signer = new X509Certificate(header.certificates[0] ?? Buffer.alloc(0));
      } catch {
        throw new DsiError('MALFORMED_HEADER', 'header certificates[0] is not an X.509 certificate');
      }
      return {
        dsiId,
        manifest: header.manifestBytes.toString('base64'),
        signature: header.signature.toString('base64'),
        signerCertificate: signer.toString(),
      };
    } finally {
      await ra.close();
    }
  });
}
