import { mkdir, open as openFile, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import {
  addRecipients,
  Pkcs11Token,
  inspect,
  open,
  protectToFile,
  softwareRecipientKey,
  softwareSigner,
  verify,
  type ExpectedSigner,
  type ProtectFile,
  type RecipientKey,
  type Signer,
} from '@threadseal/dsi-container';
import { CliError, type CliCommand } from '../command';

/** Default PKCS#11 module for `pkcs11:` key references (override with THREADSEAL_PKCS11_LIB). */
const DEFAULT_PKCS11_LIB = '/usr/lib/softhsm/libsofthsm2.so';

const KEY_HELP = `Keys are PEM files, or token keys written pkcs11:token=<label>;object=<label>
(module from THREADSEAL_PKCS11_LIB, default ${DEFAULT_PKCS11_LIB}; PIN from THREADSEAL_PKCS11_PIN).`;

function parsePkcs11(ref: string): { token: Pkcs11Token; object: string } | undefined {
  if (!ref.startsWith('pkcs11:')) return undefined;
  const fields = new Map(
    ref
      .slice('pkcs11:'.length)
      .split(';')
      .map((kv) => kv.split('=', 2) as [string, string]),
  );
  const tokenLabel = fields.get('token');
  const object = fields.get('object');
  const pin = process.env.THREADSEAL_PKCS11_PIN;
  if (!tokenLabel || !object)
    throw new CliError(`key reference ${ref} needs token=<label> and object=<label>`);
  if (!pin) throw new CliError('THREADSEAL_PKCS11_PIN must be set to use a pkcs11: key');
  const token = Pkcs11Token.open({
    library: process.env.THREADSEAL_PKCS11_LIB ?? DEFAULT_PKCS11_LIB,
    tokenLabel,
    pin,
  });
  return { token, object };
}

async function loadSigner(certFile: string, keyRef: string): Promise<{ signer: Signer; close: () => void }> {
  const cert = await readFile(certFile);
  const p11 = parsePkcs11(keyRef);
  if (p11)
    return {
      signer: p11.token.signer(p11.object, cert),
      close: () => {
        p11.token.close();
      },
    };
  return { signer: softwareSigner(cert, await readFile(keyRef)), close: () => undefined };
}

async function loadRecipientKey(keyRef: string): Promise<{ key: RecipientKey; close: () => void }> {
  const p11 = parsePkcs11(keyRef);
  if (p11)
    return {
      key: p11.token.recipientKey(p11.object),
      close: () => {
        p11.token.close();
      },
    };
  return { key: softwareRecipientKey(await readFile(keyRef)), close: () => undefined };
}

/** Expands directories recursively; names inside the DSI are relative to the directory argument. */
async function collectInputs(args: readonly string[]): Promise<ProtectFile[]> {
  const files: ProtectFile[] = [];
  for (const arg of args) {
    const info = await stat(arg);
    if (info.isDirectory()) {
      const entries = await readdir(arg, { recursive: true, withFileTypes: true });
      const names = entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(arg, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
        .sort();
      for (const name of names) files.push({ name, source: path.join(arg, name) });
    } else {
      files.push({ name: path.basename(arg), source: arg });
    }
  }
  if (files.length === 0) throw new CliError('no input files');
  return files;
}

function multiple(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function required(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new CliError(`missing ${flag}`, 2);
  return v;
}

const protectCommand: CliCommand = {
  path: ['protect'],
  summary: 'seal files into a signed, encrypted DSI container',
  usage: `usage: threadseal protect <dir|file>... --signer-cert <cert.pem> --signer-key <key.pem|pkcs11:…>
       --recipient <cert-or-pubkey.pem>... -o <out.dsi>
       [--title <t>] [--part-number <p>] [--revision <r>] [--production-rules <ref>] [--msp-id <id>]
       [--confidential-names] [--chunk-size <bytes>]
${KEY_HELP}`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        'signer-cert': { type: 'string' },
        'signer-key': { type: 'string' },
        recipient: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
        title: { type: 'string' },
        'part-number': { type: 'string' },
        revision: { type: 'string' },
        'production-rules': { type: 'string' },
        'msp-id': { type: 'string' },
        'confidential-names': { type: 'boolean' },
        'chunk-size': { type: 'string' },
      },
    });
    if (positionals.length === 0) throw new CliError('give at least one file or directory to protect', 2);
    const output = required(values.output, '-o <out.dsi>');
    const recipients = multiple(values.recipient);
    if (recipients.length === 0) throw new CliError('give at least one --recipient', 2);
    const chunkSize = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);
    const files = (await collectInputs(positionals)).map((f) => ({
      ...f,
      confidentialName: values['confidential-names'] === true,
    }));
    const { signer, close } = await loadSigner(
      required(values['signer-cert'], '--signer-cert'),
      required(values['signer-key'], '--signer-key'),
    );
    try {
      const total = (await Promise.all(files.map(async (f) => (await stat(f.source as string)).size))).reduce(
        (a, b) => a + b,
        0,
      );
      let lastReport = 0;
      const progress = (done: number): void => {
        const now = Date.now();
        if (total >= 64 * 1024 * 1024 && (now - lastReport > 1000 || done === total)) {
          lastReport = now;
          process.stderr.write(
            `protect: ${(done / 2 ** 20).toFixed(0)} / ${(total / 2 ** 20).toFixed(0)} MiB sealed\n`,
          );
        }
      };
      // Inputs are files, so the container is written in one pass straight to its place.
      const sealed = await protectToFile(
        {
          files,
          signer,
          recipients: await Promise.all(recipients.map((r) => readFile(r))),
          title: values.title ?? path.basename(output, path.extname(output)),
          partNumber: values['part-number'] ?? '',
          revision: values.revision ?? '',
          productionRules: values['production-rules'] ?? null,
          mspId: values['msp-id'] ?? null,
          ...(chunkSize !== undefined ? { chunkSize } : {}),
          onProgress: progress,
        },
        output,
      );
      process.stdout.write(
        `${sealed.dsiId}  ${output}  (${sealed.manifest.files.length} files, ${sealed.size} bytes)\n`,
      );
      return 0;
    } finally {
      close();
    }
  },
};

