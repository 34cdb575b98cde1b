import { createHash } from 'node:crypto';

/**
 * A block as the auditor reads it: the three header fields, the data items and the metadata items, all
 * as the bytes the source held. Nothing here has been checked yet.
 */
export interface RawBlock {
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
  readonly data: readonly Uint8Array[];
  readonly metadata: readonly Uint8Array[];
}

/** Block metadata slots (common.BlockMetadataIndex). */
export const METADATA_INDEX = {
  SIGNATURES: 0,
  LAST_CONFIG: 1,
  TRANSACTIONS_FILTER: 2,
  COMMIT_HASH: 4,
} as const;

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

function derUnsignedInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  // A DER INTEGER is two's complement: a leading 1 bit needs a zero byte in front to stay positive.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derTlv(0x02, bytes);
}

/**
 * The bytes a block header hash and the orderers' signatures cover: the ASN.1 DER SEQUENCE of number,
 * previous hash and data hash, as Fabric's `protoutil.BlockHeaderBytes` encodes it.
 */
export function blockHeaderBytes(block: Pick<RawBlock, 'number' | 'previousHash' | 'dataHash'>): Buffer {
  return derTlv(
    0x30,
    Buffer.concat([
      derUnsignedInteger(block.number),
      derTlv(0x04, block.previousHash),
      derTlv(0x04, block.dataHash),
    ]),
  );
}

/** SHA-256 of {@link blockHeaderBytes}: what the next block names as its previous hash. */
export function blockHeaderHash(block: Pick<RawBlock, 'number' | 'previousHash' | 'dataHash'>): Buffer {
  return createHash('sha256').update(blockHeaderBytes(block)).digest();
}

/** SHA-256 over the concatenated data items (`protoutil.ComputeBlockDataHash`). */
export function blockDataHash(data: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const item of data) hash.update(item);
  return hash.digest();
}
