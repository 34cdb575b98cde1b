/**
 * Every way a DSI operation can fail. The set is closed: callers switch on `code`,
 * never on message text. See docs/container-format.md §9 for when each code is raised.
 */
export const DsiErrorCode = {
  /** The first bytes are not the DSI magic. */
  BAD_MAGIC: 'BAD_MAGIC',
  /** The version byte names a format this library does not implement. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** The declared header length exceeds the limit (checked before allocation). */
  HEADER_TOO_LARGE: 'HEADER_TOO_LARGE',
  /** The header is not strict JSON of the documented shape. */
  MALFORMED_HEADER: 'MALFORMED_HEADER',
  /** The signed manifest is not strict JSON of the documented shape. */
  MALFORMED_MANIFEST: 'MALFORMED_MANIFEST',
  /** A count or size in the manifest exceeds a documented limit. */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** The DSSE signature does not verify with the included signer certificate. */
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** The signer certificate does not chain to one of the trusted roots. */
  UNTRUSTED_SIGNER: 'UNTRUSTED_SIGNER',
  /** A certificate of the signer chain is past its notAfter date. */
  SIGNER_EXPIRED: 'SIGNER_EXPIRED',
  /** A certificate of the signer chain is before its notBefore date. */
  SIGNER_NOT_YET_VALID: 'SIGNER_NOT_YET_VALID',
  /** The manifest's creator does not match the signer certificate. */
  CREATOR_MISMATCH: 'CREATOR_MISMATCH',
  /** No recipient stanza is addressed to the given key. */
  NOT_A_RECIPIENT: 'NOT_A_RECIPIENT',
  /** A recipient stanza does not decrypt, or yields keys that do not match the signed commitments. */
  WRAP_MISMATCH: 'WRAP_MISMATCH',
  /** A segment's ciphertext does not match its signed digest. */
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  /** A chunk failed AEAD authentication during decryption. */
  CORRUPTED_CHUNK: 'CORRUPTED_CHUNK',
  /** The input ends before the end the manifest declares. */
  TRUNCATED: 'TRUNCATED',
  /** Bytes follow the end the manifest declares. */
  TRAILING_DATA: 'TRAILING_DATA',
  /** A file input does not match what was declared (size changed while reading, unreadable). */
  INPUT_ERROR: 'INPUT_ERROR',
  /** A caller-supplied argument is invalid (bad chunk size, no recipients, duplicate names, …). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A key or certificate is not an EC P-256 key, or cannot be parsed. */
  UNSUPPORTED_KEY: 'UNSUPPORTED_KEY',
  /** A PKCS#11 token call failed. */
  TOKEN_ERROR: 'TOKEN_ERROR',
} as const;

/** The closed union of DSI error codes. */
export type DsiErrorCode = (typeof DsiErrorCode)[keyof typeof DsiErrorCode];

/** The one error class every DSI operation throws; `code` says which check failed. */
export class DsiError extends Error {
  override readonly name = 'DsiError';
  /** Which check failed. */
  readonly code: DsiErrorCode;
  /** Structured context (file name, chunk index, offset…) for logs. */
  readonly details: Readonly<Record<string, string | number>>;

  constructor(
    code: DsiErrorCode,
    message: string,
    details: Readonly<Record<string, string | number>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.code = code;
    this.details = details;
  }
}

/** Whether `err` is a {@link DsiError}, optionally with the given code. */
export function isDsiError(err: unknown, code?: DsiErrorCode): err is DsiError {
  return err instanceof DsiError && (code === undefined || err.code === code);
}
