import { parseArgs } from 'node:util';
import { CliError, type CliCommand } from '../command';
import { networkOptionSpec, networkOptionUsage, openNetwork } from '../network-options';

const identityOptions = {
  ...networkOptionSpec,
  org: { type: 'string' },
  name: { type: 'string' },
  type: { type: 'string' },
  attr: { type: 'string', multiple: true },
  secret: { type: 'string' },
} as const;

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
  usage: `usage: threadseal identity register --org <org> --name <user> [--type client|admin] [--attr name=value]… [--secret s]
  prints the enrollment secret (generated unless given); attributes go into enrollment certificates
${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: identityOptions, strict: true });
    const network = openNetwork(values);
    const org = required(values.org, 'org');
    const name = required(values.name, 'name');
    const attrs = Object.fromEntries((values.attr ?? []).map(parseAttr));
    const { randomBytes } = await import('node:crypto');
    const secret = values.secret ?? randomBytes(18).toString('base64url');
    await network.ca(org).register(name, secret, values.type ?? 'client', attrs);
    process.stdout.write(`registered ${name} at ca.${org}; enrollment secret: ${secret}\n`);
    return 0;
  },
};

const enroll: CliCommand = {
  path: ['identity', 'enroll'],
  summary: "enroll a registered user into its org's users folder",
  usage: `usage: threadseal identity enroll --org <org> --name <user> --secret <secret>\n${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: identityOptions, strict: true });
    const network = openNetwork(values);
    const org = required(values.org, 'org');
    const name = required(values.name, 'name');
    const secret = required(values.secret, 'secret');
    const files = await network.ca(org).enroll(name, secret, network.userDir(org, name));
    process.stdout.write(`enrolled ${name}: certificate ${files.cert}\n`);
    return 0;
  },
};

export const identityCommands: readonly CliCommand[] = [register, enroll];
