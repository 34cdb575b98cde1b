import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { TransactionInvalidError, type ThreadsealLedger } from '@threadseal/ledger-client';
import type { Build, DsiTree, License, Machine, Part, RegisterDsiInput } from '@threadseal/ledger-model';
import { repoRoot } from '@threadseal/network';
import {
  fixtureDsi,
  grant,
  m400Terms,
  newMachineKey,
  SCENARIO_PARAMETERS,
  type MachineKey,
} from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';
import type { ForgedWrite } from '../rogue/rogue-chaincode';

/**
 * The rogue-peer suite (issue 7): the attacking orgs replace their own peers' chaincode with code that endorses
 * exactly the write set an attack needs (test/src/rogue/rogue-chaincode.ts) — what any org's administrator can
 * do. Each forged transaction must commit INVALID on the honest peers, and the DSI's whole tree, the machines,
 * parts and notes, read through the OEM's honest peer, must be unchanged.
 * Run alone: `node scripts/run-tests.mjs --integration --grep "rogue peer"`.
 */

const CM = 'ManufacturerMSP';
const SUB = 'SubcontractorMSP';
const run = randomBytes(3).toString('hex');
const terms = m400Terms({ qualifications: ['nadcap-am'], certifications: ['nadcap-am'] });
const ROGUE_MODULE = join(repoRoot(), 'test', 'rogue-chaincode');
const CM_PEER = 'peer0.manufacturer';
const SUB_PEER = 'peer0.subcontractor';

