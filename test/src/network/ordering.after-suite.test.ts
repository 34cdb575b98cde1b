import { expect } from 'chai';
import { PROVOKED_INVALID_CODES, censusSince } from '../fixtures/block-census';
import { closeConnections, connectAs } from '../fixtures/ledger';

// Runs after every other integration file (scripts/run-tests.mjs orders `*.after-suite.test.js` last), so
// it counts the blocks of the whole suite: the scenario, the race, the forbidden actions, the CLI flow.
describe('ordering: every block of the integration suite', function () {
  after(closeConnections);

  it('holds each transaction once: no DUPLICATE_TXID, no transaction id in two envelopes', async function () {
    const census = await censusSince(connectAs({ org: 'oem', user: 'ip-admin' }), 0n);
    expect(census.transactions, 'the suite committed transactions').to.be.greaterThan(100);
    expect(census.byValidationCode['DUPLICATE_TXID'] ?? 0).to.equal(0);
    expect(census.repeatedTransactionIds).to.deep.equal({});
  });

  it('holds no INVALID transaction of a kind the suite does not provoke on purpose', async function () {
    const census = await censusSince(connectAs({ org: 'subcontractor', user: 'operator' }), 0n);
    const unexpected = census.invalid.filter((tx) => !PROVOKED_INVALID_CODES.includes(tx.validationCode));
    expect(unexpected).to.deep.equal([]);
  });
});
