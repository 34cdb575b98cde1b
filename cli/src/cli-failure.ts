import { TransactionInvalidError } from '@threadseal/ledger-client';
import { ThreadsealError, type ErrorCode } from '@threadseal/ledger-model';
import { NetworkError } from '@threadseal/network';
import { CliError } from './command';

/**
 * The CLI's one error mapper: whatever a command threw becomes one line `<CODE>: message` and an exit code
 * (2 for usage, 1 otherwise). Threadseal errors keep their message (a chaincode refusal is printed exactly
 * as the chaincode wrote it), an invalid commit leads with its validation code, a network error prints its
 * log excerpt on stderr first, a file-system error names the path, anything else is `INTERNAL`.
 */
export function cliFailure(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof TransactionInvalidError) {
    return new CliError(
      `${err.validationCode}: transaction ${err.transactionId} committed INVALID in block ${err.blockNumber}`,
      1,
      err.code,
    );
  }
  if (err instanceof NetworkError && err.details) process.stderr.write(`${err.details}\n`);
  if (err instanceof ThreadsealError) {
    const code: ErrorCode = (err as ThreadsealError).code;
    return new CliError(err.message, code === 'USAGE' ? 2 : 1, code);
  }
  const sys = err as NodeJS.ErrnoException | undefined;
  if (err instanceof TypeError && String(sys?.code).startsWith('ERR_PARSE_ARGS')) {
    return new CliError(err.message, 2);
  }
  if (err instanceof Error && typeof sys?.code === 'string' && /^E[A-Z0-9]+$/.test(sys.code)) {
    return new CliError(`INPUT_ERROR: ${err.message}`, 1, 'INPUT_ERROR');
  }
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return new CliError(`INTERNAL: ${text}`, 1, 'INTERNAL');
}
