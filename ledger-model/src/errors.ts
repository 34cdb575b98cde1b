/**
 * The one error vocabulary of threadseal: every error any package throws across its boundary is a
 * {@link ThreadsealError} whose `code` is one of {@link ERROR_CODES} — a closed union, so a `switch`
 * over it is exhaustive — and whose message starts with `<CODE>: `. {@link HTTP_STATUS} maps each code
 * to the status the REST gateway answers with, one row per code.
 */

/**
 * The ledger's codes. Every chaincode error message starts with `<CODE>: ` because Fabric clients only
 * receive the message text; `CONNECTION_FAILED` is raised by the ledger client alone (no connection to the
 * peer could be set up: profile, enrollment, key or TLS root unusable).
 */
export const LEDGER_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FORBIDDEN',
  'DSI_NOT_ACTIVE',
  'LICENSE_REVOKED',
  'LICENSE_EXPIRED',
  'LICENSE_NOT_YET_VALID',
  'LICENSE_EXHAUSTED',
  'LICENSE_NOT_ACCEPTED',
  'ALLOCATION_EXHAUSTED',
  'SUBLICENSE_NOT_ALLOWED',
  'NARROWING_VIOLATION',
  'MODE_NOT_PERMITTED',
  'MACHINE_NOT_ELIGIBLE',
  'MACHINE_DEACTIVATED',
  'OPERATOR_NOT_QUALIFIED',
  'OPERATOR_MISMATCH',
  'PARAMETER_OUT_OF_ENVELOPE',
  'BAD_SIGNATURE',
  'REPLAYED_REQUEST',
  'STALE_REQUEST',
  'CLOCK_SKEW',
  'BUILD_NOT_RUNNING',
  'SCRAP_EVIDENCE_REQUIRED',
  'SCRAP_ALLOWANCE_EXCEEDED',
  'CONFIDENTIAL_TERMS_UNAVAILABLE',
  'CORRUPT_STATE',
  'CONNECTION_FAILED',
] as const;

/**
 * The codes of the DSI container library (`@threadseal/dsi-container`); docs/container-format.md §9 says
 * when each is raised.
 */
export const CONTAINER_ERROR_CODES = [
  /** The first bytes are not the DSI magic. */
  'BAD_MAGIC',
  /** The version byte names a format this library does not implement. */
  'UNSUPPORTED_VERSION',
  /** The declared header length exceeds the limit (checked before allocation). */
  'HEADER_TOO_LARGE',
  /** The header is not strict JSON of the documented shape. */
  'MALFORMED_HEADER',
  /** The signed manifest is not strict JSON of the documented shape. */
  'MALFORMED_MANIFEST',
  /** A count or size in the manifest exceeds a documented limit. */
  'LIMIT_EXCEEDED',
  /** The DSSE signature does not verify with the included signer certificate (shared with the ledger). */
  'BAD_SIGNATURE',
  /** The signer certificate does not chain to one of the trusted roots. */
  'UNTRUSTED_SIGNER',
  /** A certificate of the signer chain is past its notAfter date. */
  'SIGNER_EXPIRED',
  /** A certificate of the signer chain is before its notBefore date. */
  'SIGNER_NOT_YET_VALID',
  /** The manifest's creator does not match the signer certificate. */
  'CREATOR_MISMATCH',
  /** The signer certificate is a CA certificate (basicConstraints cA), not an end entity. */
  'SIGNER_NOT_A_LEAF',
  /** The signer certificate may not sign: its keyUsage omits digitalSignature, or it has only TLS extendedKeyUsages. */
  'SIGNER_KEY_USAGE',
  /** A CA on the signer path allows fewer CAs below it (pathLenConstraint) than the path has. */
  'PATH_LENGTH_EXCEEDED',
  /** A certificate on the signer path is outside the name constraints of a CA above it. */
  'NAME_CONSTRAINT_VIOLATION',
  /** A certificate on the signer path has a critical extension this library does not process. */
  'UNKNOWN_CRITICAL_EXTENSION',
  /** The signer is trusted but is not the one the caller pinned (fingerprint, MSP id or subject). */
  'UNEXPECTED_SIGNER',
  /** No recipient stanza is addressed to the given key. */
  'NOT_A_RECIPIENT',
  /** A recipient stanza does not decrypt, or yields keys that do not match the signed commitments. */
  'WRAP_MISMATCH',
  /** A segment's ciphertext does not match its signed digest. */
  'DIGEST_MISMATCH',
  /** A chunk failed AEAD authentication during decryption. */
  'CORRUPTED_CHUNK',
  /** The input ends before the end the manifest declares. */
  'TRUNCATED',
  /** Bytes follow the end the manifest declares. */
  'TRAILING_DATA',
  /** A file input cannot be read or does not match what was declared (missing, unreadable, size changed). */
  'INPUT_ERROR',
  /** A caller-supplied argument is invalid (shared with the ledger). */
  'INVALID_ARGUMENT',
  /** A key or certificate is not an EC P-256 key, or cannot be parsed. */
  'UNSUPPORTED_KEY',
  /** A PKCS#11 token call failed, or the token or key is not there. */
  'TOKEN_ERROR',
  /** A fault of the library itself (shared with the apps). */
  'INTERNAL',
] as const;

