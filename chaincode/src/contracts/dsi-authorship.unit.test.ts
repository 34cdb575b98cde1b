import '@threadseal/test-support/quiet-logs';
import { TX, type Dsi, type RegisterDsiInput } from '@threadseal/ledger-model';
import { expect } from 'chai';
import {
  certificateFingerprint,
  DSI,
  DSI_MANIFEST,
  expectLedgerError,
  OEM,
  OEM_IP_ADMIN,
  START,
  SUB,
  SUB_IP_ADMIN,
  unitTestDsi,
  USERS,
} from '@threadseal/test-support';
import { UnitTestNetwork } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

/** The registration refused, and nothing written: the DSI is not registered. */
async function expectNotRegistered(net: UnitTestNetwork, dsiId: string): Promise<void> {
  expect(net.ledger.keys()).to.deep.equal([]);
  await expectLedgerError(
    net.evaluate(USERS.cmAdmin, TX.dsi.get, { dsiId }),
    'NOT_FOUND',
    `DSI ${dsiId} does not exist`,
  );
}

describe('dsi:Register proves authorship: the signer of the manifest registers it (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);

  it('records the fields of the verified manifest, the signer fingerprint and the submitter org', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const dsi = await net.submit<Dsi>(USERS.oemAdmin, TX.dsi.register, DSI);
    expect(dsi).to.deep.include({
      dsiId: DSI_MANIFEST.dsiId,
      ownerMsp: OEM,
      partNumber: DSI_MANIFEST.partNumber,
      revision: DSI_MANIFEST.revision,
      title: DSI_MANIFEST.title,
      fileDigests: DSI_MANIFEST.fileDigests,
      ownerCertFingerprint: certificateFingerprint(OEM_IP_ADMIN),
    });
  });

  it('BAD_SIGNATURE: a forged signature, or one by another key under the OEM certificate', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const other = DSI_MANIFEST.signedBy(SUB_IP_ADMIN).signature;
    for (const signature of [other, Buffer.from('not a signature').toString('base64')]) {
      await expectLedgerError(
        net.submit(USERS.oemAdmin, TX.dsi.register, { ...DSI, signature }),
        'BAD_SIGNATURE',
        `signature over the manifest of DSI ${DSI.dsiId} does not verify with the key of OU=client, CN=oem-ip-admin`,
      );
    }
    // A signature over other bytes: the manifest was changed after signing.
    const changed = Buffer.from(DSI.manifest, 'base64').toString('utf8').replace('BRKT-7731', 'BRKT-7732');
    const manifest = Buffer.from(changed).toString('base64');
    const dsiId = unitTestDsi({ partNumber: 'BRKT-7732' }).dsiId;
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.register, { ...DSI, dsiId, manifest }),
      'BAD_SIGNATURE',
      `signature over the manifest of DSI ${dsiId} does not verify with the key of OU=client, CN=oem-ip-admin`,
    );
    await expectNotRegistered(net, DSI.dsiId);
  });

  it('FORBIDDEN: a manifest signed by another signer, submitted by the OEM', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const bySub = DSI_MANIFEST.signedBy(SUB_IP_ADMIN);
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.register, bySub),
      'FORBIDDEN',
      new RegExp(
        `DSI ${DSI.dsiId} is signed by certificate [0-9A-F:]+, submitter ${OEM} has [0-9A-F:]+: only the signer registers a DSI`,
      ),
    );
    await expectNotRegistered(net, DSI.dsiId);
  });

  it("FORBIDDEN: a subcontractor ip-admin replaying the OEM's signed manifest cannot squat its DSI id; the OEM still registers it", async () => {
    const net = new UnitTestNetwork(contracts, START);
    await expectLedgerError(
      net.submit(USERS.subIpAdmin, TX.dsi.register, DSI),
      'FORBIDDEN',
      new RegExp(
        `DSI ${DSI.dsiId} is signed by certificate [0-9A-F:]+, submitter ${SUB} has [0-9A-F:]+: only the signer registers a DSI`,
      ),
    );
    await expectNotRegistered(net, DSI.dsiId);
    // Signed by itself, a manifest naming the OEM as creator is still not the subcontractor's to register.
    await expectLedgerError(
      net.submit(USERS.subIpAdmin, TX.dsi.register, DSI_MANIFEST.signedBy(SUB_IP_ADMIN)),
      'FORBIDDEN',
      `manifest of DSI ${DSI.dsiId} names creator ${OEM}, submitter is ${SUB}`,
    );
    await expectNotRegistered(net, DSI.dsiId);
    const dsi = await net.submit<Dsi>(USERS.oemAdmin, TX.dsi.register, DSI);
    expect(dsi).to.include({ dsiId: DSI.dsiId, ownerMsp: OEM });
    // What the subcontractor signed itself, it may register as its own.
    const own = unitTestDsi({ partNumber: 'SUB-1', creatorMsp: SUB }).signedBy(SUB_IP_ADMIN);
    expect(await net.submit<Dsi>(USERS.subIpAdmin, TX.dsi.register, own)).to.include({ ownerMsp: SUB });
  });

  it('INVALID_ARGUMENT: a client-supplied id that is not the digest of the signed manifest', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const squatted = unitTestDsi({ revision: 'Z' }).dsiId;
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.register, { ...DSI, dsiId: squatted }),
      'INVALID_ARGUMENT',
      `dsiId ${squatted} is not the digest of the signed manifest, which is ${DSI.dsiId}`,
    );
    await expectNotRegistered(net, squatted);
  });

  it('FORBIDDEN: a successor revision signed by someone other than the submitter', async () => {
    const net = new UnitTestNetwork(contracts, START);
    await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
    const successor: RegisterDsiInput = unitTestDsi({ revision: 'D' }).signedBy(SUB_IP_ADMIN);
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.supersede, { dsiId: DSI.dsiId, successor }),
      'FORBIDDEN',
      /DSI [0-9a-f]{64} is signed by certificate/,
    );
    const old = await net.evaluate<Dsi>(USERS.cmAdmin, TX.dsi.get, { dsiId: DSI.dsiId });
    expect(old).to.include({ status: 'active', supersededBy: null });
  });
});
