import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { common, peer } from '@hyperledger/fabric-protos';
import { signers } from '@hyperledger/fabric-gateway';
import { EVENT, LedgerError } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { LedgerConnection } from '../connection/ledger-connection';
import { loadMspCredentials } from '../profile/msp-identity';
import { startFakeGateway, type FakeGateway } from '../testing/fake-gateway';
import { blockTransactions, fileCheckpointer, type CommittedLedgerEvent } from './ledger-events';

const MSP_DIR = join(__dirname, '..', '..', 'test-msp');

/** A block of envelopes with the given transaction ids, and a transactions filter of the given codes. */
function blockOf(transactionIds: string[], codes: number[]): common.Block {
  const data = new common.BlockData();
  data.setDataList(
    transactionIds.map((id) => {
      const channelHeader = new common.ChannelHeader();
      channelHeader.setTxId(id);
      const header = new common.Header();
      header.setChannelHeader(channelHeader.serializeBinary());
      const payload = new common.Payload();
      payload.setHeader(header);
      const envelope = new common.Envelope();
      envelope.setPayload(payload.serializeBinary());
      return envelope.serializeBinary();
    }),
  );
  const metadata = new common.BlockMetadata();
  const entries: Uint8Array[] = [new Uint8Array(), new Uint8Array(), Uint8Array.from(codes)];
  metadata.setMetadataList(entries);
  const header = new common.BlockHeader();
  header.setNumber(9);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return block;
}

describe('ledger events', function () {
  let fake: FakeGateway;
  let grpcClient: grpc.Client;
  let connection: LedgerConnection;
  let dir: string;

  before(async function () {
    fake = await startFakeGateway('thread');
    grpcClient = fake.newClient();
    const credentials = loadMspCredentials(MSP_DIR, 'TestOrgMSP');
    connection = LedgerConnection.connect({
      client: grpcClient,
      identity: credentials.identity,
      signer: signers.newPrivateKeySigner(credentials.privateKey),
      channel: 'thread',
      chaincode: 'threadseal',
    });
    dir = mkdtempSync(join(tmpdir(), 'ledger-events-'));
  });

  after(async function () {
    connection.close();
    grpcClient.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes our chaincode events by name, in commit order, and skips names the model does not know', async function () {
    fake.script.chaincodeEvents = () => [
      {
        blockNumber: 4n,
        events: [
          { transactionId: 'tx1', name: EVENT.machineRegistered, payload: '{"machineId":"m1"}' },
          { transactionId: 'tx2', name: 'SomethingNewer', payload: '{}' },
        ],
      },
      {
        blockNumber: 6n,
        events: [{ transactionId: 'tx3', name: EVENT.dsiRevoked, payload: '{"dsiId":"D1"}' }],
      },
    ];
    const seen: Pick<CommittedLedgerEvent, 'blockNumber' | 'transactionId' | 'event'>[] = [];

    const events = await connection.ledgerEvents({ startBlock: 4n });
    try {
      for await (const e of events)
        seen.push({ blockNumber: e.blockNumber, transactionId: e.transactionId, event: e.event });
    } finally {
      events.close();
    }

    expect(seen).to.deep.equal([
      {
        blockNumber: 4n,
        transactionId: 'tx1',
        event: { name: 'MachineRegistered', payload: { machineId: 'm1' } },
      },
      { blockNumber: 6n, transactionId: 'tx3', event: { name: 'DsiRevoked', payload: { dsiId: 'D1' } } },
    ]);
  });

  it('lists the envelopes of a block with their validation codes, duplicates included', function () {
    const block = blockOf(
      ['tx1', 'tx1', 'tx2'],
      [
        peer.TxValidationCode.VALID,
        peer.TxValidationCode.DUPLICATE_TXID,
        peer.TxValidationCode.MVCC_READ_CONFLICT,
      ],
    );

    expect(blockTransactions(block)).to.deep.equal([
      { transactionId: 'tx1', validationCode: 'VALID' },
      { transactionId: 'tx1', validationCode: 'DUPLICATE_TXID' },
      { transactionId: 'tx2', validationCode: 'MVCC_READ_CONFLICT' },
    ]);
  });

  it('refuses a block whose transactions filter does not cover every envelope with CORRUPT_STATE', function () {
    let err: unknown;
    try {
      blockTransactions(blockOf(['tx1', 'tx2'], [peer.TxValidationCode.VALID]));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LedgerError);
    expect(err).to.include({
      code: 'CORRUPT_STATE',
      message: 'CORRUPT_STATE: block 9 has 2 envelopes but 1 validation codes',
    });
  });

  it('checkpoints to a file that a new checkpointer resumes from', async function () {
    const file = join(dir, 'events.checkpoint');
    const first = await fileCheckpointer(file);
    expect(first.getBlockNumber()).to.equal(undefined);
    await first.checkpointBlock(41n);

    const resumed = await fileCheckpointer(file);

    expect({ block: resumed.getBlockNumber(), tx: resumed.getTransactionId() }).to.deep.equal({
      block: 42n,
      tx: undefined,
    });
  });

  it('refuses a checkpoint file that holds no checkpoint with CORRUPT_STATE', async function () {
    const file = join(dir, 'garbage.checkpoint');
    writeFileSync(file, 'not json');
    let err: unknown;
    try {
      await fileCheckpointer(file);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LedgerError);
    expect(err).to.have.property('code', 'CORRUPT_STATE');
    expect((err as LedgerError).message).to.match(
      new RegExp(`^CORRUPT_STATE: checkpoint file ${file} cannot be used: `),
    );
  });
});
