import type { RawBlock } from '../block/raw-block';

/** Blocks sent to a decoding worker: every byte in one transferred buffer, laid out by `layout`. */
export interface BlockBatchMessage {
  readonly batch: number;
  readonly numbers: BigUint64Array;
  /** Per block: previous-hash, data-hash, data-item and metadata-item counts, then each item's length. */
  readonly layout: Int32Array;
  readonly bytes: Uint8Array;
}

/** What a worker found for one block: each signature's {@link VERDICT} in block order, and the data hash. */
export interface BlockVerdicts {
  readonly verdicts: Uint8Array;
  /** SHA-256 over the block's envelopes. */
  readonly dataHash: Uint8Array;
}

/** A worker's answer: per block, how many verdicts; the verdicts and the data hashes in one buffer each. */
export interface VerdictBatchMessage {
  readonly batch: number;
  readonly counts: Int32Array;
  readonly verdicts: Uint8Array;
  readonly dataHashes: Uint8Array;
}

/** Packs each block's verdicts and data hash into one message; `transfer` lists the buffers to move. */
export function packVerdicts(
  batch: number,
  blocks: readonly BlockVerdicts[],
): { message: VerdictBatchMessage; transfer: ArrayBuffer[] } {
  const total = blocks.reduce((n, b) => n + b.verdicts.length, 0);
  const counts = new Int32Array(blocks.length);
  const verdicts = new Uint8Array(total);
  const dataHashes = new Uint8Array(32 * blocks.length);
  let offset = 0;
  blocks.forEach((b, i) => {
    counts[i] = b.verdicts.length;
    verdicts.set(b.verdicts, offset);
    offset += b.verdicts.length;
    dataHashes.set(b.dataHash.subarray(0, 32), 32 * i);
  });
  return {
    message: { batch, counts, verdicts, dataHashes },
    transfer: [counts.buffer, verdicts.buffer, dataHashes.buffer],
  };
}

/** The per-block verdicts of a worker's answer, as views into its buffers. */
export function unpackVerdicts(message: VerdictBatchMessage): BlockVerdicts[] {
  const out: BlockVerdicts[] = [];
  let offset = 0;
  message.counts.forEach((count, i) => {
    out.push({
      verdicts: message.verdicts.subarray(offset, offset + count),
      dataHash: message.dataHashes.subarray(32 * i, 32 * i + 32),
    });
    offset += count;
  });
  return out;
}

/** Packs blocks into one buffer; `transfer` lists the buffers to move (not copy) to the worker. */
export function packBlocks(
  batch: number,
  blocks: readonly RawBlock[],
): { message: BlockBatchMessage; transfer: ArrayBuffer[] } {
  let total = 0;
  let fields = 0;
  for (const b of blocks) {
    total += b.previousHash.length + b.dataHash.length;
    for (const item of b.data) total += item.length;
    for (const item of b.metadata) total += item.length;
    fields += 4 + b.data.length + b.metadata.length;
  }
  const bytesBuffer = new ArrayBuffer(total);
  const layoutBuffer = new ArrayBuffer(fields * Int32Array.BYTES_PER_ELEMENT);
  const numbersBuffer = new ArrayBuffer(blocks.length * BigUint64Array.BYTES_PER_ELEMENT);
  const bytes = new Uint8Array(bytesBuffer);
  const layout = new Int32Array(layoutBuffer);
  const numbers = new BigUint64Array(numbersBuffer);
  let offset = 0;
  let at = 0;
  const put = (item: Uint8Array): void => {
    bytes.set(item, offset);
    offset += item.length;
  };
  blocks.forEach((b, i) => {
    numbers[i] = b.number;
    layout[at++] = b.previousHash.length;
    layout[at++] = b.dataHash.length;
    layout[at++] = b.data.length;
    layout[at++] = b.metadata.length;
    for (const item of b.data) layout[at++] = item.length;
    for (const item of b.metadata) layout[at++] = item.length;
    put(b.previousHash);
    put(b.dataHash);
    for (const item of b.data) put(item);
    for (const item of b.metadata) put(item);
  });
  return {
    message: { batch, numbers, layout, bytes },
    transfer: [bytesBuffer, layoutBuffer, numbersBuffer],
  };
}

/** The blocks of a packed batch, their byte fields as views into its buffer. */
export function unpackBlocks(message: BlockBatchMessage): RawBlock[] {
  const { layout, bytes } = message;
  const blocks: RawBlock[] = [];
  let offset = 0;
  let at = 0;
  const take = (length: number): Uint8Array => {
    const view = bytes.subarray(offset, offset + length);
    offset += length;
    return view;
  };
  for (const number of message.numbers) {
    const previousLength = layout[at++] ?? 0;
    const dataHashLength = layout[at++] ?? 0;
    const dataCount = layout[at++] ?? 0;
    const metadataCount = layout[at++] ?? 0;
    const dataLengths = Array.from(layout.subarray(at, at + dataCount));
    at += dataCount;
    const metadataLengths = Array.from(layout.subarray(at, at + metadataCount));
    at += metadataCount;
    const previousHash = take(previousLength);
    const dataHash = take(dataHashLength);
    const data = dataLengths.map(take);
    const metadata = metadataLengths.map(take);
    blocks.push({ number, previousHash, dataHash, data, metadata });
  }
  return blocks;
}
