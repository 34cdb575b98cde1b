/** Worker-thread side of the crypto pool: runs the pure segment functions of crypto/stream.ts. */
import { parentPort } from 'node:worker_threads';
import { digestSegment, openSegment, sealSegment } from '../crypto/stream';
import type { Job, JobResult } from './pool';

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

parentPort?.on('message', (msg: { id: number; job: Job }) => {
  const { id, job } = msg;
  let result: JobResult;
  const transfer: ArrayBuffer[] = [];
  if (job.op === 'seal') {
    const r = sealSegment({ ...job.task, key: toBuffer(job.task.key), data: toBuffer(job.task.data) });
    result = { op: 'seal', ciphertext: r.ciphertext, digest: r.digest };
    transfer.push(r.ciphertext.buffer as ArrayBuffer);
  } else if (job.op === 'open') {
    const r = openSegment({ ...job.task, key: toBuffer(job.task.key), ciphertext: toBuffer(job.task.ciphertext) });
    if (Buffer.isBuffer(r)) {
      result = { op: 'open', plaintext: r };
      transfer.push(r.buffer as ArrayBuffer);
    } else {
      result = { op: 'open', badChunk: r.badChunk };
    }
  } else {
    result = { op: 'digest', digest: digestSegment(toBuffer(job.data)) };
  }
  parentPort?.postMessage({ id, result }, transfer);
});
