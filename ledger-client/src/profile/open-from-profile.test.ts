import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerError } from '@threadseal/ledger-model';
import { expect } from 'chai';
import type { ConnectionProfile } from './connection-profile';
import { ConnectionProfileError } from './connection-profile';
import { openLedgerConnection } from './open-from-profile';

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

describe('opening a connection from a connection profile', function () {
  let dir: string;
  let profileFile: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'open-from-profile-'));
    const usersDir = join(dir, 'users');
    cpSync(MSP_DIR, join(usersDir, 'operator', 'msp'), { recursive: true });
    const profile: ConnectionProfile = {
      network: 'test',
      channel: 'thread',
      chaincode: 'threadseal',
      orgs: {
        testorg: {
          mspId: 'TestOrgMSP',
          peers: [{ id: 'peer0', endpoint: '127.0.0.1:1', hostAlias: 'peer0.testorg' }],
          tlsCaCert: join(MSP_DIR, 'signcerts', 'cert.pem'),
          enrollmentCaCert: join(MSP_DIR, 'signcerts', 'cert.pem'),
          usersDir,
          users: ['operator'],
        },
      },
    };
    profileFile = join(dir, 'connection.json');
    writeFileSync(profileFile, JSON.stringify(profile));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects an enrolled user (nothing is sent before the first call) and acts for its org', function () {
    const c = openLedgerConnection(profileFile, { org: 'testorg', user: 'operator' });
    try {
      expect({ mspId: c.mspId, channel: c.channel, chaincode: c.chaincode }).to.deep.equal({
        mspId: 'TestOrgMSP',
        channel: 'thread',
        chaincode: 'threadseal',
      });
    } finally {
      c.close();
    }
  });

  it('names the orgs of the profile when the org is unknown', function () {
    const err = refusal(() => openLedgerConnection(profileFile, { org: 'oem', user: 'operator' }));

    expect(err).to.be.instanceOf(ConnectionProfileError);
    expect({ code: err.code, name: err.name, message: err.message }).to.deep.equal({
      code: 'CONNECTION_FAILED',
      name: 'ConnectionProfileError',
      message: 'CONNECTION_FAILED: unknown org oem (profile has testorg)',
    });
  });

  it('says a user is not enrolled when its MSP folder is missing', function () {
    const err = refusal(() => openLedgerConnection(profileFile, { org: 'testorg', user: 'admin' }));

    expect(err.message).to.equal(
      `CONNECTION_FAILED: admin@testorg is not enrolled (${join(dir, 'users', 'admin', 'msp')} is missing)`,
    );
  });

  it('says a profile cannot be read, naming the file', function () {
    const err = refusal(() =>
      openLedgerConnection(join(dir, 'absent.json'), { org: 'testorg', user: 'operator' }),
    );

    expect(err.code).to.equal('CONNECTION_FAILED');
    expect(err.message).to.match(
      new RegExp(`^CONNECTION_FAILED: cannot read connection profile ${join(dir, 'absent.json')}: ENOENT`),
    );
  });
});
