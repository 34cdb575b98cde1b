/** The signed digest of one file of a DSI container: it identifies the ciphertext, never the plaintext. */
export interface FileDigest {
  /** Path of the file inside the container. */
  readonly path: string;
  /**
   * The file's ciphertext digest as the signed manifest records it (`files[i].digest`, lower-case hex, 64
   * characters): SHA-256 over the file's encrypted segments (docs/container-format.md), not over its bytes.
   */
  readonly ciphertextDigest: string;
}

/** Lifecycle of a DSI on the ledger. */
export type DsiStatus = 'active' | 'superseded' | 'revoked';

/**
 * Input of `dsi:Register`: the container's signed manifest exactly as its header holds it. The chaincode
 * verifies the signature, computes the DSI id from the manifest, requires the signer certificate to be the
 * submitter's and takes every field of the record (part number, revision, title, file digests, owner
 * certificate fingerprint) from the verified manifest; the owner org is the submitter's MSP.
 */
export interface RegisterDsiInput {
  /** The DSI id the client expects: SHA-256 (lower-case hex) of the manifest bytes; a different id is refused. */
  readonly dsiId: string;
  /** Base64 of the signed manifest bytes (the DSSE payload of the container header). */
  readonly manifest: string;
  /** Base64 of the DER ECDSA P-256 signature over the DSSE pre-authentication encoding of the manifest. */
  readonly signature: string;
  /** PEM of the signer certificate (the container's first certificate): must be the submitter's own. */
  readonly signerCertificate: string;
}

/** Input of `dsi:Supersede`: registers `successor` as the new revision of `dsiId`. */
export interface SupersedeDsiInput {
  readonly dsiId: string;
  readonly successor: RegisterDsiInput;
}

/** Input of `dsi:Revoke`. */
export interface RevokeDsiInput {
  readonly dsiId: string;
  readonly reason: string;
}

/** Input of `dsi:Get`. */
export interface GetDsiInput {
  readonly dsiId: string;
}

/** A DSI as stored on the channel (key `dsi~<dsiId>`). */
export interface Dsi {
  readonly dsiId: string;
  readonly ownerMsp: string;
  readonly partNumber: string;
  readonly revision: string;
  readonly title: string;
  readonly fileDigests: readonly FileDigest[];
  readonly ownerCertFingerprint: string;
  readonly status: DsiStatus;
  /** The DSI this one supersedes, if it is a later revision. */
  readonly supersedes: string | null;
  /** The DSI that superseded this one. */
  readonly supersededBy: string | null;
  readonly revokedReason: string | null;
  /** Transaction timestamp of the registration (ISO 8601, UTC). */
  readonly registeredAt: string;
  /** Transaction timestamp of the last change (ISO 8601, UTC). */
  readonly updatedAt: string;
}
