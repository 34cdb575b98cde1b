import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DsiError } from '@threadseal/dsi-container';
import { CliError, type CliCommand } from '../command';
import { containerCommands } from './container';

/** The committed test PKI and vectors of dsi-container (files, not imports). */
const DSI_DIR = path.resolve(__dirname, '../../../dsi-container');
const ROOT = path.join(DSI_DIR, 'test-pki/root-ca.cert.pem');
const VECTOR = path.join(DSI_DIR, 'vectors/valid-one-byte.dsi');
const fingerprint = (name: string): string =>
  new X509Certificate(readFileSync(path.join(DSI_DIR, 'test-pki', name))).fingerprint256;

const verifyCommand = containerCommands.find((c) => c.path.join(' ') === 'verify') as CliCommand;

async function quietly(run: () => Promise<unknown>): Promise<unknown> {
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  try {
    return await run().then(
      (v) => v,
      (e: unknown) => e,
    );
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('threadseal verify --expect-signer / --expect-msp', () => {
  it('accepts the pinned signer certificate', async () => {
    const r = await quietly(() =>
      verifyCommand.run([VECTOR, '--trust', ROOT, '--expect-signer', fingerprint('signer.cert.pem')]),
    );
    expect(r).to.equal(0);
  });

  it('refuses another trusted signer with UNEXPECTED_SIGNER', async () => {
    const r = await quietly(() =>
      verifyCommand.run([VECTOR, '--trust', ROOT, '--expect-signer', fingerprint('other-signer.cert.pem')]),
    );
    expect(r).to.be.instanceOf(DsiError);
    expect((r as DsiError).code).to.equal('UNEXPECTED_SIGNER');
  });

  it('refuses a pin that is not a SHA-256 fingerprint with exit code 2', async () => {
    const r = await quietly(() => verifyCommand.run([VECTOR, '--trust', ROOT, '--expect-signer', 'abc']));
    expect(r).to.be.instanceOf(CliError);
    expect({ message: (r as CliError).message, exitCode: (r as CliError).exitCode }).to.deep.equal({
      message: '--expect-signer must be a SHA-256 fingerprint (64 hex digits, colons optional)',
      exitCode: 2,
    });
  });
});

describe('threadseal open --force and symlinks', () => {
  const openCommand = containerCommands.find((c) => c.path.join(' ') === 'open') as CliCommand;
  const KEY = path.join(DSI_DIR, 'test-pki/recipient-a.key.pem');
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cli-open-'));
    writeFileSync(path.join(dir, 'victim.txt'), 'precious\n');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (toDir: string): Promise<unknown> =>
    quietly(() => openCommand.run([VECTOR, '--key', KEY, '--trust', ROOT, '--to-dir', toDir, '--force']));

  it('overwrites a regular file with --force (control)', async () => {
    const out = path.join(dir, 'out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'one.ngc'), 'old contents');
    expect(await run(out)).to.equal(0);
    expect(readFileSync(path.join(out, 'one.ngc')).length).to.equal(1);
  });

  it('add-recipient replaces a symlink at <out>.partial instead of writing through it', async () => {
    const addCommand = containerCommands.find((c) => c.path.join(' ') === 'add-recipient') as CliCommand;
    const out = path.join(dir, 'more.dsi');
    symlinkSync(path.join(dir, 'victim.txt'), `${out}.partial`);
    const r = await quietly(() =>
      addCommand.run([
        VECTOR,
        '--key',
        KEY,
        '--trust',
        ROOT,
        '--recipient',
        path.join(DSI_DIR, 'test-pki/recipient-b.pub.pem'),
        '-o',
        out,
      ]),
    );
    expect(r).to.equal(0);
    expect(readFileSync(path.join(dir, 'victim.txt'), 'utf8')).to.equal('precious\n');
    expect(readFileSync(out).subarray(0, 8).length).to.equal(8);
  });

  it('refuses to write through a symlink at the target, leaving its target unchanged', async () => {
    const out = path.join(dir, 'out');
    mkdirSync(out);
    symlinkSync(path.join(dir, 'victim.txt'), path.join(out, 'one.ngc'));
    const r = await run(out);
    expect(r).to.be.instanceOf(CliError);
    expect((r as CliError).message).to.equal(
      `refusing to write ${path.join(out, 'one.ngc')}: it is a symlink`,
    );
    expect(readFileSync(path.join(dir, 'victim.txt'), 'utf8')).to.equal('precious\n');
  });
});