/** The codes of the network tool (`@threadseal/network`). */
export const NETWORK_ERROR_CODES = [
  'INVALID_DESCRIPTION',
  'BINARIES_MISSING',
  'PORT_IN_USE',
  'NODE_UNHEALTHY',
  'COMMAND_FAILED',
  'CHAINCODE_BUILD_FAILED',
  'CHAINCODE_NOT_READY',
  'NOT_RUNNING',
  'PARTIALLY_RUNNING',
  'IDENTITY_FAILED',
] as const;

/** The codes of the ledger client and the apps on top of it (CLI, gateway, agent). */
export const CLIENT_ERROR_CODES = [
  /** The transaction reached the ledger but was committed with a validation code other than VALID. */
  'TRANSACTION_INVALID',
  /** Endorsement, submission or the commit status failed without a ledger error code. */
  'LEDGER_UNAVAILABLE',
  /** A command line or request that does not fit the command's usage. */
  'USAGE',
  /** A fault of threadseal itself (an invariant that should hold did not): never the caller's doing. */
  'INTERNAL',
  /** A request without a credential the service accepts (no client certificate, or not one of its org's). */
  'UNAUTHENTICATED',
  /** The service sheds load: too many requests in flight; retry after the delay it names. */
  'OVERLOADED',
  /** This caller exceeds its own request rate (the others are still served); retry after the delay it names. */
  'RATE_LIMITED',
] as const;

/** The codes of the machine controllers the enforce agent drives (`enforce-agent` `controllers/`). */
export const CONTROLLER_ERROR_CODES = [
  /** The controller cannot be started or reached (not installed, no unprivileged user, did not get ready). */
  'CONTROLLER_UNAVAILABLE',
  /** The controller refused a command, broke its protocol, or died during a job. */
  'CONTROLLER_FAILED',
  /** The controller is already running a job. */
  'CONTROLLER_BUSY',
] as const;

/** The codes of the enforce agent's own checks (`enforce-agent` `job/`); refusals by a rule keep the rule's code. */
export const AGENT_ERROR_CODES = [
  /** The G-code verifier rejected the program (line and reason), or the program has no process declaration. */
  'PROGRAM_REJECTED',
  /** The decrypted program does not do what its owner's signed declaration says. */
  'PROGRAM_MISMATCH',
  /** The controller reports a machine other than the one registered under this machine id. */
  'MACHINE_MISMATCH',
  /** No key release for the build arrived in time. */
  'KEY_NOT_RELEASED',
  /** The agent was told to stop (SIGTERM) during the job: refused before StartBuild, aborted after it. */
  'JOB_CANCELLED',
] as const;

/** Every error code of threadseal, once each. */
export const ERROR_CODES = [
  ...new Set([
    ...LEDGER_ERROR_CODES,
    ...CONTAINER_ERROR_CODES,
    ...NETWORK_ERROR_CODES,
    ...CLIENT_ERROR_CODES,
    ...CONTROLLER_ERROR_CODES,
    ...AGENT_ERROR_CODES,
  ]),
] as readonly ErrorCode[];

