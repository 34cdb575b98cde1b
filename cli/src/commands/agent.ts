import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  Pkcs11Token,
  softwareMessageSigner,
  softwareRecipientKey,
  type MessageSigner,
  type Pkcs11KeyUsage,
  type RecipientKey,
} from '@threadseal/dsi-container';
import {
  JobJournal,
  LinuxCncController,
  MarlinController,
  reconcileJobs,
  runJob,
  serveQueue,
  type Controller,
  type MachineAgent,
} from '@threadseal/enforce-agent';
import { openLedgerClient, threadsealLedger, type ThreadsealLedger } from '@threadseal/ledger-client';
import { CliError, type CliCommand } from '../command';

const USAGE = `usage: threadseal agent run --config <agent.json> --dsi <container> --license <id> --program <name> --part <id>
Runs one job at this machine: verify, StartBuild (VALID), key release, decrypt in memory, run, watch, record.
The configuration (JSON) names the machine, its keys, its controller and where the operator logs in:
  { "profile": "<connection.json>", "org": "<org>", "operator": "<enrolled operator user>",
    "machineId": "<id>", "dialect": "rs274ngc" | "fff" | "sinumerik",
    "keys": { "pkcs11": { "library": "<.so>", "token": "<label>", "pinEnv": "<ENV VAR>",
                          "signingKey": "<label>", "decryptionKey": "<label>" } }
          | { "software": { "signingKey": "<pkcs8 pem file>", "decryptionKey": "<pkcs8 pem file>" } },
    "controller": { "kind": "linuxcnc", "make": "…", "model": "…", "serial": "…", "certifications": ["…"] }
                | { "kind": "marlin", "device": "<serial device, e.g. /dev/ttyUSB0>", "baudRate": 115200 },
    "trustedRoots": ["<IP owner CA pem file>"], "journal": "<file>" }
A Marlin printer (dialect "fff") reports its own identity (M115); the baud rate is optional (a pty has none).
Software keys are for development only. Before the job the agent settles what its journal says an earlier
run left unfinished. Progress on stderr; the job's report as JSON on stdout. Exit 0: part made; 1: refused
or aborted (the report says why); 2: usage or configuration.`;

interface AgentConfig {
  readonly profile: string;
  readonly org: string;
  readonly operator: string;
  readonly machineId: string;
  readonly dialect: MachineAgent['dialect'];
  readonly keys:
    | { readonly software: { readonly signingKey: string; readonly decryptionKey: string } }
    | {
        readonly pkcs11: {
          readonly library: string;
          readonly token: string;
          readonly pinEnv: string;
          readonly signingKey: string;
          readonly decryptionKey: string;
        };
      };
  readonly controller:
    | {
        readonly kind: 'linuxcnc';
        readonly make: string;
        readonly model: string;
        readonly serial: string;
        readonly certifications: readonly string[];
      }
    | { readonly kind: 'marlin'; readonly device: string; readonly baudRate?: BaudRate };
  readonly trustedRoots: readonly string[];
  readonly journal: string;
  /** The queue folder of `threadseal agent serve`. */
  readonly queue?: string;
}

/** The serial speeds a Marlin printer is run at (`stty` sets the device to it). */
const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 250000] as const;
type BaudRate = (typeof BAUD_RATES)[number];

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks an agent configuration and names every missing or malformed setting at once.
 * @throws CliError (exit 2) listing each problem.
 */
