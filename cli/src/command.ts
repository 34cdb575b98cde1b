import type { ErrorCode } from '@threadseal/ledger-model';

/** One `threadseal` subcommand: its name, a one-line summary, and what it does. */
export interface CliCommand {
  /** Words that select the command, e.g. `['network', 'up']` or `['protect']`. */
  readonly path: readonly string[];
  /** One line for `threadseal help`. */
  readonly summary: string;
  /** Usage text printed by `threadseal <command> --help`. */
  readonly usage: string;
  /**
   * Runs the command with the arguments after its path.
   * Resolves to the process exit code; throws for a failure, which `cliFailure` turns into one line.
   */
  run(args: readonly string[]): Promise<number>;
}

/**
 * A failure the CLI reports as one line on stderr with a non-zero exit code (no stack trace); `code` is
 * the error code of threadseal's vocabulary it stands for (`USAGE` for exit code 2).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: ErrorCode;
  constructor(
    message: string,
    readonly exitCode = 1,
    code?: ErrorCode,
  ) {
    super(message);
    this.code = code ?? (exitCode === 2 ? 'USAGE' : 'INTERNAL');
  }
}
