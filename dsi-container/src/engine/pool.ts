/**
 * A small pool of worker threads for segment crypto, so sealing, hashing and opening use every
 * core: segments are independent by construction (per-chunk nonces, per-segment digests).
 * Small jobs run inline, where a thread hop would cost more than it saves. Buffers are
 * transferred to the worker and back and then recycled (engine/buffers.ts). Workers are unref'd
 * while idle so the pool never keeps a process alive.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  digestSegment,
  openSegment,
  openSegmentChunks,
  sealSegment,
  type SegmentTask,
} from '../crypto/stream';
import { TAG_LENGTH } from '../format/limits';
import { acquire, release, releasePlaintext } from './buffers';
import {
  digestRanges,
  sealRange,
  type DigestRangeJob,
  type RangeResult,
  type SealRangeJob,
} from './file-jobs';
import { DsiError } from '../errors';

export type Job =
  | { readonly op: 'seal-range'; readonly job: SealRangeJob }
  | { readonly op: 'digest-range'; readonly job: DigestRangeJob }
  | { readonly op: 'seal'; readonly task: SegmentTask; readonly out: Buffer }
  | { readonly op: 'open'; readonly task: OpenTask }
  | { readonly op: 'digest'; readonly data: Buffer };

export type JobResult =
  | { readonly op: 'range'; readonly result: RangeResult }
  | {
      readonly op: 'seal';
      readonly data: Uint8Array;
      readonly ciphertext: Uint8Array;
      readonly digest: string;
    }
  | {
      readonly op: 'open';
      readonly buffer: Uint8Array;
      readonly plaintextLength?: number;
      readonly badChunk?: number;
      readonly digestMismatch?: boolean;
    }
  | { readonly op: 'digest'; readonly data: Uint8Array; readonly digest: string };

/**
 * What opening one segment needs: its ciphertext and, when given, the signed digest that exact
 * buffer must have before any of it is decrypted.
 */
export type OpenTask = Omit<SegmentTask, 'data'> & {
  readonly ciphertext: Buffer;
  readonly expectedDigest?: string;
};

/** Why a segment yielded no plaintext. */
export type OpenFailure = { readonly badChunk: number } | { readonly digestMismatch: true };

/** Jobs smaller than this run on the calling thread. */
const INLINE_BELOW = 256 * 1024;

interface Slot {
  readonly worker: Worker;
  busy: number;
}

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Whether `b` is the only view of its ArrayBuffer, so transferring it detaches nothing else. */
const ownsBuffer = (b: Uint8Array): boolean =>
  b.byteOffset === 0 && b.buffer.byteLength >= b.byteLength && b.buffer.byteLength >= 64 * 1024;

class CryptoPool {
  readonly #size: number;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (r: JobResult) => void; reject: (e: unknown) => void; slot: Slot }
  >();
  #nextId = 0;

  constructor(size: number) {
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  /** Runs `job` on the least busy of the first `threads` workers (started on demand). */
  run(job: Job, transferables: readonly Uint8Array[], threads = this.#size): Promise<JobResult> {
    const slot = this.#pick(Math.max(1, Math.min(threads, this.#size)));
    const id = this.#nextId++;
    const transfer = transferables.filter(ownsBuffer).map((b) => b.buffer as ArrayBuffer);
    return new Promise<JobResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, job }, [...new Set(transfer)]);
    });
  }

  #pick(threads: number): Slot {
    if (this.#slots.length < threads) {
      const worker = new Worker(path.join(__dirname, 'worker.js'));
      const slot: Slot = { worker, busy: 0 };
      worker.unref();
      worker.on('message', (msg: { id: number; result: JobResult }) => {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (--p.slot.busy === 0) p.slot.worker.unref();
        p.resolve(msg.result);
      });
      worker.on('error', (err) => {
        for (const [id, p] of this.#pending) {
          if (p.slot === slot) {
            this.#pending.delete(id);
            p.reject(err);
          }
        }
        this.#slots.splice(this.#slots.indexOf(slot), 1);
      });
      this.#slots.push(slot);
      return slot;
    }
    return this.#slots.slice(0, threads).reduce((a, b) => (b.busy < a.busy ? b : a));
  }
}

/**
 * Worker threads: one fewer than the cores (the main thread reads, writes and collects garbage),
 * at least one, at most eight. `THREADSEAL_CRYPTO_THREADS` overrides it; 0 runs everything
 * on the calling thread (smallest memory footprint).
 */
export function cryptoThreads(): number {
  const configured = process.env.THREADSEAL_CRYPTO_THREADS;
  if (configured !== undefined && /^\d+$/.test(configured)) return Math.min(Number(configured), 64);
  return Math.max(1, Math.min(availableParallelism() - 1, 8));
}

/**
 * Worker threads for whole-file jobs ({@link sealRangeAsync}, {@link digestRangesAsync}): the
 * workers do their own reads and writes, so the calling thread is idle and every core gets a
 * worker (at most eight). `THREADSEAL_CRYPTO_THREADS` overrides it as for {@link cryptoThreads}.
 */
export function fileThreads(): number {
  const configured = process.env.THREADSEAL_CRYPTO_THREADS;
  if (configured !== undefined && /^\d+$/.test(configured)) return Math.min(Number(configured), 64);
  return Math.max(1, Math.min(availableParallelism(), 8));
}

let shared: CryptoPool | undefined;
function pool(): CryptoPool {
  shared ??= new CryptoPool(Math.max(1, cryptoThreads(), fileThreads()));
  return shared;
}

