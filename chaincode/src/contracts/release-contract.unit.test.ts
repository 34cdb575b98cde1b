import '@threadseal/test-support/quiet-logs';
import { createHash, createPublicKey } from 'node:crypto';
import {
  RELEASE_STANZA_TYPE,
  TX,
  type Build,
  type KeyRelease,
  type LedgerErrorCode,
  type Machine,
  type RecordReleaseInput,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import { expectLedgerError, GOOD_PARAMETERS, USERS } from '@threadseal/test-support';
import { licensedShops, type LicensedShops, UnitTestMachine } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

const keyIdOf = (pem: string): string =>
  createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');

/** A stanza of the right shape sealed (in name) to `pem`; the chaincode checks the key id, never the seal. */
const stanzaFor = (pem: string): RecordReleaseInput['stanza'] => ({
  type: RELEASE_STANZA_TYPE,
  keyId: keyIdOf(pem),
  enc: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64'),
  wrappedKeys: Buffer.alloc(80, 9).toString('base64'),
});

describe('ReleaseContract and machine deactivation (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);
  let shops: LicensedShops;
  let build: Build;
  beforeEach(async () => {
    shops = await licensedShops(contracts);
    build = await shops.net.submit<Build>(
      USERS.subOperator,
      TX.build.start,
      shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
    );
  });

  const release = (user = USERS.oemKeyRelease, stanza = stanzaFor(shops.subMachine.recipientPublicKeyPem)) =>
    shops.net.submit<KeyRelease>(user, TX.release.record, { buildId: build.buildId, stanza });

  /** Keys and events must not change when a release is refused. */
  const unchanged = async (attempt: Promise<unknown>, code: LedgerErrorCode, message: string | RegExp) => {
    const keys = shops.net.ledger.keys();
    const events = shops.net.ledger.events.length;
    await expectLedgerError(attempt, code, message);
    expect(shops.net.ledger.keys()).to.deep.equal(keys);
    expect(shops.net.ledger.events).to.have.length(events);
  };

  it("records the OEM key-release service's release to the build's machine, once, and emits KeyReleased", async () => {
    const recorded = await release();
    expect(recorded).to.include({
      buildId: build.buildId,
      dsiId: build.dsiId,
      licenseId: 'L-SUB',
      machineId: shops.subMachine.machineId,
      machineOwnerMsp: 'SubcontractorMSP',
      releasedByMsp: 'OemMSP',
    });
    expect(shops.net.ledger.events.at(-1)?.name).to.equal('KeyReleased');
    const read = await shops.net.evaluate<KeyRelease>(USERS.subOperator, TX.release.get, {
      buildId: build.buildId,
    });
    expect(read).to.deep.equal(recorded);
    await unchanged(release(), 'ALREADY_EXISTS', `key release of build ${build.buildId} already exists`);
  });

  it('refuses a release by anyone but the DSI owner’s key-release identity, and writes nothing', async () => {
    await unchanged(
      release(USERS.oemAdmin),
      'FORBIDDEN',
      /releasing the keys of DSI .* requires role key-release, OemMSP client has ip-admin/,
    );
    await unchanged(
      release(USERS.subKeyRelease),
      'FORBIDDEN',
      /only OemMSP, the owner of DSI .*, releases its keys; submitter is SubcontractorMSP/,
    );
  });

  it('refuses a stanza sealed to another key than the machine’s registered recipient key', async () => {
    const other = new UnitTestMachine('someone-else');
    for (const pem of [shops.subMachine.publicKeyPem, other.recipientPublicKeyPem]) {
      await unchanged(
        release(USERS.oemKeyRelease, stanzaFor(pem)),
        'INVALID_ARGUMENT',
        /input.stanza.keyId: expected the recipient key of machine sub-eos-m290-1/,
      );
    }
  });

  it('releases nothing to a finished build', async () => {
    await shops.net.submit(USERS.subOperator, TX.build.abort, { buildId: build.buildId, reason: 'jam' });
    await unchanged(
      release(),
      'BUILD_NOT_RUNNING',
      /build \S+ is aborted: keys are released only to a running build/,
    );
  });

  it('releases nothing once a license of the chain is revoked', async () => {
    await shops.net.submit(USERS.cmAdmin, TX.license.revoke, { licenseId: 'L-SUB', reason: 'audit' });
    await unchanged(release(), 'LICENSE_REVOKED', /license L-SUB was revoked/);
  });

  it('deactivates a machine by its owner only; then no unit is allocated, no build starts, no key is released', async () => {
    const machineId = shops.subMachine.machineId;
    await unchanged(
      shops.net.submit(USERS.cmMachineAdmin, TX.machine.deactivate, { machineId, reason: 'x' }),
      'FORBIDDEN',
      /deactivating machine sub-eos-m290-1 is reserved to SubcontractorMSP/,
    );
    await unchanged(
      shops.net.submit(USERS.subAdmin, TX.machine.deactivate, { machineId, reason: 'x' }),
      'FORBIDDEN',
      /deactivating machine sub-eos-m290-1 requires role machine-admin/,
    );
    const machine = await shops.net.submit<Machine>(USERS.subMachineAdmin, TX.machine.deactivate, {
      machineId,
      reason: 'controller replaced',
    });
    expect(machine).to.include({ status: 'deactivated', deactivationReason: 'controller replaced' });
    await unchanged(release(), 'MACHINE_DEACTIVATED', /machine sub-eos-m290-1 was deactivated/);
    await unchanged(
      shops.net.submit(
        USERS.subOperator,
        TX.build.start,
        shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
      ),
      'MACHINE_DEACTIVATED',
      /machine sub-eos-m290-1 was deactivated/,
    );
    await unchanged(
      shops.net.submit(USERS.subAdmin, TX.license.allocate, {
        licenseId: 'L-SUB',
        machineId,
        quantity: 1,
        scrapAllowance: 0,
      }),
      'MACHINE_DEACTIVATED',
      /machine sub-eos-m290-1 was deactivated/,
    );
    await unchanged(
      shops.net.submit(USERS.subMachineAdmin, TX.machine.deactivate, { machineId, reason: 'again' }),
      'MACHINE_DEACTIVATED',
      /machine sub-eos-m290-1 was deactivated/,
    );
  });
});