/** One of {@link ERROR_CODES}. */
export type ErrorCode =
  | LedgerErrorCode
  | (typeof CONTAINER_ERROR_CODES)[number]
  | (typeof NETWORK_ERROR_CODES)[number]
  | (typeof CLIENT_ERROR_CODES)[number]
  | (typeof CONTROLLER_ERROR_CODES)[number]
  | (typeof AGENT_ERROR_CODES)[number];

/** The code of the container library. */
export type ContainerErrorCode = (typeof CONTAINER_ERROR_CODES)[number];
/** The code of the network tool. */
export type NetworkErrorCodeName = (typeof NETWORK_ERROR_CODES)[number];
/** The code of the ledger client and apps. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
/** The code of the machine controllers. */
export type ControllerErrorCode = (typeof CONTROLLER_ERROR_CODES)[number];
/** The code of the enforce agent's own checks. */
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/**
 * The base of every threadseal error: a code from the closed union, a message that starts with it, and
 * the cause it wraps, if any. Packages subclass it for their own structured fields.
 */
export class ThreadsealError<C extends ErrorCode = ErrorCode> extends Error {
  /** The machine-readable code, also the first word of `message`. */
  public readonly code: C;

  public constructor(code: C, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.name = 'ThreadsealError';
    this.code = code;
  }
}

/**
 * A frozen object naming each code of a list by itself (`Codes.BAD_MAGIC === 'BAD_MAGIC'`), for packages
 * that expose their part of the vocabulary as an object (`DsiErrorCode`, `NetworkErrorCode`).
 */
export function codeObject<const C extends readonly ErrorCode[]>(codes: C): { readonly [K in C[number]]: K } {
  return Object.freeze(Object.fromEntries(codes.map((code) => [code, code]))) as {
    readonly [K in C[number]]: K;
  };
}

/** Whether `err` is a {@link ThreadsealError}, optionally with one of the given codes. */
export function isThreadsealError(err: unknown, ...codes: readonly ErrorCode[]): err is ThreadsealError {
  if (!(err instanceof ThreadsealError)) return false;
  const code: ErrorCode = (err as ThreadsealError).code;
  return codes.length === 0 || codes.includes(code);
}

/**
 * The HTTP status the REST gateway answers each code with: 4xx when the request or the caller's rights
 * are at fault (400 malformed, 403 not allowed, 404 missing, 409 the ledger's state refuses it, 413 too
 * large, 422 well-formed but fails a check), 5xx when threadseal or the network is.
 */
