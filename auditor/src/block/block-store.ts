import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadsealError } from '@threadseal/ledger-model';
import type { RawBlock } from './raw-block';

/**
 * Thrown when a block store file does not decode: a truncated record, a length past the end. The
 * auditor turns it into an anomaly; it never skips the bytes.
 */
export class BlockStoreFormatError extends ThreadsealError<'INPUT_ERROR'> {
  public constructor(detail: string) {
    super('INPUT_ERROR', detail);
    this.name = 'BlockStoreFormatError';
  }
}

class Reader {
  #offset = 0;
  public constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}
  public get offset(): number {
    return this.#offset;
  }
  public get done(): boolean {
    return this.#offset >= this.bytes.length;
  }
  public varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.bytes[this.#offset];
      if (byte === undefined) throw new BlockStoreFormatError(`${this.what}: varint runs past the end`);
      this.#offset++;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new BlockStoreFormatError(`${this.what}: varint longer than 64 bits`);
    }
  }
  public bytesField(): Uint8Array {
    const length = Number(this.varint());
    if (this.#offset + length > this.bytes.length)
      throw new BlockStoreFormatError(
        `${this.what}: a field of ${length} bytes at offset ${this.#offset} runs past the end (${this.bytes.length})`,
      );
    const out = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }
}

function appendVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function appendBytes(parts: Uint8Array[], bytes: Uint8Array): void {
  const len: number[] = [];
  appendVarint(len, BigInt(bytes.length));
  parts.push(Uint8Array.from(len), bytes);
}

/** Decodes one block as Fabric's blkstorage serializes it (header fields, data items, metadata items). */
export function decodeStoredBlock(bytes: Uint8Array, what = 'block'): RawBlock {
  const r = new Reader(bytes, what);
  const number = r.varint();
  const dataHash = r.bytesField();
  const previousHash = r.bytesField();
  const dataCount = Number(r.varint());
  const data: Uint8Array[] = [];
  for (let i = 0; i < dataCount; i++) data.push(r.bytesField());
  const metadataCount = Number(r.varint());
  const metadata: Uint8Array[] = [];
  for (let i = 0; i < metadataCount; i++) metadata.push(r.bytesField());
  if (!r.done)
    throw new BlockStoreFormatError(`${what}: ${bytes.length - r.offset} bytes after the metadata`);
  return { number, previousHash, dataHash, data, metadata };
}

/** Encodes a block the way Fabric's blkstorage stores it (without the record's length prefix). */
export function encodeStoredBlock(block: RawBlock): Buffer {
  const parts: Uint8Array[] = [];
  const head: number[] = [];
  appendVarint(head, block.number);
  parts.push(Uint8Array.from(head));
  appendBytes(parts, block.dataHash);
  appendBytes(parts, block.previousHash);
  const count: number[] = [];
  appendVarint(count, BigInt(block.data.length));
  parts.push(Uint8Array.from(count));
  for (const item of block.data) appendBytes(parts, item);
  const mcount: number[] = [];
  appendVarint(mcount, BigInt(block.metadata.length));
  parts.push(Uint8Array.from(mcount));
  for (const item of block.metadata) appendBytes(parts, item);
  return Buffer.concat(parts);
}

/** Encodes blocks as one block file: each block preceded by its length as a varint. */
export function encodeBlockFile(blocks: readonly RawBlock[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const block of blocks) appendBytes(parts, encodeStoredBlock(block));
  return Buffer.concat(parts);
}

/** The block files of a channel's block store directory, in order (`blockfile_000000`, …). */
export function blockFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (cause) {
    throw new ThreadsealError('INPUT_ERROR', `cannot read the block store directory ${dir}`, { cause });
  }
  const files = names.filter((n) => /^blockfile_\d{6}$/.test(n)).sort();
  if (files.length === 0) throw new ThreadsealError('INPUT_ERROR', `no blockfile_NNNNNN in ${dir}`);
  return files.map((n) => join(dir, n));
}

/**
 * Every record of a block store, in file order. A record that does not decode ends the iteration with
 * {@link BlockStoreFormatError}; the last file may end in a partly written record only when `allowTornTail`.
 */
export function* readBlockStore(dir: string): Generator<RawBlock> {
  for (const file of blockFiles(dir)) {
    const bytes = readFileSync(file);
    const r = new Reader(bytes, file);
    while (!r.done) {
      const start = r.offset;
      const record = r.bytesField();
      yield decodeStoredBlock(record, `${file} at offset ${start}`);
    }
  }
}
