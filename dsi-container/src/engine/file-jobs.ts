/**
 * Whole runs of segments processed against file descriptors, for worker threads: the thread
 * reads the plaintext (or ciphertext) itself with positional reads, seals or hashes it, and
 * writes the ciphertext at its final offset, so no segment ever crosses a thread boundary and
 * only digests travel back. Descriptors are process-wide; the caller keeps them open until every
 * job that names them has settled.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { readSync, writeSync, writevSync } from 'node:fs';
import { TAG_LENGTH } from '../format/limits';
import { chunkNonce } from '../crypto/stream';

/** Seal segments `firstSegment … firstSegment + segments − 1` of one file. */
export interface SealRangeJob {
  readonly key: Uint8Array;
  /** Plaintext input, read positionally. */
  readonly inFd: number;
  /** Container output, written positionally; −1 computes the digests only. */
  readonly outFd: number;
  /** Absolute output offset of the file's first ciphertext byte. */
  readonly outBase: number;
  /** The file's plaintext size, fixed before sealing started. */
  readonly size: number;
  readonly chunkSize: number;
  readonly segmentChunks: number;
  readonly firstSegment: number;
  readonly segments: number;
}

/** Hash the ciphertext segments at the given absolute ranges. */
export interface DigestRangeJob {
  readonly fd: number;
  readonly ranges: readonly { readonly offset: number; readonly length: number }[];
}

/** Per-segment digests (hex), or those computed before the run stopped, with where and why. */
export type RangeResult =
  | { readonly ok: true; readonly digests: string[] }
  | {
      readonly ok: false;
      readonly digests: string[];
      /** Index of the failing segment within the job. */
      readonly at: number;
      /** `short`: the input ended early; `io`: a system call failed. */
      readonly problem: 'short' | 'io';
      readonly message: string;
      readonly code?: string;
    };

/** Bytes read per system call: large enough that syscalls are noise, small enough for the cache. */
const WINDOW_BYTES = 1024 * 1024;

let scratch = Buffer.alloc(0);
/** A per-thread read buffer, grown on demand and reused. */
function buffer(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch;
}

/** Reads up to `length` bytes at `position`; fewer only at end of input. */
function readFully(fd: number, into: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Writes every byte of `pieces` at `position` (one writev in the common case). */
function writeAll(fd: number, pieces: Buffer[], total: number, position: number): void {
  const done = writevSync(fd, pieces, position);
  if (done === total) return;
  // A short writev is rare (signals, quotas): finish piece by piece.
  let at = 0;
  for (const p of pieces) {
    let off = Math.max(0, done - at);
    while (off < p.length) {
      const n = writeSync(fd, p, off, p.length - off, position + at + off);
      if (n === 0) throw new Error(`write returned 0 at offset ${position + at + off}`);
      off += n;
    }
    at += p.length;
  }
}

const failure = (digests: string[], err: unknown): RangeResult => {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return {
    ok: false,
    digests,
    at: digests.length,
    problem: 'io',
    message: err instanceof Error ? err.message : String(err),
    ...(typeof code === 'string' ? { code } : {}),
  };
};

/**
 * Seals a run of segments: each 64 KiB-class chunk is encrypted, its ciphertext and tag hashed
 * while still in cache and handed to one `writev` per read window — never copied into a
 * segment buffer. Byte-for-byte the output of `sealSegment` on the same inputs.
 */
export function sealRange(job: SealRangeJob): RangeResult {
  const { chunkSize, segmentChunks, size } = job;
  const key = Buffer.from(job.key.buffer, job.key.byteOffset, job.key.byteLength);
  const chunkCount = Math.max(1, Math.ceil(size / chunkSize));
  const step = chunkSize + TAG_LENGTH;
  const windowChunks = Math.max(1, Math.min(segmentChunks, Math.floor(WINDOW_BYTES / chunkSize)));
  const buf = buffer(windowChunks * chunkSize);
  const digests: string[] = [];
  try {
    for (let i = 0; i < job.segments; i++) {
      const s = job.firstSegment + i;
      const firstChunk = s * segmentChunks;
      const endChunk = Math.min(chunkCount, firstChunk + segmentChunks);
      const hash = createHash('sha256');
      try {
        for (let c0 = firstChunk; c0 < endChunk; c0 += windowChunks) {
          const c1 = Math.min(endChunk, c0 + windowChunks);
          const plainAt = c0 * chunkSize;
          const want = Math.min((c1 - c0) * chunkSize, size - plainAt);
          if (readFully(job.inFd, buf, want, plainAt) !== want) {
            return {
              ok: false,
              digests,
              at: i,
              problem: 'short',
              message: `input ended before byte ${plainAt + want}`,
            };
          }
          const pieces: Buffer[] = [];
          let total = 0;
          for (let c = c0; c < c1; c++) {
            const pt = buf.subarray((c - c0) * chunkSize, Math.min(want, (c - c0 + 1) * chunkSize));
            const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(c, c === chunkCount - 1));
            const ct = cipher.update(pt);
            cipher.final();
            const tag = cipher.getAuthTag();
            hash.update(ct).update(tag);
            pieces.push(ct, tag);
            total += ct.length + tag.length;
          }
          if (job.outFd >= 0) writeAll(job.outFd, pieces, total, job.outBase + c0 * step);
        }
      } catch (err) {
        return failure(digests, err);
      }
      digests.push(hash.digest('hex'));
    }
    return { ok: true, digests };
  } finally {
    // The scratch buffer is reused for ciphertext too: never leave plaintext in it.
    buf.fill(0);
  }
}

/** Hashes each range (SHA-256, hex), reading a window at a time. */
export function digestRanges(job: DigestRangeJob): RangeResult {
  const digests: string[] = [];
  for (const [i, r] of job.ranges.entries()) {
    const hash = createHash('sha256');
    try {
      for (let at = 0; at < r.length; at += WINDOW_BYTES) {
        const want = Math.min(WINDOW_BYTES, r.length - at);
        const buf = buffer(WINDOW_BYTES);
        if (readFully(job.fd, buf, want, r.offset + at) !== want) {
          return {
            ok: false,
            digests,
            at: i,
            problem: 'short',
            message: `input ended before byte ${r.offset + at + want}`,
          };
        }
        hash.update(buf.subarray(0, want));
      }
    } catch (err) {
      return failure(digests, err);
    }
    digests.push(hash.digest('hex'));
  }
  return { ok: true, digests };
}
