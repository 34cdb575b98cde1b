import {
  CONTAINER_ERROR_CODES,
  ThreadsealError,
  codeObject,
  type ContainerErrorCode,
} from '@threadseal/ledger-model';

/**
 * Every way a DSI operation can fail: the container codes of threadseal's one error vocabulary
 * (`CONTAINER_ERROR_CODES` in `@threadseal/ledger-model`, where each is documented). The set is closed:
 * callers switch on `code`, never on message text. See docs/container-format.md §9 for when each code is
 * raised.
 */
export const DsiErrorCode = codeObject(CONTAINER_ERROR_CODES);

/** The closed union of DSI error codes. */
export type DsiErrorCode = ContainerErrorCode;

/** The one error class every DSI operation throws; `code` says which check failed. */
export class DsiError extends ThreadsealError<DsiErrorCode> {
  override readonly name = 'DsiError';
  /** Structured context (file name, chunk index, offset…) for logs. */
  readonly details: Readonly<Record<string, string | number>>;

  constructor(
    code: DsiErrorCode,
    message: string,
    details: Readonly<Record<string, string | number>> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.details = details;
  }
}

/** Whether `err` is a {@link DsiError}, optionally with the given code. */
export function isDsiError(err: unknown, code?: DsiErrorCode): err is DsiError {
  return err instanceof DsiError && (code === undefined || err.code === code);
}

/**
 * Runs one public operation so that nothing but a {@link DsiError} leaves the library: a file-system
 * error becomes `INPUT_ERROR` (naming the path and the system code), anything else `INTERNAL` with the
 * original as its `cause`.
 */
export async function atBoundary<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw asDsiError(what, err);
  }
}

/** The {@link DsiError} that `err`, thrown while doing `what`, becomes at the library's boundary. */
function asDsiError(what: string, err: unknown): DsiError {
  if (err instanceof DsiError) return err;
  const sys = err as NodeJS.ErrnoException | undefined;
  if (sys && typeof sys.code === 'string' && /^E[A-Z0-9]+$/.test(sys.code)) {
    const path = typeof sys.path === 'string' ? ` ${sys.path}` : '';
    return new DsiError(
      'INPUT_ERROR',
      `${what}: cannot ${sys.syscall ?? 'read'}${path} (${sys.code})`,
      {
        errno: sys.code,
        ...(sys.syscall ? { syscall: sys.syscall } : {}),
        ...(sys.path ? { path: sys.path } : {}),
      },
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DsiError('INTERNAL', `${what}: ${message}`, {}, { cause: err });
}