/** Whether jobs of `bytes` run on the calling thread. */
const inline = (bytes: number): boolean => bytes < INLINE_BELOW || cryptoThreads() === 0;

/** How many segment jobs a pipeline should keep in flight. */
export function pipelineDepth(): number {
  return cryptoThreads() === 0 ? 1 : Math.max(1, cryptoThreads()) * 2 + 1;
}

/**
 * Seals a segment, in a worker when it is large. `task.data` is consumed (recycled); the
 * returned ciphertext should be handed back with `release` once written.
 */
export async function sealSegmentAsync(task: SegmentTask): Promise<{ ciphertext: Buffer; digest: string }> {
  const chunks = task.data.length === 0 ? 1 : Math.ceil(task.data.length / task.chunkSize);
  const out = acquire(task.data.length + chunks * TAG_LENGTH);
  if (inline(task.data.length)) {
    const r = sealSegment(task, out);
    releasePlaintext(task.data);
    return r;
  }
  const r = await pool().run({ op: 'seal', task, out }, [task.data, out], cryptoThreads());
  if (r.op !== 'seal') throw new DsiError('INTERNAL', 'crypto pool answered the wrong job');
  releasePlaintext(r.data);
  return { ciphertext: toBuffer(r.ciphertext), digest: r.digest };
}

/**
 * Opens a segment into plaintext pieces (per chunk on the calling thread, one piece from a
 * worker). With `expectedDigest` the very buffer that is decrypted is hashed first, in the same
 * job, and a mismatch yields no plaintext. The ciphertext buffer is consumed (recycled when
 * decrypted here).
 */
export async function openSegmentPiecesAsync(task: OpenTask): Promise<Buffer[] | OpenFailure> {
  if (inline(task.ciphertext.length) || cryptoThreads() <= 1) {
    const r =
      task.expectedDigest !== undefined && digestSegment(task.ciphertext) !== task.expectedDigest
        ? ({ digestMismatch: true } as const)
        : openSegmentChunks(task);
    release(task.ciphertext);
    return r;
  }
  const r = await openSegmentAsync(task);
  return Buffer.isBuffer(r) ? [r] : r;
}

/**
 * Opens a segment in place, in a worker when it is large, after checking `expectedDigest` (when
 * given) on the same buffer. The ciphertext buffer is consumed.
 */
export async function openSegmentAsync(task: OpenTask): Promise<Buffer | OpenFailure> {
  // With a single worker the calling thread would only wait for it, and plaintext made on
  // another thread's heap lingers in its malloc arena: decrypt here instead.
  if (inline(task.ciphertext.length) || cryptoThreads() <= 1) {
    if (task.expectedDigest !== undefined && digestSegment(task.ciphertext) !== task.expectedDigest) {
      release(task.ciphertext);
      return { digestMismatch: true };
    }
    return openSegment(task, true);
  }
  const r = await pool().run({ op: 'open', task }, [task.ciphertext], cryptoThreads());
  if (r.op !== 'open') throw new DsiError('INTERNAL', 'crypto pool answered the wrong job');
  if (r.digestMismatch === true) {
    release(r.buffer);
    return { digestMismatch: true };
  }
  if (r.badChunk !== undefined) {
    release(r.buffer);
    return { badChunk: r.badChunk };
  }
  return toBuffer(r.buffer).subarray(0, r.plaintextLength ?? 0);
}

let alternate = false;

/** SHA-256 (hex) of a segment, in a worker when it is large. The buffer is consumed (recycled). */
export async function digestSegmentAsync(data: Buffer): Promise<string> {
  // With one worker, hash every other segment here so both cores hash (SHA-256 scales per core).
  alternate = !alternate;
  if (inline(data.length) || (cryptoThreads() === 1 && alternate)) {
    const d = digestSegment(data);
    release(data);
    return d;
  }
  const r = await pool().run({ op: 'digest', data }, [data], cryptoThreads());
  if (r.op !== 'digest') throw new DsiError('INTERNAL', 'crypto pool answered the wrong job');
  release(r.data);
  return r.digest;
}

/** Whole-file jobs of less work than this run on the calling thread (no thread start-up). */
const FILE_JOB_INLINE_BELOW = 1024 * 1024;

async function runFileJob(
  job: Extract<Job, { op: 'seal-range' | 'digest-range' }>,
  bytes: number,
  threads: number,
): Promise<RangeResult> {
  if (threads === 0 || bytes < FILE_JOB_INLINE_BELOW) {
    return job.op === 'seal-range' ? sealRange(job.job) : digestRanges(job.job);
  }
  const r = await pool().run(job, [], threads);
  if (r.op !== 'range') throw new DsiError('INTERNAL', 'crypto pool answered the wrong job');
  return r.result;
}

/**
 * Seals a run of segments of one file from descriptor to descriptor on one of the first
 * `threads` workers (see engine/file-jobs.ts); resolves with their digests. The descriptors
 * must stay open until it settles.
 */
export function sealRangeAsync(job: SealRangeJob, threads = fileThreads()): Promise<RangeResult> {
  return runFileJob({ op: 'seal-range', job }, job.segments * job.segmentChunks * job.chunkSize, threads);
}

/** Hashes ciphertext ranges of a descriptor on a worker. The descriptor must stay open until it settles. */
export function digestRangesAsync(job: DigestRangeJob): Promise<RangeResult> {
  return runFileJob(
    { op: 'digest-range', job },
    job.ranges.reduce((n, r) => n + r.length, 0),
    fileThreads(),
  );
}

export { acquire, release };