describe('rogue peer: forged write sets from dishonest orgs commit INVALID and change nothing (real network)', function () {
  this.timeout(240_000);
  const dsi = fixtureDsi(`rogue ${run}`, 'ROGUE-1');
  const { dsiId } = dsi;
  const rootId = `L-R-ROOT-${run}`;
  const floorId = `L-R-FLOOR-${run}`;
  const subId = `L-R-SUB-${run}`;
  const noteKey = `rogue-oem-note-${run}`;
  let sessions: LedgerSessions | undefined;
  let oem: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let subAdmin: ThreadsealLedger;
  let cmMachine: MachineKey;
  let subMachine: MachineKey;
  let completed: Build;
  let running: Build;
  let part: Part;
  const replaced: string[] = [];

  const open = (org: string, user: string): ThreadsealLedger => {
    sessions ??= new LedgerSessions(testNetwork().connectionFile, { causal: testCausalGroup });
    return sessions.as(org, user);
  };
  const signedByOem = (): RegisterDsiInput => {
    sessions ??= new LedgerSessions(testNetwork().connectionFile, { causal: testCausalGroup });
    return dsi.signedBy(sessions.dsiSigner('oem', 'ip-admin'));
  };

  /** Everything an attack could change, read through the OEM's honest peer. */
  interface Snapshot {
    readonly tree: DsiTree;
    readonly machines: readonly Machine[];
    readonly part: Part;
    readonly note: string;
  }
  async function snapshot(): Promise<Snapshot> {
    return {
      tree: await oem.trace.dsiTree(dsiId),
      machines: [await oem.machines.get(cmMachine.machineId), await oem.machines.get(subMachine.machineId)],
      part: await oem.trace.part(part.partId),
      note: Buffer.from(await oem.client.connection.evaluate('system:GetNote', [noteKey])).toString('utf8'),
    };
  }

  /**
   * Submits `rogue:Forge` through `attacker`'s own gateway, endorsed only by `endorsers` (the rogue peers),
   * and asserts it committed INVALID with ENDORSEMENT_POLICY_FAILURE and that nothing the OEM's peer shows
   * changed once it has the block.
   */
  async function forgedAndRefused(
    attacker: ThreadsealLedger,
    endorsers: readonly string[],
    writes: readonly ForgedWrite[],
  ): Promise<TransactionInvalidError> {
    const before = await snapshot();
    let caught: unknown;
    try {
      await attacker.client.connection.submit('rogue:Forge', [JSON.stringify({ writes })], {
        endorsingOrgs: endorsers,
      });
    } catch (err) {
      caught = err;
    }
    expect(caught, 'the forged transaction was accepted').to.be.instanceOf(TransactionInvalidError);
    const invalid = caught as TransactionInvalidError;
    expect(invalid.validationCode, invalid.message).to.equal('ENDORSEMENT_POLICY_FAILURE');
    // The OEM's peer has processed the forged transaction's block before we compare.
    const deadline = Date.now() + 30_000;
    while ((await oem.client.connection.peerHeight()) <= invalid.blockNumber) {
      if (Date.now() > deadline) throw new Error(`the OEM's peer never reached block ${invalid.blockNumber}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await snapshot(), 'state changed').to.deep.equal(before);
    return invalid;
  }

  const licenseOf = (id: string): License => {
    const view = baseline.tree.licenses.find((v) => v.license.licenseId === id);
    if (!view) throw new Error(`licence ${id} is not in the tree`);
    return view.license;
  };
  let baseline: Snapshot;

  before(async function () {
    oem = open('oem', 'ip-admin');
    cmAdmin = open('manufacturer', 'license-admin');
    subAdmin = open('subcontractor', 'license-admin');
    const cmMachines = open('manufacturer', 'machine-admin');
    const subMachines = open('subcontractor', 'machine-admin');
    const cmOperator = open('manufacturer', 'operator');
    const subOperator = open('subcontractor', 'operator');
    await oem.dsi.register(signedByOem());
    await oem.client.connection.submit('system:PutNote', [noteKey, 'written by the OEM']);
    await oem.licenses.issue({
      licenseId: rootId,
      dsiId,
      holderMsp: CM,
      grant: grant(10, { scrapAllowance: 2 }),
      confidential: false,
      terms,
    });
    // The contract manufacturer's own shop-floor licence (grantor = holder): attack 1's target.
    await cmAdmin.licenses.split({
      parentId: rootId,
      licenseId: floorId,
      holderMsp: CM,
      grant: grant(4, { maySublicense: false, scrapAllowance: 1 }),
      terms,
    });
    await cmAdmin.licenses.split({
      parentId: rootId,
      licenseId: subId,
      holderMsp: SUB,
      grant: grant(4, { maySublicense: false, scrapAllowance: 1 }),
      terms,
    });
    const register = async (admin: ThreadsealLedger, id: string): Promise<MachineKey> => {
      const m = newMachineKey(`${id}-${run}`);
      await admin.machines.register({
        machineId: m.machineId,
        make: 'EOS',
        model: 'M400',
        serial: `${m.machineId}-SN`,
        firmware: '1.0',
        certifications: ['nadcap-am'],
        publicKeyPem: m.publicKeyPem,
        recipientPublicKeyPem: m.recipientPublicKeyPem,
      });
      return m;
    };
    cmMachine = await register(cmMachines, 'r-cm');
    subMachine = await register(subMachines, 'r-sub');
    await cmAdmin.licenses.allocate({
      licenseId: floorId,
      machineId: cmMachine.machineId,
      quantity: 2,
      scrapAllowance: 1,
    });
    await subAdmin.licenses.allocate({
      licenseId: subId,
      machineId: subMachine.machineId,
      quantity: 2,
      scrapAllowance: 1,
    });
    const started = await cmOperator.builds.startWithMachineKey(
      { licenseId: floorId, machineId: cmMachine.machineId, parameters: SCENARIO_PARAMETERS },
      cmMachine.privateKey,
    );
    completed = (
      await cmOperator.builds.complete({
        buildId: started.value.buildId,
        partId: `P-R-${run}`,
        processRecordDigest: createHash('sha256').update(`log ${run}`).digest('hex'),
      })
    ).value;
    part = await oem.trace.part(`P-R-${run}`);
    running = (
      await subOperator.builds.startWithMachineKey(
        { licenseId: subId, machineId: subMachine.machineId, parameters: SCENARIO_PARAMETERS },
        subMachine.privateKey,
      )
    ).value;
    baseline = await snapshot();
    // From here on the contract manufacturer's peer runs the rogue chaincode.
    replaced.push(CM_PEER);
    await testNetwork().replaceChaincode(CM_PEER, ROGUE_MODULE);
    expect(await cmAdmin.client.connection.evaluate('rogue:WhoAmI', [])).to.satisfy((bytes: Uint8Array) =>
      Buffer.from(bytes).toString('utf8').startsWith('rogue chaincode on a peer of ManufacturerMSP'),
    );
  });

  after(async function () {
    this.timeout(120_000);
    try {
      for (const peer of replaced.splice(0)) await testNetwork().restoreChaincode(peer);
    } finally {
      sessions?.closeAll();
    }
  });

  const license = (id: string): Pick<ForgedWrite, 'objectType' | 'attributes'> => ({
    objectType: 'license',
    attributes: [id],
  });
  const balance = (id: string): Pick<ForgedWrite, 'objectType' | 'attributes'> => ({
    objectType: 'license-balance',
    attributes: [id],
  });
  const allocationOf = (
    licenseId: string,
    machineId: string,
  ): Pick<ForgedWrite, 'objectType' | 'attributes'> => ({
    objectType: 'allocation',
    attributes: [licenseId, machineId],
  });
  const allocationIn = (tree: DsiTree, licenseId: string, machineId: string) => {
    const found = tree.allocations.find((a) => a.licenseId === licenseId && a.machineId === machineId);
    if (!found) throw new Error(`no allocation ${licenseId}/${machineId}`);
    return found;
  };

  describe('one dishonest org (the contract manufacturer) alone', function () {
    it('rogue peer: self-licence — resets the units consumed on its own shop-floor licence', async function () {
      const allocation = allocationIn(baseline.tree, floorId, cmMachine.machineId);
      expect(allocation.consumed).to.equal(1);
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ ...allocationOf(floorId, cmMachine.machineId), value: { ...allocation, consumed: 0 } }],
      );
    });

    it('rogue peer: self-licence — raises the quantity of its own shop-floor licence and its allocation', async function () {
      const floor = licenseOf(floorId);
      const allocation = allocationIn(baseline.tree, floorId, cmMachine.machineId);
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          { ...license(floorId), value: { ...floor, grant: { ...floor.grant, quantity: 1000 } } },
          { ...allocationOf(floorId, cmMachine.machineId), value: { ...allocation, quantity: 1000 } },
        ],
      );
    });

    it('rogue peer: self-licence — rewrites a build record of its own licence', async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'build',
            attributes: [completed.buildId],
            value: {
              ...completed,
              parameters: { ...SCENARIO_PARAMETERS, laserPower: 1500 },
              partId: 'P-OTHER',
            },
          },
        ],
      );
    });

    it('rogue peer: self-licence — swaps the terms hash for wider terms', async function () {
      const floor = licenseOf(floorId);
      const wider = { ...terms, envelope: [] };
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            ...license(floorId),
            value: {
              ...floor,
              terms: wider,
              termsHash: createHash('sha256').update(JSON.stringify(wider)).digest('hex'),
            },
          },
        ],
      );
    });

    it('rogue peer: self-licence — claims its licence keys for itself with a one-org key-level policy', async function () {
      const floor = licenseOf(floorId);
      await forgedAndRefused(cmAdmin, [CM], [{ ...license(floorId), value: floor, policyOrgs: [CM] }]);
    });

    it('rogue peer: scrap — credits back a unit of a completed build and marks it scrapped', async function () {
      const allocation = allocationIn(baseline.tree, floorId, cmMachine.machineId);
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'build',
            attributes: [completed.buildId],
            value: { ...completed, status: 'scrapped', scrapCredited: true },
          },
          { ...allocationOf(floorId, cmMachine.machineId), value: { ...allocation, scrapCredited: 1 } },
        ],
      );
    });

    it('rogue peer: operator — rewrites who ran a build (a colleague instead of the operator)', async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'build',
            attributes: [completed.buildId],
            value: { ...completed, operatorId: 'x509::CN=colleague' },
          },
        ],
      );
    });

    it('rogue peer: operator relay — records a request the machine signed for a trainee as a build of a qualified colleague', async function () {
      // What the honest chaincode refuses (OPERATOR_MISMATCH, forbidden-actions suite), written by the CM's peer:
      // the unit consumed, the build under the colleague, the nonce used.
      const buildId = `relayed-build-${run}`;
      const allocation = allocationIn(baseline.tree, floorId, cmMachine.machineId);
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            ...allocationOf(floorId, cmMachine.machineId),
            value: { ...allocation, consumed: allocation.consumed + 1 },
          },
          {
            objectType: 'build',
            attributes: [buildId],
            value: { ...completed, buildId, status: 'running', partId: null, nonce: `relayed-${run}` },
          },
          { objectType: 'nonce', attributes: [cmMachine.machineId, `relayed-${run}`], raw: buildId },
          {
            objectType: 'tree',
            attributes: [dsiId, 'build', buildId],
            raw: `\u0000build\u0000${buildId}\u0000`,
          },
        ],
      );
    });

    it('rogue peer: machine key — publishes a private key as its machine key, and swaps the key', async function () {
      const [machine] = baseline.machines;
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'machine',
            attributes: [cmMachine.machineId],
            value: {
              ...machine,
              publicKeyPem: cmMachine.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            },
          },
        ],
      );
      const other = newMachineKey(`r-other-${run}`);
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'machine',
            attributes: [cmMachine.machineId],
            value: { ...machine, publicKeyPem: other.publicKeyPem },
          },
        ],
      );
    });

    it('rogue peer: clock — backdates a completed build and its part', async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'build',
            attributes: [completed.buildId],
            value: { ...completed, endedAt: '2000-01-01T00:00:00.000Z' },
          },
          {
            objectType: 'part',
            attributes: [part.partId],
            value: { ...part, producedAt: '2000-01-01T00:00:00.000Z' },
          },
        ],
      );
    });

    it('rogue peer: part — rewrites a part record (producer, build) and squats a new part id', async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ objectType: 'part', attributes: [part.partId], value: { ...part, buildId: running.buildId } }],
      );
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [
          {
            objectType: 'part',
            attributes: [`P-SQUAT-${run}`],
            value: { ...part, partId: `P-SQUAT-${run}` },
          },
        ],
      );
    });

    it('rogue peer: nonce — deletes a used StartBuild nonce so the signed request can be replayed', async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ objectType: 'nonce', attributes: [cmMachine.machineId, completed.nonce], delete: true }],
      );
    });

    it("rogue peer: PutNote — overwrites the OEM's note and writes a new key alone", async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ objectType: 'note', attributes: [noteKey], raw: 'rewritten' }],
      );
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ objectType: 'note', attributes: [`cm-alone-${run}`], raw: 'x' }],
      );
    });

    it("rogue peer: DSI — takes over the OEM's DSI record", async function () {
      await forgedAndRefused(
        cmAdmin,
        [CM],
        [{ objectType: 'dsi', attributes: [dsiId], value: { ...baseline.tree.dsi, ownerMsp: CM } }],
      );
    });
  });

  describe('two dishonest orgs (contract manufacturer and subcontractor) colluding without the OEM', function () {
    before(async function () {
      replaced.push(SUB_PEER);
      await testNetwork().replaceChaincode(SUB_PEER, ROGUE_MODULE);
    });

    it('rogue peer: root licence — creates a licence "issued by the OEM" with a million units', async function () {
      const fakeId = `L-R-FAKE-ROOT-${run}`;
      const fake = {
        ...licenseOf(rootId),
        licenseId: fakeId,
        grant: { ...licenseOf(rootId).grant, quantity: 1_000_000 },
      };
      await forgedAndRefused(
        cmAdmin,
        [CM, SUB],
        [
          { ...license(fakeId), value: fake, policyOrgs: [CM, SUB] },
          {
            ...balance(fakeId),
            value: { licenseId: fakeId, sublicensed: 0, allocated: 0, scrapAllowanceAllocated: 0 },
          },
          {
            objectType: 'tree',
            attributes: [dsiId, 'license', fakeId],
            raw: `\u0000license\u0000${fakeId}\u0000`,
          },
        ],
      );
    });

    it("rogue peer: child licence — creates a sub-licence under the OEM's root without touching its balance", async function () {
      const fakeId = `L-R-FAKE-CHILD-${run}`;
      const fake = {
        ...licenseOf(subId),
        licenseId: fakeId,
        grant: { ...licenseOf(subId).grant, quantity: 500 },
      };
      await forgedAndRefused(
        cmAdmin,
        [CM, SUB],
        [
          { ...license(fakeId), value: fake },
          {
            ...balance(fakeId),
            value: { licenseId: fakeId, sublicensed: 0, allocated: 500, scrapAllowanceAllocated: 0 },
          },
          {
            ...allocationOf(fakeId, subMachine.machineId),
            value: {
              ...allocationIn(baseline.tree, subId, subMachine.machineId),
              licenseId: fakeId,
              quantity: 500,
              consumed: 0,
            },
          },
        ],
      );
    });

    it('rogue peer: sub-licence — raise the units of the licence granted between them', async function () {
      const sub = licenseOf(subId);
      const allocation = allocationIn(baseline.tree, subId, subMachine.machineId);
      await forgedAndRefused(
        cmAdmin,
        [CM, SUB],
        [
          { ...license(subId), value: { ...sub, grant: { ...sub.grant, quantity: 400 } } },
          {
            ...allocationOf(subId, subMachine.machineId),
            value: { ...allocation, quantity: 400, consumed: 0 },
          },
        ],
      );
    });

    it('rogue peer: scrap — the subcontractor is credited a scrapped unit beyond the allowance', async function () {
      const allocation = allocationIn(baseline.tree, subId, subMachine.machineId);
      await forgedAndRefused(
        subAdmin,
        [CM, SUB],
        [
          {
            ...allocationOf(subId, subMachine.machineId),
            value: { ...allocation, scrapAllowance: 5, scrapCredited: 5 },
          },
        ],
      );
    });

    it('rogue peer: DSI squat — registers a DSI id first as its owner', async function () {
      const squatted = fixtureDsi(`rogue squat ${run}`, 'ROGUE-SQUAT');
      await forgedAndRefused(
        subAdmin,
        [CM, SUB],
        [
          {
            objectType: 'dsi',
            attributes: [squatted.dsiId],
            value: { ...baseline.tree.dsi, dsiId: squatted.dsiId, ownerMsp: SUB },
            policyOrgs: [SUB],
          },
        ],
      );
      expect(await oem.dsi.get(squatted.dsiId).catch((err: unknown) => (err as Error).message)).to.match(
        /^NOT_FOUND/,
      );
    });

    it('rogue peer: machine — the subcontractor rewrites its machine record alone and with the CM', async function () {
      const [, machine] = baseline.machines;
      await forgedAndRefused(
        subAdmin,
        [SUB],
        [
          {
            objectType: 'machine',
            attributes: [subMachine.machineId],
            value: { ...machine, certifications: ['as9100', 'nadcap-am'] },
          },
        ],
      );
      await forgedAndRefused(
        subAdmin,
        [CM, SUB],
        [
          {
            objectType: 'machine',
            attributes: [subMachine.machineId],
            value: { ...machine, status: 'active', serial: 'other' },
          },
        ],
      );
    });

    it("rogue peer: build — creates a build and its part on the subcontractor's machine without consuming a unit", async function () {
      const buildId = `forged-build-${run}`;
      await forgedAndRefused(
        subAdmin,
        [CM, SUB],
        [
          {
            objectType: 'build',
            attributes: [buildId],
            value: { ...running, buildId, status: 'completed', partId: `P-F-${run}` },
          },
          {
            objectType: 'part',
            attributes: [`P-F-${run}`],
            value: { ...part, partId: `P-F-${run}`, buildId },
          },
          {
            objectType: 'tree',
            attributes: [dsiId, 'build', buildId],
            raw: `\u0000build\u0000${buildId}\u0000`,
          },
        ],
      );
    });

    it('rogue peer: PutNote — writes a note key without the stakeholder', async function () {
      await forgedAndRefused(
        subAdmin,
        [CM, SUB],
        [{ objectType: 'note', attributes: [`pair-${run}`], raw: 'x' }],
      );
    });
  });
});
