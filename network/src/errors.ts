import {
  NETWORK_ERROR_CODES,
  ThreadsealError,
  codeObject,
  type NetworkErrorCodeName,
} from '@threadseal/ledger-model';

/**
 * Every way the network tool can fail: the network codes of threadseal's one error vocabulary
 * (`NETWORK_ERROR_CODES` in `@threadseal/ledger-model`), as a closed set.
 */
export const NetworkErrorCode = codeObject(NETWORK_ERROR_CODES);
export type NetworkErrorCode = NetworkErrorCodeName;

/** A network operation failed; `message` is one line fit for a terminal, `details` holds log excerpts. */
export class NetworkError extends ThreadsealError<NetworkErrorCode> {
  override readonly name = 'NetworkError';
  constructor(
    code: NetworkErrorCode,
    message: string,
    readonly details?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
