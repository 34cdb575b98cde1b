import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { closeConnections, connectAs, text } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

interface WhoAmI {
  mspId: string;
  id: string;
  attributes: Record<string, string | null>;
}

describe('CA attributes reach the chaincode (register → enroll → transaction)', function () {
  after(closeConnections);

  it('a user registered with role, qualification and serial sees them in a committed transaction', async function () {
    const user = `op-${randomUUID().slice(0, 8)}`;
    const attrs = { role: 'operator', qualification: 'am-metal-l2', serial: 'EOS-M290-0042' };
    const files = await testNetwork().registerUser('subcontractor', user, attrs);
    expect(files.cert).to.match(/signcerts\/cert\.pem$/);

    const conn = connectAs({ org: 'subcontractor', user });
    const committed = await conn.submit('system:WhoAmI');
    const seen = JSON.parse(text(committed.result)) as WhoAmI;
    expect(seen.mspId).to.equal('SubcontractorMSP');
    expect(seen.id).to.include(`CN=${user}`);
    expect(seen.attributes).to.deep.equal(attrs);
    const record = await conn.transactionRecord(committed.transactionId);
    expect(record.validationCode).to.equal('VALID');
  });

  it('a user registered without attributes has none (no attribute is invented)', async function () {
    const user = `plain-${randomUUID().slice(0, 8)}`;
    await testNetwork().registerUser('manufacturer', user, {});
    const seen = JSON.parse(
      text(await connectAs({ org: 'manufacturer', user }).evaluate('system:WhoAmI')),
    ) as WhoAmI;
    expect(seen.attributes).to.deep.equal({ role: null, qualification: null, serial: null });
  });

  it('refuses to register a user at an org that does not exist, naming the orgs it has', function () {
    expect(() => testNetwork().ca('airline')).to.throw(
      /IDENTITY_FAILED: unknown org airline \(orgs: oem, manufacturer, subcontractor\)/,
    );
  });
});
