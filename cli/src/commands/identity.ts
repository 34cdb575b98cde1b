import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, type CliCommand } from '../command';
import { networkOptionSpec, networkOptionUsage, openNetwork } from '../network-options';

const identityOptions = {
  ...networkOptionSpec,
  org: { type: 'string' },
  name: { type: 'string' },
  type: { type: 'string' },
  attr: { type: 'string', multiple: true },
  'secret-file': { type: 'string' },
  // Accepted only to be refused with the reason (see secretOf).
  secret: { type: 'string' },
} as const;

/** Where an enrollment secret is read from: never the command line, which every local user can read. */
export const SECRET_ENV = 'THREADSEAL_ENROLLMENT_SECRET';

const secretUsage = `  --secret-file <file>  the enrollment secret: the file's first line, or '-' for the first line of stdin;
                        else the environment variable ${SECRET_ENV}. Never on the command line.`;

/**
 * The enrollment secret the user gave: from `--secret-file` (a file, or `-` for stdin) or the
 * environment variable; undefined when neither is given.
 * @throws CliError (exit 2) when `--secret` is used, or the file is unreadable or empty.
 */
export function secretOf(
  values: { secret?: string; 'secret-file'?: string },
  env: NodeJS.ProcessEnv = process.env,
  readStdin: () => string = () => readFileSync(0, 'utf8'),
): string | undefined {
  if (values.secret !== undefined)
    throw new CliError(
      `--secret is not accepted: a secret on the command line is visible to every local user; use --secret-file <file|-> or ${SECRET_ENV}`,
      2,
    );
  const file = values['secret-file'];
  let text: string | undefined;
  let from: string;
  if (file !== undefined) {
    from = file === '-' ? 'stdin' : file;
    try {
      text = file === '-' ? readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read the secret from ${from}: ${(err as Error).message}`, 2);
    }
  } else {
    from = SECRET_ENV;
    text = env[SECRET_ENV];
    if (text === undefined) return undefined;
  }
  const secret = text.split(/\r?\n/)[0] ?? '';
  if (secret.length === 0) throw new CliError(`the secret from ${from} is empty`, 2);
  return secret;
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new CliError(`--${flag} is required`, 2);
  return value;
}

/** `role=operator` → ['role', 'operator']; attribute names and values may not carry CA separators. */
export function parseAttr(text: string): [string, string] {
  const m = /^([A-Za-z][A-Za-z0-9._-]*)=([^=:"]+)$/.exec(text);
  if (!m?.[1] || !m[2])
    throw new CliError(`--attr must be name=value (value without ':', '=' or '"'), got '${text}'`, 2);
  return [m[1], m[2]];
}

const register: CliCommand = {
  path: ['identity', 'register'],
  summary: 'register a user with CA attributes (role, qualification, serial, …) at its org CA',
  usage: `usage: threadseal identity register --org <org> --name <user> [--type client|admin] [--attr name=value]… [--secret-file f]
  prints the enrollment secret (generated unless given); attributes go into enrollment certificates
${secretUsage}
${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: identityOptions, strict: true });
    const network = openNetwork(values);
    const org = required(values.org, 'org');
    const name = required(values.name, 'name');
    const attrs = Object.fromEntries((values.attr ?? []).map(parseAttr));
    const { randomBytes } = await import('node:crypto');
    const secret = secretOf(values) ?? randomBytes(18).toString('base64url');
    await network.ca(org).register(name, secret, values.type ?? 'client', attrs);
    process.stdout.write(`registered ${name} at ca.${org}; enrollment secret: ${secret}\n`);
    return 0;
  },
};

const enroll: CliCommand = {
  path: ['identity', 'enroll'],
  summary: "enroll a registered user into its org's users folder",
  usage: `usage: threadseal identity enroll --org <org> --name <user> [--secret-file <file|->]
  nothing is written to the user's folder unless the CA issues the certificate
${secretUsage}
${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: identityOptions, strict: true });
    const network = openNetwork(values);
    const org = required(values.org, 'org');
    const name = required(values.name, 'name');
    const secret = secretOf(values);
    if (secret === undefined)
      throw new CliError(`the enrollment secret is required: --secret-file <file|-> or ${SECRET_ENV}`, 2);
    const files = await network.ca(org).enroll(name, secret, network.userDir(org, name));
    process.stdout.write(`enrolled ${name}: certificate ${files.cert}\n`);
    return 0;
  },
};

export const identityCommands: readonly CliCommand[] = [register, enroll];
