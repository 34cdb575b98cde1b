import { FabricNetwork, NetworkError } from '@threadseal/network';
import { CliError } from './command';

/** Options every network-facing command takes; environment variables give the defaults. */
export const networkOptionSpec = {
  profile: { type: 'string' },
  'state-dir': { type: 'string' },
  'base-port': { type: 'string' },
} as const;

export const networkOptionUsage = `  --profile <file>     network description (default network/profiles/reference.yaml, env THREADSEAL_PROFILE)
  --state-dir <dir>    generated state: crypto, ledgers, logs (default .threadseal/<name>, env THREADSEAL_STATE_DIR)
  --base-port <port>   first port handed out (default from the description, env THREADSEAL_BASE_PORT)`;

/** Opens the network the options point at; prints progress on stderr. */
export function openNetwork(values: {
  profile?: string;
  'state-dir'?: string;
  'base-port'?: string;
}): FabricNetwork {
  const profile = values.profile ?? process.env['THREADSEAL_PROFILE'];
  const stateDir = values['state-dir'] ?? process.env['THREADSEAL_STATE_DIR'];
  const basePortText = values['base-port'] ?? process.env['THREADSEAL_BASE_PORT'];
  let basePort: number | undefined;
  if (basePortText !== undefined) {
    basePort = Number(basePortText);
    if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 64000) {
      throw new CliError(`--base-port must be an integer in 1024..64000, got '${basePortText}'`, 2);
    }
  }
  return asCliError(() =>
    FabricNetwork.open({
      ...(profile ? { profile } : {}),
      ...(stateDir ? { stateDir } : {}),
      ...(basePort !== undefined ? { basePort } : {}),
      log: (line) => process.stderr.write(`  ${line}\n`),
    }),
  );
}

/** Runs `fn`, turning a NetworkError into a one-line CliError (its log excerpt on stderr first). */
export function asCliError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toCliError(err);
  }
}

export function toCliError(err: unknown): unknown {
  if (err instanceof NetworkError) {
    if (err.details) process.stderr.write(`${err.details}\n`);
    return new CliError(err.message);
  }
  return err;
}