export function parseAgentConfig(value: unknown, mode: 'run' | 'serve' = 'run'): AgentConfig {
  const problems: string[] = [];
  const o: Obj = isObj(value) ? value : {};
  if (!isObj(value)) problems.push('the configuration must be a JSON object');
  const text = (from: Obj, key: string, where: string): string => {
    const v = from[key];
    if (typeof v !== 'string' || v.length === 0) {
      problems.push(`${where}${key} is missing (a non-empty string)`);
      return '';
    }
    return v;
  };
  const strings = (from: Obj, key: string, where: string, nonEmpty: boolean): string[] => {
    const v = from[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || (nonEmpty && v.length === 0)) {
      problems.push(`${where}${key} is missing (${nonEmpty ? 'a non-empty ' : 'an '}array of strings)`);
      return [];
    }
    return v as string[];
  };
  const profile = text(o, 'profile', '');
  const org = text(o, 'org', '');
  const operator = text(o, 'operator', '');
  const machineId = text(o, 'machineId', '');
  const dialect = o['dialect'];
  if (dialect !== 'rs274ngc' && dialect !== 'fff' && dialect !== 'sinumerik')
    problems.push('dialect is missing (rs274ngc, fff or sinumerik)');
  const trustedRoots = strings(o, 'trustedRoots', '', true);
  const journal = text(o, 'journal', '');
  const queue = mode === 'serve' ? text(o, 'queue', '') : undefined;
  let keys: AgentConfig['keys'] = { software: { signingKey: '', decryptionKey: '' } };
  const k = o['keys'];
  if (isObj(k) && isObj(k['software'])) {
    const s = k['software'];
    keys = {
      software: {
        signingKey: text(s, 'signingKey', 'keys.software.'),
        decryptionKey: text(s, 'decryptionKey', 'keys.software.'),
      },
    };
  } else if (isObj(k) && isObj(k['pkcs11'])) {
    const p = k['pkcs11'];
    keys = {
      pkcs11: {
        library: text(p, 'library', 'keys.pkcs11.'),
        token: text(p, 'token', 'keys.pkcs11.'),
        pinEnv: text(p, 'pinEnv', 'keys.pkcs11.'),
        signingKey: text(p, 'signingKey', 'keys.pkcs11.'),
        decryptionKey: text(p, 'decryptionKey', 'keys.pkcs11.'),
      },
    };
  } else problems.push('keys is missing ({ "pkcs11": {…} } or { "software": {…} })');
  const c = isObj(o['controller']) ? o['controller'] : undefined;
  let controller: AgentConfig['controller'];
  if (c?.['kind'] === 'marlin') {
    const baudRate = c['baudRate'];
    const rate = BAUD_RATES.find((r) => r === baudRate);
    if (baudRate !== undefined && rate === undefined)
      problems.push(`controller.baudRate must be one of ${BAUD_RATES.join(', ')} when given`);
    if (dialect !== undefined && dialect !== 'fff')
      problems.push('dialect must be "fff" for a Marlin printer (controller.kind "marlin")');
    controller = {
      kind: 'marlin',
      device: text(c, 'device', 'controller.'),
      ...(rate === undefined ? {} : { baudRate: rate }),
    };
  } else {
    if (!c)
      problems.push(
        'controller is missing ({ "kind": "linuxcnc", make, model, serial, certifications } or { "kind": "marlin", device })',
      );
    else if (c['kind'] !== 'linuxcnc')
      problems.push('controller.kind must be "linuxcnc" or "marlin" (the controllers the CLI runs)');
    controller = {
      kind: 'linuxcnc',
      make: c ? text(c, 'make', 'controller.') : '',
      model: c ? text(c, 'model', 'controller.') : '',
      serial: c ? text(c, 'serial', 'controller.') : '',
      certifications: c ? strings(c, 'certifications', 'controller.', false) : [],
    };
  }
  if (problems.length > 0) throw new CliError(`invalid agent configuration: ${problems.join('; ')}`, 2);
  return {
    profile,
    org,
    operator,
    machineId,
    dialect: dialect as AgentConfig['dialect'],
    keys,
    controller,
    trustedRoots,
    journal,
    ...(queue === undefined ? {} : { queue }),
  };
}

type Pkcs11Keys = Extract<AgentConfig['keys'], { pkcs11: unknown }>['pkcs11'];

/** Logs in to the machine's token with the PIN from the named environment variable (never a flag). */
function openToken(p: Pkcs11Keys): Pkcs11Token {
  const pin = process.env[p.pinEnv];
  if (!pin)
    throw new CliError(
      `the token PIN is expected in the environment variable ${p.pinEnv}, which is not set`,
      2,
    );
  return Pkcs11Token.open({ library: p.library, tokenLabel: p.token, pin });
}

function machineKeys(config: AgentConfig): {
  signer: MessageSigner;
  decryptionKey: RecipientKey;
  close(): void;
} {
  if ('software' in config.keys) {
    process.stderr.write('WARNING: software machine keys: development mode only\n');
    return {
      signer: softwareMessageSigner(readFileSync(config.keys.software.signingKey)),
      decryptionKey: softwareRecipientKey(readFileSync(config.keys.software.decryptionKey)),
      close: () => undefined,
    };
  }
  const p = config.keys.pkcs11;
  const token = openToken(p);
  return {
    signer: token.signingKey(p.signingKey),
    decryptionKey: token.recipientKey(p.decryptionKey),
    close: () => {
      token.close();
    },
  };
}

