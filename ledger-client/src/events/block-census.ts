import { common } from '@hyperledger/fabric-protos';
import { blockTransactions, type BlockTransaction } from './ledger-events';

/** One transaction of a census, with the block that holds it. */
export interface CensusTransaction extends BlockTransaction {
  readonly blockNumber: bigint;
}

/** What a run of blocks holds: counts by validation code, every transaction id seen more than once. */
export interface BlockCensus {
  readonly fromBlock: bigint;
  /** Exclusive. */
  readonly toBlock: bigint;
  readonly blocks: number;
  /** Serialized size of the blocks, in bytes. */
  readonly bytes: number;
  readonly transactions: number;
  readonly byValidationCode: Readonly<Record<string, number>>;
  /** Transactions whose validation code is not VALID. */
  readonly invalid: readonly CensusTransaction[];
  /** Ids that occur in more than one envelope of the run, with how often. */
  readonly repeatedTransactionIds: Readonly<Record<string, number>>;
}

/**
 * Counts what blocks `fromBlock` … `toBlock - 1` hold, reading each serialized block through `readBlock`
 * (for example `LedgerConnection.block`, qscc on one's own peer): counted from the blocks themselves,
 * never from logs.
 * @throws LedgerError CORRUPT_STATE when a block cannot be decoded.
 */
export async function blockCensus(
  readBlock: (blockNumber: bigint) => Promise<Uint8Array>,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<BlockCensus> {
  const byValidationCode: Record<string, number> = {};
  const seen = new Map<string, number>();
  const invalid: CensusTransaction[] = [];
  let bytes = 0;
  let transactions = 0;
  for (let blockNumber = fromBlock; blockNumber < toBlock; blockNumber++) {
    const raw = await readBlock(blockNumber);
    bytes += raw.length;
    for (const tx of blockTransactions(common.Block.deserializeBinary(raw))) {
      transactions++;
      byValidationCode[tx.validationCode] = (byValidationCode[tx.validationCode] ?? 0) + 1;
      if (tx.validationCode !== 'VALID') invalid.push({ ...tx, blockNumber });
      seen.set(tx.transactionId, (seen.get(tx.transactionId) ?? 0) + 1);
    }
  }
  const repeatedTransactionIds = Object.fromEntries([...seen].filter(([, count]) => count > 1));
  return {
    fromBlock,
    toBlock,
    blocks: Number(toBlock - fromBlock),
    bytes,
    transactions,
    byValidationCode,
    invalid,
    repeatedTransactionIds,
  };
}
