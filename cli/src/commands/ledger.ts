import { createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify, type ParseArgsConfig } from 'node:util';
import {
  openLedgerClient,
  signScrapRecord,
  signStartBuild,
  threadsealLedger,
  type Committed,
  type SubmitOptions,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import {
  LedgerError,
  type AbortBuildInput,
  type ConfidentialityOf,
  type AllocateInput,
  type CompleteBuildInput,
  type IssueLicenseInput,
  type ParameterValue,
  type ProductionTerms,
  type RegisterDsiInput,
  type RegisterMachineInput,
  type RevokeDsiInput,
  type RevokeLicenseInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildInput,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';
import {
  decodeAbortBuild,
  decodeAllocate,
  decodeCompleteBuild,
  decodeIssueLicense,
  decodeRegisterDsi,
  decodeRegisterMachine,
  decodeRevokeDsi,
  decodeRevokeLicense,
  decodeScrapBuild,
  decodeSplitLicense,
  decodeStartBuild,
  decodeSupersedeDsi,
} from '@threadseal/rules';
import { registrationOf } from '@threadseal/dsi-container';
import { CliError, type CliCommand } from '../command';
import { connectionFileOf, networkOptionSpec, networkOptionUsage } from '../network-options';
import { formatTree } from './format-tree';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;
type Values<O extends OptionSpec> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>['values'];

/** Flags every ledger verb takes: who acts, and which network. */
const commonOptions = { ...networkOptionSpec, as: { type: 'string' } } as const;
/** Flags of every mutating verb: its whole input DTO as a file or inline JSON, and who must endorse. */
const dtoOptions = {
  input: { type: 'string' },
  json: { type: 'string' },
  endorse: { type: 'string', multiple: true },
} as const;
const dtoUsage = `--input <file.json> | --json '<json>'`;
const endorseUsage = `  --endorse <MSP id>   an org whose peer must endorse (repeat it); by default the gateway derives them from
                       the endorsement policies, but transient terms need them named (see docs/cli.md)`;

/** Who must endorse a submit, from `--endorse`. */
type Endorsement = Pick<SubmitOptions, 'endorsingOrgs'>;

// ---------------------------------------------------------------------------------------------- parsing

/** A usage error: one line, exit code 2, before anything touches the network. */
function usage(message: string): CliError {
  return new CliError(message, 2);
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw usage(`--${flag} is required`);
  return value;
}

/** `operator@manufacturer` → the user to connect as. */
export function parseUser(text: string | undefined): { user: string; org: string } {
  if (text === undefined) throw usage('--as <user>@<org> is required');
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(text);
  if (!m?.[1] || !m[2]) throw usage(`--as must be <user>@<org>, e.g. operator@manufacturer, got '${text}'`);
  return { user: m[1], org: m[2] };
}

/**
 * `laserPower=300` → ['laserPower', 300]. A value written as a JSON number becomes a number; anything
 * else, `007` included, stays a string so that identifiers keep their leading zeros.
 */
export function parseParam(text: string): [string, ParameterValue] {
  const m = /^([A-Za-z][A-Za-z0-9._-]*)=(.*)$/.exec(text);
  if (!m?.[1] || m[2] === undefined || m[2] === '') throw usage(`--param must be name=value, got '${text}'`);
  const value = m[2];
  return [m[1], /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(value) ? Number(value) : value];
}

function parseParams(texts: readonly string[]): Record<string, ParameterValue> {
  const params: Record<string, ParameterValue> = {};
  for (const [name, value] of texts.map(parseParam)) {
    if (name in params) throw usage(`--param ${name} is given twice`);
    params[name] = value;
  }
  return params;
}

function integer(text: string | undefined, flag: string, min: number): number {
  const value = required(text, flag);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw usage(`--${flag} must be an integer ≥ ${min}, got '${value}'`);
  }
  return Number(value);
}

function readFileBytes(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw usage(`--${flag} ${file}: cannot read: ${(err as Error).message}`);
  }
}

function readText(file: string, flag: string): string {
  return readFileBytes(file, flag).toString('utf8');
}

