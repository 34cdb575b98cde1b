/** Enumerates the segments of placed files with their byte ranges. */
import { TAG_LENGTH } from '../format/limits';
import type { PlacedFile } from './layout';

/** One segment of one file's ciphertext. */
export interface SegmentRef {
  readonly file: PlacedFile;
  readonly segment: number;
  readonly firstChunk: number;
  readonly lastChunk: number;
  readonly offset: number;
  readonly length: number;
  readonly lastSegment: boolean;
}

/** The segments of `file`, in order. */
export function* segmentsOf(
  file: PlacedFile,
  chunkSize: number,
  segmentChunks: number,
): Generator<SegmentRef> {
  const step = chunkSize + TAG_LENGTH;
  const fileEnd = file.offset + file.ciphertextSize;
  for (let s = 0; s < file.segmentCount; s++) {
    const firstChunk = s * segmentChunks;
    const lastChunk = Math.min(file.chunkCount, firstChunk + segmentChunks) - 1;
    const offset = file.offset + firstChunk * step;
    const end = Math.min(fileEnd, offset + segmentChunks * step);
    yield {
      file,
      segment: s,
      firstChunk,
      lastChunk,
      offset,
      length: end - offset,
      lastSegment: s === file.segmentCount - 1,
    };
  }
}

/** Human description of a segment for error messages. */
export function describeSegment(ref: SegmentRef): string {
  const chunks =
    ref.firstChunk === ref.lastChunk
      ? `chunk ${ref.firstChunk}`
      : `chunks ${ref.firstChunk}–${ref.lastChunk}`;
  return `segment ${ref.segment} of ${ref.file.segmentCount} (${chunks}, offset ${ref.offset}) of file ${ref.file.label}`;
}
