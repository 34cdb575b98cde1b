import { expect } from 'chai';
import { LEDGER_ERROR_CODES, LedgerError, isLedgerErrorCode, parseLedgerError } from './errors.js';

describe('ledger errors', () => {
  it('start their message with the code', () => {
    const error = new LedgerError('LICENSE_EXHAUSTED', 'license L7 has 0 of 4 units left');
    expect(error.message).to.equal('LICENSE_EXHAUSTED: license L7 has 0 of 4 units left');
    expect(error).to.include({
      code: 'LICENSE_EXHAUSTED',
      detail: 'license L7 has 0 of 4 units left',
      name: 'LedgerError',
    });
    expect(error).to.be.instanceOf(Error);
  });

  it('parse back from the bare chaincode message', () => {
    expect(parseLedgerError('LICENSE_EXHAUSTED: license L7 has 0 of 4 units left')).to.deep.equal({
      code: 'LICENSE_EXHAUSTED',
      message: 'LICENSE_EXHAUSTED: license L7 has 0 of 4 units left',
    });
  });

  it('parse from a message wrapped by the peer or the gateway', () => {
    expect(
      parseLedgerError(
        '10 ABORTED: failed to endorse transaction, see attached details for more info; chaincode response 500, REPLAYED_REQUEST: nonce n1 of machine m1 was already used by build tx9',
      ),
    ).to.deep.equal({
      code: 'REPLAYED_REQUEST',
      message: 'REPLAYED_REQUEST: nonce n1 of machine m1 was already used by build tx9',
    });
    expect(
      parseLedgerError(
        'error in simulation: transaction returned with failure: Error: FORBIDDEN: registering a DSI requires role ip-admin',
      )?.code,
    ).to.equal('FORBIDDEN');
  });

  it('round-trip every code', () => {
    for (const code of LEDGER_ERROR_CODES)
      expect(parseLedgerError(new LedgerError(code, 'detail').message)).to.deep.equal({
        code,
        message: `${code}: detail`,
      });
  });

  it('return undefined for messages without a known code', () => {
    expect(parseLedgerError('connection refused')).to.equal(undefined);
    expect(parseLedgerError('NOT_A_CODE: something')).to.equal(undefined);
    expect(parseLedgerError('XNOT_FOUND: glued to a word')).to.equal(undefined);
    expect(isLedgerErrorCode('NOT_FOUND')).to.equal(true);
    expect(isLedgerErrorCode('not_found')).to.equal(false);
  });
});