function readConfig(file: string | undefined, mode: 'run' | 'serve'): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file as string, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read the agent configuration ${file ?? ''}: ${(err as Error).message}`, 2);
  }
  return parseAgentConfig(raw, mode);
}

/** The machine as the agent holds it for its life: keys, journal settled, controller up, operators' ledgers. */
interface AgentSession {
  readonly machine: MachineAgent;
  readonly journal: JobJournal;
  readonly trustedRoots: readonly string[];
  /** The ledger as `user` of the machine's org (opened once, kept). */
  ledgerAs(user: string): ThreadsealLedger;
  close(): Promise<void>;
}

async function openAgentSession(config: AgentConfig): Promise<AgentSession> {
  const trustedRoots = config.trustedRoots.map((f) => readFileSync(f, 'utf8'));
  const keys = machineKeys(config);
  const ledgers = new Map<string, ThreadsealLedger>();
  const ledgerAs = (user: string): ThreadsealLedger => {
    let ledger = ledgers.get(user);
    if (!ledger) {
      ledger = threadsealLedger(openLedgerClient(config.profile, { org: config.org, user }));
      ledgers.set(user, ledger);
    }
    return ledger;
  };
  let controller: Controller | undefined;
  const close = async (): Promise<void> => {
    await controller?.close();
    for (const l of ledgers.values()) l.close();
    keys.close();
  };
  try {
    const journal = new JobJournal(config.journal);
    for (const r of await reconcileJobs(ledgerAs(config.operator), journal, config.machineId))
      process.stderr.write(`settled from the journal: ${r.outcome} ${r.buildId ?? r.nonce}\n`);
    const c = config.controller;
    controller =
      c.kind === 'marlin'
        ? await MarlinController.open(c.device, c.baudRate === undefined ? {} : { baudRate: c.baudRate })
        : await LinuxCncController.start({
            identity: { make: c.make, model: c.model, serial: c.serial, certifications: c.certifications },
          });
    return {
      machine: {
        machineId: config.machineId,
        signer: keys.signer,
        decryptionKey: keys.decryptionKey,
        controller,
        dialect: config.dialect,
      },
      journal,
      trustedRoots,
      ledgerAs,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

const runCommand: CliCommand = {
  path: ['agent', 'run'],
  summary:
    'run one licensed job at this machine through its agent (verify, consume one unit, key release, run, record)',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      strict: true,
      options: {
        config: { type: 'string' },
        dsi: { type: 'string' },
        license: { type: 'string' },
        program: { type: 'string' },
        part: { type: 'string' },
      },
    });
    const missing = (['config', 'dsi', 'license', 'program', 'part'] as const).filter(
      (f) => values[f] === undefined,
    );
    if (missing.length > 0) throw new CliError(`missing ${missing.map((m) => `--${m}`).join(', ')}`, 2);
    const config = readConfig(values.config, 'run');
    const session = await openAgentSession(config);
    try {
      let lastStep = '';
      const report = await runJob(
        {
          machine: session.machine,
          operator: session.ledgerAs(config.operator),
          trustedRoots: session.trustedRoots,
          journal: session.journal,
          log: () => undefined,
          onProgress: (p) => {
            if (p.step === 'run' && p.line !== undefined)
              process.stderr.write(`\rrun: line ${p.line} of ${p.lines ?? '?'}   `);
            else if (p.step !== lastStep)
              process.stderr.write(`${lastStep === 'run' ? '\n' : ''}${p.step}…\n`);
            lastStep = p.step;
          },
        },
        {
          container: values.dsi as string,
          licenseId: values.license as string,
          program: values.program as string,
          partId: values.part as string,
        },
      );
      process.stderr.write('\n');
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return report.outcome === 'completed' ? 0 : 1;
    } finally {
      await session.close();
    }
  },
};

const SERVE_USAGE = `usage: threadseal agent serve --config <agent.json>
The agent's long-running mode: the configuration of \`threadseal agent run\` plus "queue": "<folder>".
Jobs are small JSON files dropped in the queue folder as <id>.job.json:
  { "dsi": "<container>", "program": "<name>", "license": "<id>", "part": "<id>", "operator": "<user>" }
