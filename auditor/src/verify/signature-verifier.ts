import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BytesMap } from '../msp/msp';
import type { SignedData } from '../policy/policy';
import { packBatch, VERIFY_RESULT, type BatchResult, type PackedJob } from './signature-batch';

/** A signature whose verdict a {@link SignatureVerifier} fills in (`verifiedSignature`) when it returns. */
export interface SignatureJob extends SignedData {
  verifiedSignature?: boolean;
}

interface WorkerSlot {
  readonly worker: Worker;
  readonly known: Set<number>;
  pending: number;
}

/**
 * Verifies signatures on worker threads (one per core by default): each job's verdict is whether its
 * signature verifies under the public key of its identity's certificate, as `verifyFabricSignature`
 * decides. Whether the identity belongs to the channel is not decided here: the replay judges that in
 * block order and only then uses the verdict.
 */
export class SignatureVerifier {
  readonly #slots: WorkerSlot[];
  readonly #identityIds = new BytesMap<number>();
  readonly #identities: Uint8Array[] = [];
  readonly #waiting = new Map<number, (results: Uint8Array | undefined) => void>();
  #nextBatch = 0;
  #failed = false;
  #closing = false;

  public constructor(workers = availableParallelism()) {
    const count = Math.max(1, workers);
    this.#slots = Array.from({ length: count }, () => {
      const worker = new Worker(join(__dirname, 'signature-worker.js'));
      const slot: WorkerSlot = { worker, known: new Set(), pending: 0 };
      worker.on('message', (message: BatchResult) => {
        slot.pending--;
        const waiting = this.#waiting.get(message.batch);
        this.#waiting.delete(message.batch);
        waiting?.(message.results);
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

  // A worker that dies leaves its jobs without a verdict: the replay then verifies them itself, so a
  // failure here costs time, never a different verdict.
  #fail(): void {
    this.#failed = true;
    for (const resolve of this.#waiting.values()) resolve(undefined);
    this.#waiting.clear();
  }

  /** Whether a worker failed (every later job is left to the replay's own thread). */
  public get failed(): boolean {
    return this.#failed;
  }

  #identityId(bytes: Uint8Array): number {
    let id = this.#identityIds.get(bytes);
    if (id === undefined) {
      id = this.#identities.length;
      this.#identities.push(bytes);
      this.#identityIds.set(bytes, id);
    }
    return id;
  }

  /**
   * Verifies the jobs on the least busy worker and sets each one's `verifiedSignature`; never rejects
   * (a job left without a verdict is verified by whoever uses it).
   */
  public async verify(jobs: readonly SignatureJob[]): Promise<void> {
    if (this.#failed || jobs.length === 0) return;
    const slot = this.#slots.reduce((a, b) => (b.pending < a.pending ? b : a));
    const packed: PackedJob[] = [];
    const fresh: { id: number; bytes: Uint8Array }[] = [];
    for (const job of jobs) {
      const id = this.#identityId(job.identity);
      if (!slot.known.has(id)) {
        slot.known.add(id);
        fresh.push({ id, bytes: job.identity });
      }
      packed.push({ identity: id, data: job.data, signature: job.signature });
    }
    const batch = this.#nextBatch++;
    const { message, transfer } = packBatch(batch, fresh, packed);
    const results = new Promise<Uint8Array | undefined>((resolve) => {
      this.#waiting.set(batch, resolve);
    });
    slot.pending++;
    slot.worker.postMessage(message, transfer);
    const verdicts = await results;
    if (!verdicts) return;
    jobs.forEach((job, i) => {
      const r = verdicts[i];
      if (r === VERIFY_RESULT.VALID) job.verifiedSignature = true;
      else if (r === VERIFY_RESULT.INVALID) job.verifiedSignature = false;
    });
  }

  /** Stops the workers. */
  public async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
