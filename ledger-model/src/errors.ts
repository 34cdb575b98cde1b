/**
 * The closed set of ledger error codes. Every chaincode error message starts with `<CODE>: ` because
 * Fabric clients only receive the message text; `CONNECTION_FAILED` is raised by the ledger client alone
 * (no connection to the peer could be set up: profile, enrollment, key or TLS root unusable).
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
  'ALLOCATION_EXHAUSTED',
  'SUBLICENSE_NOT_ALLOWED',
  'NARROWING_VIOLATION',
  'MODE_NOT_PERMITTED',
  'MACHINE_NOT_ELIGIBLE',
  'OPERATOR_NOT_QUALIFIED',
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
export class LedgerError extends Error {
  /** The machine-readable code, also the first word of `message`. */
  public readonly code: LedgerErrorCode;
  /** The human-readable detail after the code. */
  public readonly detail: string;

  public constructor(code: LedgerErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'LedgerError';
    this.code = code;
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