(the allocation used is the licence's to this machine; the operator is an enrolled user of the machine's org).
They run one at a time in name order; each is renamed <id>.job.taken when taken and answered by
<id>.result.json (the job's report). The journal is settled before the first job. SIGTERM or SIGINT: no
new job is taken, the job running is cancelled (refused before StartBuild; after it, stopped and recorded as
aborted, JOB_CANCELLED) and the agent exits 0. Exit 2: usage or configuration.`;

const serveCommand: CliCommand = {
  path: ['agent', 'serve'],
  summary: 'run the agent as a service taking jobs from a local queue folder, one at a time',
  usage: SERVE_USAGE,
  async run(args) {
    const { values } = parseArgs({ args: [...args], strict: true, options: { config: { type: 'string' } } });
    if (values.config === undefined) throw new CliError('missing --config', 2);
    const config = readConfig(values.config, 'serve');
    const queue = config.queue as string;
    if (!existsSync(queue) || !statSync(queue).isDirectory())
      throw new CliError(`the queue folder ${queue} does not exist`, 2);
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stderr.write(`${signal}: finishing the current job and stopping\n`);
      stop.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const session = await openAgentSession(config);
    try {
      process.stderr.write(`agent ${config.machineId} serving ${queue}\n`);
      await serveQueue({
        dir: queue,
        signal: stop.signal,
        onEvent: (e) => {
          process.stderr.write(`job ${e.job}: ${e.state}${e.outcome ? ` (${e.outcome})` : ''}\n`);
        },
        run: (job, signal) =>
          runJob(
            {
              machine: session.machine,
              operator: session.ledgerAs(job.operator),
              trustedRoots: session.trustedRoots,
              journal: session.journal,
              signal,
              log: (entry) => {
                process.stderr.write(`${JSON.stringify(entry)}\n`);
              },
            },
            { container: job.dsi, licenseId: job.license, program: job.program, partId: job.part },
          ),
      });
      process.stderr.write('stopped\n');
      return 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await session.close();
    }
  },
};

const KEYS_USAGE = `usage: threadseal agent keys --config <agent.json> [--generate]
Prints the machine's two public keys as JSON, for its registration ("publicKeyPem" verifies its StartBuild
requests, "recipientPublicKeyPem" receives its key releases), with the private keys' token flags. With
--generate, key pairs missing from the PKCS#11 token are generated in it first (P-256, sensitive, never
extractable); existing ones are kept. The PIN is read from the configuration's pinEnv variable.`;

const keysCommand: CliCommand = {
  path: ['agent', 'keys'],
  summary: "generate the machine's keys in its PKCS#11 token and print the public keys to register",
  usage: KEYS_USAGE,
  run(args) {
    const { values } = parseArgs({
      args: [...args],
      strict: true,
      options: { config: { type: 'string' }, generate: { type: 'boolean' } },
    });
    if (values.config === undefined) throw new CliError('missing --config', 2);
    const config = readConfig(values.config, 'run');
    if (!('pkcs11' in config.keys))
      throw new CliError('agent keys reads a PKCS#11 token: the configuration has software keys', 2);
    const p = config.keys.pkcs11;
    const token = openToken(p);
    try {
      // Two keys, each good for one use: the StartBuild key signs, the decryption key derives (ECDH).
      const pair = (label: string, usage: Pkcs11KeyUsage) => {
        try {
          return token.keyPair(label);
        } catch (err) {
          if (values.generate !== true) throw err;
          return token.generateKeyPair(label, usage);
        }
      };
      const pem = (label: string, usage: Pkcs11KeyUsage): string =>
        pair(label, usage).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const out = {
        machineId: config.machineId,
        publicKeyPem: pem(p.signingKey, 'sign'),
        recipientPublicKeyPem: pem(p.decryptionKey, 'derive'),
        signingKey: { label: p.signingKey, ...token.privateKeyFlags(p.signingKey) },
        decryptionKey: { label: p.decryptionKey, ...token.privateKeyFlags(p.decryptionKey) },
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return Promise.resolve(0);
    } finally {
      token.close();
    }
  },
};

export const agentCommands: readonly CliCommand[] = [runCommand, serveCommand, keysCommand];
