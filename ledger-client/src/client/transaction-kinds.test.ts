import { START_BUILD_REQUEST_TYPE, type StartBuildInput } from '@threadseal/ledger-model';
import { expect } from 'chai';
import type { LedgerClient } from './ledger-client';

const signed: StartBuildInput = {
  request: {
    type: START_BUILD_REQUEST_TYPE,
    licenseId: 'L1',
    machineId: 'm1',
    operator: '0'.repeat(64),
    nonce: 'nonce-0001',
    issuedAt: '2026-03-01T08:00:00.000Z',
    parameters: {},
  },
  signature: 'AA==',
};

/** Never called: `tsc` checks these lines, which is the test. */
function callsThatCompile(client: LedgerClient): unknown[] {
  return [
    client.submit('build:Start', signed),
    client.evaluate('build:Get', { buildId: 'b1' }),
    // @ts-expect-error build:Start consumes a unit: evaluating it would return a Build that no commit backs.
    client.evaluate('build:Start', signed),
    // @ts-expect-error license:Get only reads: there is nothing to submit.
    client.submit('license:Get', { licenseId: 'L1' }),
    // @ts-expect-error the input must be the transaction's own DTO.
    client.evaluate('build:Get', { licenseId: 'L1' }),
  ];
}

describe('LedgerClient typing', () => {
  it('accepts queries in evaluate and mutations in submit only (checked at compile time)', () => {
    expect(callsThatCompile).to.be.a('function');
  });
});
