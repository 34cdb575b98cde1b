import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerError } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { loadMspCredentials } from './msp-identity';

const MSP_DIR = join(__dirname, '..', '..', 'test-msp');

function refusal(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(LedgerError);
    return err as LedgerError;
  }
  throw new Error('expected an error');
}

describe('loading an MSP folder', function () {
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'msp-identity-'));
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks the keystore key that matches the certificate, not the first file', function () {
    const credentials = loadMspCredentials(MSP_DIR, 'TestOrgMSP');

    expect({
      mspId: credentials.identity.mspId,
      certificateFile: credentials.certificateFile,
      privateKeyFile: credentials.privateKeyFile,
    }).to.deep.equal({
      mspId: 'TestOrgMSP',
      certificateFile: join(MSP_DIR, 'signcerts', 'cert.pem'),
      privateKeyFile: join(MSP_DIR, 'keystore', 'user_sk'),
    });
    expect(Buffer.from(credentials.identity.credentials).toString()).to.match(/^-----BEGIN CERTIFICATE-----/);
  });

  it('fails with CONNECTION_FAILED when no key of the keystore matches the certificate', function () {
    cpSync(join(MSP_DIR, 'signcerts'), join(dir, 'signcerts'), { recursive: true });
    cpSync(join(MSP_DIR, 'keystore', '0-old_sk'), join(dir, 'keystore', '0-old_sk'));
    cpSync(join(MSP_DIR, 'keystore', 'notes.txt'), join(dir, 'keystore', 'notes.txt'));

    const err = refusal(() => loadMspCredentials(dir, 'TestOrgMSP'));

    expect({ code: err.code, message: err.message }).to.deep.equal({
      code: 'CONNECTION_FAILED',
      message: `CONNECTION_FAILED: no private key in ${join(dir, 'keystore')} matches the public key of ${join(dir, 'signcerts', 'cert.pem')} (2 file(s) looked at)`,
    });
  });

  it('fails with CONNECTION_FAILED when there is no signing certificate', function () {
    const err = refusal(() => loadMspCredentials(dir, 'TestOrgMSP'));

    expect({ code: err.code, message: err.message }).to.deep.equal({
      code: 'CONNECTION_FAILED',
      message: `CONNECTION_FAILED: ${join(dir, 'signcerts')} is missing: no signing certificate`,
    });
  });

  it('fails with CONNECTION_FAILED when the keystore is missing', function () {
    cpSync(join(MSP_DIR, 'signcerts'), join(dir, 'signcerts'), { recursive: true });

    const err = refusal(() => loadMspCredentials(dir, 'TestOrgMSP'));

    expect(err.message).to.equal(`CONNECTION_FAILED: ${join(dir, 'keystore')} is missing: no private key`);
  });
});
