import { FabricNetwork, locateConnectionFile } from '@threadseal/network';
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

/** `--base-port` (or its environment default) as a number, checked; undefined when not given. */
function basePortOf(values: { 'base-port'?: string }): number | undefined {
  const text = values['base-port'] ?? process.env['THREADSEAL_BASE_PORT'];
  if (text === undefined) return undefined;
  const basePort = Number(text);
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 64000) {
    throw new CliError(`--base-port must be an integer in 1024..64000, got '${text}'`, 2);
  }
  return basePort;
}

/** Opens the network the options point at; prints progress on stderr. */
export function openNetwork(values: {
  profile?: string;
  'state-dir'?: string;
  'base-port'?: string;
}): FabricNetwork {
  const profile = values.profile ?? process.env['THREADSEAL_PROFILE'];
  const stateDir = values['state-dir'] ?? process.env['THREADSEAL_STATE_DIR'];
  const basePort = basePortOf(values);
  return FabricNetwork.open({
    ...(profile ? { profile } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(basePort !== undefined ? { basePort } : {}),
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
}

/**
 * The connection profile of the network the options point at, found without planning the network
 * (`--base-port` does not move it); the ledger verbs need nothing else.
 */
export function connectionFileOf(values: {
  profile?: string;
  'state-dir'?: string;
  'base-port'?: string;
}): string {
  basePortOf(values); // checked like every network-facing command's, though ports do not move the file
  const profile = values.profile ?? process.env['THREADSEAL_PROFILE'];
  const stateDir = values['state-dir'] ?? process.env['THREADSEAL_STATE_DIR'];
  return locateConnectionFile({
    ...(profile ? { profile } : {}),
    ...(stateDir ? { stateDir } : {}),
  });
}