export const HTTP_STATUS: { readonly [K in ErrorCode]: number } = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FORBIDDEN: 403,
  DSI_NOT_ACTIVE: 409,
  LICENSE_REVOKED: 409,
  LICENSE_EXPIRED: 409,
  LICENSE_NOT_YET_VALID: 409,
  LICENSE_EXHAUSTED: 409,
  LICENSE_NOT_ACCEPTED: 409,
  ALLOCATION_EXHAUSTED: 409,
  SUBLICENSE_NOT_ALLOWED: 403,
  NARROWING_VIOLATION: 422,
  MODE_NOT_PERMITTED: 403,
  MACHINE_NOT_ELIGIBLE: 403,
  MACHINE_DEACTIVATED: 409,
  OPERATOR_NOT_QUALIFIED: 403,
  OPERATOR_MISMATCH: 403,
  PARAMETER_OUT_OF_ENVELOPE: 422,
  BAD_SIGNATURE: 422,
  REPLAYED_REQUEST: 409,
  STALE_REQUEST: 422,
  CLOCK_SKEW: 422,
  BUILD_NOT_RUNNING: 409,
  SCRAP_EVIDENCE_REQUIRED: 422,
  SCRAP_ALLOWANCE_EXCEEDED: 409,
  CONFIDENTIAL_TERMS_UNAVAILABLE: 422,
  CORRUPT_STATE: 500,
  BAD_MAGIC: 422,
  UNSUPPORTED_VERSION: 422,
  HEADER_TOO_LARGE: 413,
  MALFORMED_HEADER: 422,
  MALFORMED_MANIFEST: 422,
  LIMIT_EXCEEDED: 413,
  UNTRUSTED_SIGNER: 422,
  SIGNER_EXPIRED: 422,
  SIGNER_NOT_YET_VALID: 422,
  CREATOR_MISMATCH: 422,
  SIGNER_NOT_A_LEAF: 422,
  SIGNER_KEY_USAGE: 422,
  PATH_LENGTH_EXCEEDED: 422,
  NAME_CONSTRAINT_VIOLATION: 422,
  UNKNOWN_CRITICAL_EXTENSION: 422,
  UNEXPECTED_SIGNER: 422,
  NOT_A_RECIPIENT: 403,
  WRAP_MISMATCH: 422,
  DIGEST_MISMATCH: 422,
  CORRUPTED_CHUNK: 422,
  TRUNCATED: 422,
  TRAILING_DATA: 422,
  INPUT_ERROR: 400,
  UNSUPPORTED_KEY: 422,
  TOKEN_ERROR: 503,
  INVALID_DESCRIPTION: 500,
  BINARIES_MISSING: 500,
  PORT_IN_USE: 500,
  NODE_UNHEALTHY: 503,
  COMMAND_FAILED: 500,
  CHAINCODE_BUILD_FAILED: 500,
  CHAINCODE_NOT_READY: 503,
  NOT_RUNNING: 503,
  PARTIALLY_RUNNING: 503,
  IDENTITY_FAILED: 500,
  CONNECTION_FAILED: 503,
  TRANSACTION_INVALID: 409,
  LEDGER_UNAVAILABLE: 503,
  USAGE: 400,
  INTERNAL: 500,
  CONTROLLER_UNAVAILABLE: 503,
  CONTROLLER_FAILED: 502,
  CONTROLLER_BUSY: 409,
  PROGRAM_REJECTED: 422,
  PROGRAM_MISMATCH: 422,
  MACHINE_MISMATCH: 409,
  KEY_NOT_RELEASED: 504,
  JOB_CANCELLED: 503,
  UNAUTHENTICATED: 401,
  OVERLOADED: 503,
  RATE_LIMITED: 429,
};

/** One of {@link LEDGER_ERROR_CODES}. */
export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(LEDGER_ERROR_CODES);

/** Returns true when `value` is one of {@link LEDGER_ERROR_CODES}. */
export function isLedgerErrorCode(value: string): value is LedgerErrorCode {
  return CODE_SET.has(value);
}

/**
 * An error raised by the chaincode rules; its `message` is `<code>: <detail>` so that the code survives
 * the trip through Fabric, where only the message text reaches the client.
 */
export class LedgerError extends ThreadsealError<LedgerErrorCode> {
  /** The human-readable detail after the code. */
  public readonly detail: string;

  public constructor(code: LedgerErrorCode, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.name = 'LedgerError';
    this.detail = detail;
  }
}

/** The code and message recovered from an error message that crossed the Fabric boundary. */
export interface ParsedLedgerError {
  /** The ledger error code. */
  readonly code: LedgerErrorCode;
  /** The chaincode message, starting with the code (any Fabric prefix such as `chaincode response 500, ` removed). */
  readonly message: string;
}

const CODE_PATTERN = new RegExp(`(?:^|[^A-Z_])(${LEDGER_ERROR_CODES.join('|')}): `);

/**
 * Finds the ledger error inside a message as received by a client (gateway errors wrap the chaincode
 * message, e.g. `chaincode response 500, LICENSE_EXHAUSTED: license L7 ...`).
 * Returns `undefined` when the message carries no ledger error code.
 */
export function parseLedgerError(message: string): ParsedLedgerError | undefined {
  const match = CODE_PATTERN.exec(message);
  const code = match?.[1];
  if (match === null || code === undefined || !isLedgerErrorCode(code)) return undefined;
  const start = match.index + match[0].length - code.length - 2;
  return { code, message: message.slice(start) };
}
