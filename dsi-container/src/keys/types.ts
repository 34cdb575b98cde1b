import type { KeyObject, X509Certificate } from 'node:crypto';

/** A P-256 key that signs messages: ECDSA over SHA-256, resolving to a DER signature. */
export interface MessageSigner {
  readonly publicKey: KeyObject;
  sign(message: Buffer): Promise<Buffer>;
}

/**
 * The IP owner's signing identity: a Fabric X.509 certificate chain and an ECDSA P-256 key
 * that may live in software or in a PKCS#11 token.
 */
export interface Signer {
  /** Signer certificate first, then any intermediates (not the root). */
  readonly certificates: readonly X509Certificate[];
  /** Signs `message` with ECDSA P-256 over SHA-256; resolves to a DER signature (any S; callers normalise). */
  sign(message: Buffer): Promise<Buffer>;
}

/**
 * A recipient's private key. Its only private-key operation is a plain ECDH, so it works with a
 * PKCS#11 token (CKM_ECDH1_DERIVE).
 */
export interface RecipientKey {
  /** The P-256 public key the DSI was wrapped to. */
  readonly publicKey: KeyObject;
  /** ECDH with `peer`; resolves to the 32-byte shared x-coordinate. */
  deriveSharedSecret(peer: KeyObject): Promise<Buffer>;
}
