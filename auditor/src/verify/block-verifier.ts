import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawBlock } from '../block/raw-block';
import { packBlocks, unpackVerdicts, type BlockVerdicts, type VerdictBatchMessage } from './block-batch';

interface WorkerSlot {
  readonly worker: Worker;
  pending: number;
}

/**
 * Verifies blocks' signatures on worker threads (one per core by default): each worker decodes a block as
 * `decodeBlock` does on the calling thread and returns, per signature in block order, whether it verifies
 * under its identity's key, and the block's data hash. What it returns depends only on the blocks' bytes,
 * so the replay's verdicts are the same with or without it.
 */
export class BlockVerifierPool {
  readonly #slots: WorkerSlot[];
  readonly #waiting = new Map<number, (blocks: readonly BlockVerdicts[] | undefined) => void>();
  #nextBatch = 0;
  #failed = false;
  #closing = false;

  public constructor(workers = availableParallelism()) {
    const count = Math.max(1, workers);
    this.#slots = Array.from({ length: count }, () => {
      const worker = new Worker(join(__dirname, 'block-worker.js'));
      const slot: WorkerSlot = { worker, pending: 0 };
      worker.on('message', (message: VerdictBatchMessage) => {
        slot.pending--;
        const waiting = this.#waiting.get(message.batch);
        this.#waiting.delete(message.batch);
        waiting?.(unpackVerdicts(message));
      });
      worker.on('error', () => {
        this.#fail();
      });
      worker.on('exit', () => {
        if (!this.#closing) this.#fail();
      });
      return slot;
    });
  }

  // A worker that dies leaves its blocks unverified: the replay then verifies them itself, so a failure
  // here costs time, never a different verdict.
  #fail(): void {
    this.#failed = true;
    for (const resolve of this.#waiting.values()) resolve(undefined);
    this.#waiting.clear();
  }

  /** Whether some worker holds fewer than `batches` batches (a failed pool has no room). */
  public hasRoom(batches: number): boolean {
    return !this.#failed && this.#slots.some((s) => s.pending < batches);
  }

  /** Whether a worker failed (every later batch is left to the replay's own thread). */
  public get failed(): boolean {
    return this.#failed;
  }

  /**
   * Verifies the blocks on the least busy worker: their verdicts, one entry per block in order, or
   * undefined when a worker failed. Never rejects. The blocks' bytes are copied once into the transferred
   * buffer.
   */
  public async verify(blocks: readonly RawBlock[]): Promise<readonly BlockVerdicts[] | undefined> {
    if (this.#failed || blocks.length === 0) return undefined;
    const slot = this.#slots.reduce((a, b) => (b.pending < a.pending ? b : a));
    const batch = this.#nextBatch++;
    const { message, transfer } = packBlocks(batch, blocks);
    const decoded = new Promise<readonly BlockVerdicts[] | undefined>((resolve) => {
      this.#waiting.set(batch, resolve);
    });
    slot.pending++;
    slot.worker.postMessage(message, transfer);
    const result = await decoded;
    return result?.length === blocks.length ? result : undefined;
  }

  /** Stops the workers. */
  public async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
