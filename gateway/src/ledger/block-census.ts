import { common, peer } from '@hyperledger/fabric-protos';

/** One transaction as its block records it: id, header type and the validation code the peer wrote. */
export interface BlockTransaction {
  readonly blockNumber: bigint;
  readonly index: number;
  readonly transactionId: string;
  /** `ENDORSER_TRANSACTION`, `CONFIG`, … (Fabric's HeaderType name). */
  readonly type: string;
  /** Fabric's TxValidationCode name, e.g. `VALID`, `DUPLICATE_TXID`, `MVCC_READ_CONFLICT`. */
  readonly validationCode: string;
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
  readonly invalid: readonly BlockTransaction[];
  /** Ids that occur in more than one envelope of the run, with how often. */
  readonly repeatedTransactionIds: Readonly<Record<string, number>>;
}

const txValidationNames: ReadonlyMap<number, string> = new Map(
  Object.entries(peer.TxValidationCode).map(([name, code]) => [code, name]),
);
const headerTypeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(common.HeaderType).map(([name, code]) => [code, name]),
);

/** The name of a Fabric TxValidationCode number. */
export function validationCodeName(code: number): string {
  return txValidationNames.get(code) ?? `UNKNOWN(${code})`;
}

/** A block decoded far enough to list its transactions; throws when it is malformed, never guesses. */
export function blockTransactions(blockBytes: Uint8Array): BlockTransaction[] {
  const block = common.Block.deserializeBinary(blockBytes);
  const header = block.getHeader();
  if (!header) throw new Error('block has no header');
  const blockNumber = BigInt(header.getNumber());
  const envelopes = block.getData()?.getDataList_asU8() ?? [];
  const filter = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
  if (!filter || filter.length !== envelopes.length) {
    throw new Error(
      `block ${blockNumber}: transaction filter has ${filter?.length ?? 0} entries for ${envelopes.length} envelopes`,
    );
  }
  return envelopes.map((envelopeBytes, index) => {
    const payload = common.Payload.deserializeBinary(
      common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8(),
    );
    const channelHeaderBytes = payload.getHeader()?.getChannelHeader_asU8();
    if (!channelHeaderBytes) throw new Error(`block ${blockNumber} envelope ${index} has no channel header`);
    const channelHeader = common.ChannelHeader.deserializeBinary(channelHeaderBytes);
    return {
      blockNumber,
      index,
      transactionId: channelHeader.getTxId(),
      type: headerTypeNames.get(channelHeader.getType()) ?? `UNKNOWN(${channelHeader.getType()})`,
      validationCode: validationCodeName(filter[index] ?? -1),
    };
  });
}

/**
 * Counts what blocks `fromBlock` … `toBlock - 1` hold, reading each through `readBlock` (for example
 * qscc `GetBlockByNumber` on one's own peer). Counted from the blocks themselves, not from logs.
 */
export async function blockCensus(
  readBlock: (blockNumber: bigint) => Promise<Uint8Array>,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<BlockCensus> {
  const byValidationCode: Record<string, number> = {};
  const seen = new Map<string, number>();
  const invalid: BlockTransaction[] = [];
  let bytes = 0;
  let transactions = 0;
  for (let n = fromBlock; n < toBlock; n++) {
    const raw = await readBlock(n);
    bytes += raw.length;
    for (const tx of blockTransactions(raw)) {
      transactions++;
      byValidationCode[tx.validationCode] = (byValidationCode[tx.validationCode] ?? 0) + 1;
      if (tx.validationCode !== 'VALID') invalid.push(tx);
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
