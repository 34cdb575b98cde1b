/**
 * A small pool of worker threads for segment crypto, so sealing, hashing and opening use every
 * core: segments are independent by construction (per-chunk nonces, per-segment digests).
 * Small jobs run inline, where a thread hop would cost more than it saves. Workers are unref'd
 * while idle so the pool never keeps a process alive.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { digestSegment, openSegment, sealSegment, type SegmentTask } from '../crypto/stream';

export type Job =
  | { readonly op: 'seal'; readonly task: SegmentTask }
  | { readonly op: 'open'; readonly task: Omit<SegmentTask, 'data'> & { readonly ciphertext: Buffer } }
  | { readonly op: 'digest'; readonly data: Buffer };

export type JobResult =
  | { readonly op: 'seal'; readonly ciphertext: Uint8Array; readonly digest: string }
  | { readonly op: 'open'; readonly plaintext?: Uint8Array; readonly badChunk?: number }
  | { readonly op: 'digest'; readonly digest: string };

/** Jobs smaller than this run on the calling thread. */
const INLINE_BELOW = 512 * 1024;

interface Slot {
  readonly worker: Worker;
  busy: number;
}

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Whether `b` owns its whole ArrayBuffer, so it can be transferred instead of copied. */
const ownsBuffer = (b: Buffer): boolean => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;

class CryptoPool {
  readonly #size: number;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: unknown) => void; slot: Slot }>();
  #nextId = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** Number of worker threads (the useful number of jobs in flight). */
  get size(): number {
    return this.#size;
  }

  run(job: Job): Promise<JobResult> {
    const slot = this.#pick();
    const id = this.#nextId++;
    const transfer: ArrayBuffer[] = [];
    if (job.op === 'seal' && ownsBuffer(job.task.data)) transfer.push(job.task.data.buffer as ArrayBuffer);
    if (job.op === 'open' && ownsBuffer(job.task.ciphertext)) transfer.push(job.task.ciphertext.buffer as ArrayBuffer);
    if (job.op === 'digest' && ownsBuffer(job.data)) transfer.push(job.data.buffer as ArrayBuffer);
    return new Promise<JobResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, job }, transfer);
    });
  }

  #pick(): Slot {
    if (this.#slots.length < this.#size) {
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
    return this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }
}

let shared: CryptoPool | undefined;
function pool(): CryptoPool {
  shared ??= new CryptoPool(Math.max(1, Math.min(availableParallelism(), 8)));
  return shared;
}

/** How many segment jobs a pipeline should keep in flight. */
export function pipelineDepth(): number {
  return pool().size * 2;
}

/** Seals a segment, in a worker when it is large. */
export async function sealSegmentAsync(task: SegmentTask): Promise<{ ciphertext: Buffer; digest: string }> {
  if (task.data.length < INLINE_BELOW) return sealSegment(task);
  const r = await pool().run({ op: 'seal', task });
  if (r.op !== 'seal') throw new Error('crypto pool answered the wrong job');
  return { ciphertext: toBuffer(r.ciphertext), digest: r.digest };
}

/** Opens a segment, in a worker when it is large. */
export async function openSegmentAsync(task: Omit<SegmentTask, 'data'> & { readonly ciphertext: Buffer }): Promise<Buffer | { badChunk: number }> {
  if (task.ciphertext.length < INLINE_BELOW) return openSegment(task);
  const r = await pool().run({ op: 'open', task });
  if (r.op !== 'open') throw new Error('crypto pool answered the wrong job');
  return r.plaintext ? toBuffer(r.plaintext) : { badChunk: r.badChunk ?? task.firstChunk };
}

/** SHA-256 (hex) of a segment, in a worker when it is large. */
export async function digestSegmentAsync(data: Buffer): Promise<string> {
  if (data.length < INLINE_BELOW) return digestSegment(data);
  const r = await pool().run({ op: 'digest', data });
  if (r.op !== 'digest') throw new Error('crypto pool answered the wrong job');
  return r.digest;
}
