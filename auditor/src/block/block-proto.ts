import { common } from '@hyperledger/fabric-protos';
import type { RawBlock } from './raw-block';

// Kept apart from raw-block.ts so that what the block-decoding workers load does not pull in fabric-protos.

/** Decodes a protobuf-serialized `common.Block` (what qscc GetBlockByNumber returns). */
export function rawBlockFromProto(bytes: Uint8Array): RawBlock {
  const block = common.Block.deserializeBinary(bytes);
  const header = block.getHeader();
  return {
    number: BigInt(header?.getNumber() ?? 0),
    previousHash: header?.getPreviousHash_asU8() ?? new Uint8Array(),
    dataHash: header?.getDataHash_asU8() ?? new Uint8Array(),
    data: block.getData()?.getDataList_asU8() ?? [],
    metadata: block.getMetadata()?.getMetadataList_asU8() ?? [],
  };
}

/** Encodes a raw block as a protobuf `common.Block` (the form a passport carries). */
export function rawBlockToProto(block: RawBlock): Uint8Array {
  const header = new common.BlockHeader();
  header.setNumber(Number(block.number));
  header.setPreviousHash(block.previousHash);
  header.setDataHash(block.dataHash);
  const data = new common.BlockData();
  data.setDataList([...block.data]);
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList([...block.metadata]);
  const out = new common.Block();
  out.setHeader(header);
  out.setData(data);
  out.setMetadata(metadata);
  return out.serializeBinary();
}
