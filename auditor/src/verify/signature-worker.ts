// A signature-verification worker (node:worker_threads). It receives batches of (identity, data,
// signature) triples packed in one transferred buffer and answers, per triple, whether the signature
// verifies under the public key of the identity's certificate, exactly as the main thread's
// verifyFabricSignature would (low-S, DER, P-256/SHA-256). It decides nothing else: whether the identity
// is a valid member of the channel's MSPs is judged on the main thread, in block order.
import { parentPort } from 'node:worker_threads';
import { publicKeyOfIdentity, verifyFabricSignature } from '../msp/msp';
import { unpackBatch, VERIFY_RESULT, type BatchMessage } from './signature-batch';

const port = parentPort;
if (!port) throw new TypeError('signature-worker must run in a worker thread');

const keys = new Map<number, ReturnType<typeof publicKeyOfIdentity>>();

port.on('message', (message: BatchMessage) => {
  for (const identity of message.identities) keys.set(identity.id, publicKeyOfIdentity(identity.bytes));
  const jobs = unpackBatch(message);
  const buffer = new ArrayBuffer(jobs.length);
  const results = new Uint8Array(buffer);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    if (!job) continue;
    const key = keys.get(job.identity);
    results[i] =
      key === undefined
        ? VERIFY_RESULT.UNKNOWN
        : verifyFabricSignature(key, job.data, job.signature)
          ? VERIFY_RESULT.VALID
          : VERIFY_RESULT.INVALID;
  }
  port.postMessage({ batch: message.batch, results }, [buffer]);
});
