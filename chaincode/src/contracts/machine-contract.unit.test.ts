import '@threadseal/test-support/quiet-logs';
import { TX, type Build, type LedgerErrorCode, type Machine } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { CM, expectLedgerError, GOOD_PARAMETERS, OEM, SUB, USERS } from '@threadseal/test-support';
import {
  EndorsementPolicyFailure,
  licensedShops,
  type LicensedShops,
  UnitTestMachine,
} from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

describe('machine:RotateKeys (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);
  let shops: LicensedShops;
  let machineId: string;
  let replacement: UnitTestMachine;
  const rotation = (
    keys: { publicKeyPem: string; recipientPublicKeyPem: string },
    reason = 'signing key suspected copied',
  ) => ({
    machineId,
    publicKeyPem: keys.publicKeyPem,
    recipientPublicKeyPem: keys.recipientPublicKeyPem,
    reason,
  });
  /** The machine record and the ledger's keys before and after a refused rotation are the same. */
  async function refused(action: Promise<unknown>, code: LedgerErrorCode, message: RegExp): Promise<void> {
    const before = await shops.net.evaluate<Machine>(USERS.oemAdmin, TX.machine.get, { machineId });
    const keys = shops.net.ledger.keys();
    await expectLedgerError(action, code, message);
    expect(await shops.net.evaluate<Machine>(USERS.oemAdmin, TX.machine.get, { machineId })).to.deep.equal(
      before,
    );
    expect(shops.net.ledger.keys()).to.deep.equal(keys);
  }

  beforeEach(async () => {
    shops = await licensedShops(contracts);
    machineId = shops.subMachine.machineId;
    replacement = new UnitTestMachine(machineId);
  });

  it('replaces both keys: the old key signs nothing any more, the new one starts builds, an event names both', async () => {
    const rotated = await shops.net.submit<Machine>(
      USERS.subMachineAdmin,
      TX.machine.rotateKeys,
      rotation(replacement),
      {
        endorsers: [SUB, OEM],
      },
    );
    expect(rotated).to.include({
      publicKeyPem: replacement.publicKeyPem,
      recipientPublicKeyPem: replacement.recipientPublicKeyPem,
      status: 'active',
    });
    const event = shops.net.ledger.events.at(-1);
    expect(event?.name).to.equal('MachineKeysRotated');
    await refused(
      shops.net.submit(
        USERS.subOperator,
        TX.build.start,
        shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
      ),
      'BAD_SIGNATURE',
      /StartBuild request/,
    );
    const build = await shops.net.submit<Build>(
      USERS.subOperator,
      TX.build.start,
      replacement.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
    );
    expect(build.status).to.equal('running');
  });

  it('needs the IP owner’s peer: the machine owner alone, or with another licensee, cannot rotate', async () => {
    for (const endorsers of [[SUB], [CM, SUB]]) {
      let caught: unknown;
      try {
        await shops.net.submit(USERS.subMachineAdmin, TX.machine.rotateKeys, rotation(replacement), {
          endorsers,
        });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(EndorsementPolicyFailure);
      expect((caught as EndorsementPolicyFailure).unmet).to.include(`key machine~${machineId} needs OemMSP`);
    }
  });

  it('refuses another org, another role, reused or equal keys, a private key, and a deactivated machine', async () => {
    await refused(
      shops.net.submit(USERS.cmMachineAdmin, TX.machine.rotateKeys, rotation(replacement)),
      'FORBIDDEN',
      /rotating the keys of machine sub-eos-m290-1 is reserved to SubcontractorMSP/,
    );
    await refused(
      shops.net.submit(USERS.subAdmin, TX.machine.rotateKeys, rotation(replacement)),
      'FORBIDDEN',
      /rotating the keys of machine sub-eos-m290-1 requires role machine-admin/,
    );
    await refused(
      shops.net.submit(
        USERS.subMachineAdmin,
        TX.machine.rotateKeys,
        rotation({
          publicKeyPem: shops.subMachine.publicKeyPem,
          recipientPublicKeyPem: replacement.recipientPublicKeyPem,
        }),
      ),
      'INVALID_ARGUMENT',
      /machine sub-eos-m290-1: a rotation needs two new keys/,
    );
    await refused(
      shops.net.submit(
        USERS.subMachineAdmin,
        TX.machine.rotateKeys,
        rotation({
          publicKeyPem: replacement.recipientPublicKeyPem,
          recipientPublicKeyPem: shops.subMachine.publicKeyPem,
        }),
      ),
      'INVALID_ARGUMENT',
      /machine sub-eos-m290-1: a rotation needs two new keys/,
    );
    await refused(
      shops.net.submit(
        USERS.subMachineAdmin,
        TX.machine.rotateKeys,
        rotation({ publicKeyPem: replacement.publicKeyPem, recipientPublicKeyPem: replacement.publicKeyPem }),
      ),
      'INVALID_ARGUMENT',
      /machine sub-eos-m290-1: the recipient \(decryption\) key must not be the signing key/,
    );
    await refused(
      shops.net.submit(
        USERS.subMachineAdmin,
        TX.machine.rotateKeys,
        rotation({
          publicKeyPem: `${replacement.publicKeyPem}junk`,
          recipientPublicKeyPem: replacement.recipientPublicKeyPem,
        }),
      ),
      'INVALID_ARGUMENT',
      /machine sub-eos-m290-1: publicKeyPem must be a P-256 public key in SPKI PEM/,
    );
    await shops.net.submit(USERS.subMachineAdmin, TX.machine.deactivate, { machineId, reason: 'stolen' });
    await refused(
      shops.net.submit(USERS.subMachineAdmin, TX.machine.rotateKeys, rotation(replacement)),
      'MACHINE_DEACTIVATED',
      /machine sub-eos-m290-1 was deactivated/,
    );
  });
});
