import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { RunningKeyRelease } from '@threadseal/key-release';
import {
  closeScenarioUsers,
  demoDsiStore,
  openReleased,
  openScenarioUsers,
  protectDemoTdp,
  runAerospaceScenario,
  waitForRelease,
  type DemoDsi,
  type ScenarioReport,
  type ScenarioUsers,
} from '@threadseal/scenario/run';
import type { BlockCensus } from '@threadseal/ledger-client';
import { startOemKeyRelease } from '../fixtures/key-release';
import { censusSince } from '../fixtures/block-census';
import { closeConnections, connectAs } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

describe('the aerospace scenario end to end on the real network (typed client)', function () {
  let users: ScenarioUsers | undefined;
  const oemAdmin = (): ScenarioUsers['oemAdmin'] => {
    if (!users) throw new Error('scenario users not opened');
    return users.oemAdmin;
  };
  let report: ScenarioReport;
  let dsi: DemoDsi;
  let census: BlockCensus;
  let keyRelease: RunningKeyRelease | undefined;
  /** What each machine got when it opened the DSI with the keys released to its build. */
  const openings: { buildId: string; allMatch: boolean; files: number }[] = [];

  before(async function () {
    const auditor = connectAs({ org: 'oem', user: 'ip-admin' });
    const heightBefore = await auditor.peerHeight();
    const opened = openScenarioUsers(testNetwork().connectionFile);
    users = opened;
    const network = testNetwork();
    ({ keyRelease } = await startOemKeyRelease(network, demoDsiStore(network), {
      storeDir: demoDsiStore(network),
    }));
    dsi = await protectDemoTdp(network, randomBytes(3).toString('hex'), [keyRelease.recipientPublicKey]);
    report = await runAerospaceScenario(opened, undefined, dsi.register, {
      onBuildStarted: async ({ buildId, machine, operator }) => {
        const result = await openReleased(dsi, machine, await waitForRelease(operator, buildId));
        openings.push({ buildId, allMatch: result.allMatch, files: result.files });
      },
    });
    // The scenario ends with the OEM reading its tree, so the OEM's peer holds every block it wrote.
    census = await censusSince(auditor, heightBefore);
  });
  after(async function () {
    if (users) closeScenarioUsers(users);
    closeConnections();
    await keyRelease?.stop();
  });

  it('orders each of its transactions once and commits every one VALID (counted from the blocks)', function () {
    // 20 builds are started and completed, plus the DSI, licences, machines and allocations.
    expect(census.transactions).to.be.greaterThan(40);
    expect(census.byValidationCode).to.deep.equal({ VALID: census.transactions });
    expect(census.repeatedTransactionIds).to.deep.equal({});
  });

  it('registers the DSI sealed by the OEM under the digest of its signed manifest', function () {
    expect(report.tree.dsi.dsiId).to.equal(dsi.dsiId);
    expect(report.tree.dsi.ownerMsp).to.equal('OemMSP');
    expect(report.tree.dsi.fileDigests.map((f) => f.ciphertextDigest)).to.deep.equal(
      dsi.fileDigests.map((f) => f.ciphertextDigest),
    );
  });

  it('releases the keys of each of the 20 builds to its machine, which opens the DSI in memory with them', function () {
    expect(openings).to.have.length(20);
    for (const o of openings) expect(o).to.include({ allMatch: true, files: dsi.plaintextDigests.size });
    const released = keyRelease?.decisions.filter((d) => d.outcome === 'released').map((d) => d.buildId);
    expect(released?.sort()).to.deep.equal(openings.map((o) => o.buildId).sort());
  });

  it('the sub-license to the subcontractor is endorsed by the subcontractor peer', function () {
    expect(report.subLicenseEndorsers).to.include('SubcontractorMSP');
  });

  it('splits OEM 20 → manufacturer 12 + subcontractor 8, and uses every unit', function () {
    const byId = new Map(report.tree.licenses.map((l) => [l.license.licenseId, l]));
    const root = byId.get(report.licenses.root);
    const floor = byId.get(report.licenses.floor);
    const sub = byId.get(report.licenses.sub);
    expect(root?.license.grant.quantity).to.equal(20);
    expect(root?.license.holderMsp).to.equal('ManufacturerMSP');
    expect(floor?.license.grant.quantity).to.equal(12);
    expect(floor?.license.parentId).to.equal(report.licenses.root);
    expect(sub?.license.grant.quantity).to.equal(8);
    expect(sub?.license.holderMsp).to.equal('SubcontractorMSP');
    expect([root, floor, sub].map((l) => l?.remaining)).to.deep.equal([0, 0, 0]);
  });

  it('built 4 parts on each of the 5 machines and recorded every part with its build', function () {
    expect(report.partsBuilt).to.equal(20);
    expect(report.tree.builds).to.have.length(20);
    expect(report.tree.builds.every((b) => b.status === 'completed')).to.equal(true);
    expect(report.tree.parts).to.have.length(20);
    for (const part of report.tree.parts) {
      const build = report.tree.builds.find((b) => b.buildId === part.buildId);
      expect(build?.machineId, part.partId).to.equal(part.machineId);
      expect(part.processRecordDigest).to.match(/^[0-9a-f]{64}$/);
    }
    for (const a of report.tree.allocations)
      expect([a.machineId, a.consumed, a.quantity]).to.deep.equal([a.machineId, 4, 4]);
  });

  it("refuses every build beyond a machine's allocation with ALLOCATION_EXHAUSTED", function () {
    expect(report.overAllocation).to.have.length(5);
    for (const o of report.overAllocation) {
      expect(o.code, o.message).to.equal('ALLOCATION_EXHAUSTED');
      expect(o.message).to.match(
        new RegExp(
          `^ALLOCATION_EXHAUSTED: allocation of license L-.* to machine ${o.machineId} has 0 of 4 units left$`,
        ),
      );
    }
  });

  it("shows the subcontractor's machines and parts in the OEM's tree", function () {
    const subMachines = report.tree.machines
      .filter((m) => m.ownerMsp === 'SubcontractorMSP')
      .map((m) => m.machineId);
    expect(subMachines.sort()).to.deep.equal(
      report.machines
        .filter((m) => m.org === 'subcontractor')
        .map((m) => m.machineId)
        .sort(),
    );
    expect(report.tree.parts.filter((p) => p.producerMsp === 'SubcontractorMSP')).to.have.length(8);
    expect(report.tree.parts.filter((p) => p.producerMsp === 'ManufacturerMSP')).to.have.length(12);
  });

  it('lets an auditor replay a part back to its build and the license history', async function () {
    const part = report.tree.parts.find((p) => p.producerMsp === 'SubcontractorMSP');
    if (!part) throw new Error('no subcontractor part');
    const history = await oemAdmin().trace.partHistory(part.partId);
    expect(history.part[0]?.value?.buildId).to.equal(part.buildId);
    // Newest first: completed, then running (the StartBuild write).
    expect(history.build.map((h) => h.value?.status)).to.deep.equal(['completed', 'running']);
    expect(history.build.every((h) => /^[0-9a-f]{64}$/.test(h.txId))).to.equal(true);
    const licenseHistory = await oemAdmin().trace.licenseHistory(report.licenses.sub);
    expect(licenseHistory.license[0]?.value?.licenseId).to.equal(report.licenses.sub);
    // The balance of the sub-license changed with each of its 2 allocations.
    expect(licenseHistory.balance.length).to.be.at.least(3);
  });
});
