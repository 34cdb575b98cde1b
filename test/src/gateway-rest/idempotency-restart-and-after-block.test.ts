import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { LedgerConnection } from '@threadseal/ledger-client';
import { SCENARIO_MACHINES } from '@threadseal/scenario';
import { newMachineKey, type JsonResponse } from '@threadseal/test-support';
import { closeConnections, connectAs } from '../fixtures/ledger';
import {
  restAs,
  startOrgGateway,
  stopGateway,
  stopGateways,
  type GatewayProcess,
} from '../fixtures/gateways';
import { testNetwork } from '../fixtures/network-fixture';

const machineSpec = SCENARIO_MACHINES[0];

/** The registration body of a new machine of the scenario's first make and model. */
function machineInput(machineId: string): Record<string, unknown> {
  if (!machineSpec) throw new Error('no scenario machine');
  const machine = newMachineKey(machineId);
  return {
    machineId: machine.machineId,
    make: machineSpec.make,
    model: machineSpec.model,
    serial: `${machine.machineId}-SN`,
    firmware: '4.2.1',
    certifications: [...machineSpec.certifications],
    publicKeyPem: machine.publicKeyPem,
    recipientPublicKeyPem: machine.recipientPublicKeyPem,
  };
}

describe('the manufacturer’s gateway: idempotency records across a restart, and X-Threadseal-After-Block', function () {
  const run = randomBytes(3).toString('hex');
  const machineAdmin = `mes-mach-idem-${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'threadseal-gateway-idempotency-'));
  const idempotencyFile = join(dir, 'idempotency.sqlite');
  let audit: LedgerConnection;

  before(async function () {
    await testNetwork().registerUser('manufacturer', machineAdmin, { role: 'machine-admin' });
    audit = connectAs({ org: 'oem', user: 'ip-admin' });
  });
  after(async function () {
    await stopGateways();
    closeConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The manufacturer's gateway holding the machine admin's key, keeping its idempotency records in the file. */
  const start = (name: string): Promise<GatewayProcess> =>
    startOrgGateway('manufacturer', name, [machineAdmin], undefined, undefined, testNetwork(), undefined, {
      idempotencyFile,
    });

  /** The channel height once a stray transaction would have been cut into a block (batch timeout 100 ms). */
  const settledHeight = async (): Promise<bigint> => {
    await new Promise((r) => setTimeout(r, 400));
    return audit.peerHeight();
  };

  it('answers a submit repeated after a gateway restart with the first response, sending nothing; refuses another body under the key', async function () {
    const key = { 'idempotency-key': `register-${run}` };
    const input = machineInput(`M-IDEM-${run}`);
    const first = await start(`${run}-a`);
    const before = await restAs(first, 'manufacturer', machineAdmin)('POST', '/v1/machines', input, key);
    expect(before.status, before.text).to.equal(200);
    const committed = before.body as { transactionId: string; blockNumber: string };
    expect(committed.transactionId).to.match(/^[0-9a-f]{64}$/);
    await stopGateway(first);

    const second = await start(`${run}-b`);
    const call = restAs(second, 'manufacturer', machineAdmin);
    const height = await settledHeight();
    const repeat = await call('POST', '/v1/machines', input, key);
    expect(repeat.status, repeat.text).to.equal(200);
    expect(repeat.headers['idempotent-replayed']).to.equal('true');
    expect(repeat.body).to.deep.equal(before.body);

    const other = await call('POST', '/v1/machines', machineInput(`M-IDEM-OTHER-${run}`), key);
    expect(other.status, other.text).to.equal(409);
    expect(other.body).to.deep.include({
      code: 'ALREADY_EXISTS',
      message: `ALREADY_EXISTS: Idempotency-Key register-${run} was used for a different request`,
    });
    expect(await settledHeight()).to.equal(height);
    // The other body's machine was never registered.
    const missing = await call('GET', `/v1/machines/M-IDEM-OTHER-${run}`);
    expect(missing.status, missing.text).to.equal(404);
  });

  it('lets a record expire: after its lifetime the key runs again, here with another body', async function () {
    const gateway = await startOrgGateway(
      'manufacturer',
      `${run}-ttl`,
      [machineAdmin],
      undefined,
      { idempotencyTtlMs: 1_500 },
      testNetwork(),
      undefined,
      { idempotencyFile: join(dir, 'short-lived.sqlite') },
    );
    const call = restAs(gateway, 'manufacturer', machineAdmin);
    const key = { 'idempotency-key': `expiring-${run}` };
    const first = await call('POST', '/v1/machines', machineInput(`M-TTL-1-${run}`), key);
    expect(first.status, first.text).to.equal(200);
    const refused = await call('POST', '/v1/machines', machineInput(`M-TTL-2-${run}`), key);
    expect(refused.status, refused.text).to.equal(409);
    await new Promise((r) => setTimeout(r, 1_600));
    const height = await audit.peerHeight();
    const later = await call('POST', '/v1/machines', machineInput(`M-TTL-2-${run}`), key);
    expect(later.status, later.text).to.equal(200);
    expect(later.headers['idempotent-replayed']).to.equal(undefined);
    expect((later.body as { transactionId: string }).transactionId).not.to.equal(
      (first.body as { transactionId: string }).transactionId,
    );
    expect((await audit.peerHeight()) > height, 'the height grew').to.equal(true);
    await stopGateway(gateway);
  });

  it('waits for the named block before it reads, on the connection it keeps (read your writes)', async function () {
    const gateway = await start(`${run}-c`);
    const call = restAs(gateway, 'manufacturer', machineAdmin);
    const machineId = `M-AFTER-${run}`;
    // Before the registration the machine is not there, and a read that does not wait says so.
    expect((await call('GET', `/v1/machines/${machineId}`)).status).to.equal(404);
    // The block the registration will be committed in: the next one (nothing else writes meanwhile).
    const next = (await audit.peerHeight()).toString();
    let settled: JsonResponse | undefined;
    const read = call('GET', `/v1/machines/${machineId}`, undefined, {
      'x-threadseal-after-block': next,
    }).then((res) => (settled = res));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled, 'the read answered before its block existed').to.equal(undefined);
    const registered = await call('POST', '/v1/machines', machineInput(machineId));
    expect(registered.status, registered.text).to.equal(200);
    expect((registered.body as { blockNumber: string }).blockNumber).to.equal(next);
    const res = await read;
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ machineId });
    // A block the peer is known to hold: answered at once, by the same kept connection.
    const again = await call('GET', `/v1/machines/${machineId}`, undefined, {
      'x-threadseal-after-block': next,
    });
    expect(again.status, again.text).to.equal(200);
  });
});