function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw usage(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usage(
      `${where} must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The input DTO of a mutating verb: from `--input`/`--json` when given, otherwise built from the verb's
 * field flags by `fromFlags`. Mixing the two is refused so that no flag is silently ignored. Either way the
 * DTO is checked by `decode`, the chaincode's own decoder (`@threadseal/rules`), before anything is sent: a
 * malformed one fails here with the code and message the chaincode would give.
 * @throws LedgerError INVALID_ARGUMENT from the decoder.
 */
export function readDto<T>(
  values: { input?: string | undefined; json?: string | undefined } & Record<string, unknown>,
  fieldFlags: readonly string[],
  decode: (value: unknown) => T,
  fromFlags?: () => T,
): T {
  return decode(rawDto(values, fieldFlags, fromFlags));
}

function rawDto(
  values: { input?: string | undefined; json?: string | undefined } & Record<string, unknown>,
  fieldFlags: readonly string[],
  fromFlags?: () => unknown,
): unknown {
  const { input, json } = values;
  if (input !== undefined && json !== undefined)
    throw usage('give the input as --input <file> or as --json <text>, not both');
  if (input !== undefined || json !== undefined) {
    const mixed = fieldFlags.find((f) => values[f] !== undefined);
    if (mixed)
      throw usage(`--${mixed} cannot be combined with ${input !== undefined ? '--input' : '--json'}`);
    return input !== undefined
      ? parseJsonObject(readText(input, 'input'), `--input ${input}`)
      : parseJsonObject(json ?? '', '--json');
  }
  if (!fromFlags) throw usage("give the input as --input <file.json> or --json '<json>'");
  return fromFlags();
}

/** Production terms from a file: a `ProductionTerms` object or the output of `license terms`. */
function readTerms(file: string, flag: string): ProductionTerms {
  const value = parseJsonObject(readText(file, flag), `--${flag} ${file}`);
  return (
    'termsHash' in value && typeof value['terms'] === 'object' ? value['terms'] : value
  ) as ProductionTerms;
}

function readPrivateKey(file: string): KeyObject {
  try {
    return createPrivateKey(readText(file, 'machine-key'));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usage(`--machine-key ${file}: not a private key: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------- calling

/** Opens the ledger as `who` on the network the options name, runs `fn`, and always closes it. */
async function withLedger<T>(
  values: Values<typeof networkOptionSpec>,
  who: { user: string; org: string },
  fn: (ledger: ThreadsealLedger) => Promise<T>,
): Promise<T> {
  const connectionFile = connectionFileOf(values);
  if (!existsSync(connectionFile)) {
    throw new CliError(
      `CONNECTION_FAILED: no connection profile ${connectionFile}: is the network up? (threadseal network up, same options)`,
      1,
    );
  }
  let ledger: ThreadsealLedger;
  try {
    ledger = threadsealLedger(openLedgerClient(connectionFile, who));
  } catch (err) {
    // The client's refusals already read `CONNECTION_FAILED: …`; anything else is wrapped the same way.
    if (err instanceof LedgerError && err.code === 'CONNECTION_FAILED') throw new CliError(err.message, 1);
    throw new CliError(`CONNECTION_FAILED: ${(err as Error).message}`, 1);
  }
  try {
    return await fn(ledger);
  } finally {
    ledger.close();
  }
}

/**
 * The license's own confidentiality as the `--as` user's peer reads it, which decides how its terms and a
 * build's parameters travel (`confidentialTransport`). A license this peer cannot find or name is sent as
 * public, so that the chaincode refuses the call with its own message, exactly as before the lookup.
 */
async function confidentialityOf(ledger: ThreadsealLedger, licenseId: unknown): Promise<ConfidentialityOf> {
  if (typeof licenseId !== 'string') return { confidential: null };
  try {
    return (await ledger.licenses.get(licenseId)).license;
  } catch (err) {
    if (err instanceof LedgerError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT'))
      return { confidential: null };
    throw err;
  }
}

/** Where a submit landed goes to stderr, so that stdout stays the output DTO alone. */
async function committed<T>(pending: Promise<Committed<T>>): Promise<T> {
  const c = await pending;
  process.stderr.write(
    `committed ${c.transactionId} in block ${c.blockNumber}${c.attempts > 1 ? ` after ${c.attempts} attempts` : ''}\n`,
  );
  return c.value;
}

// ---------------------------------------------------------------------------------------------- verbs

interface LedgerVerb<O extends OptionSpec, I, R> {
  readonly path: readonly [string, string];
  readonly summary: string;
  /** The verb's own flags, for its usage line. */
  readonly flags: string;
  readonly options: O;
  /** Validates the flags into the call's input; reads local files only. Throws usage errors (exit 2). */
  readonly parse: (values: Values<O>) => I | Promise<I>;
  /** The ledger call as the `--as` user; resolves to what is printed as JSON. */
  readonly call: (ledger: ThreadsealLedger, input: I, endorsement: Endorsement) => Promise<R>;
  /** Prints the result as text instead of JSON when it returns a string. */
  readonly render?: (result: R, input: I) => string | undefined;
}

function ledgerVerb<const O extends OptionSpec, I, R>(verb: LedgerVerb<O, I, R>): CliCommand {
  return {
    path: verb.path,
    summary: verb.summary,
    usage: [
      `usage: threadseal ${verb.path.join(' ')} --as <user>@<org> ${verb.flags}`,
      ...('endorse' in verb.options ? [endorseUsage] : []),
      networkOptionUsage,
    ].join('\n'),
    async run(args) {
      const options = { ...commonOptions, ...verb.options };
      const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
      const who = parseUser((values as { as?: string }).as);
      const input = await verb.parse(values);
      const endorse = (values as { endorse?: string[] }).endorse;
      const endorsement: Endorsement = endorse ? { endorsingOrgs: endorse } : {};
      const result = await withLedger(values as Values<typeof networkOptionSpec>, who, (ledger) =>
        verb.call(ledger, input, endorsement),
      );
      const text = verb.render?.(result, input);
      process.stdout.write(text !== undefined ? `${text}\n` : `${JSON.stringify(result, null, 2)}\n`);
      return 0;
    },
  };
}

const dsiVerbs = [
  ledgerVerb({
    path: ['dsi', 'register'],
    summary: 'register a DSI you signed: the ledger verifies its signed manifest and computes its id',
    flags: `--container <file.dsi> | ${dtoUsage}`,
    options: { ...dtoOptions, container: { type: 'string' } },
    parse: async (v) => {
      if (v.container === undefined) return readDto<RegisterDsiInput>(v, [], decodeRegisterDsi);
      if (v.input !== undefined || v.json !== undefined)
        throw usage(`--container cannot be combined with ${v.input !== undefined ? '--input' : '--json'}`);
      return decodeRegisterDsi(await registrationOf(v.container));
    },
    call: (l, input, e) => committed(l.dsi.register(input, e)),
  }),
  ledgerVerb({
    path: ['dsi', 'supersede'],
    summary: 'replace a DSI by a successor revision',
    flags: dtoUsage,
    options: dtoOptions,
    parse: (v) => readDto<SupersedeDsiInput>(v, [], decodeSupersedeDsi),
    call: (l, input, e) => committed(l.dsi.supersede(input, e)),
  }),
  ledgerVerb({
    path: ['dsi', 'revoke'],
    summary: 'revoke a DSI',
    flags: `--dsi <id> --reason <text> | ${dtoUsage}`,
    options: { ...dtoOptions, dsi: { type: 'string' }, reason: { type: 'string' } },
    parse: (v) =>
      readDto<RevokeDsiInput>(v, ['dsi', 'reason'], decodeRevokeDsi, () => ({
        dsiId: required(v.dsi, 'dsi'),
        reason: required(v.reason, 'reason'),
      })),
    call: (l, input, e) => committed(l.dsi.revoke(input.dsiId, input.reason, e)),
  }),
  ledgerVerb({
    path: ['dsi', 'get'],
    summary: 'read a DSI',
    flags: '--dsi <id>',
    options: { dsi: { type: 'string' } },
    parse: (v) => required(v.dsi, 'dsi'),
    call: (l, dsiId) => l.dsi.get(dsiId),
  }),
];

const licenseVerbs = [
  ledgerVerb({
    path: ['license', 'issue'],
    summary: 'issue a root license on a DSI (confidential: the terms travel as transient data)',
    flags: dtoUsage,
    options: dtoOptions,
    parse: (v) => readDto<IssueLicenseInput>(v, [], decodeIssueLicense),
    call: (l, input, e) => committed(l.licenses.issue(input, e)),
  }),
  ledgerVerb({
    path: ['license', 'split'],
    summary: 'grant part of a license to an org (--parent-terms for a confidential tree)',
    flags: `${dtoUsage} [--parent-terms <file>]`,
    options: { ...dtoOptions, 'parent-terms': { type: 'string' } },
    parse: (v) => ({
      input: readDto<SplitLicenseInput>(v, [], decodeSplitLicense),
      parentTerms: v['parent-terms'] === undefined ? undefined : readTerms(v['parent-terms'], 'parent-terms'),
    }),
    call: async (l, { input, parentTerms }, e) =>
      committed(
        l.licenses.split(input, {
          ...e,
          parent: await confidentialityOf(l, input.parentId),
          ...(parentTerms ? { parentTerms } : {}),
        }),
      ),
  }),
  ledgerVerb({
    path: ['license', 'allocate'],
    summary: 'allocate units of a license to a machine',
    flags: `--license <id> --machine <id> --quantity <n> [--scrap-allowance <n>] | ${dtoUsage}; [--terms <file>] for a confidential license`,
    options: {
      ...dtoOptions,
      license: { type: 'string' },
      machine: { type: 'string' },
      quantity: { type: 'string' },
      'scrap-allowance': { type: 'string' },
      terms: { type: 'string' },
    },
    parse: (v) => ({
      input: readDto<AllocateInput>(
        v,
        ['license', 'machine', 'quantity', 'scrap-allowance'],
        decodeAllocate,
        () => ({
          licenseId: required(v.license, 'license'),
          machineId: required(v.machine, 'machine'),
          quantity: integer(v.quantity, 'quantity', 1),
          scrapAllowance:
            v['scrap-allowance'] === undefined ? 0 : integer(v['scrap-allowance'], 'scrap-allowance', 0),
        }),
      ),
      terms: v.terms === undefined ? undefined : readTerms(v.terms, 'terms'),
    }),
    call: async (l, { input, terms }, e) =>
      committed(
        l.licenses.allocate(input, {
          ...e,
          license: await confidentialityOf(l, input.licenseId),
          ...(terms ? { licenseTerms: terms } : {}),
        }),
      ),
  }),
  ledgerVerb({
    path: ['license', 'revoke'],
    summary: 'revoke a license',
    flags: `--license <id> --reason <text> | ${dtoUsage}`,
    options: { ...dtoOptions, license: { type: 'string' }, reason: { type: 'string' } },
    parse: (v) =>
      readDto<RevokeLicenseInput>(v, ['license', 'reason'], decodeRevokeLicense, () => ({
        licenseId: required(v.license, 'license'),
        reason: required(v.reason, 'reason'),
      })),
    call: (l, input, e) => committed(l.licenses.revoke(input.licenseId, input.reason, e)),
  }),
  ledgerVerb({
    path: ['license', 'get'],
    summary: 'read a license with its balance and revocation',
    flags: '--license <id>',
    options: { license: { type: 'string' } },
    parse: (v) => required(v.license, 'license'),
    call: (l, licenseId) => l.licenses.get(licenseId),
  }),
  ledgerVerb({
    path: ['license', 'terms'],
    summary: "read a license's production terms (confidential ones on the grantor's or holder's peer)",
    flags: '--license <id>',
    options: { license: { type: 'string' } },
    parse: (v) => required(v.license, 'license'),
    call: (l, licenseId) => l.licenses.terms(licenseId),
  }),
];

const machineVerbs = [
  ledgerVerb({
    path: ['machine', 'register'],
    summary:
      "register a machine with its StartBuild signing key and its decryption key (see 'machine keygen')",
    flags: `--id <id> --make <make> --model <model> --serial <s> --firmware <v> [--cert <name>]… --public-key <pem file> --recipient-key <pem file> | ${dtoUsage}`,
    options: {
      ...dtoOptions,
      id: { type: 'string' },
      make: { type: 'string' },
      model: { type: 'string' },
      serial: { type: 'string' },
      firmware: { type: 'string' },
      cert: { type: 'string', multiple: true },
      'public-key': { type: 'string' },
      'recipient-key': { type: 'string' },
    },
    parse: (v) =>
      readDto<RegisterMachineInput>(
        v,
        ['id', 'make', 'model', 'serial', 'firmware', 'cert', 'public-key', 'recipient-key'],
        decodeRegisterMachine,
        () => ({
          machineId: required(v.id, 'id'),
          make: required(v.make, 'make'),
          model: required(v.model, 'model'),
          serial: required(v.serial, 'serial'),
          firmware: required(v.firmware, 'firmware'),
          certifications: v.cert ?? [],
          publicKeyPem: readText(required(v['public-key'], 'public-key'), 'public-key'),
          recipientPublicKeyPem: readText(required(v['recipient-key'], 'recipient-key'), 'recipient-key'),
        }),
      ),
    call: (l, input, e) => committed(l.machines.register(input, e)),
  }),
  ledgerVerb({
    path: ['machine', 'get'],
    summary: 'read a machine',
    flags: '--machine <id>',
    options: { machine: { type: 'string' } },
    parse: (v) => required(v.machine, 'machine'),
    call: (l, machineId) => l.machines.get(machineId),
  }),
];

const buildVerbs = [
  ledgerVerb({
    path: ['build', 'start'],
    summary: "sign a StartBuild request with the machine's key and submit it (consumes one unit)",
    flags:
      `--license <id> --machine <id> --machine-key <pkcs8 pem file> [--param name=value]… [--nonce <n>] (signed for the --as operator) | ${dtoUsage} (signed); ` +
      '[--terms <file>] for a confidential license',
    options: {
      ...dtoOptions,
      license: { type: 'string' },
      machine: { type: 'string' },
      'machine-key': { type: 'string' },
      param: { type: 'string', multiple: true },
      nonce: { type: 'string' },
      terms: { type: 'string' },
    },
    parse: (v) => {
      const terms = v.terms === undefined ? undefined : readTerms(v.terms, 'terms');
      if (v.input !== undefined || v.json !== undefined) {
        const signed = readDto<StartBuildInput>(
          v,
          ['license', 'machine', 'machine-key', 'param', 'nonce'],
          decodeStartBuild,
        );
        return { signed, unsigned: undefined, terms };
      }
      // Signed once the ledger connection is open: the request names the operator who submits it (--as).
      const unsigned = {
        licenseId: required(v.license, 'license'),
        machineId: required(v.machine, 'machine'),
        parameters: parseParams(v.param ?? []),
        ...(v.nonce !== undefined ? { nonce: v.nonce } : {}),
        key: readPrivateKey(required(v['machine-key'], 'machine-key')),
      };
      return { signed: undefined, unsigned, terms };
    },
    call: async (l, { signed, unsigned, terms }, e) => {
      let input = signed;
      if (input === undefined && unsigned !== undefined) {
        const { key, ...params } = unsigned;
        input = signStartBuild({ ...params, operator: l.client.operator }, key);
      }
      if (input === undefined) throw usage("give the input as --input <file.json> or --json '<json>'");
      return committed(
        l.builds.start(input, {
          ...e,
          license: await confidentialityOf(l, input.request.licenseId),
          ...(terms ? { licenseTerms: terms } : {}),
        }),
      );
    },
  }),
  ledgerVerb({
    path: ['build', 'complete'],
    summary: 'complete a running build with the part it produced',
    flags: `--build <id> --part <id> (--digest <sha256 hex> | --process-record <file>) | ${dtoUsage}`,
    options: {
      ...dtoOptions,
      build: { type: 'string' },
      part: { type: 'string' },
      digest: { type: 'string' },
      'process-record': { type: 'string' },
    },
    parse: (v) =>
      readDto<CompleteBuildInput>(
        v,
        ['build', 'part', 'digest', 'process-record'],
        decodeCompleteBuild,
        () => {
          if (v.digest !== undefined && v['process-record'] !== undefined)
            throw usage('give --digest or --process-record, not both');
          const record = v['process-record'];
          return {
            buildId: required(v.build, 'build'),
            partId: required(v.part, 'part'),
            processRecordDigest:
              record !== undefined
                ? createHash('sha256').update(readFileBytes(record, 'process-record')).digest('hex')
                : required(v.digest, 'digest'),
          };
        },
      ),
    call: (l, input, e) => committed(l.builds.complete(input, e)),
  }),
  ledgerVerb({
    path: ['build', 'abort'],
    summary: 'abort a running build',
    flags: `--build <id> --reason <text> | ${dtoUsage}`,
    options: { ...dtoOptions, build: { type: 'string' }, reason: { type: 'string' } },
    parse: (v) =>
      readDto<AbortBuildInput>(v, ['build', 'reason'], decodeAbortBuild, () => ({
        buildId: required(v.build, 'build'),
        reason: required(v.reason, 'reason'),
      })),
    call: (l, input, e) => committed(l.builds.abort(input, e)),
  }),
  ledgerVerb({
    path: ['build', 'scrap'],
    summary: 'scrap a build, optionally asking for the unit back from the scrap allowance',
    flags: `--build <id> --reason <text> [--evidence <sha256 hex> --request-credit --machine-key <pkcs8 pem file>] | ${dtoUsage}`,
    options: {
      ...dtoOptions,
      build: { type: 'string' },
      reason: { type: 'string' },
      evidence: { type: 'string' },
      'request-credit': { type: 'boolean' },
      'machine-key': { type: 'string' },
    },
    parse: (v) =>
      readDto<ScrapBuildInput>(
        v,
        ['build', 'reason', 'evidence', 'request-credit', 'machine-key'],
        decodeScrapBuild,
        () => {
          const record = {
            buildId: required(v.build, 'build'),
            reason: required(v.reason, 'reason'),
            evidenceDigest: v.evidence ?? null,
          };
          const requestCredit = v['request-credit'] ?? false;
          // A credit needs the machine's own scrap record, signed with the key that signed the StartBuild.
          const machineKey = v['machine-key'];
          if (requestCredit && machineKey === undefined)
            throw usage('--request-credit needs --machine-key: the machine signs the scrap record');
          return {
            ...record,
            requestCredit,
            machineSignature:
              machineKey === undefined ? null : signScrapRecord(record, readPrivateKey(machineKey)),
          };
        },
      ),
    call: (l, input, e) => committed(l.builds.scrap(input, e)),
  }),
  ledgerVerb({
    path: ['build', 'get'],
    summary: 'read a build',
    flags: '--build <id>',
    options: { build: { type: 'string' } },
    parse: (v) => required(v.build, 'build'),
    call: (l, buildId) => l.builds.get(buildId),
  }),
];

const traceVerbs = [
  ledgerVerb({
    path: ['trace', 'tree'],
    summary: "the DSI's whole tree: licenses, allocations, machines, builds, parts (--text: indented)",
    flags: '--dsi <id> [--text]',
    options: { dsi: { type: 'string' }, text: { type: 'boolean' } },
    parse: (v) => ({ dsiId: required(v.dsi, 'dsi'), text: v.text ?? false }),
    call: (l, { dsiId }) => l.trace.dsiTree(dsiId),
    render: (tree, { text }) => (text ? formatTree(tree) : undefined),
  }),
  ledgerVerb({
    path: ['trace', 'part'],
    summary: 'a part and the build that made it',
    flags: '--part <id>',
    options: { part: { type: 'string' } },
    parse: (v) => required(v.part, 'part'),
    call: (l, partId) => l.trace.part(partId),
  }),
  ledgerVerb({
    path: ['trace', 'part-history'],
    summary: "a part with its build's history, newest first",
    flags: '--part <id>',
    options: { part: { type: 'string' } },
    parse: (v) => required(v.part, 'part'),
    call: (l, partId) => l.trace.partHistory(partId),
  }),
  ledgerVerb({
    path: ['trace', 'license-history'],
    summary: "a license with its balance's and revocation's history, newest first",
    flags: '--license <id>',
    options: { license: { type: 'string' } },
    parse: (v) => required(v.license, 'license'),
    call: (l, licenseId) => l.trace.licenseHistory(licenseId),
  }),
  ledgerVerb({
    path: ['trace', 'allocation-history'],
    summary: "the history of a license's allocation to a machine, newest first",
    flags: '--license <id> --machine <id>',
    options: { license: { type: 'string' }, machine: { type: 'string' } },
    parse: (v) => ({ licenseId: required(v.license, 'license'), machineId: required(v.machine, 'machine') }),
    call: (l, { licenseId, machineId }) => l.trace.allocationHistory(licenseId, machineId),
  }),
];

const generateKeyPairAsync = promisify(generateKeyPair);

/** File names `machine keygen` writes into its `--out` directory. */
export const MACHINE_KEY_FILES = {
  privateKey: 'machine.key.pem',
  publicKey: 'machine.pub.pem',
  recipientPrivateKey: 'machine-recipient.key.pem',
  recipientPublicKey: 'machine-recipient.pub.pem',
} as const;

const keygen: CliCommand = {
  path: ['machine', 'keygen'],
  summary:
    "create a development machine's two P-256 key pairs in software: signing and decryption (no network)",
  usage: `usage: threadseal machine keygen --out <dir>
  writes the StartBuild signing pair <dir>/${MACHINE_KEY_FILES.privateKey} (PKCS#8, mode 600) and
  <dir>/${MACHINE_KEY_FILES.publicKey} (SPKI), and the decryption (recipient) pair
  <dir>/${MACHINE_KEY_FILES.recipientPrivateKey} and <dir>/${MACHINE_KEY_FILES.recipientPublicKey};
  never overwrites an existing key. Software keys are for development only: a production machine keeps
  both keys non-extractable in its PKCS#11 token (docs/decisions/0008)`,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: { out: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    const dir = required(values.out, 'out');
    const files = {
      privateKey: join(dir, MACHINE_KEY_FILES.privateKey),
      publicKey: join(dir, MACHINE_KEY_FILES.publicKey),
      recipientPrivateKey: join(dir, MACHINE_KEY_FILES.recipientPrivateKey),
      recipientPublicKey: join(dir, MACHINE_KEY_FILES.recipientPublicKey),
    };
    for (const file of Object.values(files)) {
      if (existsSync(file)) throw new CliError(`${file} already exists: not overwriting a machine key`, 1);
    }
    const signing = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const recipient = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = signing.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const recipientPublicKeyPem = recipient.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await mkdir(dir, { recursive: true });
    // The private keys are created owner-only from the start, never world-readable for a moment;
    // 'wx' refuses to replace a key that appeared since the check above.
    for (const [file, key] of [
      [files.privateKey, signing.privateKey],
      [files.recipientPrivateKey, recipient.privateKey],
    ] as const) {
      await writeFile(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    }
    await writeFile(files.publicKey, publicKeyPem, { flag: 'wx' });
    await writeFile(files.recipientPublicKey, recipientPublicKeyPem, { flag: 'wx' });
    process.stderr.write(
      'WARNING: software machine keys, for development only: a production machine keeps its signing and decryption keys in a PKCS#11 token\n',
    );
    process.stdout.write(
      `${JSON.stringify(
        {
          privateKeyFile: files.privateKey,
          publicKeyFile: files.publicKey,
          recipientPrivateKeyFile: files.recipientPrivateKey,
          recipientPublicKeyFile: files.recipientPublicKey,
          publicKeyPem,
          recipientPublicKeyPem,
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  },
};

/** Every ledger operation as a `threadseal <noun> <verb>` command, acting as the `--as` user. */
export const ledgerCommands: readonly CliCommand[] = [
  ...dsiVerbs,
  ...licenseVerbs,
  ...machineVerbs,
  keygen,
  ...buildVerbs,
  ...traceVerbs,
];
