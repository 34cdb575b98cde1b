import { expect } from 'chai';
import {
  CLIENT_ERROR_CODES,
  CONTAINER_ERROR_CODES,
  ERROR_CODES,
  HTTP_STATUS,
  LEDGER_ERROR_CODES,
  LedgerError,
  NETWORK_ERROR_CODES,
  ThreadsealError,
  isLedgerErrorCode,
  isThreadsealError,
  parseLedgerError,
  type ErrorCode,
} from './errors.js';

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

describe('the one error vocabulary', () => {
  it('lists every code once, and the ledger, container, network and client codes are all in it', () => {
    expect(new Set(ERROR_CODES).size).to.equal(ERROR_CODES.length);
    for (const code of [
      ...LEDGER_ERROR_CODES,
      ...CONTAINER_ERROR_CODES,
      ...NETWORK_ERROR_CODES,
      ...CLIENT_ERROR_CODES,
    ])
      expect(ERROR_CODES).to.include(code);
  });

  it('maps every code to one HTTP status, 4xx for the caller’s faults and 5xx for ours', () => {
    expect(Object.keys(HTTP_STATUS).sort()).to.deep.equal([...ERROR_CODES].sort());
    for (const status of Object.values(HTTP_STATUS)) expect(status).to.be.within(400, 599);
    expect(HTTP_STATUS.INVALID_ARGUMENT).to.equal(400);
    expect(HTTP_STATUS.FORBIDDEN).to.equal(403);
    expect(HTTP_STATUS.NOT_FOUND).to.equal(404);
    expect(HTTP_STATUS.ALLOCATION_EXHAUSTED).to.equal(409);
    expect(HTTP_STATUS.INTERNAL).to.equal(500);
  });

  it('gives every error its code, a message that starts with it, and the cause it wraps', () => {
    const cause = new Error('socket hang up');
    const error = new ThreadsealError('CONNECTION_FAILED', 'peer0.oem unreachable', { cause });
    expect(error.message).to.equal('CONNECTION_FAILED: peer0.oem unreachable');
    expect(error.code).to.equal('CONNECTION_FAILED');
    expect(error.cause).to.equal(cause);
    const ledger = new LedgerError('NOT_FOUND', 'license L1 does not exist');
    expect(ledger).to.be.instanceOf(ThreadsealError);
    expect(isThreadsealError(ledger)).to.equal(true);
    expect(isThreadsealError(ledger, 'NOT_FOUND', 'FORBIDDEN')).to.equal(true);
    expect(isThreadsealError(ledger, 'FORBIDDEN')).to.equal(false);
    expect(isThreadsealError(cause)).to.equal(false);
  });

  it('can be switched over exhaustively', () => {
    const family = (code: ErrorCode): string => {
      switch (HTTP_STATUS[code]) {
        case 400:
          return 'malformed';
        default:
          return HTTP_STATUS[code] >= 500 ? 'ours' : 'refused';
      }
    };
    expect(family('USAGE')).to.equal('malformed');
    expect(family('CORRUPT_STATE')).to.equal('ours');
    expect(family('LICENSE_REVOKED')).to.equal('refused');
  });
});
