import '@threadseal/test-support/quiet-logs';
import { TX, type Allocation, type Build, type LicenseView, type Part } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { DSI, expectLedgerError, GOOD_PARAMETERS, sha256, USERS } from '@threadseal/test-support';
import { licensedShops, type LicensedShops, UnitTestMachine } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

describe('BuildContract (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);
  let shops: LicensedShops;
  beforeEach(async () => {
    shops = await licensedShops(contracts);
  });

  const start = (params: Record<string, number | string> = GOOD_PARAMETERS, nonce?: string) =>
    shops.net.submit<Build>(
      USERS.subOperator,
      TX.build.start,
      shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, params, nonce),
    );

  it('starts a build whose id is the transaction id and consumes one unit', async () => {
    const txId = shops.net.nextTxId();
    const build = await start();
    expect(build).to.include({
      buildId: txId,
      status: 'running',
      licenseId: 'L-SUB',
      machineId: 'sub-eos-m290-1',
      machineOwnerMsp: 'SubcontractorMSP',
    });
    const history = await shops.net.evaluate<{ value: Allocation }[]>(
      USERS.subAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-1' },
    );
    expect(history[0]?.value.consumed).to.equal(1);
  });

  it('refuses a replayed request (same nonce) with REPLAYED_REQUEST', async () => {
    const first = await start(GOOD_PARAMETERS, 'nonce-0001');
    await expectLedgerError(
      start(GOOD_PARAMETERS, 'nonce-0001'),
      'REPLAYED_REQUEST',
      `nonce nonce-0001 of machine sub-eos-m290-1 was already used by build ${first.buildId}`,
    );
  });

  it('finds the build a signed request started by its nonce, and nothing for an unused nonce', async () => {
    const started = await start(GOOD_PARAMETERS, 'nonce-find-1');
    const found = await shops.net.evaluate<Build>(USERS.subOperator, TX.build.getByNonce, {
      machineId: 'sub-eos-m290-1',
      nonce: 'nonce-find-1',
    });
    expect(found).to.deep.equal(started);
    await expectLedgerError(
      shops.net.evaluate(USERS.subOperator, TX.build.getByNonce, {
        machineId: 'sub-eos-m290-1',
        nonce: 'nonce-unused',
      }),
      'NOT_FOUND',
      'a build of machine sub-eos-m290-1 with nonce nonce-unused does not exist',
    );
  });

  it('refuses a request signed by another key with BAD_SIGNATURE', async () => {
    const impostor = new UnitTestMachine('sub-eos-m290-1');
    await expectLedgerError(
      shops.net.submit(
        USERS.subOperator,
        TX.build.start,
        impostor.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS, 'nonce-imp-1'),
      ),
      'BAD_SIGNATURE',
      'StartBuild request nonce nonce-imp-1 is not signed by the registered key of machine sub-eos-m290-1',
    );
  });

  it('refuses a tampered request with BAD_SIGNATURE', async () => {
    const signed = shops.subMachine.startBuild(
      USERS.subOperator,
      'L-SUB',
      shops.net.now,
      GOOD_PARAMETERS,
      'nonce-tamper',
    );
    const tampered = {
      ...signed,
      request: { ...signed.request, parameters: { ...signed.request.parameters, laserPower: 399 } },
    };
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, tampered),
      'BAD_SIGNATURE',
      /StartBuild request nonce nonce-tamper is not signed/,
    );
  });

  it('refuses a request issued more than 5 minutes before the transaction with STALE_REQUEST', async () => {
    const old = shops.subMachine.startBuild(
      USERS.subOperator,
      'L-SUB',
      new Date(shops.net.now.getTime() - 6 * 60_000),
      GOOD_PARAMETERS,
      'nonce-stale',
    );
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, old),
      'STALE_REQUEST',
      /StartBuild request nonce nonce-stale was issued at .*, 360 s from the transaction time .* \(limit 300 s\)$/,
    );
  });

  it('refuses a proposal whose timestamp is far from the peer clock with CLOCK_SKEW', async () => {
    shops.net.peerSkewMs = 10 * 60_000;
    await expectLedgerError(
      start(),
      'CLOCK_SKEW',
      `proposal timestamp ${shops.net.now.toISOString()} is 600 s from the peer clock (limit 300 s)`,
    );
  });

  it('refuses parameters outside the sub-license envelope even when inside the parent one', async () => {
    await expectLedgerError(
      start({ ...GOOD_PARAMETERS, laserPower: 390 }),
      'PARAMETER_OUT_OF_ENVELOPE',
      'license L-SUB requires laserPower in [250, 350] W, request has 390',
    );
    await expectLedgerError(
      start({ laserPower: 300, material: 'Ti-6Al-4V' }),
      'PARAMETER_OUT_OF_ENVELOPE',
      'license L-ROOT requires bedTemperature in [150, 200] degC, request has none',
    );
  });

  it('refuses an operator lacking a qualification or from another org', async () => {
    await expectLedgerError(
      shops.net.submit(
        USERS.subTrainee,
        TX.build.start,
        shops.subMachine.startBuild(USERS.subTrainee, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
      ),
      'OPERATOR_NOT_QUALIFIED',
      'license L-SUB requires qualifications [ti-powder] the operator lacks',
    );
    await expectLedgerError(
      shops.net.submit(
        USERS.cmOperator,
        TX.build.start,
        shops.subMachine.startBuild(USERS.cmOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS),
      ),
      'FORBIDDEN',
      'operator of ManufacturerMSP cannot start builds on machine sub-eos-m290-1 of SubcontractorMSP',
    );
  });

  it('refuses a request made at the machine for one operator and submitted by another with OPERATOR_MISMATCH, consuming nothing', async () => {
    const allocationBefore = await shops.net.evaluate<{ value: Allocation }[]>(
      USERS.subAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-1' },
    );
    // The trainee is logged in at the machine; a qualified colleague relays the trainee's signed request.
    const traineeRequest = shops.subMachine.startBuild(
      USERS.subTrainee,
      'L-SUB',
      shops.net.now,
      GOOD_PARAMETERS,
      'nonce-relayed-1',
    );
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, traineeRequest),
      'OPERATOR_MISMATCH',
      /StartBuild request nonce nonce-relayed-1 names operator [0-9a-f]{16}…, submitted by a SubcontractorMSP identity [0-9a-f]{16}…$/,
    );
    // The relayed copy changed the operator field: the machine's signature no longer covers it.
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, {
        ...traineeRequest,
        request: {
          ...traineeRequest.request,
          operator: shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS)
            .request.operator,
        },
      }),
      'BAD_SIGNATURE',
      /StartBuild request nonce nonce-relayed-1 is not signed by the registered key/,
    );
    const allocationAfter = await shops.net.evaluate<{ value: Allocation }[]>(
      USERS.subAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-1' },
    );
    expect(allocationAfter).to.deep.equal(allocationBefore);
    // The nonce was not burnt by the refusals: the trainee's own submission is judged on its merits.
    await expectLedgerError(
      shops.net.submit(USERS.subTrainee, TX.build.start, traineeRequest),
      'OPERATOR_NOT_QUALIFIED',
      'license L-SUB requires qualifications [ti-powder] the operator lacks',
    );
  });

  it('refuses a request of the earlier format, which named no operator, with INVALID_ARGUMENT', async () => {
    const signed = shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS);
    const unbound: Record<string, unknown> = { ...signed.request, type: 'threadseal.start-build.v1' };
    delete unbound['operator'];
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, { ...signed, request: unbound }),
      'INVALID_ARGUMENT',
      /input\.request\.type: expected threadseal\.start-build\.v2 \(a request that names its operator; earlier formats are refused\)/,
    );
  });

  it('revoking the root license stops new builds down the tree, while running builds still complete', async () => {
    const running = await start();
    await shops.net.submit(USERS.oemAdmin, TX.license.revoke, {
      licenseId: 'L-ROOT',
      reason: 'quality escape',
    });
    await expectLedgerError(
      start(),
      'LICENSE_REVOKED',
      /license L-ROOT \(ancestor of L-SUB\) was revoked by OemMSP at .*: quality escape$/,
    );
    const done = await shops.net.submit<Build>(USERS.subOperator, TX.build.complete, {
      buildId: running.buildId,
      partId: 'SN-0001',
      processRecordDigest: sha256('log'),
    });
    expect(done.status).to.equal('completed');
  });

  it('refuses builds once the sub-license expired', async () => {
    shops.net.now = new Date('2026-09-01T00:00:00.000Z');
    await expectLedgerError(
      start(),
      'LICENSE_EXPIRED',
      'license L-SUB expired at 2026-09-01T00:00:00.000Z, now is 2026-09-01T00:00:00.000Z',
    );
  });

  it('refuses builds after the DSI is revoked', async () => {
    await shops.net.submit(USERS.oemAdmin, TX.dsi.revoke, { dsiId: DSI.dsiId, reason: 'design withdrawn' });
    await expectLedgerError(start(), 'DSI_NOT_ACTIVE', `DSI ${DSI.dsiId} was revoked: design withdrawn`);
  });

  it('completes a build once: the part id is unique and the build cannot complete twice', async () => {
    const a = await start();
    const b = await start();
    await shops.net.submit(USERS.subOperator, TX.build.complete, {
      buildId: a.buildId,
      partId: 'SN-0001',
      processRecordDigest: sha256('a'),
    });
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.complete, {
        buildId: a.buildId,
        partId: 'SN-0002',
        processRecordDigest: sha256('a'),
      }),
      'BUILD_NOT_RUNNING',
      `build ${a.buildId} is completed; cannot complete it`,
    );
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.complete, {
        buildId: b.buildId,
        partId: 'SN-0001',
        processRecordDigest: sha256('b'),
      }),
      'ALREADY_EXISTS',
      'part SN-0001 already exists',
    );
    const part = await shops.net.evaluate<Part>(USERS.oemAdmin, TX.trace.getPart, { partId: 'SN-0001' });
    expect(part).to.include({ buildId: a.buildId, producerMsp: 'SubcontractorMSP', licenseId: 'L-SUB' });
  });

  it("CLOCK_SKEW: Complete, Abort and Scrap at a time before the build's start, Revoke before the license's issue", async () => {
    const running = await start();
    const before = new Date(Date.parse(running.startedAt) - 1);
    const afterStart = shops.net.now;
    shops.net.now = before;
    const skew = `transaction time ${before.toISOString()} is before the start of build ${running.buildId} at ${running.startedAt}`;
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.complete, {
        buildId: running.buildId,
        partId: 'SN-EARLY',
        processRecordDigest: sha256('early'),
      }),
      'CLOCK_SKEW',
      skew,
    );
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.abort, { buildId: running.buildId, reason: 'early' }),
      'CLOCK_SKEW',
      skew,
    );
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.scrap, {
        buildId: running.buildId,
        reason: 'early',
        evidenceDigest: null,
        requestCredit: false,
      }),
      'CLOCK_SKEW',
      skew,
    );
    const { license } = await shops.net.evaluate<LicenseView>(USERS.cmAdmin, TX.license.get, {
      licenseId: 'L-SUB',
    });
    const beforeIssue = new Date(Date.parse(license.issuedAt) - 1);
    shops.net.now = beforeIssue;
    await expectLedgerError(
      shops.net.submit(USERS.cmAdmin, TX.license.revoke, { licenseId: 'L-SUB', reason: 'backdated' }),
      'CLOCK_SKEW',
      `transaction time ${beforeIssue.toISOString()} is before the issue of license L-SUB at ${license.issuedAt}`,
    );
    shops.net.now = afterStart;
    const unchanged = await shops.net.evaluate<Build>(USERS.subOperator, TX.build.get, {
      buildId: running.buildId,
    });
    expect(unchanged).to.include({ status: 'running', endedAt: null });
    await expectLedgerError(
      shops.net.evaluate(USERS.oemAdmin, TX.trace.getPart, { partId: 'SN-EARLY' }),
      'NOT_FOUND',
      'part SN-EARLY does not exist',
    );
    const view = await shops.net.evaluate<LicenseView>(USERS.cmAdmin, TX.license.get, { licenseId: 'L-SUB' });
    expect(view.revocation.revoked).to.equal(false);
  });

  it('aborting keeps the unit consumed; scrapping with evidence credits it back within the allowance', async () => {
    const a = await start();
    await shops.net.submit(USERS.subOperator, TX.build.abort, {
      buildId: a.buildId,
      reason: 'recoater crash',
    });
    const b = await start();
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.scrap, {
        buildId: b.buildId,
        reason: 'porosity',
        evidenceDigest: null,
        requestCredit: true,
      }),
      'SCRAP_EVIDENCE_REQUIRED',
      `build ${b.buildId}: crediting a scrapped unit back requires an evidence digest`,
    );
    const scrapped = await shops.net.submit<Build>(USERS.subOperator, TX.build.scrap, {
      buildId: b.buildId,
      reason: 'porosity',
      evidenceDigest: sha256('ct scan'),
      requestCredit: true,
      machineSignature: shops.subMachine.scrapRecord(b.buildId, 'porosity', sha256('ct scan')),
    });
    expect(scrapped).to.include({ status: 'scrapped', scrapCredited: true });
    const c = await start();
    const d = await start();
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.scrap, {
        buildId: c.buildId,
        reason: 'cracks',
        evidenceDigest: sha256('dye'),
        requestCredit: true,
        machineSignature: shops.subMachine.scrapRecord(c.buildId, 'cracks', sha256('dye')),
      }),
      'SCRAP_ALLOWANCE_EXCEEDED',
      'allocation of license L-SUB to machine sub-eos-m290-1 has credited 1 of 1 allowed scrapped units',
    );
    await shops.net.submit(USERS.subOperator, TX.build.scrap, {
      buildId: c.buildId,
      reason: 'cracks',
      evidenceDigest: sha256('dye'),
      requestCredit: false,
    });
    expect(d.status).to.equal('running');
    await expectLedgerError(
      start(),
      'ALLOCATION_EXHAUSTED',
      'allocation of license L-SUB to machine sub-eos-m290-1 has 0 of 3 units left',
    );
  });

  it('credits a scrapped unit back only on the machine’s signed scrap record, changing nothing otherwise', async () => {
    const b = await start();
    const evidenceDigest = sha256('ct scan');
    const historyBefore = await shops.net.evaluate<{ value: Allocation }[]>(
      USERS.subAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-1' },
    );
    const credit = (machineSignature: string | null) =>
      shops.net.submit(USERS.subOperator, TX.build.scrap, {
        buildId: b.buildId,
        reason: 'porosity',
        evidenceDigest,
        requestCredit: true,
        machineSignature,
      });
    // The licensee's word alone (any 64-hex "evidence") no longer credits a unit.
    await expectLedgerError(
      credit(null),
      'SCRAP_EVIDENCE_REQUIRED',
      `build ${b.buildId}: crediting a scrapped unit back requires the scrap record signed by machine sub-eos-m290-1`,
    );
    // Another key, another build's record, another reason or evidence than the machine signed: refused.
    const impostor = new UnitTestMachine('sub-eos-m290-1');
    const refusals = [
      impostor.scrapRecord(b.buildId, 'porosity', evidenceDigest),
      shops.subMachine.scrapRecord('other-build', 'porosity', evidenceDigest),
      shops.subMachine.scrapRecord(b.buildId, 'cracks', evidenceDigest),
      shops.subMachine.scrapRecord(b.buildId, 'porosity', sha256('other report')),
    ];
    for (const signature of refusals)
      await expectLedgerError(
        credit(signature),
        'BAD_SIGNATURE',
        `build ${b.buildId}: the scrap record is not signed by the registered key of machine sub-eos-m290-1`,
      );
    const historyAfter = await shops.net.evaluate<{ value: Allocation }[]>(
      USERS.subAdmin,
      TX.trace.getAllocationHistory,
      { licenseId: 'L-SUB', machineId: 'sub-eos-m290-1' },
    );
    expect(historyAfter).to.deep.equal(historyBefore);
    expect(
      await shops.net.evaluate<Build>(USERS.subOperator, TX.build.get, { buildId: b.buildId }),
    ).to.include({ status: 'running', scrapCredited: false });
    // Scrapping without credit needs no machine record.
    expect(
      await shops.net.submit<Build>(USERS.subOperator, TX.build.scrap, {
        buildId: b.buildId,
        reason: 'porosity',
        evidenceDigest,
        requestCredit: false,
      }),
    ).to.include({ status: 'scrapped', scrapCredited: false });
  });

  it('lets only the starting operator or an admin of the machine org finish a build', async () => {
    const a = await start();
    await expectLedgerError(
      shops.net.submit(USERS.cmAdmin, TX.build.abort, { buildId: a.buildId, reason: 'x' }),
      'FORBIDDEN',
      `finishing build ${a.buildId} is reserved to SubcontractorMSP, submitter is ManufacturerMSP`,
    );
    await expectLedgerError(
      shops.net.submit(USERS.subTrainee, TX.build.abort, { buildId: a.buildId, reason: 'x' }),
      'FORBIDDEN',
      `finishing build ${a.buildId} started by another operator requires role ip-admin or license-admin, SubcontractorMSP client has am-operator`,
    );
    const aborted = await shops.net.submit<Build>(USERS.subAdmin, TX.build.abort, {
      buildId: a.buildId,
      reason: 'supervisor stop',
    });
    expect(aborted.status).to.equal('aborted');
  });

  it('rejects malformed input with INVALID_ARGUMENT naming the field', async () => {
    const signed = shops.subMachine.startBuild(USERS.subOperator, 'L-SUB', shops.net.now, GOOD_PARAMETERS);
    await expectLedgerError(
      shops.net.submit(USERS.subOperator, TX.build.start, {
        ...signed,
        request: { ...signed.request, nonce: 'short' },
      }),
      'INVALID_ARGUMENT',
      'input.request.nonce: expected 8..128 characters [A-Za-z0-9_-], got "short"',
    );
  });
});
