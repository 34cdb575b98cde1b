import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadsealError } from '@threadseal/ledger-model';
import { rawBlockFromProto } from '../block/block-proto';
import { blockHeaderHash, type RawBlock } from '../block/raw-block';
import { readBlockStore } from '../block/block-store';

/** Where an audit reads blocks from. None of these sources is trusted: every block is verified. */
export type BlockSource = Iterable<RawBlock> | AsyncIterable<RawBlock>;

/** The channel block store under a peer's file system path (`<peer>/data`, or the chains dir itself). */
export function peerBlockStoreDir(peerDataDir: string, channel: string): string {
  return join(peerDataDir, 'ledgersData', 'chains', 'chains', channel);
}

/** Blocks read from a copy of a peer's block store (Fabric's `blockfile_NNNNNN` files). */
export function blockStoreSource(dir: string): BlockSource {
  return readBlockStore(dir);
}

/**
 * Blocks `from` … `height - 1` fetched from a peer through a function such as the ledger client's
 * `LedgerConnection.block` (qscc GetBlockByNumber): the peer is asked, not believed.
 */
export async function* peerBlockSource(
  readBlock: (blockNumber: bigint) => Promise<Uint8Array>,
  height: bigint,
  from = 0n,
): AsyncGenerator<RawBlock> {
  for (let n = from; n < height; n++) {
    const bytes = await readBlock(n);
    let block: RawBlock;
    try {
      block = rawBlockFromProto(bytes);
    } catch (cause) {
      throw new ThreadsealError('INPUT_ERROR', `block ${n} from the peer is not a common.Block`, { cause });
    }
    yield block;
  }
}

/** The header hash of a genesis block file (as configtxgen writes it): the fact an auditor pins. */
export function genesisHashOfBlockFile(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new ThreadsealError('INPUT_ERROR', `cannot read the genesis block file ${file}`, { cause });
  }
  const block = rawBlockFromProto(bytes);
  if (block.number !== 0n)
    throw new ThreadsealError('INPUT_ERROR', `${file} holds block ${block.number}, not block 0`);
  return blockHeaderHash(block);
}

/** Parses a pinned genesis hash given as 64 hex digits. */
export function parseGenesisHash(text: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new ThreadsealError('USAGE', `the genesis hash must be 64 hex digits (SHA-256), got '${text}'`);
  return Buffer.from(text, 'hex');
}
