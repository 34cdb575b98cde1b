/** Worker-thread side of the crypto pool: runs the pure segment functions of crypto/stream.ts. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { digestSegment, openSegment, sealSegment } from '../crypto/stream';
import { digestRanges, sealRange } from './file-jobs';
import type { Job, JobResult } from './pool';

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const whole = (u: Uint8Array): ArrayBuffer => u.buffer as ArrayBuffer;

// Node allocates a fresh buffer for every cipher.update(); V8 collects that external memory
// only after ~64 MiB of it has piled up per isolate. Collecting every 4 MiB of work (or after
// each whole-file job) keeps the worker's resident memory flat; those outputs die young, so a
// scavenge frees them for a fraction of the cost of a full GC.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as ((options?: { type: 'minor' | 'major' }) => void) | undefined;
let sinceCollect = 0;
const COLLECT_EVERY = 4 * 1024 * 1024;

parentPort?.on('message', (msg: { id: number; job: Job }) => {
  const { id, job } = msg;
  let result: JobResult;
  let transfer: ArrayBuffer[] = [];
  let work = 0;
  if (job.op === 'seal-range') {
    result = { op: 'range', result: sealRange(job.job) };
    work = job.job.segments * job.job.segmentChunks * job.job.chunkSize;
  } else if (job.op === 'digest-range') {
    result = { op: 'range', result: digestRanges(job.job) };
    work = job.job.ranges.reduce((n, r) => n + r.length, 0);
  } else if (job.op === 'seal') {
    const r = sealSegment(
      { ...job.task, key: toBuffer(job.task.key), data: toBuffer(job.task.data) },
      toBuffer(job.out),
    );
    result = { op: 'seal', data: job.task.data, ciphertext: r.ciphertext, digest: r.digest };
    transfer = [whole(job.task.data), whole(r.ciphertext)];
  } else if (job.op === 'open') {
    const ct = toBuffer(job.task.ciphertext);
    // The digest is checked on the buffer about to be decrypted, so what is decrypted is what was signed.
    const expected = job.task.expectedDigest;
    if (expected !== undefined && digestSegment(ct) !== expected) {
      result = { op: 'open', buffer: ct, digestMismatch: true };
    } else {
      const r = openSegment({ ...job.task, key: toBuffer(job.task.key), ciphertext: ct }, true);
      result = Buffer.isBuffer(r)
        ? { op: 'open', buffer: ct, plaintextLength: r.length }
        : { op: 'open', buffer: ct, badChunk: r.badChunk };
    }
    transfer = [whole(ct)];
  } else {
    result = { op: 'digest', data: job.data, digest: digestSegment(toBuffer(job.data)) };
    transfer = [whole(job.data)];
  }
  parentPort?.postMessage({ id, result }, [...new Set(transfer)]);
  sinceCollect += work + transfer.reduce((n, b) => n + b.byteLength, 0);
  if (sinceCollect >= COLLECT_EVERY && typeof collect === 'function') {
    sinceCollect = 0;
    collect({ type: 'minor' });
  }
});
