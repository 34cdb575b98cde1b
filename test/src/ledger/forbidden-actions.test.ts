import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  signScrapRecord,
  signStartBuild,
  TransactionInvalidError,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import { LedgerError, type DsiTree, type LicenseMode, type RegisterDsiInput } from '@threadseal/ledger-model';
import {
  fixtureDsi,
  grant,
  m400Terms,
  newMachineKey,
  SCENARIO_PARAMETERS,
  type FixtureDsi,
  type MachineKey,
} from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

const DAY = 86_400_000;
const run = randomBytes(3).toString('hex');
const terms = m400Terms({ qualifications: ['nadcap-am'], certifications: ['nadcap-am'] });

/** Resolves to the refusal: a LedgerError (business rule) or a TransactionInvalidError (policy at commit). */
async function refusal(p: Promise<unknown>): Promise<LedgerError | TransactionInvalidError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LedgerError || err instanceof TransactionInvalidError) return err;
    throw err;
  }
  throw new Error('the forbidden action was accepted');
}

describe('forbidden actions: each is refused with its code and changes no state (real network)', function () {
  const dsi = fixtureDsi(`forbidden ${run}`, 'FORBID-1');
  const { dsiId } = dsi;
  const rootId = `L-F-ROOT-${run}`;
  const floorId = `L-F-FLOOR-${run}`;
  let oem: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let cmMachines: ThreadsealLedger;
  let cmOperator: ThreadsealLedger;
  let subAdmin: ThreadsealLedger;
  const machines: MachineKey[] = [];
  let sessions: LedgerSessions | undefined;
  let syncs = 0;
  const open = (org: string, user: string): ThreadsealLedger => {
    sessions ??= new LedgerSessions(testNetwork().connectionFile, { causal: testCausalGroup });
    return sessions.as(org, user);
  };
  /** The registration of `fixture` signed by the OEM ip-admin, who submits it. */
  const signedByOem = (fixture: FixtureDsi): RegisterDsiInput => {
    sessions ??= new LedgerSessions(testNetwork().connectionFile, { causal: testCausalGroup });
    return fixture.signedBy(sessions.dsiSigner('oem', 'ip-admin'));
  };

  async function registerMachine(model: string, certifications = ['nadcap-am']): Promise<MachineKey> {
    const m = newMachineKey(`f-${model.toLowerCase()}-${machines.length}-${run}`);
    await cmMachines.machines.register({
      machineId: m.machineId,
      make: 'EOS',
      model,
      serial: `${m.machineId}-SN`,
      firmware: '1.0',
      certifications,
      publicKeyPem: m.publicKeyPem,
      recipientPublicKeyPem: m.recipientPublicKeyPem,
    });
    machines.push(m);
    return m;
  }

  /**
   * Runs the forbidden action and checks the DSI's whole tree is the same before and after. The OEM's peer
   * is first brought level with the last commit (a committed no-op through it), so a block it had not yet
   * received cannot pass for a change made by the refused action.
   */
  async function refusedWithoutChange(
    action: () => Promise<unknown>,
    tree = dsiId,
  ): Promise<LedgerError | TransactionInvalidError> {
    syncs += 1;
    await oem.client.connection.submit('system:PutNote', [`sync-${run}-${syncs}`, String(Date.now())]);
    const before: DsiTree = await oem.trace.dsiTree(tree);
    const err = await refusal(action());
    const after: DsiTree = await oem.trace.dsiTree(tree);
    expect(after, 'state changed').to.deep.equal(before);
    return err;
  }

  function expectCode(err: LedgerError | TransactionInvalidError, code: string, message?: RegExp): void {
    if (err instanceof LedgerError) {
      expect(err.code, err.message).to.equal(code);
      expect(err.message.startsWith(`${code}: `)).to.equal(true);
      if (message) expect(err.message).to.match(message);
    } else {
      expect(err.validationCode, err.message).to.equal(code);
    }
  }

  before(async function () {
    oem = open('oem', 'ip-admin');
    cmAdmin = open('manufacturer', 'license-admin');
    cmMachines = open('manufacturer', 'machine-admin');
    cmOperator = open('manufacturer', 'operator');
    subAdmin = open('subcontractor', 'license-admin');
    await oem.dsi.register(signedByOem(dsi));
    await oem.licenses.issue({
      licenseId: rootId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(10),
      confidential: false,
      terms,
    });
    await cmAdmin.licenses.split({
      parentId: rootId,
      licenseId: floorId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(4, { maySublicense: false }),
      terms,
    });
    const m = await registerMachine('M400');
    await cmAdmin.licenses.allocate({
      licenseId: floorId,
      machineId: m.machineId,
      quantity: 4,
      scrapAllowance: 0,
    });
  });

  after(function () {
    sessions?.closeAll();
  });

  it('NARROWING_VIOLATION: a sub-license may not widen a parameter range', async function () {
    const wider = {
      ...terms,
      envelope: terms.envelope.map((p) =>
        p.name === 'laserPower' && p.kind === 'range' ? { ...p, max: 450 } : p,
      ),
    };
    const err = await refusedWithoutChange(() =>
      cmAdmin.licenses.split({
        parentId: rootId,
        licenseId: `L-F-W1-${run}`,
        holderMsp: 'SubcontractorMSP',
        grant: grant(1),
        terms: wider,
      }),
    );
    expectCode(err, 'NARROWING_VIOLATION', /laserPower/);
  });

  it('NARROWING_VIOLATION: a sub-license may not outlive its parent or add a machine model', async function () {
    const later = grant(1, { validUntil: new Date(Date.parse(grant(1).validUntil) + DAY).toISOString() });
    expectCode(
      await refusedWithoutChange(() =>
        cmAdmin.licenses.split({
          parentId: rootId,
          licenseId: `L-F-W2-${run}`,
          holderMsp: 'SubcontractorMSP',
          grant: later,
          terms,
        }),
      ),
      'NARROWING_VIOLATION',
      /validUntil/,
    );
    const moreModels = { ...terms, machines: { ...terms.machines, models: ['M400', 'M290'] } };
    expectCode(
      await refusedWithoutChange(() =>
        cmAdmin.licenses.split({
          parentId: rootId,
          licenseId: `L-F-W3-${run}`,
          holderMsp: 'SubcontractorMSP',
          grant: grant(1),
          terms: moreModels,
        }),
      ),
      'NARROWING_VIOLATION',
    );
  });

  it('LICENSE_EXHAUSTED: splitting more than remains', async function () {
    const err = await refusedWithoutChange(() =>
      cmAdmin.licenses.split({
        parentId: rootId,
        licenseId: `L-F-BIG-${run}`,
        holderMsp: 'SubcontractorMSP',
        grant: grant(7),
        terms,
      }),
    );
    expectCode(err, 'LICENSE_EXHAUSTED', new RegExp(`license ${rootId} has 6 of 10 units left`));
  });

  for (const mode of ['distribution', 'engineering'] as LicenseMode[]) {
    it(`MODE_NOT_PERMITTED: no production under a ${mode} license`, async function () {
      const id = `L-F-${mode}-${run}`;
      // Distribution ranks above manufacturing (it may sub-license), so the OEM issues it directly.
      if (mode === 'distribution') {
        await oem.licenses.issue({
          licenseId: id,
          dsiId,
          holderMsp: 'ManufacturerMSP',
          grant: grant(1, { mode }),
          confidential: false,
          terms,
        });
      } else {
        await cmAdmin.licenses.split({
          parentId: rootId,
          licenseId: id,
          holderMsp: 'ManufacturerMSP',
          grant: grant(1, { mode, maySublicense: false }),
          terms,
        });
      }
      const m = machines[0];
      if (!m) throw new Error('no machine');
      const err = await refusedWithoutChange(() =>
        cmAdmin.licenses.allocate({ licenseId: id, machineId: m.machineId, quantity: 1, scrapAllowance: 0 }),
      );
      expectCode(err, 'MODE_NOT_PERMITTED', new RegExp(id));
    });
  }

  it('MACHINE_NOT_ELIGIBLE: allocating to a machine outside the constraints', async function () {
    const wrongModel = await registerMachine('M290');
    expectCode(
      await refusedWithoutChange(() =>
        cmAdmin.licenses.allocate({
          licenseId: floorId,
          machineId: wrongModel.machineId,
          quantity: 1,
          scrapAllowance: 0,
        }),
      ),
      'MACHINE_NOT_ELIGIBLE',
      new RegExp(wrongModel.machineId),
    );
    const uncertified = await registerMachine('M400', []);
    expectCode(
      await refusedWithoutChange(() =>
        cmAdmin.licenses.allocate({
          licenseId: floorId,
          machineId: uncertified.machineId,
          quantity: 1,
          scrapAllowance: 0,
        }),
      ),
      'MACHINE_NOT_ELIGIBLE',
      /nadcap-am/,
    );
  });

  it('OPERATOR_NOT_QUALIFIED: an operator without the required qualification cannot start a build', async function () {
    const user = `trainee-${run}`;
    await testNetwork().registerUser('manufacturer', user, { role: 'am-operator', qualification: 'ndt-2' });
    const trainee = open('manufacturer', user);
    const m = machines[0];
    if (!m) throw new Error('no machine');
    const err = await refusedWithoutChange(() =>
      trainee.builds.startWithMachineKey(
        { licenseId: floorId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
        m.privateKey,
      ),
    );
    expectCode(err, 'OPERATOR_NOT_QUALIFIED', /nadcap-am/);
  });

  it('OPERATOR_MISMATCH: a trainee’s request relayed by a qualified colleague is refused, and the colleague cannot claim it', async function () {
    const user = `relayed-trainee-${run}`;
    await testNetwork().registerUser('manufacturer', user, { role: 'am-operator', qualification: 'ndt-2' });
    const trainee = open('manufacturer', user);
    const m = machines[0];
    if (!m) throw new Error('no machine');
    // The machine signs for the operator logged in at it — the trainee; the colleague (cmOperator) submits it.
    const relayed = signStartBuild(
      {
        operator: trainee.client.operator,
        licenseId: floorId,
        machineId: m.machineId,
        parameters: SCENARIO_PARAMETERS,
      },
      m.privateKey,
    );
    const err = await refusedWithoutChange(() => cmOperator.builds.start(relayed));
    expectCode(
      err,
      'OPERATOR_MISMATCH',
      /names operator [0-9a-f]{16}…, submitted by a ManufacturerMSP identity/,
    );
    // Rewriting the operator to the colleague breaks the machine's signature.
    const rewritten = refusedWithoutChange(() =>
      cmOperator.builds.start({
        ...relayed,
        request: { ...relayed.request, operator: cmOperator.client.operator },
      }),
    );
    expectCode(await rewritten, 'BAD_SIGNATURE');
  });

  it('PARAMETER_OUT_OF_ENVELOPE: a program outside the licensed laser power', async function () {
    const m = machines[0];
    if (!m) throw new Error('no machine');
    const err = await refusedWithoutChange(() =>
      cmOperator.builds.start(
        signStartBuild(
          {
            operator: cmOperator.client.operator,
            licenseId: floorId,
            machineId: m.machineId,
            parameters: { ...SCENARIO_PARAMETERS, laserPower: 500 },
          },
          m.privateKey,
        ),
      ),
    );
    expectCode(err, 'PARAMETER_OUT_OF_ENVELOPE', /laserPower/);
  });

  it('BAD_SIGNATURE: a request not signed by the machine registered key', async function () {
    const m = machines[0];
    if (!m) throw new Error('no machine');
    const impostor = newMachineKey('impostor').privateKey;
    const err = await refusedWithoutChange(() =>
      cmOperator.builds.startWithMachineKey(
        { licenseId: floorId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
        impostor,
      ),
    );
    expectCode(err, 'BAD_SIGNATURE');
    const signed = signStartBuild(
      {
        operator: cmOperator.client.operator,
        licenseId: floorId,
        machineId: m.machineId,
        parameters: SCENARIO_PARAMETERS,
      },
      m.privateKey,
    );
    const unsigned = await refusedWithoutChange(() =>
      cmOperator.builds.start({ request: signed.request, signature: '' }),
    );
    expect(
      unsigned instanceof LedgerError && ['BAD_SIGNATURE', 'INVALID_ARGUMENT'].includes(unsigned.code),
      unsigned.message,
    ).to.equal(true);
  });

  it('SCRAP_EVIDENCE_REQUIRED: a scrapped unit is credited back only on the machine’s signed scrap record', async function () {
    const scrapRoot = `L-F-SCRAP-${run}`;
    await oem.licenses.issue({
      licenseId: scrapRoot,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(2, { scrapAllowance: 1 }),
      confidential: false,
      terms,
    });
    const m = await registerMachine('M400');
    await cmAdmin.licenses.allocate({
      licenseId: scrapRoot,
      machineId: m.machineId,
      quantity: 2,
      scrapAllowance: 1,
    });
    const started = await cmOperator.builds.startWithMachineKey(
      { licenseId: scrapRoot, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
      m.privateKey,
    );
    const record = {
      buildId: started.value.buildId,
      reason: 'porosity above limit',
      evidenceDigest: createHash('sha256').update(`ct scan ${run}`).digest('hex'),
    };
    // The licensee's word alone: refused, nothing credited.
    expectCode(
      await refusedWithoutChange(() => cmOperator.builds.scrap({ ...record, requestCredit: true })),
      'SCRAP_EVIDENCE_REQUIRED',
      /signed by machine/,
    );
    // Signed by another key (the "machine" the licensee would make up): refused, nothing credited.
    const forged = signScrapRecord(record, newMachineKey('forger').privateKey);
    expectCode(
      await refusedWithoutChange(() =>
        cmOperator.builds.scrap({ ...record, requestCredit: true, machineSignature: forged }),
      ),
      'BAD_SIGNATURE',
      /scrap record is not signed by the registered key/,
    );
    // The machine's own record: credited, the unit is back.
    const scrapped = await cmOperator.builds.scrap({
      ...record,
      requestCredit: true,
      machineSignature: signScrapRecord(record, m.privateKey),
    });
    expect(scrapped.value).to.include({ status: 'scrapped', scrapCredited: true });
    const allocation = (await oem.trace.dsiTree(dsiId)).allocations.find(
      (a) => a.licenseId === scrapRoot && a.machineId === m.machineId,
    );
    expect(allocation).to.include({ consumed: 1, scrapCredited: 1 });
  });

  it('REPLAYED_REQUEST: the same signed request cannot start a second build', async function () {
    const m = machines[0];
    if (!m) throw new Error('no machine');
    const signed = signStartBuild(
      {
        operator: cmOperator.client.operator,
        licenseId: floorId,
        machineId: m.machineId,
        parameters: SCENARIO_PARAMETERS,
      },
      m.privateKey,
    );
    await cmOperator.builds.start(signed);
    const err = await refusedWithoutChange(() => cmOperator.builds.start(signed));
    expectCode(err, 'REPLAYED_REQUEST', new RegExp(signed.request.nonce));
  });

  it("FORBIDDEN: a subcontractor ip-admin cannot squat the OEM's DSI id by replaying its signed manifest; the OEM still registers it", async function () {
    const user = `sub-ip-admin-${run}`;
    await testNetwork().registerUser('subcontractor', user, { role: 'ip-admin' });
    const squatter = open('subcontractor', user);
    const target = fixtureDsi(`squat ${run}`, 'SQUAT-1');
    const replayed = signedByOem(target);
    expectCode(
      await refusal(squatter.dsi.register(replayed)),
      'FORBIDDEN',
      /only the signer registers a DSI/,
    );
    // Signed with its own key, a manifest that names the OEM as its creator is not the subcontractor's either.
    const ownSignature = target.signedBy((sessions as LedgerSessions).dsiSigner('subcontractor', user));
    expectCode(await refusal(squatter.dsi.register(ownSignature)), 'FORBIDDEN', /names creator OemMSP/);
    expectCode(await refusal(oem.dsi.get(target.dsiId)), 'NOT_FOUND');
    const registered = (await oem.dsi.register(replayed)).value;
    expect(registered).to.include({ dsiId: target.dsiId, ownerMsp: 'OemMSP', partNumber: 'SQUAT-1' });
  });

  it('FORBIDDEN: a non-owner registering a DSI, revoking a license, or allocating', async function () {
    const user = `plain-${run}`;
    await testNetwork().registerUser('manufacturer', user, { role: 'operator' });
    const plain = open('manufacturer', user);
    const other = fixtureDsi(`not yours ${run}`, 'X');
    expectCode(await refusal(plain.dsi.register(signedByOem(other))), 'FORBIDDEN');
    expectCode(await refusal(oem.dsi.get(other.dsiId)), 'NOT_FOUND');
    // The holder cannot revoke what its grantor issued.
    expectCode(
      await refusedWithoutChange(() => cmAdmin.licenses.revoke(rootId, 'not mine to revoke')),
      'FORBIDDEN',
      new RegExp(rootId),
    );
    // Another org cannot allocate the manufacturer's units.
    const m = machines[0];
    if (!m) throw new Error('no machine');
    expectCode(
      await refusedWithoutChange(() =>
        subAdmin.licenses.allocate({
          licenseId: floorId,
          machineId: m.machineId,
          quantity: 1,
          scrapAllowance: 0,
        }),
      ),
      'FORBIDDEN',
    );
  });

  it('ENDORSEMENT_POLICY_FAILURE: one org endorsing alone what needs two', async function () {
    const err = await refusedWithoutChange(() =>
      cmAdmin.client.submit(
        'license:Split',
        {
          parentId: rootId,
          licenseId: `L-F-ALONE-${run}`,
          holderMsp: 'ManufacturerMSP',
          grant: grant(1, { maySublicense: false }),
          terms,
        },
        { endorsingOrgs: ['ManufacturerMSP'], retry: { maxAttempts: 1, backoffMs: 0 } },
      ),
    );
    expectCode(err, 'ENDORSEMENT_POLICY_FAILURE');
  });

  it('LICENSE_REVOKED: no build starts under a license whose ancestor was revoked', async function () {
    const m = machines[0];
    if (!m) throw new Error('no machine');
    await oem.licenses.revoke(rootId, 'supplier audit failed');
    const err = await refusedWithoutChange(() =>
      cmOperator.builds.startWithMachineKey(
        { licenseId: floorId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
        m.privateKey,
      ),
    );
    expectCode(err, 'LICENSE_REVOKED', new RegExp(rootId));
  });

  it('LICENSE_EXPIRED: no build starts once a license up the chain has expired', async function () {
    const { dsiId: expDsi } = (await oem.dsi.register(signedByOem(fixtureDsi(`expiring ${run}`, 'EXP-1'))))
      .value;
    const validUntil = new Date(Date.now() + 6000);
    const short = grant(2, { validUntil: validUntil.toISOString() });
    const rootExp = `L-F-EXP-${run}`;
    const floorExp = `L-F-EXP-FLOOR-${run}`;
    await oem.licenses.issue({
      licenseId: rootExp,
      dsiId: expDsi,
      holderMsp: 'ManufacturerMSP',
      grant: short,
      confidential: false,
      terms,
    });
    await cmAdmin.licenses.split({
      parentId: rootExp,
      licenseId: floorExp,
      holderMsp: 'ManufacturerMSP',
      grant: { ...short, quantity: 1, maySublicense: false },
      terms,
    });
    const m = machines[0];
    if (!m) throw new Error('no machine');
    await cmAdmin.licenses.allocate({
      licenseId: floorExp,
      machineId: m.machineId,
      quantity: 1,
      scrapAllowance: 0,
    });
    // Expiry is a matter of time: wait until the ledger's clock has passed validUntil.
    await new Promise((r) => setTimeout(r, Math.max(0, validUntil.getTime() - Date.now()) + 1500));
    const err = await refusedWithoutChange(
      () =>
        cmOperator.builds.startWithMachineKey(
          { licenseId: floorExp, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
          m.privateKey,
        ),
      expDsi,
    );
    expectCode(err, 'LICENSE_EXPIRED');
  });
});
