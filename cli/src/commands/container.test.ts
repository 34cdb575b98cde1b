import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  process.stdout.write = () => true;
  try {
    return await run().then(
      (v) => v,
      (e: unknown) => e,
    );
  } finally {
    process.stdout.write = write;
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
