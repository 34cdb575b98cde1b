import { HTTP_STATUS, isThreadsealError, ThreadsealError, type ErrorCode } from '@threadseal/ledger-model';

/** The body of every error the gateway answers with. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly requestId: string;
}

/** What the client is told when threadseal or the network is at fault: the code, never the internals. */
const SERVER_SIDE: Partial<Record<ErrorCode, string>> = {
  LEDGER_UNAVAILABLE: 'the ledger is unavailable; try again later',
  CONNECTION_FAILED: 'the ledger is unavailable; try again later',
  OVERLOADED: 'too many requests in flight; retry after the delay in Retry-After',
  TOKEN_ERROR: 'the key store is unavailable',
};

/** Absolute file-system paths (the roots a host's files live under) and Windows drive paths. */
const FILE_PATH =
  /(?:[A-Za-z]:\\|\/(?:home|work|tmp|usr|var|opt|etc|root|srv|mnt|run|proc|Users|private|snap|nix|data)(?=[/\s'",)]|$))[^\s'",)]*/g;
/** A source location as stack frames write it (`file.js:12:5`). */
const SOURCE_LOCATION = /[^\s'",()]+\.(?:js|ts|mjs|cjs):\d+(?::\d+)?/g;

/**
 * Removes what a client must never see from a message: file paths, network addresses and anything after
 * the first line (a stack trace would follow it).
 */
export function scrub(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  return firstLine
    .replace(FILE_PATH, '<path>')
    .replace(SOURCE_LOCATION, '<path>')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '<address>')
    .replace(/\b(?:localhost|[\w-]+(?:\.[\w-]+)*\.test)(?::\d+)\b/g, '<address>')
    .slice(0, 1024);
}

/** An error thrown by express's body parser (`type` says which). */
interface BodyParserError {
  readonly type: string;
  readonly limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { type?: unknown }).type === 'string' &&
    typeof (err as { status?: unknown }).status === 'number'
  );
}

/** The threadseal error a request ends with: threadseal errors as they are, body-parser refusals coded. */
export function asThreadsealError(err: unknown): ThreadsealError {
  if (isThreadsealError(err)) return err;
  if (isBodyParserError(err)) {
    switch (err.type) {
      case 'entity.too.large':
        return new ThreadsealError(
          'LIMIT_EXCEEDED',
          `request body exceeds ${err.limit ?? 'the limit of'} bytes`,
        );
      case 'entity.parse.failed':
        return new ThreadsealError('INVALID_ARGUMENT', 'request body is not one JSON document');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new ThreadsealError('INVALID_ARGUMENT', 'request body must be JSON in UTF-8');
      default:
        return new ThreadsealError('INVALID_ARGUMENT', 'request body cannot be read');
    }
  }
  return new ThreadsealError('INTERNAL', 'unexpected failure', { cause: err });
}

/** The status and body of an error response: the code's row of HTTP_STATUS, a message safe to show. */
export function errorResponse(err: unknown, requestId: string): { status: number; body: ErrorBody } {
  const error = asThreadsealError(err);
  const status = HTTP_STATUS[error.code];
  const detail = SERVER_SIDE[error.code] ?? (status >= 500 ? 'internal error' : undefined);
  const message = detail === undefined ? scrub(error.message) : `${error.code}: ${detail}`;
  return { status, body: { code: error.code, message, requestId } };
}
