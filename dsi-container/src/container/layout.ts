/** Reads a container's preamble and header and checks the payload length (steps 1–3 of verify). */
import { createHash } from 'node:crypto';
import { DsiError } from '../errors';
import { decodeHeader, decodePreamble, type Header } from '../format/header';
import { PREAMBLE_LENGTH, TAG_LENGTH } from '../format/limits';
import { displayName, fileLayout, type FileLayout, type ManifestFile } from '../format/manifest';
import type { RandomAccess } from './source';

/** A file's place in the payload. */
export interface PlacedFile extends FileLayout {
  readonly index: number;
  readonly entry: ManifestFile;
  /** Display name for messages (`#i (confidential name)` when sealed). */
  readonly label: string;
  /** Absolute offset of the file's first ciphertext byte. */
  readonly offset: number;
}

/** A parsed container: header, DSI id and where every file's ciphertext lies. */
export interface ParsedContainer {
  readonly header: Header;
  readonly headerLength: number;
  /** SHA-256 (hex) of the signed manifest bytes. */
  readonly dsiId: string;
  readonly files: readonly PlacedFile[];
  /** Offset just past the last file: the container's exact size. */
  readonly end: number;
}

/** The DSI id: lowercase hex SHA-256 of the signed manifest bytes (the DSSE payload). */
export function dsiIdOfManifest(manifestBytes: Uint8Array): string {
  return createHash('sha256').update(manifestBytes).digest('hex');
}

/** Places every file of the manifest after the header. */
export function placeFiles(header: Header, payloadOffset: number): { files: PlacedFile[]; end: number } {
  const { chunkSize, segmentChunks } = header.manifest;
  let offset = payloadOffset;
  const files = header.manifest.files.map((entry, index) => {
    const layout = fileLayout(entry.size, chunkSize, segmentChunks);
    const placed: PlacedFile = { ...layout, index, entry, label: displayName(entry, index), offset };
    offset += layout.ciphertextSize;
    return placed;
  });
  return { files, end: offset };
}

/** Reads and decodes the preamble and header. @throws DsiError */
export async function readHeader(ra: RandomAccess): Promise<{ header: Header; headerLength: number }> {
  const preamble = await ra.read(0, PREAMBLE_LENGTH);
  const headerLength = decodePreamble(preamble);
  const available = ra.size - PREAMBLE_LENGTH;
  if (available < headerLength) {
    throw new DsiError(
      'TRUNCATED',
      `input ends inside the header: ${headerLength} bytes declared, ${available} present`,
      {
        offset: ra.size,
      },
    );
  }
  const header = decodeHeader(await ra.read(PREAMBLE_LENGTH, headerLength));
  return { header, headerLength };
}

/**
 * Reads the header and checks the input is exactly as long as the manifest says.
 * @throws DsiError (all header codes) | TRUNCATED | TRAILING_DATA
 */
export async function parseContainer(ra: RandomAccess): Promise<ParsedContainer> {
  const { header, headerLength } = await readHeader(ra);
  const { files, end } = placeFiles(header, PREAMBLE_LENGTH + headerLength);
  if (ra.size < end) {
    const file = files.find((f) => ra.size < f.offset + f.ciphertextSize) as PlacedFile;
    const into = Math.max(0, ra.size - file.offset);
    const chunk = Math.min(Math.floor(into / (header.manifest.chunkSize + TAG_LENGTH)), file.chunkCount - 1);
    throw new DsiError(
      'TRUNCATED',
      `input ends at offset ${ra.size}, in chunk ${chunk} of ${file.chunkCount} of file ${file.label}; the manifest declares ${end} bytes`,
      { offset: ra.size, file: file.label, chunk },
    );
  }
  if (ra.size > end) {
    throw new DsiError(
      'TRAILING_DATA',
      `${ra.size - end} bytes follow the end of the last file at offset ${end}`,
      { offset: end },
    );
  }
  return { header, headerLength, dsiId: dsiIdOfManifest(header.manifestBytes), files, end };
}
