/** What a worker answers for one triple. */
export const VERIFY_RESULT = {
  /** The identity's certificate could not be read: the main thread verifies (and refuses) itself. */
  UNKNOWN: 0,
  VALID: 1,
  INVALID: 2,
} as const;

/** One signature to verify: the key is named by its identity's number in the verifier's table. */
export interface PackedJob {
  readonly identity: number;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
}

/** One message to a worker: identities it has not seen yet, and the jobs packed in one buffer. */
export interface BatchMessage {
  readonly batch: number;
  readonly identities: readonly { readonly id: number; readonly bytes: Uint8Array }[];
  /** Per job: identity number, data length, signature length; data and signature follow in `bytes`. */
  readonly layout: Int32Array;
  readonly bytes: Uint8Array;
}

/** A worker's answer: one {@link VERIFY_RESULT} per job, in order. */
export interface BatchResult {
  readonly batch: number;
  readonly results: Uint8Array;
}

/** Packs jobs into one buffer; `transfer` lists the buffers to move (not copy) to the worker. */
export function packBatch(
  batch: number,
  identities: BatchMessage['identities'],
  jobs: readonly PackedJob[],
): { message: BatchMessage; transfer: ArrayBuffer[] } {
  let total = 0;
  for (const job of jobs) total += job.data.length + job.signature.length;
  const bytesBuffer = new ArrayBuffer(total);
  const layoutBuffer = new ArrayBuffer(jobs.length * 3 * Int32Array.BYTES_PER_ELEMENT);
  const bytes = new Uint8Array(bytesBuffer);
  const layout = new Int32Array(layoutBuffer);
  let offset = 0;
  jobs.forEach((job, i) => {
    layout[i * 3] = job.identity;
    layout[i * 3 + 1] = job.data.length;
    layout[i * 3 + 2] = job.signature.length;
    bytes.set(job.data, offset);
    offset += job.data.length;
    bytes.set(job.signature, offset);
    offset += job.signature.length;
  });
  return { message: { batch, identities, layout, bytes }, transfer: [bytesBuffer, layoutBuffer] };
}

/** The jobs of a packed batch, as views into its buffer. */
export function unpackBatch(message: BatchMessage): PackedJob[] {
  const jobs: PackedJob[] = [];
  let offset = 0;
  for (let i = 0; i + 2 < message.layout.length; i += 3) {
    const identity = message.layout[i] ?? -1;
    const dataLength = message.layout[i + 1] ?? 0;
    const signatureLength = message.layout[i + 2] ?? 0;
    const data = message.bytes.subarray(offset, offset + dataLength);
    offset += dataLength;
    const signature = message.bytes.subarray(offset, offset + signatureLength);
    offset += signatureLength;
    jobs.push({ identity, data, signature });
  }
  return jobs;
}
