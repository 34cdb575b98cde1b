import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { signStartBuild, type LedgerConnection } from '@threadseal/ledger-client';
import { type ErrorCode } from '@threadseal/ledger-model';
import {
  rootTerms,
  SCENARIO_MACHINES,
  SCENARIO_PARAMETERS,
  scenarioGrants,
  subTerms,
} from '@threadseal/scenario';
import { fixtureDsi, newMachineKey, type JsonResponse } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { closeConnections, connectAs } from '../fixtures/ledger';
import {
  nonCustodial,
  restAs,
  startOrgGateway,
  stopGateways,
  userCredential,
  type GatewayProcess,
  type RestCall,
} from '../fixtures/gateways';
import { testNetwork } from '../fixtures/network-fixture';

const DAY = 86_400_000;

function expectError(res: JsonResponse, status: number, code: ErrorCode, message?: RegExp): void {
  expect(res.status, res.text).to.equal(status);
  const body = res.body as { code: string; message: string; requestId: string };
  expect(body.code, res.text).to.equal(code);
  if (message) expect(body.message).to.match(message);
  expect(res.text).not.to.match(/127\.0\.0\.1|:\d{4,5}\b|\/work\/|\.js:\d/);
}

describe('the REST gateways of the three orgs on the real network', function () {
  const run = randomBytes(3).toString('hex');
  const users = {
    plm: `plm-${run}`,
    cmLicense: `mes-lic-${run}`,
    cmMachine: `mes-mach-${run}`,
    cmOperator: `mes-op-${run}`,
  };
  const ids = {
    root: `L-GW-ROOT-${run}`,
    floor: `L-GW-FLOOR-${run}`,
    sub: `L-GW-SUB-${run}`,
    spare: `L-GW-SPARE-${run}`,
  };
  const now = Date.now();
  const grants = scenarioGrants({
    validFrom: new Date(now - DAY).toISOString(),
    validUntil: new Date(now + 365 * DAY).toISOString(),
    subValidUntil: new Date(now + 180 * DAY).toISOString(),
  });
  const machineSpec = SCENARIO_MACHINES[0];
  if (!machineSpec) throw new Error('no scenario machine');
  const machine = newMachineKey(`gw-${machineSpec.name}-${run}`);
  let oem: GatewayProcess;
  let cm: GatewayProcess;
  let audit: LedgerConnection;
  let dsiId = '';
  let buildId = '';
  const partId = `SN-GW-${run}`;
  const as: Record<string, RestCall> = {};

  before(async function () {
    const network = testNetwork();
    await network.registerUser('oem', users.plm, { role: 'ip-admin' });
    await network.registerUser('manufacturer', users.cmLicense, { role: 'license-admin' });
    await network.registerUser('manufacturer', users.cmMachine, { role: 'machine-admin' });
    await network.registerUser('manufacturer', users.cmOperator, {
      role: 'am-operator',
      qualification: 'nadcap-am,ti-powder',
    });
    oem = await startOrgGateway('oem', run, [users.plm], users.plm);
    cm = await startOrgGateway('manufacturer', run, [users.cmLicense, users.cmMachine, users.cmOperator]);
    as['plm'] = restAs(oem, 'oem', users.plm);
    as['ipAdmin'] = restAs(oem, 'oem', 'ip-admin');
    as['engineer'] = restAs(oem, 'oem', 'engineer');
    as['cmAtOem'] = restAs(oem, 'manufacturer', users.cmLicense);
    as['cmLicense'] = restAs(cm, 'manufacturer', users.cmLicense);
    as['cmMachine'] = restAs(cm, 'manufacturer', users.cmMachine);
    as['cmOperator'] = restAs(cm, 'manufacturer', users.cmOperator);
    audit = connectAs({ org: 'oem', user: 'ip-admin' });
  });
  after(async function () {
    await stopGateways();
    closeConnections();
  });

  const call = (who: string): RestCall => {
    const c = as[who];
    if (!c) throw new Error(`no client ${who}`);
    return c;
  };

  /** Runs `refused` and asserts the channel did not grow: nothing of it reached the ledger. */
  async function unchanged(refused: () => Promise<void>): Promise<void> {
    const before = await audit.peerHeight();
    await refused();
    // Give a stray transaction time to be cut into a block (batch timeout 100 ms) before comparing.
    await new Promise((r) => setTimeout(r, 400));
    expect(await audit.peerHeight()).to.equal(before);
  }

  it('is ready when its peer is reachable, and says who the caller is', async function () {
    expect((await call('plm')('GET', '/readyz')).body).to.deep.equal({ status: 'ready' });
    expect((await call('plm')('GET', '/v1/whoami')).body).to.deep.include({
      mspId: 'OemMSP',
      role: 'ip-admin',
      custodial: true,
    });
    expect((await call('ipAdmin')('GET', '/v1/whoami')).body).to.deep.include({ custodial: false });
  });

  it('registers a DSI signed by the OEM’s PLM identity, custodially', async function () {
    const registration = fixtureDsi(`gateway ${run}`, 'GW-1').signedBy(
      new LedgerSessions(testNetwork().connectionFile).dsiSigner('oem', users.plm),
    );
    dsiId = registration.dsiId;
    const res = await call('plm')('POST', '/v1/dsis', registration);
    expect(res.status, res.text).to.equal(200);
    expect((res.body as { value: { ownerMsp: string; dsiId: string } }).value).to.deep.include({
      ownerMsp: 'OemMSP',
      dsiId,
    });
    expect((await call('plm')('GET', `/v1/dsis/${dsiId}`)).status).to.equal(200);
  });

  it('issues the OEM’s root licence non-custodially: the ip-admin signs each digest, the gateway never holds its key', async function () {
    const { key } = userCredential('oem', 'ip-admin');
    const res = await nonCustodial(call('ipAdmin'), key, 'license:Issue', {
      licenseId: ids.root,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grants.root,
      confidential: false,
      terms: rootTerms(),
    });
    expect(res.status, res.text).to.equal(200);
    const { transactionId, value } = res.body as {
      transactionId: string;
      value: { license: { grantorMsp: string } };
    };
    expect(value.license.grantorMsp).to.equal('OemMSP');
    const record = await audit.transactionRecord(transactionId);
    expect(record.validationCode).to.equal('VALID');
    expect(record.creatorMspId).to.equal('OemMSP');
  });

  it('refuses a non-custodial caller on a custodial endpoint, a wrong role, another org and malformed input — nothing reaches the ledger', async function () {
    const issue = {
      licenseId: ids.spare,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: { ...grants.floor, quantity: 1 },
      confidential: false,
      terms: rootTerms(),
    };
    await unchanged(async () => {
      expectError(
        await call('ipAdmin')('POST', '/v1/licenses', issue),
        403,
        'FORBIDDEN',
        /keeps its own key/,
      );
      expectError(
        await call('engineer')('POST', '/v1/licenses', issue),
        403,
        'FORBIDDEN',
        /license:Issue requires role ip-admin, engineer has engineer/,
      );
      const { key } = userCredential('oem', 'engineer');
      expectError(await nonCustodial(call('engineer'), key, 'license:Issue', issue), 403, 'FORBIDDEN');
      expectError(
        await call('cmMachine')('POST', '/v1/licenses/split', {
          parentId: ids.root,
          licenseId: ids.floor,
          holderMsp: 'ManufacturerMSP',
          grant: grants.floor,
        }),
        403,
        'FORBIDDEN',
        /requires role ip-admin or license-admin/,
      );
      expectError(
        await call('plm')('POST', '/v1/licenses', { ...issue, grant: { ...issue.grant, quantity: 'ten' } }),
        400,
        'INVALID_ARGUMENT',
        /input\.grant\.quantity/,
      );
      expectError(await call('plm')('POST', '/v1/licenses', '{"licenseId":'), 400, 'INVALID_ARGUMENT');
      // Another org's certificate does not complete the TLS handshake with the OEM's gateway.
      const refused = await call('cmAtOem')('POST', '/v1/licenses', issue).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(Error);
    });
  });

  it('the manufacturer registers a machine, splits the root to its floor and the subcontractor, and allocates (idempotent)', async function () {
    const registered = await call('cmMachine')('POST', '/v1/machines', {
      machineId: machine.machineId,
      make: machineSpec.make,
      model: machineSpec.model,
      serial: `${machine.machineId}-SN`,
      firmware: '4.2.1',
      certifications: [...machineSpec.certifications],
      publicKeyPem: machine.publicKeyPem,
      recipientPublicKeyPem: machine.recipientPublicKeyPem,
    });
    expect(registered.status, registered.text).to.equal(200);
    const floor = await call('cmLicense')('POST', '/v1/licenses/split', {
      parentId: ids.root,
      licenseId: ids.floor,
      holderMsp: 'ManufacturerMSP',
      grant: grants.floor,
      terms: rootTerms(),
    });
    expect(floor.status, floor.text).to.equal(200);
    const sub = await call('cmLicense')('POST', '/v1/licenses/split', {
      parentId: ids.root,
      licenseId: ids.sub,
      holderMsp: 'SubcontractorMSP',
      grant: grants.sub,
      terms: subTerms(),
    });
    expect(sub.status, sub.text).to.equal(200);
    const allocate = { licenseId: ids.floor, machineId: machine.machineId, quantity: 4, scrapAllowance: 0 };
    const key = { 'idempotency-key': `alloc-${run}` };
    const first = await call('cmLicense')('POST', '/v1/licenses/allocate', allocate, key);
    const again = await call('cmLicense')('POST', '/v1/licenses/allocate', allocate, key);
    expect(first.status, first.text).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    const licence = await call('cmLicense')('GET', `/v1/licenses/${ids.floor}`);
    expect((licence.body as { balance: { allocated: number } }).balance.allocated).to.equal(4);
  });

  it('a machine-signed build starts (one unit consumed), completes, and its part is genuine', async function () {
    // The machine signs its request for the operator logged in at it: the caller whoami names.
    const { operator } = (await call('cmOperator')('GET', '/v1/whoami')).body as { operator: string };
    const started = await call('cmOperator')(
      'POST',
      '/v1/builds/start',
      signStartBuild(
        { licenseId: ids.floor, machineId: machine.machineId, operator, parameters: SCENARIO_PARAMETERS },
        machine.privateKey,
      ),
    );
    expect(started.status, started.text).to.equal(200);
    buildId = (started.body as { value: { buildId: string } }).value.buildId;
    expect((await call('cmOperator')('GET', `/v1/builds/${buildId}`)).body).to.deep.include({
      status: 'running',
    });
    const completed = await call('cmOperator')('POST', '/v1/builds/complete', {
      buildId,
      partId,
      processRecordDigest: createHash('sha256').update(`record ${run}`).digest('hex'),
    });
    expect(completed.status, completed.text).to.equal(200);
    const lookup = await call('cmOperator')('GET', `/v1/parts/${partId}`);
    expect(lookup.status, lookup.text).to.equal(200);
    const body = lookup.body as { genuine: boolean; part: { producerMsp: string }; dsi: { dsiId: string } };
    expect(body.genuine).to.equal(true);
    expect(body.part.producerMsp).to.equal('ManufacturerMSP');
    expect(body.dsi.dsiId).to.equal(dsiId);
    expectError(await call('cmOperator')('GET', `/v1/parts/SN-NOT-MADE-${run}`), 404, 'NOT_FOUND');
  });

  it('shows the OEM the whole tree: granted, allocated, consumed and remaining', async function () {
    const res = await call('plm')('GET', `/v1/dsis/${dsiId}/tree`);
    expect(res.status, res.text).to.equal(200);
    const tree = res.body as {
      licenses: { license: { licenseId: string; grant: { quantity: number } }; remaining: number }[];
      allocations: { machineId: string; consumed: number; quantity: number }[];
      parts: { partId: string }[];
    };
    const byId = new Map(tree.licenses.map((l) => [l.license.licenseId, l]));
    expect(byId.get(ids.root)?.remaining).to.equal(0);
    expect(byId.get(ids.floor)?.remaining).to.equal(8);
    expect(tree.allocations).to.deep.equal([
      { ...tree.allocations[0], machineId: machine.machineId, consumed: 1, quantity: 4 },
    ]);
    expect(tree.parts.map((p) => p.partId)).to.deep.equal([partId]);
  });

  it('refuses a revoked credential at the TLS handshake once the gateway has the CA’s revocation list', async function () {
    const network = testNetwork();
    const revoked = `revoked-${run}`;
    await network.registerUser('oem', revoked, { role: 'ip-admin' });
    const crl = await network.ca('oem').revoke(revoked);
    const guarded = await startOrgGateway(
      'oem',
      `crl-${run}`,
      [users.plm],
      undefined,
      undefined,
      network,
      crl,
    );
    const stillValid = restAs(guarded, 'oem', users.plm);
    expect((await stillValid('GET', '/v1/whoami')).status).to.equal(200);
    await unchanged(async () => {
      const refused = await restAs(guarded, 'oem', revoked)('POST', '/v1/licenses', {}).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(Error);
    });
  });

  it('the OEM revokes a licence it granted; a revoked licence cannot be revoked twice (409)', async function () {
    const issued = await call('plm')('POST', '/v1/licenses', {
      licenseId: ids.spare,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: { ...grants.floor, quantity: 1 },
      confidential: false,
      terms: rootTerms(),
    });
    expect(issued.status, issued.text).to.equal(200);
    const revoked = await call('plm')('POST', '/v1/licenses/revoke', {
      licenseId: ids.spare,
      reason: 'test',
    });
    expect(revoked.status, revoked.text).to.equal(200);
    expect(
      (revoked.body as { value: { revocation: { revoked: boolean } } }).value.revocation.revoked,
    ).to.equal(true);
    const twice = await call('plm')('POST', '/v1/licenses/revoke', { licenseId: ids.spare, reason: 'again' });
    expect(twice.status, twice.text).to.be.within(400, 499);
  });
});
