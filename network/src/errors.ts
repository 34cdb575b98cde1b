/** Every way the network tool can fail, as a closed set of codes. */
export const NetworkErrorCode = {
  INVALID_DESCRIPTION: 'INVALID_DESCRIPTION',
  BINARIES_MISSING: 'BINARIES_MISSING',
  PORT_IN_USE: 'PORT_IN_USE',
  NODE_UNHEALTHY: 'NODE_UNHEALTHY',
  COMMAND_FAILED: 'COMMAND_FAILED',
  CHAINCODE_BUILD_FAILED: 'CHAINCODE_BUILD_FAILED',
  CHAINCODE_NOT_READY: 'CHAINCODE_NOT_READY',
  NOT_RUNNING: 'NOT_RUNNING',
  PARTIALLY_RUNNING: 'PARTIALLY_RUNNING',
  IDENTITY_FAILED: 'IDENTITY_FAILED',
} as const;
export type NetworkErrorCode = (typeof NetworkErrorCode)[keyof typeof NetworkErrorCode];

/** A network operation failed; `message` is one line fit for a terminal, `details` holds log excerpts. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly code: NetworkErrorCode,
    message: string,
    readonly details?: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
