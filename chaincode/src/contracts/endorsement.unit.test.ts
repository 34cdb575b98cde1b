import '@threadseal/test-support/quiet-logs';
import { TX } from '@threadseal/ledger-model';
import { expect } from 'chai';
import {
  CM,
  GOOD_PARAMETERS,
  ISSUE_ROOT,
  OEM,
  ROOT_TERMS,
  SUB,
  SUB_GRANT,
  SUB_TERMS,
  USERS,
} from '@threadseal/test-support';
import { expectLedgerError } from '@threadseal/test-support';
import {
  EndorsementPolicyFailure,
  licensedShops,
  UnitTestStub,
  type LicensedShops,
} from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';
import { policyOrgs } from '../ledger/endorsement.js';

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

  it("a sub-license needs the receiving org's peer (collection policy) and the parent's guards (balance key)", async () => {
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [OEM, CM] }), [
      'collection terms-ManufacturerMSP-OemMSP-SubcontractorMSP needs SubcontractorMSP',
    ]);
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [CM, SUB] }), [
      'key license-balance~L-ROOT needs OemMSP',
    ]);
    await shops.net.submit(USERS.cmAdmin, TX.license.split, split, { endorsers: [OEM, CM, SUB] });
  });

  it('a licence its holder never endorsed (the stakeholder and the grantor wrote it without the collection record) is unusable', async () => {
    // What OEM + CM running their own code can commit: L-SUB's records copied as L-FORGED, without the terms
    // record in the guards' collection — the one write that would have needed the subcontractor's peer.
    const net = shops.net;
    const forge = new UnitTestStub(net.ledger, { txId: 'forged-1', timestamp: net.now, mspId: CM });
    const copy = async (type: string, suffix: string[] = []): Promise<void> => {
      const from = forge.createCompositeKey(type, ['L-SUB', ...suffix]);
      const value = JSON.parse(Buffer.from(net.ledger.get(from)).toString('utf8')) as Record<string, unknown>;
      await forge.putState(
        forge.createCompositeKey(type, ['L-FORGED', ...suffix]),
        Buffer.from(JSON.stringify({ ...value, licenseId: 'L-FORGED' }), 'utf8'),
      );
    };
    await copy('license');
    await copy('license-balance');
    forge.setEvent('LicenseSplit', Buffer.from('{}'));
    net.ledger.commit(forge);
    const before = net.ledger.keys();
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.allocate, {
        licenseId: 'L-FORGED',
        machineId: shops.subMachine.machineId,
        quantity: 1,
        scrapAllowance: 0,
      }),
      'LICENSE_NOT_ACCEPTED',
      'license L-FORGED was not created with the endorsement of all its guards (ManufacturerMSP, OemMSP, SubcontractorMSP): nothing of it in terms-ManufacturerMSP-OemMSP-SubcontractorMSP',
    );
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.split, {
        parentId: 'L-FORGED',
        licenseId: 'L-FORGED-CHILD',
        holderMsp: SUB,
        grant: SUB_GRANT,
        terms: SUB_TERMS,
      }),
      'LICENSE_NOT_ACCEPTED',
      /license L-FORGED was not created with the endorsement of all its guards/,
    );
    expect(net.ledger.keys()).to.deep.equal(before);
    // The honest licence it was copied from still works.
    const honest = await net.submit<{ licenseId: string }>(
      USERS.subOperator,
      TX.build.start,
      shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', net.now, GOOD_PARAMETERS),
    );
    expect(honest.licenseId).to.equal('L-SUB');
  });

  it('a revocation comes into being as a new key: the stakeholder and one other org, never the holder alone to refuse', async () => {
    const revoke = { licenseId: 'L-SUB', reason: 'audit' };
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.revoke, revoke, { endorsers: [CM] }), [
      'key license-revocation~L-SUB needs OemMSP',
    ]);
    await expectRefused(
      shops.net.submit(USERS.cmAdmin, TX.license.revoke, revoke, { endorsers: [CM, SUB] }),
      ['key license-revocation~L-SUB needs OemMSP'],
    );
    await shops.net.submit(USERS.cmAdmin, TX.license.revoke, revoke, { endorsers: [OEM, CM] });
    const key = shops.net.ledger.keys().find((k) => k.includes('license-revocation') && k.includes('L-SUB'));
    expect(key, 'the revocation record').to.be.a('string');
    const policy = shops.net.ledger.validationParameter(key ?? '');
    expect(policyOrgs(policy ?? new Uint8Array())).to.deep.equal([CM, OEM, SUB].sort());
  });

  it('a build needs every guard of the license (DSI owner, grantor, holder); two licensees without the owner cannot', async () => {
    const request = shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS);
    await expectRefused(shops.net.submit(USERS.subOperator, TX.build.start, request, { endorsers: [SUB] }), [
      'key allocation~L-SUB~sub-eos-m290-1 needs ManufacturerMSP, OemMSP',
    ]);
    await expectRefused(
      shops.net.submit(USERS.subOperator, TX.build.start, request, { endorsers: [CM, SUB] }),
      ['key allocation~L-SUB~sub-eos-m290-1 needs OemMSP'],
    );
    await shops.net.submit(USERS.subOperator, TX.build.start, request, { endorsers: [OEM, CM, SUB] });
  });

  it("a licensee's self-licence is guarded by the DSI owner too: the licensee alone cannot use or change it", async () => {
    await shops.net.submit(USERS.cmAdmin, TX.license.split, {
      parentId: 'L-ROOT',
      licenseId: 'L-CM-SELF',
      holderMsp: CM,
      grant: { ...SUB_GRANT, quantity: 2, scrapAllowance: 0 },
      terms: ROOT_TERMS,
    });
    const allocate = {
      licenseId: 'L-CM-SELF',
      machineId: shops.cmMachine.machineId,
      quantity: 1,
      scrapAllowance: 0,
    };
    await expectRefused(shops.net.submit(USERS.cmAdmin, TX.license.allocate, allocate, { endorsers: [CM] }), [
      'key license-balance~L-CM-SELF needs OemMSP',
    ]);
    await shops.net.submit(USERS.cmAdmin, TX.license.allocate, allocate, { endorsers: [OEM, CM] });
    for (const key of shops.net.ledger.keys().filter((k) => k.includes('L-CM-SELF')))
      expect(policyOrgs(shops.net.ledger.validationParameter(key) ?? new Uint8Array()), key).to.deep.equal(
        [CM, OEM].sort(),
      );
  });

  it('the DSI owner cannot issue a licence to itself (its records would have one guard)', async () => {
    await expectLedgerError(
      shops.net.submit(USERS.oemAdmin, TX.license.issue, {
        ...ISSUE_ROOT,
        licenseId: 'L-OEM-SELF',
        holderMsp: OEM,
      }),
      'INVALID_ARGUMENT',
      /license L-OEM-SELF: OemMSP owns the DSI and cannot be issued a licence/,
    );
    expect(shops.net.ledger.keys().filter((k) => k.includes('L-OEM-SELF'))).to.deep.equal([]);
  });

  it('a DSI or machine cannot be created without the stakeholder (chaincode-level policy: OEM and one other)', async () => {
    const machine = {
      machineId: 'x1',
      make: 'EOS',
      model: 'M290',
      serial: 'x',
      firmware: '1',
      certifications: [],
      publicKeyPem: shops.subMachine.publicKeyPem,
      recipientPublicKeyPem: shops.subMachine.recipientPublicKeyPem,
    };
    await expectRefused(
      shops.net.submit(USERS.subMachineAdmin, TX.machine.register, machine, { endorsers: [SUB] }),
      ['key machine~x1 needs OemMSP'],
    );
    await expectRefused(
      shops.net.submit(USERS.subMachineAdmin, TX.machine.register, machine, { endorsers: [CM, SUB] }),
      ['key machine~x1 needs OemMSP'],
    );
    await shops.net.submit(USERS.subMachineAdmin, TX.machine.register, machine, { endorsers: [OEM, SUB] });
  });

  it("every key-level policy written names at least two distinct orgs, the DSI owner among them (but the owner's DSI record)", () => {
    for (const key of shops.net.ledger.keys()) {
      const policy = shops.net.ledger.validationParameter(key);
      // The DSI record is the owner's own (guarded by the owner and the channel stakeholders: here the same org).
      if (key.startsWith('\u0000dsi\u0000')) continue;
      expect(policy, `${key} has a key-level policy`).to.not.equal(undefined);
      const orgs = policyOrgs(policy ?? new Uint8Array());
      expect(orgs.length, key).to.be.at.least(2);
      expect(orgs, key).to.include(OEM);
    }
  });
});
