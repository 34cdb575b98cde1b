import {
  checkpointers,
  type ChaincodeEvent,
  type Checkpoint,
  type Checkpointer,
  type CloseableAsyncIterable,
  type Network,
} from '@hyperledger/fabric-gateway';
import { common, type peer } from '@hyperledger/fabric-protos';
import { LedgerError, parseLedgerEvent, type LedgerEvent } from '@threadseal/ledger-model';
import { validationCodeName } from '../connection/validation-code';

/** Where a reader starts: the checkpoint's saved position when it has one, otherwise `startBlock`. */
export interface EventReadOptions {
  /** A checkpoint to resume from (its position wins over `startBlock`). */
  readonly checkpoint?: Checkpoint;
  /** The first block to read when there is no saved position; by default the next block to be committed. */
  readonly startBlock?: bigint;
}

/**
 * One of our chaincode events, decoded, with where it committed. It is also a fabric-gateway
 * `ChaincodeEvent`, so `checkpointer.checkpointChaincodeEvent(e)` records it.
 */
export interface CommittedLedgerEvent extends ChaincodeEvent {
  readonly event: LedgerEvent;
}

function readOptions(options: EventReadOptions): { checkpoint?: Checkpoint; startBlock?: bigint } {
  return {
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    ...(options.startBlock !== undefined ? { startBlock: options.startBlock } : {}),
  };
}

/** Maps an event stream lazily, keeping its `close`. */
function mapStream<T, U>(
  source: CloseableAsyncIterable<T>,
  map: (item: T) => U | undefined,
): CloseableAsyncIterable<U> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const item of source) {
        const mapped = map(item);
        if (mapped !== undefined) yield mapped;
      }
    },
    close: () => {
      source.close();
    },
    [Symbol.dispose]: () => {
      source.close();
    },
  };
}

/**
 * The chaincode's events in commit order, decoded with `parseLedgerEvent`; events of names this version of
 * the model does not know are skipped. Only events of VALID transactions are delivered (Fabric's rule).
 * @throws SyntaxError (while iterating) when a known event's payload is not JSON.
 */
export async function readLedgerEvents(
  network: Network,
  chaincode: string,
  options: EventReadOptions = {},
): Promise<CloseableAsyncIterable<CommittedLedgerEvent>> {
  const events = await network.getChaincodeEvents(chaincode, readOptions(options));
  return mapStream(events, (e) => {
    const event = parseLedgerEvent(e.eventName, e.payload);
    return event ? { ...e, event } : undefined;
  });
}

/** Every block of the channel in order, full (all transactions, valid or not), from the start position. */
export function readBlocks(
  network: Network,
  options: EventReadOptions = {},
): Promise<CloseableAsyncIterable<common.Block>> {
  return network.getBlockEvents(readOptions(options));
}

/**
 * A block with the private data of its transactions this peer holds, and its number. The block itself
 * carries only the hashes of private writes; `block.getPrivateDataMap()` has the values this org may read.
 */
export function readBlocksWithPrivateData(
  network: Network,
  options: EventReadOptions = {},
): Promise<CloseableAsyncIterable<peer.BlockAndPrivateData>> {
  return network.getBlockAndPrivateDataEvents(readOptions(options));
}

/** The number of a block. */
export function blockNumber(block: common.Block): bigint {
  return BigInt(block.getHeader()?.getNumber() ?? 0);
}

/** One envelope of a block: its transaction id and the validation code the committing peer gave it. */
export interface BlockTransaction {
  readonly transactionId: string;
  /** Fabric's TxValidationCode name: `VALID`, `MVCC_READ_CONFLICT`, `DUPLICATE_TXID`, … */
  readonly validationCode: string;
}

/**
 * The envelopes of a block in block order, with their validation codes (the block's transactions filter).
 * Only the `VALID` ones changed state; a transaction id may appear more than once (copies marked
 * `DUPLICATE_TXID`), so an auditor counts the VALID envelope of each transaction.
 * @throws LedgerError CORRUPT_STATE when an envelope has no header or the filter does not cover every envelope.
 */
export function blockTransactions(block: common.Block): BlockTransaction[] {
  const n = blockNumber(block);
  const envelopes = block.getData()?.getDataList_asU8() ?? [];
  const filter = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
  if (!filter || filter.length < envelopes.length) {
    throw new LedgerError(
      'CORRUPT_STATE',
      `block ${n} has ${envelopes.length} envelopes but ${filter?.length ?? 0} validation codes`,
    );
  }
  return envelopes.map((bytes, i) => {
    const envelope = common.Envelope.deserializeBinary(bytes);
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const header = payload.getHeader();
    if (!header) throw new LedgerError('CORRUPT_STATE', `block ${n} has an envelope without header`);
    return {
      transactionId: common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId(),
      validationCode: validationCodeName(filter[i] ?? -1),
    };
  });
}

/**
 * A checkpointer that keeps its position in `file` (fabric-gateway's file checkpointer): a reader that
 * checkpoints each block or event after handling it resumes after the last one handled.
 * @throws LedgerError CORRUPT_STATE when the file exists but does not hold a checkpoint.
 */
export async function fileCheckpointer(file: string): Promise<Checkpointer> {
  try {
    return await checkpointers.file(file);
  } catch (err) {
    throw Object.assign(
      new LedgerError('CORRUPT_STATE', `checkpoint file ${file} cannot be used: ${(err as Error).message}`),
      { cause: err },
    );
  }
}
