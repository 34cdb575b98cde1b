/**
 * STREAM chunked AEAD (Hoang, Reyhanitabar, Rogaway, Vizár 2015; as used by age and C2SP
 * chunked encryption) over AES-256-GCM. Chunk i of a file is sealed with nonce
 * `i` as an 11-byte big-endian counter ‖ a last-chunk flag byte (0x01 on the final chunk,
 * else 0x00). Truncation, reordering and duplication change a chunk's nonce and fail its tag.
 *
 * These functions work on whole segments so they can run in worker threads; they are pure.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { TAG_LENGTH } from '../format/limits';

/** The 12-byte nonce of chunk `index`. */
export function chunkNonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  // index < 2^32 by limit; write it into the low 6 bytes of the 11-byte counter.
  n.writeUIntBE(index, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/** What a worker needs to seal one segment of a file. */
export interface SegmentTask {
  readonly key: Buffer;
  /** Plaintext of the whole segment. */
  readonly data: Buffer;
  /** Index (within the file) of the segment's first chunk. */
  readonly firstChunk: number;
  readonly chunkSize: number;
  /** Whether the segment ends with the file's final chunk. */
  readonly lastSegment: boolean;
  /** Skip the digest (returns an empty string): for re-sealing segments whose digest is known. */
  readonly skipDigest?: boolean;
}

/** Seals a segment; returns its ciphertext (chunks with tags) and SHA-256 of that ciphertext (hex). */
export function sealSegment(t: SegmentTask, into?: Buffer): { ciphertext: Buffer; digest: string } {
  const chunks = t.data.length === 0 ? 1 : Math.ceil(t.data.length / t.chunkSize);
  const length = t.data.length + chunks * TAG_LENGTH;
  const out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  // Hash each chunk right after sealing it, while it is still in cache.
  const hash = t.skipDigest ? undefined : createHash('sha256');
  let o = 0;
  for (let c = 0; c < chunks; c++) {
    const pt = t.data.subarray(c * t.chunkSize, (c + 1) * t.chunkSize);
    const cipher = createCipheriv(
      'aes-256-gcm',
      t.key,
      chunkNonce(t.firstChunk + c, t.lastSegment && c === chunks - 1),
    );
    const ct = cipher.update(pt);
    cipher.final();
    const tag = cipher.getAuthTag();
    hash?.update(ct).update(tag);
    o += ct.copy(out, o);
    o += tag.copy(out, o);
  }
  return { ciphertext: out, digest: hash ? hash.digest('hex') : '' };
}

/** SHA-256 (hex) of a segment of ciphertext. */
export function digestSegment(ciphertext: Buffer): string {
  return createHash('sha256').update(ciphertext).digest('hex');
}

/**
 * Opens a segment. Returns the plaintext, or the index (within the file) of the first chunk
 * that fails authentication. No plaintext of a failing segment is returned. With `inPlace`
 * the plaintext overwrites the ciphertext buffer (chunk c's plaintext starts at c·chunkSize,
 * never past the start of chunk c+1's ciphertext, so nothing unread is overwritten).
 */
export function openSegment(
  t: Omit<SegmentTask, 'data'> & { readonly ciphertext: Buffer },
  inPlace = false,
): Buffer | { badChunk: number } {
  const step = t.chunkSize + TAG_LENGTH;
  const chunks = Math.max(1, Math.ceil(t.ciphertext.length / step));
  const plainLength = Math.max(0, t.ciphertext.length - chunks * TAG_LENGTH);
  const out = inPlace ? t.ciphertext.subarray(0, plainLength) : Buffer.allocUnsafe(plainLength);
  let o = 0;
  for (let c = 0; c < chunks; c++) {
    const ct = t.ciphertext.subarray(c * step, (c + 1) * step);
    if (ct.length < TAG_LENGTH) return { badChunk: t.firstChunk + c };
    const d = createDecipheriv(
      'aes-256-gcm',
      t.key,
      chunkNonce(t.firstChunk + c, t.lastSegment && c === chunks - 1),
    );
    d.setAuthTag(ct.subarray(ct.length - TAG_LENGTH));
    try {
      o += d.update(ct.subarray(0, ct.length - TAG_LENGTH)).copy(out, o);
      o += d.final().copy(out, o);
    } catch {
      out.fill(0);
      return { badChunk: t.firstChunk + c };
    }
  }
  return out;
}

/**
 * Opens a segment into one plaintext buffer per chunk (the decipher's own outputs, so nothing
 * is copied and `t.ciphertext` is left intact for reuse). Returns the index (within the file)
 * of the first chunk that fails authentication instead; no plaintext of a failing segment is
 * returned.
 */
export function openSegmentChunks(
  t: Omit<SegmentTask, 'data'> & { readonly ciphertext: Buffer },
): Buffer[] | { badChunk: number } {
  const step = t.chunkSize + TAG_LENGTH;
  const chunks = Math.max(1, Math.ceil(t.ciphertext.length / step));
  const out: Buffer[] = [];
  for (let c = 0; c < chunks; c++) {
    const ct = t.ciphertext.subarray(c * step, (c + 1) * step);
    if (ct.length < TAG_LENGTH) return { badChunk: t.firstChunk + c };
    const d = createDecipheriv(
      'aes-256-gcm',
      t.key,
      chunkNonce(t.firstChunk + c, t.lastSegment && c === chunks - 1),
    );
    d.setAuthTag(ct.subarray(ct.length - TAG_LENGTH));
    const pt = d.update(ct.subarray(0, ct.length - TAG_LENGTH));
    try {
      d.final();
    } catch {
      pt.fill(0);
      for (const p of out) p.fill(0);
      return { badChunk: t.firstChunk + c };
    }
    out.push(pt);
  }
  return out;
}
