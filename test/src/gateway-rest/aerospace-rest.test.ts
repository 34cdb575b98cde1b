import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { signStartBuild, type BlockCensus } from '@threadseal/ledger-client';
import {
  rootTerms,
  SCENARIO_MACHINES,
  SCENARIO_PARAMETERS,
  SCENARIO_QUANTITIES,
  scenarioGrants,
  subTerms,
  newMachineKey,
} from '@threadseal/scenario';
import { protectDemoTdp } from '@threadseal/scenario/run';
import type { DsiTree } from '@threadseal/ledger-model';
import { censusSince } from '../fixtures/block-census';
import { closeConnections, connectAs } from '../fixtures/ledger';
import {
  nonCustodial,
  nonCustodialRead,
  restAs,
  startOrgGateway,
  stopGateways,
  userCredential,
  type RestCall,
} from '../fixtures/gateways';
import { testNetwork } from '../fixtures/network-fixture';

const DAY = 86_400_000;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The call's body after asserting it succeeded. */
async function ok<T>(response: Promise<{ status: number; text: string; body: unknown }>): Promise<T> {
  const res = await response;
  expect(res.status, res.text).to.equal(200);
  return res.body as T;
}

describe('the aerospace scenario driven only through the REST gateways of the three orgs', function () {
  const run = randomBytes(3).toString('hex');
  let tree: DsiTree;
  let census: BlockCensus;
  const overAllocation: { machineId: string; status: number; code: string }[] = [];
  let partsBuilt = 0;
  const ids = { root: `L-REST-ROOT-${run}`, floor: `L-REST-FLOOR-${run}`, sub: `L-REST-SUB-${run}` };
  let issueTx = '';
  let registerTx = '';

  before(async function () {
    const auditor = connectAs({ org: 'oem', user: 'ip-admin' });
    const heightBefore = await auditor.peerHeight();
    const oemGateway = await startOrgGateway('oem', `scenario-oem-${run}`, []);
    const cmUsers = ['license-admin', 'machine-admin', 'operator'];
    const cmGateway = await startOrgGateway('manufacturer', `scenario-cm-${run}`, cmUsers);
    const subGateway = await startOrgGateway('subcontractor', `scenario-sub-${run}`, cmUsers);
    const oemAdmin = restAs(oemGateway, 'oem', 'ip-admin');
    const at = (org: 'manufacturer' | 'subcontractor', user: string): RestCall =>
      restAs(org === 'manufacturer' ? cmGateway : subGateway, org, user);
    const { key: oemKey } = userCredential('oem', 'ip-admin');

    // The OEM keeps its key: it signs the DSI registration and the licence issue itself (non-custodial).
    // Sealed for a key-release key of its own: the REST scenario does not open the DSI.
    const dsi = await protectDemoTdp(testNetwork(), run, [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    ]);
    registerTx = (
      await ok<{ transactionId: string }>(nonCustodial(oemAdmin, oemKey, 'dsi:Register', dsi.register))
    ).transactionId;
    const now = Date.now();
    const grants = scenarioGrants({
      validFrom: new Date(now - DAY).toISOString(),
      validUntil: new Date(now + 365 * DAY).toISOString(),
      subValidUntil: new Date(now + 180 * DAY).toISOString(),
    });
    issueTx = (
      await ok<{ transactionId: string }>(
        nonCustodial(oemAdmin, oemKey, 'license:Issue', {
          licenseId: ids.root,
          dsiId: dsi.dsiId,
          holderMsp: 'ManufacturerMSP',
          grant: grants.root,
          confidential: false,
          terms: rootTerms(),
        }),
      )
    ).transactionId;

    const machines = SCENARIO_MACHINES.map((spec) => ({
      ...spec,
      ...newMachineKey(`${spec.name}-rest-${run}`),
    }));
    await Promise.all(
      machines.map((m) =>
        ok(
          at(m.org, 'machine-admin')('POST', '/v1/machines', {
            machineId: m.machineId,
            make: m.make,
            model: m.model,
            serial: `${m.machineId}-SN`,
            firmware: '4.2.1',
            certifications: [...m.certifications],
            publicKeyPem: m.publicKeyPem,
            recipientPublicKeyPem: m.recipientPublicKeyPem,
          }),
        ),
      ),
    );
    await ok(
      at('manufacturer', 'license-admin')('POST', '/v1/licenses/split', {
        parentId: ids.root,
        licenseId: ids.floor,
        holderMsp: 'ManufacturerMSP',
        grant: grants.floor,
        terms: rootTerms(),
      }),
    );
    await ok(
      at('manufacturer', 'license-admin')('POST', '/v1/licenses/split', {
        parentId: ids.root,
        licenseId: ids.sub,
        holderMsp: 'SubcontractorMSP',
        grant: grants.sub,
        terms: subTerms(),
      }),
    );
    await Promise.all(
      (['manufacturer', 'subcontractor'] as const).map(async (org) => {
        for (const m of machines.filter((candidate) => candidate.org === org)) {
          await ok(
            at(org, 'license-admin')('POST', '/v1/licenses/allocate', {
              licenseId: org === 'manufacturer' ? ids.floor : ids.sub,
              machineId: m.machineId,
              quantity: SCENARIO_QUANTITIES.perMachine,
              scrapAllowance: 0,
            }),
          );
        }
      }),
    );
    await Promise.all(
      machines.map(async (m) => {
        const operator = at(m.org, 'operator');
        const licenseId = m.org === 'manufacturer' ? ids.floor : ids.sub;
        const who = await ok<{ operator: string }>(operator('GET', '/v1/whoami'));
        const request = () =>
          signStartBuild(
            { licenseId, machineId: m.machineId, operator: who.operator, parameters: SCENARIO_PARAMETERS },
            m.privateKey,
          );
        for (let i = 1; i <= SCENARIO_QUANTITIES.perMachine; i++) {
          const started = await ok<{ value: { buildId: string } }>(
            operator('POST', '/v1/builds/start', request()),
          );
          await ok(
            operator('POST', '/v1/builds/complete', {
              buildId: started.value.buildId,
              partId: `SN-${m.machineId}-${i}`,
              processRecordDigest: sha256(`process record ${m.machineId} ${i}`),
            }),
          );
          partsBuilt++;
        }
        const fifth = await operator('POST', '/v1/builds/start', request());
        overAllocation.push({
          machineId: m.machineId,
          status: fifth.status,
          code: String((fifth.body as { code?: unknown }).code),
        });
      }),
    );
    // The OEM reads its tree with its own signature too. A signed read cannot wait for the OEM's peer to
    // catch up with the other orgs' last commits (docs/gateway.md), so it is repeated until it shows them.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const read = await ok<{ result: DsiTree }>(
        nonCustodialRead(oemAdmin, oemKey, 'trace:GetDsiTree', { dsiId: dsi.dsiId }),
      );
      tree = read.result;
      if (tree.parts.length >= 20 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    census = await censusSince(auditor, heightBefore);
  });
  after(async function () {
    await stopGateways();
    closeConnections();
  });

  it('built 4 parts on each of the 5 machines and refused every fifth with 409 ALLOCATION_EXHAUSTED', function () {
    expect(partsBuilt).to.equal(20);
    expect(tree.parts).to.have.length(20);
    expect(tree.builds.every((b) => b.status === 'completed')).to.equal(true);
    expect(overAllocation.map((o) => [o.status, o.code])).to.deep.equal(
      Array.from({ length: 5 }, () => [409, 'ALLOCATION_EXHAUSTED']),
    );
  });

  it('splits OEM 20 → manufacturer 12 + subcontractor 8 and uses every unit', function () {
    const byId = new Map(tree.licenses.map((l) => [l.license.licenseId, l]));
    expect([ids.root, ids.floor, ids.sub].map((id) => byId.get(id)?.license.grant.quantity)).to.deep.equal([
      20, 12, 8,
    ]);
    expect([ids.root, ids.floor, ids.sub].map((id) => byId.get(id)?.remaining)).to.deep.equal([0, 0, 0]);
    expect(tree.parts.filter((p) => p.producerMsp === 'SubcontractorMSP')).to.have.length(8);
  });

  it('commits every transaction VALID once, the OEM’s registration and issue signed by the OEM’s own key', async function () {
    expect(census.byValidationCode).to.deep.equal({ VALID: census.transactions });
    expect(census.repeatedTransactionIds).to.deep.equal({});
    const auditor = connectAs({ org: 'oem', user: 'ip-admin' });
    for (const tx of [registerTx, issueTx]) {
      const record = await auditor.transactionRecord(tx);
      expect(record.validationCode).to.equal('VALID');
      expect(record.creatorMspId).to.equal('OemMSP');
    }
  });
});
