import { availableParallelism } from 'node:os';
import type { DecodedBlock } from '../block/decoded-block';
import type { RawBlock } from '../block/raw-block';
import type { BlockSource } from '../source/block-sources';
import type { BlockVerdicts } from '../verify/block-batch';
import { BlockVerifierPool } from '../verify/block-verifier';
import type { Auditor } from './auditor';

// Envelopes (or blocks) per batch, batches a worker holds at once, and batches read ahead beyond those:
// enough to keep every thread busy, few enough to bound the memory held ahead.
const BATCH_ENVELOPES = 48;
const BATCH_BLOCKS = 32;
const BATCHES_PER_WORKER = 2;
const SPARE_BATCHES = 4;

interface Batch {
  readonly blocks: readonly RawBlock[];
  /** Verified on a worker: settles with the blocks' verdicts (undefined if the worker failed). */
  sent?: Promise<void>;
  done: boolean;
  verdicts?: readonly BlockVerdicts[] | undefined;
  /** Decoded (and verified) on the calling thread instead. */
  decoded?: readonly DecodedBlock[];
}

/**
 * Feeds blocks to an auditor in order, their signatures verified ahead on worker threads (each worker
 * decodes the block itself and returns one verdict byte per signature and the data hash): each block is
 * replayed in order once its batch is back, decoded again on the calling thread with the workers'
 * verdicts, so the calling thread does the cheap decoding and the sequential part (identities against
 * the configuration in force, policies, MVCC, state, verdicts) and the workers the cryptography.
 */
class VerifyingPipeline {
  readonly #auditor: Auditor;
  readonly #verifier: BlockVerifierPool;
  readonly #queueLimit: number;
  readonly #afterBlock: ((block: RawBlock) => void) | undefined;
  readonly #queue: Batch[] = [];
  #blocks: RawBlock[] = [];
  #envelopes = 0;

  public constructor(
    auditor: Auditor,
    verifier: BlockVerifierPool,
    workers: number,
    afterBlock: ((block: RawBlock) => void) | undefined,
  ) {
    this.#auditor = auditor;
    this.#verifier = verifier;
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

  /** Hands the oldest batches no worker holds yet to the workers that have room. */
  #dispatch(): void {
    for (const batch of this.#queue) {
      if (!this.#verifier.hasRoom(BATCHES_PER_WORKER)) return;
      if (batch.sent || batch.done) continue;
      batch.sent = this.#verifier.verify(batch.blocks).then((verdicts) => {
        batch.verdicts = verdicts;
        batch.done = true;
        // The worker that answered has room again: hand it the next batch now, not when the replay
        // gets to this one.
        this.#dispatch();
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
    this.#dispatch();
    // A batch no worker took (the pool failed: batches go to workers oldest first) is verified here.
    if (!oldest.sent && !oldest.done) this.#decodeHere(oldest);
    await oldest.sent;
    this.#queue.shift();
    // The worker's verdicts are taken while the block is decoded here again (the wire reader is cheap; a
    // decoded block would cost more to clone across threads). None (a worker failed): verified here.
    oldest.blocks.forEach((block, i) => {
      const verdicts = oldest.verdicts?.[i];
      this.#auditor.processBlock(block, oldest.decoded?.[i] ?? this.#auditor.prepareBlock(block, verdicts));
      this.#afterBlock?.(block);
    });
  }
}

/** Options of {@link replayChain}. */
export interface ReplayOptions {
  /**
   * Worker threads that verify blocks' signatures ahead of the ordered replay (default: one per core; 0:
   * all on the calling thread). The verdicts are the same either way.
   */
  readonly workers?: number;
  /** Stop after this block (inclusive). */
  readonly toBlock?: bigint;
  /** Called after each block is replayed, in block order. */
  readonly afterBlock?: (block: RawBlock) => void;
}

/**
 * Replays every block of `source` through `auditor`, in order, signatures verified ahead on worker
 * threads. The blocks read before a source fails are replayed before its error is rethrown.
 */
export async function replayChain(
  source: BlockSource,
  auditor: Auditor,
  options: ReplayOptions,
): Promise<void> {
  const workers = options.workers ?? availableParallelism();
  const verifier = workers > 0 ? new BlockVerifierPool(workers) : undefined;
  const pipeline = verifier
    ? new VerifyingPipeline(auditor, verifier, workers, options.afterBlock)
    : undefined;
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
    await verifier?.close();
  }
}
