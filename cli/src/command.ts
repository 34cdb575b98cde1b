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
   * Resolves to the process exit code; throws a `CliError` for a clear one-line failure.
   */
  run(args: readonly string[]): Promise<number>;
}

/** A failure the CLI reports as one line on stderr with a non-zero exit code (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
