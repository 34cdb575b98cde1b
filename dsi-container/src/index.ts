/**
 * @threadseal/dsi-container — the Digital Supply Item (DSI) container: a signed, encrypted,
 * streamable package of a technical data package. Format: docs/container-format.md.
 *
 * - {@link protect}: files or streams in → container stream out.
 * - {@link protectToFile}: files in → container file out, in one pass.
 * - {@link inspect} / {@link dsiId}: the public manifest, no key, no verification.
 * - {@link verify}: signature, signer chain, ciphertext digests; no key.
 * - {@link open}: verify, then unwrap with a recipient key, then per-file plaintext streams (memory only).
 * - {@link addRecipients}: re-wrap for more recipients after signing (same DSI id).
 * - {@link registrationOf}: the signed manifest, signature and signer certificate the ledger registers.
 */
export { DsiError, DsiErrorCode, isDsiError } from './errors';
export type { Manifest, ManifestFile, Creator } from './format/manifest';
export { DEFAULT_CHUNK_SIZE, DEFAULT_SEGMENT_CHUNKS, FORMAT_VERSION, LIMITS } from './format/limits';
export type { MessageSigner, Signer, RecipientKey } from './keys/types';
export {
  softwareMessageSigner,
  softwareSigner,
  softwareRecipientKey,
  recipientPublicKey,
  parseCertificates,
} from './keys/software';
export { Pkcs11Token, type Pkcs11KeyPair, type Pkcs11KeyUsage, type Pkcs11TokenOptions } from './keys/pkcs11';
export type { ContainerSource } from './container/source';
export {
  protect,
  protectToFile,
  mediaTypeFor,
  type ProtectFile,
  type ProtectOptions,
  type ProtectedDsi,
  type ProtectedFile,
} from './container/protect';
export { inspect, dsiId, type DsiInspection } from './container/inspect';
export { verify, type ExpectedSigner, type VerifyOptions, type VerifiedDsi } from './container/verify';
export { open, type OpenedDsi, type OpenedFile, type OpenOptions, type ReleasedKeys } from './container/open';
export { releaseKeys } from './container/release';
export { addRecipients, type RewrappedDsi } from './container/add-recipients';
export { dsiIdOfManifest } from './container/layout';
export { registrationOf, type DsiRegistration } from './container/registration';
