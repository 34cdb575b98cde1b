import { availableParallelism } from 'node:os';
import type { DecodedBlock } from '../block/decoded-block';
import type { RawBlock } from '../block/raw-block';
import type { BlockSource } from '../source/block-sources';
import { BlockDecoderPool } from '../verify/block-decoder';
import type { Auditor } from './auditor';

// Envelopes (or blocks) per batch, batches a worker holds at once, and batches read ahead beyond those:
// enough to keep every thread busy, few enough to bound the memory held ahead.
const BATCH_ENVELOPES = 48;
const BATCH_BLOCKS = 32;
const BATCHES_PER_WORKER = 2;
const SPARE_BATCHES = 4;

interface Batch {
  readonly blocks: readonly RawBlock[];
  /** Decoded on a worker: settles with the decoded blocks (undefined if the worker failed). */
  sent?: Promise<void>;
  done: boolean;
  decoded?: readonly DecodedBlock[] | undefined;
}

/**
 * Feeds blocks to an auditor in order, decoded ahead (hashes, envelopes, read-write sets, signatures
 * verified) on worker threads and, when it would otherwise wait, on the calling thread too: each block is
 * replayed in order once its batch is decoded, so the calling thread does the sequential part
 * (identities against the configuration in force, policies, MVCC, state, verdicts) and whatever decoding
 * the workers leave.
 */
class DecodingPipeline {
  readonly #auditor: Auditor;
  readonly #decoder: BlockDecoderPool;
  readonly #queueLimit: number;
  readonly #afterBlock: ((block: RawBlock) => void) | undefined;
  readonly #queue: Batch[] = [];
  #blocks: RawBlock[] = [];
  #envelopes = 0;

  public constructor(
    auditor: Auditor,
    decoder: BlockDecoderPool,
    workers: number,
    afterBlock: ((block: RawBlock) => void) | undefined,
  ) {
    this.#auditor = auditor;
    this.#decoder = decoder;
    this.#queueLimit = workers * BATCHES_PER_WORKER + SPARE_BATCHES;
    this.#afterBlock = afterBlock;
  }

  public async push(block: RawBlock): Promise<void> {
    this.#blocks.push(block);
    this.#envelopes += block.data.length;
    if (this.#envelopes >= BATCH_ENVELOPES || this.#blocks.length >= BATCH_BLOCKS) this.#cut();
    while (this.#queue.length > this.#queueLimit) await this.#replayOldest();
  }

  /** Replays every block pushed so far. */
  public async drain(): Promise<void> {
    this.#cut();
    while (this.#queue.length > 0) await this.#replayOldest();
  }

  #cut(): void {
    if (this.#blocks.length === 0) return;
    this.#queue.push({ blocks: this.#blocks, done: false });
    this.#blocks = [];
    this.#envelopes = 0;
    this.#dispatch();
  }

  /** Hands the oldest batches nobody decodes yet to the workers that have room. */
  #dispatch(): void {
    for (const batch of this.#queue) {
      if (!this.#decoder.hasRoom(BATCHES_PER_WORKER)) return;
      if (batch.sent || batch.done) continue;
      batch.sent = this.#decoder.decode(batch.blocks).then((decoded) => {
        batch.decoded = decoded;
        batch.done = true;
      });
    }
  }

  #decodeHere(batch: Batch): void {
    batch.decoded = batch.blocks.map((block) => this.#auditor.prepareBlock(block));
    batch.done = true;
  }

  async #replayOldest(): Promise<void> {
    const oldest = this.#queue[0];
    if (!oldest) return;
    for (;;) {
      this.#dispatch();
      if (oldest.done) break;
      if (!oldest.sent) {
        this.#decodeHere(oldest);
        break;
      }
      // The oldest batch is on a worker: decode the newest batch no worker has taken instead of waiting,
      // then let the workers' answers in.
      const spare = this.#queue.findLast((b) => !b.sent && !b.done);
      if (!spare) {
        await oldest.sent;
        continue;
      }
      this.#decodeHere(spare);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#queue.shift();
    // Undefined when a worker failed: the auditor then decodes those blocks itself.
    const decoded = oldest.decoded;
    oldest.blocks.forEach((block, i) => {
      this.#auditor.processBlock(block, decoded?.[i]);
      this.#afterBlock?.(block);
    });
  }
}

/** Options of {@link replayChain}. */
export interface ReplayOptions {
  /**
   * Worker threads that decode blocks and verify their signatures ahead of the ordered replay (default:
   * one per core; 0: all on the calling thread, which also decodes when it would otherwise wait). The
   * verdicts are the same either way.
   */
  readonly workers?: number;
  /** Stop after this block (inclusive). */
  readonly toBlock?: bigint;
  /** Called after each block is replayed, in block order. */
  readonly afterBlock?: (block: RawBlock) => void;
}

/**
 * Replays every block of `source` through `auditor`, in order, decoded ahead on worker threads. The
 * blocks read before a source fails are replayed before its error is rethrown.
 */
export async function replayChain(
  source: BlockSource,
  auditor: Auditor,
  options: ReplayOptions,
): Promise<void> {
  const workers = options.workers ?? availableParallelism();
  const decoder = workers > 0 ? new BlockDecoderPool(workers) : undefined;
  const pipeline = decoder ? new DecodingPipeline(auditor, decoder, workers, options.afterBlock) : undefined;
  try {
    try {
      for await (const block of source) {
        if (pipeline) await pipeline.push(block);
        else {
          auditor.processBlock(block);
          options.afterBlock?.(block);
        }
        if (options.toBlock !== undefined && block.number >= options.toBlock) break;
      }
    } finally {
      await pipeline?.drain();
    }
  } finally {
    await decoder?.close();
  }
}
