import '@threadseal/test-support/quiet-logs';
import {
  EVENT,
  isEventName,
  TX,
  type Allocation,
  type Build,
  type Dsi,
  type DsiTree,
  type LicenseView,
  type Machine,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import { policyOrgs } from '../ledger/endorsement.js';
import { LedgerKeys } from '../ledger/keys.js';
import {
  CM,
  DSI,
  expectLedgerError,
  FLOOR_GRANT,
  GOOD_PARAMETERS,
  ISSUE_ROOT,
  OEM,
  SCENARIO_MACHINES,
  type ScenarioMachineSpec,
  ROOT_TERMS,
  sha256,
  START,
  SUB,
  SUB_GRANT,
  SUB_TERMS,
  USERS,
} from '@threadseal/test-support';
import { UnitTestMachine, UnitTestNetwork, UnitTestStub } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

const machinesOf = (
  org: ScenarioMachineSpec['org'],
): { spec: ScenarioMachineSpec; machine: UnitTestMachine }[] =>
  SCENARIO_MACHINES.filter((spec) => spec.org === org).map((spec) => ({
    spec,
    machine: new UnitTestMachine(spec.name),
  }));
const CM_MACHINES = machinesOf('manufacturer');
const SUB_MACHINES = machinesOf('subcontractor');

describe('aerospace scenario (unit test over the in-memory ChaincodeStub, with simulated endorsement validation)', function () {
  this.timeout(20_000);
  const net = new UnitTestNetwork(contracts, START);
  const keys = new LedgerKeys(new UnitTestStub(net.ledger, { txId: 'keys', timestamp: START, mspId: OEM }));
  let part = 0;

  async function build(
    user: typeof USERS.cmOperator,
    machine: UnitTestMachine,
    licenseId: string,
  ): Promise<Build> {
    net.advance(60_000);
    // Every record of the tree is guarded by the DSI owner, grantor and holder: CM→CM needs OEM and CM,
    // CM→SUB needs all three.
    const endorsers = user.mspId === SUB ? [OEM, CM, SUB] : [CM, OEM];
    const started = await net.submit<Build>(
      user,
      TX.build.start,
      machine.startBuild(user, licenseId, net.now, GOOD_PARAMETERS),
      { endorsers },
    );
    part += 1;
    return net.submit<Build>(
      user,
      TX.build.complete,
      {
        buildId: started.buildId,
        partId: `SN-${String(part).padStart(4, '0')}`,
        processRecordDigest: sha256(`log ${part}`),
      },
      { endorsers },
    );
  }

  it('OEM registers the DSI and licenses 20 parts to the contract manufacturer', async () => {
    const dsi = await net.submit<Dsi>(USERS.oemAdmin, TX.dsi.register, DSI, { endorsers: [OEM, CM] });
    expect(dsi).to.include({
      dsiId: DSI.dsiId,
      ownerMsp: OEM,
      status: 'active',
      registeredAt: START.toISOString(),
    });
    const root = await net.submit<LicenseView>(USERS.oemAdmin, TX.license.issue, ISSUE_ROOT, {
      endorsers: [OEM, CM],
    });
    expect(root.license).to.include({ grantorMsp: OEM, holderMsp: CM, parentId: null });
    expect(root.remaining).to.equal(20);
    expect(
      policyOrgs(net.ledger.validationParameter(keys.license('L-ROOT')) ?? new Uint8Array()),
    ).to.deep.equal([CM, OEM]);
    // No revocation record until a revocation creates it (a new key: the stakeholder and one other org).
    expect(net.ledger.get(keys.licenseRevocation('L-ROOT'))).to.have.length(0);
  });

  it('both manufacturers register their machines', async () => {
    for (const { machine, spec } of CM_MACHINES) {
      const registered = await net.submit<Machine>(
        USERS.cmMachineAdmin,
        TX.machine.register,
        machine.registration({
          make: spec.make,
          model: spec.model,
          serial: `${machine.machineId}-SN`,
          firmware: '4.2.1',
          certifications: spec.certifications,
        }),
        { endorsers: [CM, OEM] },
      );
      expect(registered.ownerMsp).to.equal(CM);
    }
    for (const { machine, spec } of SUB_MACHINES) {
      await net.submit<Machine>(
        USERS.subMachineAdmin,
        TX.machine.register,
        machine.registration({
          make: spec.make,
          model: spec.model,
          serial: `${machine.machineId}-SN`,
          firmware: '3.9.0',
          certifications: spec.certifications,
        }),
        { endorsers: [SUB, OEM] },
      );
    }
  });

  it('the contract manufacturer keeps 12 for its shop floor and sub-licenses 8 to the subcontractor', async () => {
    const floor = await net.submit<LicenseView>(
      USERS.cmAdmin,
      TX.license.split,
      {
        parentId: 'L-ROOT',
        licenseId: 'L-CM-FLOOR',
        holderMsp: CM,
        grant: FLOOR_GRANT,
        terms: ROOT_TERMS,
      },
      { endorsers: [OEM, CM] },
    );
    expect(floor.license).to.include({ grantorMsp: CM, holderMsp: CM, parentId: 'L-ROOT' });
    const sub = await net.submit<LicenseView>(
      USERS.cmAdmin,
      TX.license.split,
      {
        parentId: 'L-ROOT',
        licenseId: 'L-SUB',
        holderMsp: SUB,
        grant: SUB_GRANT,
        terms: SUB_TERMS,
      },
      { endorsers: [OEM, CM, SUB] },
    );
    expect(sub.license.ancestry).to.deep.equal(['L-ROOT']);
    expect(
      policyOrgs(net.ledger.validationParameter(keys.license('L-SUB')) ?? new Uint8Array()),
    ).to.deep.equal([CM, OEM, SUB]);
    const root = await net.evaluate<LicenseView>(USERS.oemAdmin, TX.license.get, { licenseId: 'L-ROOT' });
    expect(root.balance).to.include({ sublicensed: 20, allocated: 0 });
    expect(root.remaining).to.equal(0);
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.split, {
        parentId: 'L-ROOT',
        licenseId: 'L-EXTRA',
        holderMsp: SUB,
        grant: { ...SUB_GRANT, quantity: 1 },
        terms: SUB_TERMS,
      }),
      'LICENSE_EXHAUSTED',
      'license L-ROOT has 0 of 20 units left, sub-license L-EXTRA asks for 1',
    );
  });

  it('each manufacturer allocates 4 units to each of its machines', async () => {
    for (const { machine } of CM_MACHINES) {
      const allocation = await net.submit<Allocation>(
        USERS.cmAdmin,
        TX.license.allocate,
        {
          licenseId: 'L-CM-FLOOR',
          machineId: machine.machineId,
          quantity: 4,
          scrapAllowance: 0,
        },
        { endorsers: [CM, OEM] },
      );
      expect(allocation).to.include({ quantity: 4, consumed: 0 });
    }
    for (const { machine } of SUB_MACHINES) {
      await net.submit<Allocation>(
        USERS.subAdmin,
        TX.license.allocate,
        {
          licenseId: 'L-SUB',
          machineId: machine.machineId,
          quantity: 4,
          scrapAllowance: 0,
        },
        { endorsers: [OEM, CM, SUB] },
      );
    }
    expect(
      policyOrgs(
        net.ledger.validationParameter(keys.allocation('L-SUB', 'sub-eos-m290-1')) ?? new Uint8Array(),
      ),
    ).to.deep.equal([CM, OEM, SUB]);
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.allocate, {
        licenseId: 'L-CM-FLOOR',
        machineId: 'cm-eos-m400-1',
        quantity: 1,
        scrapAllowance: 0,
      }),
      'LICENSE_EXHAUSTED',
      'license L-CM-FLOOR has 0 of 12 units left, allocation to machine cm-eos-m400-1 asks for 1',
    );
  });

  it('every machine builds its 4 parts and the fifth attempt fails', async () => {
    for (const { machine } of CM_MACHINES) {
      for (let i = 0; i < 4; i += 1)
        expect((await build(USERS.cmOperator, machine, 'L-CM-FLOOR')).status).to.equal('completed');
      await expectLedgerError(
        net.submit(
          USERS.cmOperator,
          TX.build.start,
          machine.startBuild(USERS.cmOperator, 'L-CM-FLOOR', net.now, GOOD_PARAMETERS),
        ),
        'ALLOCATION_EXHAUSTED',
        `allocation of license L-CM-FLOOR to machine ${machine.machineId} has 0 of 4 units left`,
      );
    }
    for (const { machine } of SUB_MACHINES) {
      for (let i = 0; i < 4; i += 1)
        expect((await build(USERS.subOperator, machine, 'L-SUB')).partId).to.match(/^SN-/);
      await expectLedgerError(
        net.submit(
          USERS.subOperator,
          TX.build.start,
          machine.startBuild(USERS.subOperator, 'L-SUB', net.now, GOOD_PARAMETERS),
        ),
        'ALLOCATION_EXHAUSTED',
        `allocation of license L-SUB to machine ${machine.machineId} has 0 of 4 units left`,
      );
    }
  });

  it("the OEM's tree query shows the subcontractor's machines and parts", async () => {
    const tree = await net.evaluate<DsiTree>(USERS.oemAdmin, TX.trace.getDsiTree, { dsiId: DSI.dsiId });
    expect(tree.licenses.map((view) => view.license.licenseId)).to.deep.equal([
      'L-ROOT',
      'L-CM-FLOOR',
      'L-SUB',
    ]);
    expect(tree.allocations).to.have.length(5);
    expect(tree.machines.map((machine) => machine.machineId)).to.include.members([
      'sub-eos-m290-1',
      'sub-eos-m290-2',
    ]);
    expect(tree.builds).to.have.length(20);
    expect(tree.parts).to.have.length(20);
    expect(tree.parts.filter((p) => p.producerMsp === SUB)).to.have.length(8);
    expect(tree.allocations.every((a) => a.consumed === 4)).to.equal(true);
  });

  it('every state change emitted exactly one typed event', () => {
    const names = net.ledger.events.map((event) => event.name);
    expect(names.every(isEventName), 'every event name is an EVENT constant').to.equal(true);
    expect(names.filter((name) => name === EVENT.buildStarted)).to.have.length(20);
    expect(names.filter((name) => name === EVENT.buildCompleted)).to.have.length(20);
    expect(names.filter((name) => name === EVENT.unitsAllocated)).to.have.length(5);
    expect(names.filter((name) => name === EVENT.licenseSplit)).to.have.length(2);
    expect(names.slice(0, 2)).to.deep.equal([EVENT.dsiRegistered, EVENT.licenseIssued]);
    const split = net.ledger.events.find((event) => event.name === EVENT.licenseSplit);
    expect(split?.payload).to.deep.include({
      licenseId: 'L-CM-FLOOR',
      parentId: 'L-ROOT',
      parentRemaining: 8,
    });
  });

  it('allocation and license histories list every change, newest first', async () => {
    const history = await net.evaluate<{ value: Allocation }[]>(
      USERS.oemAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-2' },
    );
    expect(history.map((entry) => entry.value.consumed)).to.deep.equal([4, 3, 2, 1, 0]);
    const licenseHistory = await net.evaluate<{ balance: { value: { sublicensed: number } }[] }>(
      USERS.oemAdmin,
      TX.trace.getLicenseHistory,
      { licenseId: 'L-ROOT' },
    );
    expect(licenseHistory.balance.map((entry) => entry.value.sublicensed)).to.deep.equal([20, 12, 0]);
  });
});
