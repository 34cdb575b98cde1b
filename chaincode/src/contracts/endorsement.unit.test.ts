import '@threadseal/test-support/quiet-logs';
import { TX } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { CM, GOOD_PARAMETERS, OEM, SUB, SUB_GRANT, SUB_TERMS, USERS } from '@threadseal/test-support';
import {
  EndorsementPolicyFailure,
  licensedShops,
  type LicensedShops,
} from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

async function expectRefused(action: Promise<unknown>, unmet: string[]): Promise<void> {
  let caught: unknown;
  try {
    await action;
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(EndorsementPolicyFailure);
  expect((caught as EndorsementPolicyFailure).unmet).to.include.members(unmet);
}

describe('endorsement requirements (unit test over the in-memory ChaincodeStub, simulated validation)', function () {
  this.timeout(20_000);
  let shops: LicensedShops;
  beforeEach(async () => {
    shops = await licensedShops(contracts);
  });
  const split = {
    parentId: 'L-ROOT',
    licenseId: 'L-SUB-2',
    holderMsp: SUB,
    grant: { ...SUB_GRANT, quantity: 2 },
    terms: SUB_TERMS,
  };

  it("a sub-license needs the receiving org's peer (collection policy) and the parent's grantor and holder (balance key)", async () => {
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [OEM, CM] }), [
      'collection terms-ManufacturerMSP-SubcontractorMSP needs SubcontractorMSP',
    ]);
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [CM, SUB] }), [
      'key license-balance~L-ROOT needs OemMSP',
    ]);
    await shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [OEM, CM, SUB] });
  });

  it("a revocation needs the grantor's peer alone", async () => {
    await shops.net.submit(
      USERS.cmAdmin,
      TX.license.revoke,
      { licenseId: 'L-SUB', reason: 'audit' },
      { endorsers: [CM] },
    );
  });

  it("a build needs the license's grantor and holder; one org alone cannot create the build", async () => {
    const request = shops.subMachine.startBuild('L-SUB', shops.net.now, GOOD_PARAMETERS);
    await expectRefused(shops.net.submit(USERS.subOperator, TX.build.start, request, { endorsers: [SUB] }), [
      'key allocation~L-SUB~sub-eos-m290-1 needs ManufacturerMSP',
    ]);
    await shops.net.submit(USERS.subOperator, TX.build.start, request, { endorsers: [CM, SUB] });
  });

  it('a DSI or machine cannot be created by its owner alone (2 of 3 for new keys)', async () => {
    await expectRefused(
      shops.net.submit(
        USERS.subMachineAdmin,
        TX.machine.register,
        {
          machineId: 'x1',
          make: 'EOS',
          model: 'M290',
          serial: 'x',
          firmware: '1',
          certifications: [],
          publicKeyPem: shops.subMachine.publicKeyPem,
          recipientPublicKeyPem: shops.subMachine.recipientPublicKeyPem,
        },
        { endorsers: [SUB] },
      ),
      ['key machine~x1 needs 2 of OemMSP, ManufacturerMSP, SubcontractorMSP'],
    );
  });
});
