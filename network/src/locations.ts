import { join, resolve } from 'node:path';
import { loadDescription } from './description';

/** Repository root, found from this module's location (network/dist → ..). */
export function repoRoot(): string {
  return resolve(__dirname, '..', '..');
}

/** The description file a network is made from: the given one, or `network/profiles/reference.yaml`. */
export function descriptionFile(profile?: string): string {
  return resolve(profile ?? join(repoRoot(), 'network', 'profiles', 'reference.yaml'));
}

/** Where a network described as `name` keeps its state unless told otherwise: `.threadseal/<name>`. */
export function defaultStateDir(name: string): string {
  return resolve(join(repoRoot(), '.threadseal', name));
}

/** The file the client reads to connect: `<stateDir>/connection.json`. */
export function connectionFileIn(stateDir: string): string {
  return join(stateDir, 'connection.json');
}

/**
 * The connection profile of a network, found without planning it: under the given state directory, or else
 * under the default one of its description (only the description's name is read).
 * @throws NetworkError INVALID_DESCRIPTION when no state directory is given and the description cannot be read.
 */
export function locateConnectionFile(options: {
  readonly profile?: string;
  readonly stateDir?: string;
}): string {
  const stateDir =
    options.stateDir !== undefined
      ? resolve(options.stateDir)
      : defaultStateDir(loadDescription(descriptionFile(options.profile)).name);
  return connectionFileIn(stateDir);
}