const inspectCommand: CliCommand = {
  path: ['inspect'],
  summary: 'print the public manifest of a DSI (no key, not verified)',
  usage: 'usage: threadseal inspect <file.dsi> [--json]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean' } },
    });
    const file = required(positionals[0], '<file.dsi>');
    const info = await inspect(file);
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const m = info.manifest;
    const lines = [
      `dsi id:      ${info.dsiId}`,
      `title:       ${m.title}`,
      `part number: ${m.partNumber}  revision: ${m.revision}`,
      `production rules: ${m.productionRules ?? '-'}`,
      `created:     ${m.created}`,
      `creator:     ${m.creator.subject.replace(/\n/g, ', ')}${m.creator.mspId ? ` (${m.creator.mspId})` : ''}`,
      `chunks:      ${m.chunkSize} bytes, ${m.segmentChunks} per segment`,
      `recipients:  ${info.recipients.length}`,
      `files:`,
      ...m.files.map(
        (f) =>
          `  ${String(f.size).padStart(12)}  ${f.mediaType.padEnd(26)}  ${f.name ?? '(confidential name)'}`,
      ),
      'not verified: run `threadseal verify` to check signature, signer and ciphertext',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

const PIN_OPTIONS = {
  'expect-signer': { type: 'string' },
  'expect-msp': { type: 'string' },
} as const;
const PIN_USAGE = '[--expect-signer <sha256 fingerprint of the signer certificate>] [--expect-msp <MSP id>]';

/** The `expectedSigner` verify option from `--expect-signer` / `--expect-msp`, if either was given. */
function pinned(values: { 'expect-signer'?: string | undefined; 'expect-msp'?: string | undefined }): {
  expectedSigner?: ExpectedSigner;
} {
  const fingerprint = values['expect-signer'];
  const mspId = values['expect-msp'];
  if (fingerprint === undefined && mspId === undefined) return {};
  if (fingerprint !== undefined && !/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(fingerprint))
    throw new CliError('--expect-signer must be a SHA-256 fingerprint (64 hex digits, colons optional)', 2);
  return {
    expectedSigner: {
      ...(fingerprint === undefined ? {} : { fingerprint256: fingerprint }),
      ...(mspId === undefined ? {} : { mspId }),
    },
  };
}

const verifyCommand: CliCommand = {
  path: ['verify'],
  summary: 'check a DSI signature, signer chain and ciphertext digests (no key)',
  usage: `usage: threadseal verify <file.dsi> --trust <ca.pem>... [--at <ISO time>]
       ${PIN_USAGE}`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: { trust: { type: 'string', multiple: true }, at: { type: 'string' }, ...PIN_OPTIONS },
    });
    const file = required(positionals[0], '<file.dsi>');
    const trust = multiple(values.trust);
    if (trust.length === 0) throw new CliError('give at least one --trust <ca.pem>', 2);
    const v = await verify(file, {
      trustedRoots: await Promise.all(trust.map((t) => readFile(t))),
      ...(values.at ? { at: new Date(values.at) } : {}),
      ...pinned(values),
    });
    const signer = v.signerPath[0]?.subject.replace(/\n/g, ', ') ?? '';
    process.stdout.write(`OK ${v.dsiId}  signed by ${signer}; ${v.manifest.files.length} files intact\n`);
    return 0;
  },
};

/**
 * Creates `target` for writing (truncating it with `force`), never through a symlink: the file
 * itself must not be one (O_NOFOLLOW), and its directory must really lie inside `dir` (no
 * symlinked directory on the way).
 */
