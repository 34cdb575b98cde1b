import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { runSmoke, TransactionInvalidError } from '@threadseal/ledger-client';
import { closeConnections, connectAs, text } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

describe('gateway smoke against the real network', function () {
  after(closeConnections);

  it('commits a note endorsed by two orgs as VALID and reads it back from the other org', async function () {
    const report = await runSmoke(
      testNetwork().connectionFile,
      { org: 'oem', user: 'ip-admin' },
      { org: 'subcontractor', user: 'operator' },
    );
    expect(report.endorserMspIds).to.include.members(['OemMSP', 'SubcontractorMSP']);
    expect(report.value).to.match(/^written by ip-admin@oem at /);
    expect(report.blockNumber > 0n).to.equal(true);
  });

  it('reports a transaction endorsed by one org as INVALID (ENDORSEMENT_POLICY_FAILURE), never as success', async function () {
    const oem = connectAs({ org: 'oem', user: 'ip-admin' });
    const key = `lonely-${randomUUID()}`;
    let error: unknown;
    try {
      await oem.submit('system:PutNote', [key, 'one endorsement is not a majority'], {
        endorsingOrgs: ['OemMSP'],
      });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(TransactionInvalidError);
    expect((error as TransactionInvalidError).validationCode).to.equal('ENDORSEMENT_POLICY_FAILURE');
    // The invalid write changed nothing.
    let readError: unknown;
    try {
      await oem.evaluate('system:GetNote', [key]);
    } catch (err) {
      readError = err;
    }
    const details = (readError as { details?: { message: string }[] }).details ?? [];
    expect([String(readError), ...details.map((d) => d.message)].join(' ')).to.match(
      /NOT_FOUND: note lonely-.* does not exist/,
    );
  });

  it('lets every org endorse: the gateway of each org submits successfully', async function () {
    for (const org of ['oem', 'manufacturer', 'subcontractor']) {
      const c = connectAs({ org, user: 'admin' });
      const committed = await c.submit('system:PutNote', [`from-${org}-${randomUUID()}`, org]);
      const record = await c.transactionRecord(committed.transactionId);
      expect(record.validationCode).to.equal('VALID');
      expect(record.creatorMspId).to.equal(c.mspId);
      expect(new Set(record.endorserMspIds).size).to.be.at.least(2);
    }
  });

  it('answers Ping on every peer through each org gateway', async function () {
    for (const org of ['oem', 'manufacturer', 'subcontractor']) {
      expect(text(await connectAs({ org, user: 'admin' }).evaluate('system:Ping'))).to.equal('pong');
    }
  });
});
