import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GatewayError, signers } from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';
import { LedgerError, TX } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { LedgerConnection, TransactionInvalidError } from '../connection/ledger-connection';
import { LedgerUnavailableError } from '../connection/ledger-errors';
import { loadMspCredentials } from '../profile/msp-identity';
import { startFakeGateway, type FakeGateway, type Refusal } from '../testing/fake-gateway';
import { threadsealLedger } from './aggregates';
import { isTransientConflict, LedgerClient } from './ledger-client';

const MSP_DIR = join(__dirname, '..', '..', 'test-msp');
const OWN = 'TestOrgMSP';
const NO_WAIT = { maxAttempts: 4, backoffMs: 1 };

/** What a refusal from the given orgs' peers looks like through fabric-gateway. */
function endorseRefusal(details: Refusal['details']): { refuse: Refusal } {
  return {
    refuse: {
      code: grpc.status.ABORTED,
      message: 'failed to endorse transaction, see attached details for more info',
      ...(details ? { details } : {}),
    },
  };
}

function gatewayError(details: { mspId: string; message: string }[]): GatewayError {
  return new GatewayError({
    code: grpc.status.ABORTED,
    message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
    details: details.map((d) => ({ ...d, address: 'peer0:7051' })),
    cause: Object.assign(new Error('aborted'), {
      code: grpc.status.ABORTED,
      details: '',
      metadata: new grpc.Metadata(),
    }),
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('LedgerClient against a fake gateway', function () {
  let fake: FakeGateway;
  let grpcClient: grpc.Client;
  let client: LedgerClient;
  const credentials = loadMspCredentials(MSP_DIR, OWN);

  before(async function () {
    fake = await startFakeGateway('thread');
    grpcClient = fake.newClient();
  });

  after(async function () {
    grpcClient.close();
    await fake.stop();
  });

  beforeEach(function () {
    fake.script = {};
    fake.calls.length = 0;
    client = new LedgerClient(
      LedgerConnection.connect({
        client: grpcClient,
        identity: credentials.identity,
        signer: signers.newPrivateKeySigner(credentials.privateKey),
        channel: 'thread',
        chaincode: 'threadseal',
      }),
      NO_WAIT,
    );
  });

  afterEach(function () {
    client.close();
  });

  const methods = (): string[] => fake.calls.map((c) => c.method);

  describe('submit', function () {
    it('endorses the JSON input signed by the identity, submits, and resolves with the VALID commit', async function () {
      fake.script.endorse = () => ({ result: JSON.stringify({ dsiId: 'D1', status: 'REVOKED' }) });
      fake.script.commitStatus = () => ({ code: peer.TxValidationCode.VALID, blockNumber: 12n });

      const committed = await client.submit(
        TX.dsi.revoke,
        { dsiId: 'D1', reason: 'superseded' },
        { endorsingOrgs: [OWN, 'OtherMSP'], transient: { terms: '{"a":1}' } },
      );

      expect(methods()).to.deep.equal(['Endorse', 'Submit', 'CommitStatus']);
      const endorse = fake.calls[0]?.call;
      expect(endorse).to.deep.include({
        chaincode: 'threadseal',
        name: 'dsi:Revoke',
        args: ['{"dsiId":"D1","reason":"superseded"}'],
        transient: { terms: '{"a":1}' },
        mspId: OWN,
        orgs: [OWN, 'OtherMSP'],
      });
      expect(committed).to.deep.equal({
        value: { dsiId: 'D1', status: 'REVOKED' },
        transactionId: endorse?.transactionId,
        blockNumber: 12n,
        attempts: 1,
      });
    });

    it('turns a chaincode refusal into a LedgerError with its code and detail, without retrying', async function () {
      fake.script.endorse = () =>
        endorseRefusal([{ mspId: OWN, message: 'chaincode response 500, NOT_FOUND: DSI D9 does not exist' }]);

      const err = await rejection(client.submit(TX.dsi.revoke, { dsiId: 'D9', reason: 'x' }));

      expect(err).to.be.instanceOf(LedgerError);
      expect(err).to.include({ code: 'NOT_FOUND', message: 'NOT_FOUND: DSI D9 does not exist' });
      expect(methods()).to.deep.equal(['Endorse']);
    });

    it('does not retry a refusal by every endorser when its own org was not asked to endorse', async function () {
      // The retry classifier bug: the refusals all came from other orgs, which used to read as "stale peers".
      fake.script.endorse = () =>
        endorseRefusal([
          {
            mspId: 'OtherMSP',
            message:
              'chaincode response 500, ALLOCATION_EXHAUSTED: allocation of license L1 to machine m1 has 0 of 2 units left',
          },
          {
            mspId: 'ThirdMSP',
            message:
              'chaincode response 500, ALLOCATION_EXHAUSTED: allocation of license L1 to machine m1 has 0 of 2 units left',
          },
        ]);

      const err = await rejection(
        client.submit(
          TX.dsi.revoke,
          { dsiId: 'D1', reason: 'x' },
          { endorsingOrgs: ['OtherMSP', 'ThirdMSP'] },
        ),
      );

      expect(err).to.be.instanceOf(LedgerError);
      expect(err).to.include({
        code: 'ALLOCATION_EXHAUSTED',
        message: 'ALLOCATION_EXHAUSTED: allocation of license L1 to machine m1 has 0 of 2 units left',
      });
      expect(methods()).to.deep.equal(['Endorse']);
    });

    it('retries when only other orgs refuse while its own peer endorsed (stale peers), then commits', async function () {
      let endorsements = 0;
      fake.script.endorse = () =>
        ++endorsements === 1
          ? endorseRefusal([{ mspId: 'OtherMSP', message: 'chaincode response 500, NOT_FOUND: machine m1' }])
          : { result: '{}' };

      const committed = await client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' });

      expect(committed.attempts).to.equal(2);
      expect(methods()).to.deep.equal(['Endorse', 'Endorse', 'Submit', 'CommitStatus']);
    });

    it('retries endorsements whose read sets differ between peers', async function () {
      let endorsements = 0;
      fake.script.endorse = () =>
        ++endorsements === 1
          ? endorseRefusal([
              { mspId: OWN, message: 'ProposalResponsePayloads do not match (base64): ...' },
              { mspId: 'OtherMSP', message: 'ProposalResponsePayloads do not match (base64): ...' },
            ])
          : { result: '{}' };

      expect((await client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' })).attempts).to.equal(2);
    });

    it('retries an MVCC conflict at commit on fresh state', async function () {
      let commits = 0;
      fake.script.commitStatus = () => ({
        code: ++commits === 1 ? peer.TxValidationCode.MVCC_READ_CONFLICT : peer.TxValidationCode.VALID,
        blockNumber: BigInt(commits + 3),
      });

      const committed = await client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' });

      expect({ attempts: committed.attempts, blockNumber: committed.blockNumber }).to.deep.equal({
        attempts: 2,
        blockNumber: 5n,
      });
    });

    it('gives up after the retry policy and throws the last TransactionInvalidError', async function () {
      fake.script.commitStatus = () => ({ code: peer.TxValidationCode.MVCC_READ_CONFLICT, blockNumber: 9n });

      const err = await rejection(client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' }));

      expect(err).to.be.instanceOf(TransactionInvalidError);
      expect(methods().filter((m) => m === 'Endorse')).to.have.length(NO_WAIT.maxAttempts);
    });

    it('throws TransactionInvalidError for a commit status other than VALID, without retrying', async function () {
      fake.script.commitStatus = () => ({
        code: peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE,
        blockNumber: 7n,
      });

      const err = await rejection(client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' }));

      expect(err).to.be.instanceOf(TransactionInvalidError);
      const transactionId = fake.calls[0]?.call?.transactionId ?? '';
      expect(err).to.include({
        name: 'TransactionInvalidError',
        transactionId,
        validationCode: 'ENDORSEMENT_POLICY_FAILURE',
        blockNumber: 7n,
        code: 'TRANSACTION_INVALID',
        message: `TRANSACTION_INVALID: transaction ${transactionId} committed INVALID in block 7: ENDORSEMENT_POLICY_FAILURE`,
      });
      expect(methods()).to.deep.equal(['Endorse', 'Submit', 'CommitStatus']);
    });

    it('reports an orderer refusal as LEDGER_UNAVAILABLE with the gateway error as its cause, without retrying', async function () {
      fake.script.submit = () => ({
        refuse: { code: grpc.status.UNAVAILABLE, message: 'no orderer available' },
      });

      const err = await rejection(client.submit(TX.dsi.revoke, { dsiId: 'D1', reason: 'x' }));

      expect(err).to.be.instanceOf(LedgerUnavailableError);
      expect(err).to.include({
        code: 'LEDGER_UNAVAILABLE',
        grpcCode: grpc.status.UNAVAILABLE,
        message: 'LEDGER_UNAVAILABLE: 14 UNAVAILABLE: no orderer available',
      });
      expect((err as Error).cause).to.be.instanceOf(GatewayError);
      expect((err as Error).cause).to.include({ name: 'SubmitError', code: grpc.status.UNAVAILABLE });
      expect(methods()).to.deep.equal(['Endorse', 'Submit']);
    });
  });

  describe('evaluate', function () {
    it('sends the JSON input to its own peer and decodes the JSON result', async function () {
      fake.script.evaluate = (call) => ({
        result: JSON.stringify({ dsiId: JSON.parse(call.args[0] ?? '') as unknown }),
      });

      expect(await client.evaluate(TX.dsi.get, { dsiId: 'D1' })).to.deep.equal({ dsiId: { dsiId: 'D1' } });
      expect(fake.calls.map((c) => [c.method, c.call?.name])).to.deep.equal([['Evaluate', 'dsi:Get']]);
    });

    it('turns a chaincode refusal into a LedgerError', async function () {
      fake.script.evaluate = () => ({
        refuse: {
          code: grpc.status.UNKNOWN,
          message:
            'evaluate call to endorser returned error: chaincode response 500, FORBIDDEN: reading terms requires the grantor or holder',
        },
      });

      const err = await rejection(client.evaluate(TX.dsi.get, { dsiId: 'D1' }));

      expect(err).to.be.instanceOf(LedgerError);
      expect(err).to.include({
        code: 'FORBIDDEN',
        message: 'FORBIDDEN: reading terms requires the grantor or holder',
      });
    });
  });

  it('the aggregate clients name the transactions for the caller', async function () {
    const ledger = threadsealLedger(client);
    fake.script.endorse = () => ({ result: '{"dsiId":"D1"}' });

    await ledger.dsi.revoke('D1', 'obsolete');
    await ledger.dsi.get('D1');

    expect(fake.calls.filter((c) => c.call).map((c) => [c.method, c.call?.name, c.call?.args])).to.deep.equal(
      [
        ['Endorse', 'dsi:Revoke', ['{"dsiId":"D1","reason":"obsolete"}']],
        ['Evaluate', 'dsi:Get', ['{"dsiId":"D1"}']],
      ],
    );
  });
});

describe('isTransientConflict (retry classification)', function () {
  const refusedBy = (...orgs: string[]): GatewayError =>
    gatewayError(orgs.map((mspId) => ({ mspId, message: 'chaincode response 500, NOT_FOUND: machine m1' })));

  it('retries MVCC and phantom read conflicts at commit, nothing else that committed', function () {
    const invalid = (code: string): TransactionInvalidError => new TransactionInvalidError('tx1', code, 3n);
    expect(
      ['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'ENDORSEMENT_POLICY_FAILURE', 'BAD_RWSET'].map((c) =>
        isTransientConflict(invalid(c)),
      ),
    ).to.deep.equal([true, true, false, false]);
  });

  it('retries endorsement mismatches whoever reports them', function () {
    const mismatch = gatewayError([
      { mspId: OWN, message: 'ProposalResponsePayloads do not match' },
      { mspId: 'OtherMSP', message: 'ProposalResponsePayloads do not match' },
    ]);
    expect(isTransientConflict(mismatch)).to.equal(true);
  });

  it('retries refusals by other orgs only when its own org endorsed', function () {
    expect(isTransientConflict(refusedBy('OtherMSP'), { ownMspId: OWN })).to.equal(true);
    expect(
      isTransientConflict(refusedBy('OtherMSP'), { ownMspId: OWN, endorsingOrgs: [OWN, 'OtherMSP'] }),
    ).to.equal(true);
  });

  it('does not retry refusals when its own org was not among the endorsers', function () {
    expect(
      isTransientConflict(refusedBy('OtherMSP', 'ThirdMSP'), {
        ownMspId: OWN,
        endorsingOrgs: ['OtherMSP', 'ThirdMSP'],
      }),
    ).to.equal(false);
  });

  it('does not retry a refusal by its own peer, nor without knowing its own org', function () {
    expect(isTransientConflict(refusedBy(OWN, 'OtherMSP'), { ownMspId: OWN })).to.equal(false);
    expect(isTransientConflict(refusedBy('OtherMSP'))).to.equal(false);
  });

  it('does not retry anything that is not a gateway or commit error', function () {
    expect(isTransientConflict(new Error('MVCC_READ_CONFLICT'), { ownMspId: OWN })).to.equal(false);
    expect(isTransientConflict(gatewayError([]), { ownMspId: OWN })).to.equal(false);
  });
});