async function createPlaintextFile(
  dir: string,
  target: string,
  force: boolean,
): Promise<NodeJS.WritableStream> {
  const realDir = await realpath(dir);
  const realParent = await realpath(path.dirname(target));
  if (realParent !== realDir && !realParent.startsWith(realDir + path.sep))
    throw new CliError(`refusing to write ${target}: its directory leads outside ${dir} through a symlink`);
  const flags =
    fsConstants.O_WRONLY |
    fsConstants.O_CREAT |
    fsConstants.O_NOFOLLOW |
    (force ? fsConstants.O_TRUNC : fsConstants.O_EXCL);
  try {
    const fh = await openFile(target, flags, 0o600);
    return fh.createWriteStream();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new CliError(`refusing to write ${target}: it is a symlink`);
    throw err;
  }
}

/** Resolves `name` under `dir`, refusing anything that would escape it. */
function inside(dir: string, name: string): string {
  const target = path.resolve(dir, ...name.split('/'));
  if (!target.startsWith(path.resolve(dir) + path.sep))
    throw new CliError(`refusing to write ${name} outside ${dir}`);
  return target;
}

const openCommand: CliCommand = {
  path: ['open'],
  summary: 'verify, then decrypt a DSI into a directory (engineering mode)',
  usage: `usage: threadseal open <file.dsi> --key <key.pem|pkcs11:…> --trust <ca.pem>... --to-dir <dir> [--force]
       ${PIN_USAGE}
Engineering mode: writes plaintext to disk. Machines use the library, which keeps plaintext in memory.
${KEY_HELP}`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        trust: { type: 'string', multiple: true },
        'to-dir': { type: 'string' },
        force: { type: 'boolean' },
        ...PIN_OPTIONS,
      },
    });
    const file = required(positionals[0], '<file.dsi>');
    const toDir = required(values['to-dir'], '--to-dir <dir>');
    const trust = multiple(values.trust);
    if (trust.length === 0) throw new CliError('give at least one --trust <ca.pem>', 2);
    const { key, close } = await loadRecipientKey(required(values.key, '--key'));
    try {
      const opened = await open(file, key, {
        trustedRoots: await Promise.all(trust.map((t) => readFile(t))),
        ...pinned(values),
      });
      try {
        await mkdir(toDir, { recursive: true });
        for (const f of opened.files) {
          const target = inside(toDir, f.name);
          await mkdir(path.dirname(target), { recursive: true });
          await pipeline(f.stream(), await createPlaintextFile(toDir, target, values.force === true));
          process.stdout.write(`${String(f.size).padStart(12)}  ${f.name}\n`);
        }
      } finally {
        await opened.close();
      }
      process.stderr.write(`opened ${opened.dsiId} into ${toDir}\n`);
      return 0;
    } finally {
      close();
    }
  },
};

const addRecipientCommand: CliCommand = {
  path: ['add-recipient'],
  summary: 'wrap the keys of a DSI to more recipients (same DSI id); needs a recipient key',
  usage: `usage: threadseal add-recipient <file.dsi> --key <key.pem|pkcs11:…> --trust <ca.pem>...
       --recipient <cert-or-pubkey.pem>... -o <out.dsi>
${KEY_HELP}`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        trust: { type: 'string', multiple: true },
        recipient: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
      },
    });
    const file = required(positionals[0], '<file.dsi>');
    const output = required(values.output, '-o <out.dsi>');
    const trust = multiple(values.trust);
    const recipients = multiple(values.recipient);
    if (trust.length === 0) throw new CliError('give at least one --trust <ca.pem>', 2);
    if (recipients.length === 0) throw new CliError('give at least one --recipient', 2);
    if (path.resolve(output) === path.resolve(file))
      throw new CliError('-o must differ from the input file', 2);
    const { key, close } = await loadRecipientKey(required(values.key, '--key'));
    try {
      const r = await addRecipients(file, key, await Promise.all(recipients.map((p) => readFile(p))), {
        trustedRoots: await Promise.all(trust.map((t) => readFile(t))),
      });
      const partial = `${output}.partial`;
      try {
        // A new file, never written through a link left at the .partial name (O_EXCL does not follow).
        await rm(partial, { force: true });
        await pipeline(r.stream, createWriteStream(partial, { flags: 'wx', mode: 0o644 }));
        await rename(partial, output);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      process.stdout.write(`${r.dsiId}  ${output}  (${r.added} recipient(s) added)\n`);
      return 0;
    } finally {
      close();
    }
  },
};

/** `threadseal protect | inspect | verify | open | add-recipient`. */
export const containerCommands: readonly CliCommand[] = [
  protectCommand,
  inspectCommand,
  verifyCommand,
  openCommand,
  addRecipientCommand,
];
