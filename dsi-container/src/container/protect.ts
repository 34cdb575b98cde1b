/** protect(): files or streams in, a signed and encrypted DSI container stream out. */
import { randomBytes, verify as verifySignature, type KeyObject, type X509Certificate } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdtemp, open as openFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DsiError, atBoundary } from '../errors';
import { normaliseDer } from '../crypto/ecdsa';
import { pae } from '../crypto/dsse';
import { AEAD, sealBase } from '../crypto/hpke';
import { keyCommitment, payloadKey, sealName } from '../crypto/key-schedule';
import { assertP256, keyId } from '../crypto/p256';
import { encodeHeader, encodePreamble, type RecipientStanza } from '../format/header';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_SEGMENT_CHUNKS,
  LIMITS,
  MANIFEST_FORMAT,
  MANIFEST_PAYLOAD_TYPE,
  PREAMBLE_LENGTH,
  RECIPIENT_TYPE,
} from '../format/limits';
import type { ProcessDeclaration } from '@threadseal/ledger-model';
import {
  decodeProcess,
  encodeManifest,
  fileDigest,
  fileLayout,
  fileNameProblem,
  type Manifest,
  type ManifestFile,
} from '../format/manifest';
import {
  acquire,
  cryptoThreads,
  fileThreads,
  pipelineDepth,
  release,
  sealRangeAsync,
  sealSegmentAsync,
} from '../engine/pool';
import { recipientPublicKey } from '../keys/software';
import type { Signer } from '../keys/types';
import { dsiIdOfManifest } from './layout';
import { wrapContext } from './open';
import { pipelined } from './pipeline';

/** One file of the technical data package to protect. */
export interface ProtectFile {
  /** Relative path inside the package, `/`-separated (e.g. `additive/part.gcode`). */
  readonly name: string;
  /** Bytes, a file path, or a stream. */
  readonly source: string | Uint8Array | Readable | AsyncIterable<Uint8Array>;
  /** Media type; inferred from the extension when omitted. */
  readonly mediaType?: string;
  /** Keep the name out of the public manifest (it is sealed under the file's key). */
  readonly confidentialName?: boolean;
  /**
   * What the program does (its dialect and extracted parameter ranges), as the owner's G-code verifier found
   * it; signed with the manifest (docs/container-format.md §3). Programs only.
   */
  readonly process?: ProcessDeclaration;
}

/** What to protect, who signs it and who may open it. */
export interface ProtectOptions {
  readonly files: readonly ProtectFile[];
  readonly signer: Signer;
  /** Recipient P-256 public keys (PEM public key or certificate, KeyObject or X509Certificate). */
  readonly recipients: readonly (string | Buffer | KeyObject | X509Certificate)[];
  readonly title: string;
  readonly partNumber: string;
  readonly revision: string;
  readonly productionRules?: string | null;
  /** Fabric MSP id of the IP owner. */
  readonly mspId?: string | null;
  /** Creation time recorded in the manifest; defaults to now. */
  readonly created?: Date;
  /** Plaintext bytes per chunk (64 to 16 MiB; default 64 KiB). */
  readonly chunkSize?: number;
  /** Chunks per segment (default 64). */
  readonly segmentChunks?: number;
  /** Directory for the ciphertext spool; defaults to the OS temp dir. */
  readonly tmpDir?: string;
  /** Called with the number of plaintext bytes sealed so far. */
  readonly onProgress?: (bytesSealed: number) => void;
  /** Test-vector hook: supplies content keys instead of random ones. Never use in production. */
  readonly contentKeysForTestVectors?: readonly Buffer[];
}

/** A sealed DSI: its id and manifest, and the container bytes as a stream (read it exactly once). */
export interface ProtectedDsi {
  readonly dsiId: string;
  readonly manifest: Manifest;
  /** Total container size in bytes. */
  readonly size: number;
  /** The container. Consuming or destroying it deletes the ciphertext spool. */
  readonly stream: Readable;
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.step': 'model/step',
  '.stp': 'model/step',
  '.3mf': 'model/3mf',
  '.stl': 'model/stl',
  '.gcode': 'text/x-gcode',
  '.gco': 'text/x-gcode',
  '.ngc': 'text/x-gcode',
  '.nc': 'text/x-gcode',
  '.tap': 'text/x-gcode',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

/** Media type for a file name by extension (`application/octet-stream` when unknown). */
export function mediaTypeFor(name: string): string {
  return MEDIA_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Yields `segmentBytes`-sized pieces with a flag on the final one; an empty input yields one empty final piece. */
async function* segmentsFrom(
  source: ProtectFile['source'],
  segmentBytes: number,
  name: string,
): AsyncGenerator<{ data: Buffer; last: boolean }> {
  if (source instanceof Uint8Array) {
    const b = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    const count = Math.max(1, Math.ceil(b.length / segmentBytes));
    for (let i = 0; i < count; i++) {
      const part = b.subarray(i * segmentBytes, (i + 1) * segmentBytes);
      const data = acquire(part.length);
      part.copy(data);
      yield { data, last: i === count - 1 };
    }
    return;
  }
  if (typeof source === 'string') {
    let fh: FileHandle;
    try {
      fh = await openFile(source, 'r');
    } catch (err) {
      throw new DsiError(
        'INPUT_ERROR',
        `cannot open ${source} for file ${name}`,
        { file: name },
        { cause: err },
      );
    }
    try {
      const { size } = await fh.stat();
      const count = Math.max(1, Math.ceil(size / segmentBytes));
      for (let i = 0; i < count; i++) {
        const want = Math.min(segmentBytes, size - i * segmentBytes);
        const buf = acquire(want);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, i * segmentBytes + got);
          if (bytesRead === 0)
            throw new DsiError('INPUT_ERROR', `file ${name} (${source}) shrank while being read`, {
              file: name,
            });
          got += bytesRead;
        }
        yield { data: buf, last: i === count - 1 };
      }
      const { bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, size);
      if (bytesRead !== 0)
        throw new DsiError('INPUT_ERROR', `file ${name} (${source}) grew while being read`, { file: name });
    } finally {
      await fh.close();
    }
    return;
  }
  // A stream: hold one full segment back until we know whether more bytes follow.
  let parts: Buffer[] = [];
  let held = 0;
  let pending: Buffer | undefined;
  for await (const piece of source as AsyncIterable<Uint8Array | string>) {
    const p =
      typeof piece === 'string'
        ? Buffer.from(piece)
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let off = 0;
    while (off < p.length) {
      if (pending) {
        yield { data: pending, last: false };
        pending = undefined;
      }
      const take = Math.min(segmentBytes - held, p.length - off);
      parts.push(p.subarray(off, off + take));
      held += take;
      off += take;
      if (held === segmentBytes) {
        pending = Buffer.concat(parts, held);
        parts = [];
        held = 0;
      }
    }
  }
  if (pending && held === 0) {
    yield { data: pending, last: true };
    return;
  }
  if (pending) yield { data: pending, last: false };
  yield { data: Buffer.concat(parts, held), last: true };
}

function checkOptions(o: ProtectOptions): { chunkSize: number; segmentChunks: number } {
  const bad = (m: string): never => {
    throw new DsiError('INVALID_ARGUMENT', m);
  };
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const segmentChunks = o.segmentChunks ?? DEFAULT_SEGMENT_CHUNKS;
  if (
    !Number.isSafeInteger(chunkSize) ||
    chunkSize < LIMITS.minChunkSize ||
    chunkSize > LIMITS.maxChunkSize
  ) {
    bad(
      `chunkSize must be an integer from ${LIMITS.minChunkSize} to ${LIMITS.maxChunkSize}, found ${chunkSize}`,
    );
  }
  if (
    !Number.isSafeInteger(segmentChunks) ||
    segmentChunks < LIMITS.minSegmentChunks ||
    segmentChunks > LIMITS.maxSegmentChunks
  ) {
    bad(
      `segmentChunks must be an integer from ${LIMITS.minSegmentChunks} to ${LIMITS.maxSegmentChunks}, found ${segmentChunks}`,
    );
  }
  if (o.files.length === 0 || o.files.length > LIMITS.maxFiles)
    bad(`a DSI holds 1 to ${LIMITS.maxFiles} files, found ${o.files.length}`);
  if (o.recipients.length === 0 || o.recipients.length > LIMITS.maxRecipients)
    bad(`a DSI needs 1 to ${LIMITS.maxRecipients} recipients`);
  const names = new Set<string>();
  for (const f of o.files) {
    if (f.process !== undefined) decodeProcess(f.process, `process of ${f.name}`, bad);
    const problem = fileNameProblem(f.name);
    if (problem) bad(`file name "${f.name}" ${problem}`);
    if (names.has(f.name)) bad(`file name "${f.name}" appears twice`);
    names.add(f.name);
  }
  for (const [field, value] of [
    ['title', o.title],
    ['partNumber', o.partNumber],
    ['revision', o.revision],
  ] as const) {
    if (typeof value !== 'string' || value.length > LIMITS.maxTextLength)
      bad(`${field} must be a string of at most ${LIMITS.maxTextLength} characters`);
  }
  if (o.contentKeysForTestVectors && o.contentKeysForTestVectors.length !== o.files.length)
    bad('one test content key per file is required');
  return { chunkSize, segmentChunks };
}

/** Wraps the concatenated file keys to each recipient with HPKE, bound to the DSI id. */
export function wrapKeys(
  keys: readonly Buffer[],
  recipients: readonly KeyObject[],
  dsiId: string,
): RecipientStanza[] {
  const { info, aad } = wrapContext(dsiId);
  const plaintext = Buffer.concat(keys);
  return recipients.map((pk) => {
    const { enc, ciphertext } = sealBase(AEAD.aes256gcm, pk, info, aad, plaintext);
    return { type: RECIPIENT_TYPE, keyId: keyId(pk), enc, wrappedKeys: ciphertext };
  });
}

/**
 * Builds the manifest, signs it (low-S) and wraps the content keys. With `exactLength` the
 * signature is redrawn until the header has exactly that length: a DER ECDSA signature is 70
 * or 71 bytes (base64: 96 characters) except in about 1 case in 170, so a few draws suffice.
 */
async function signedHeader(
  options: ProtectOptions,
  chunkSize: number,
  segmentChunks: number,
  entries: readonly ManifestFile[],
  contentKeys: readonly Buffer[],
  recipientKeys: readonly KeyObject[],
  exactLength?: number,
): Promise<{ manifest: Manifest; dsiId: string; header: Buffer }> {
  const leaf = options.signer.certificates[0] as X509Certificate;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    title: options.title,
    partNumber: options.partNumber,
    revision: options.revision,
    productionRules: options.productionRules ?? null,
    created: (options.created ?? new Date()).toISOString(),
    creator: { mspId: options.mspId ?? null, subject: leaf.subject },
    chunkSize,
    segmentChunks,
    files: entries,
  };
  const manifestBytes = encodeManifest(manifest);
  const message = pae(MANIFEST_PAYLOAD_TYPE, manifestBytes);
  const dsiId = dsiIdOfManifest(manifestBytes);
  const recipients = wrapKeys(contentKeys, recipientKeys, dsiId);
  const certificates = options.signer.certificates.map((c) => c.raw);
  for (let attempt = 0; attempt < 64; attempt++) {
    let signature: Buffer;
    try {
      signature = normaliseDer(await options.signer.sign(message));
    } catch (err) {
      if (err instanceof DsiError) throw err;
      throw new DsiError(
        'UNSUPPORTED_KEY',
        'the signer returned an invalid ECDSA signature',
        {},
        { cause: err },
      );
    }
    if (!verifySignature('sha256', message, { key: leaf.publicKey, dsaEncoding: 'der' }, signature)) {
      throw new DsiError('UNSUPPORTED_KEY', 'the signer key does not match the signer certificate');
    }
    const header = encodeHeader({ manifestBytes, signature, certificates, recipients });
    if (header.length > LIMITS.maxHeaderBytes) {
      throw new DsiError(
        'INVALID_ARGUMENT',
        `header would be ${header.length} bytes, over the ${LIMITS.maxHeaderBytes}-byte limit; use a larger chunk or segment size`,
      );
    }
    if (exactLength === undefined || header.length === exactLength) return { manifest, dsiId, header };
  }
  throw new DsiError('UNSUPPORTED_KEY', 'the signer keeps returning signatures of unusual length');
}

/** A plaintext segment with its place in the file. */
interface PlainSegment {
  readonly data: Buffer;
  readonly last: boolean;
  readonly firstChunk: number;
  readonly plainLength: number;
}

/** Numbers the chunks of the segments of one file and enforces the file size limit. */
async function* numbered(
  file: ProtectFile,
  chunkSize: number,
  segmentChunks: number,
): AsyncGenerator<PlainSegment> {
  let size = 0;
  let chunkIndex = 0;
  for await (const s of segmentsFrom(file.source, chunkSize * segmentChunks, file.name)) {
    const firstChunk = chunkIndex;
    chunkIndex += Math.max(1, Math.ceil(s.data.length / chunkSize));
    size += s.data.length;
    if (size > LIMITS.maxFileBytes) {
      throw new DsiError('INVALID_ARGUMENT', `file ${file.name} exceeds ${LIMITS.maxFileBytes} bytes`);
    }
    yield { ...s, firstChunk, plainLength: s.data.length };
  }
}

/** Identity of an input file, to detect that it changed between the two passes. */
async function fileStamp(source: string): Promise<{ stamp: string; size: number }> {
  const st = await stat(source);
  return { stamp: `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`, size: st.size };
}

/** How each file's ciphertext is produced when the container is emitted. */
type Emission =
  | { readonly kind: 'reseal'; readonly file: ProtectFile; readonly key: Buffer; readonly stamp?: string }
  | { readonly kind: 'spool'; readonly offset: number; readonly length: number };

/**
 * Seals a technical data package into a DSI: per-file random content keys, STREAM AES-256-GCM
 * chunks, per-segment ciphertext digests, a DSSE-signed manifest and one HPKE stanza per
 * recipient. The header (which carries the digests) precedes the payload, so files given as
 * paths or bytes are sealed twice — once to compute the digests, once while the container is
 * read — and nothing is written to disk; files given as streams can be read only once, so their
 * ciphertext (never plaintext) is spooled to a private file in `tmpDir`.
 * @throws DsiError INVALID_ARGUMENT | INPUT_ERROR | UNSUPPORTED_KEY
 */
export async function protect(options: ProtectOptions): Promise<ProtectedDsi> {
  return atBoundary('protect', async () => {
    const { chunkSize, segmentChunks } = checkOptions(options);
    const recipientKeys = options.recipients.map((r) => recipientPublicKey(r));
    const leaf = options.signer.certificates[0];
    if (!leaf) throw new DsiError('INVALID_ARGUMENT', 'the signer has no certificate');
    assertP256(leaf.publicKey, 'the signer certificate key');

    const needsSpool = options.files.some(
      (f) => typeof f.source !== 'string' && !(f.source instanceof Uint8Array),
    );
    const dir = needsSpool ? await mkdtemp(path.join(options.tmpDir ?? tmpdir(), 'dsi-protect-')) : undefined;
    const spoolPath = dir ? path.join(dir, 'payload.bin') : '';
    const cleanup = async (): Promise<void> => {
      if (dir) await rm(dir, { recursive: true, force: true });
    };
    try {
      const spool = dir ? await openFile(spoolPath, 'w', 0o600) : undefined;
      const contentKeys: Buffer[] = [];
      const entries: ManifestFile[] = [];
      const emissions: Emission[] = [];
      let sealed = 0;
      let spoolSize = 0;
      try {
        for (const [i, file] of options.files.entries()) {
          const contentKey = options.contentKeysForTestVectors?.[i] ?? randomBytes(32);
          contentKeys.push(contentKey);
          const key = payloadKey(contentKey);
          const segments: string[] = [];
          let size = 0;
          const identity = typeof file.source === 'string' ? await fileStamp(file.source) : undefined;
          const stamp = identity?.stamp;
          const spoolStart = spoolSize;
          if (typeof file.source === 'string' && identity) {
            // First pass over a path: a worker reads and seals it itself, keeping only digests. As
            // many workers as the second pass uses, so the extra threads' memory is not kept around.
            size = identity.size;
            segments.push(
              ...(await sealPathInto(
                file,
                file.source,
                size,
                key,
                -1,
                0,
                chunkSize,
                segmentChunks,
                (n) => {
                  sealed += n;
                  options.onProgress?.(sealed);
                },
                cryptoThreads(),
              )),
            );
          } else
            await pipelined(
              numbered(file, chunkSize, segmentChunks),
              pipelineDepth(),
              (s) =>
                sealSegmentAsync({
                  key,
                  data: s.data,
                  firstChunk: s.firstChunk,
                  chunkSize,
                  lastSegment: s.last,
                }),
              async (r, s) => {
                if (spool && typeof file.source !== 'string' && !(file.source instanceof Uint8Array)) {
                  await spool.write(r.ciphertext);
                  spoolSize += r.ciphertext.length;
                }
                release(r.ciphertext);
                segments.push(r.digest);
                size += s.plainLength;
                sealed += s.plainLength;
                options.onProgress?.(sealed);
              },
            );
          emissions.push(
            spoolSize > spoolStart ||
              (spool && typeof file.source !== 'string' && !(file.source instanceof Uint8Array))
              ? { kind: 'spool', offset: spoolStart, length: spoolSize - spoolStart }
              : { kind: 'reseal', file, key, ...(stamp ? { stamp } : {}) },
          );
          entries.push({
            name: file.confidentialName ? null : file.name,
            sealedName: file.confidentialName ? sealName(contentKey, file.name).toString('base64') : null,
            mediaType: file.mediaType ?? mediaTypeFor(file.name),
            size,
            keyCommitment: keyCommitment(contentKey),
            digest: fileDigest(segments),
            segments,
            ...(file.process ? { process: file.process } : {}),
          });
        }
      } finally {
        await spool?.close();
      }

      const { manifest, dsiId, header } = await signedHeader(
        options,
        chunkSize,
        segmentChunks,
        entries,
        contentKeys,
        recipientKeys,
      );
      const prefix = Buffer.concat([encodePreamble(header.length), header]);
      const payloadSize = entries.reduce(
        (n, e) => n + fileLayout(e.size, chunkSize, segmentChunks).ciphertextSize,
        0,
      );

      async function* resealed(e: Extract<Emission, { kind: 'reseal' }>): AsyncGenerator<Buffer> {
        // Same key, same nonces: the second pass reproduces the signed ciphertext exactly, so it
        // skips the digests; a file changed in between is caught by its stamp (and by verify).
        const queue: Promise<{ ciphertext: Buffer }>[] = [];
        const source = numbered(e.file, chunkSize, segmentChunks);
        const next = async (): Promise<boolean> => {
          const s = await source.next();
          if (s.done) return false;
          const p = sealSegmentAsync({
            key: e.key,
            data: s.value.data,
            firstChunk: s.value.firstChunk,
            chunkSize,
            lastSegment: s.value.last,
            skipDigest: true,
          });
          p.catch(() => undefined);
          queue.push(p);
          return true;
        };
        let more = true;
        while (more && queue.length < pipelineDepth()) more = await next();
        while (queue.length > 0) {
          const r = await (queue.shift() as Promise<{ ciphertext: Buffer }>);
          if (more) more = await next();
          yield r.ciphertext;
        }
        if (
          e.stamp &&
          typeof e.file.source === 'string' &&
          (await fileStamp(e.file.source)).stamp !== e.stamp
        ) {
          throw new DsiError(
            'INPUT_ERROR',
            `file ${e.file.name} changed while the container was being written`,
            {
              file: e.file.name,
            },
          );
        }
      }

      async function* emit(): AsyncGenerator<Buffer> {
        try {
          yield prefix;
          const fh = dir ? await openFile(spoolPath, 'r') : undefined;
          try {
            for (const e of emissions) {
              if (e.kind === 'reseal') {
                yield* resealed(e);
                continue;
              }
              for (let pos = e.offset; pos < e.offset + e.length;) {
                const buf = Buffer.allocUnsafeSlow(Math.min(1 << 20, e.offset + e.length - pos));
                const { bytesRead } = await (fh as FileHandle).read(buf, 0, buf.length, pos);
                if (bytesRead === 0) throw new Error('ciphertext spool ended early');
                pos += bytesRead;
                yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
              }
            }
          } finally {
            await fh?.close();
          }
        } finally {
          await cleanup();
        }
      }
      const stream = Readable.from(emit(), { objectMode: false, highWaterMark: 1 });
      // Also delete the spool if the stream is destroyed before it was ever read.
      stream.once('close', () => void cleanup());
      return { dsiId, manifest, size: prefix.length + payloadSize, stream };
    } catch (err) {
      await cleanup();
      throw err;
    }
  });
}

/** Plaintext bytes per worker job of {@link sealPathInto}: few messages, fine-grained balance. */
const JOB_BYTES = 8 * 1024 * 1024;

/**
 * Seals the file at `source` (of `size` bytes when sealing started) into `outFd` at `outBase`,
 * runs of segments at a time on the worker pool; returns the segment digests in order.
 * @throws DsiError INPUT_ERROR when the file cannot be opened or changes size
 */
async function sealPathInto(
  file: ProtectFile,
  source: string,
  size: number,
  key: Buffer,
  outFd: number,
  outBase: number,
  chunkSize: number,
  segmentChunks: number,
  onSealed: (bytes: number) => void,
  threads: number,
): Promise<string[]> {
  let input: FileHandle;
  try {
    input = await openFile(source, 'r');
  } catch (err) {
    throw new DsiError(
      'INPUT_ERROR',
      `cannot open ${source} for file ${file.name}`,
      { file: file.name },
      { cause: err },
    );
  }
  try {
    const { segmentCount } = fileLayout(size, chunkSize, segmentChunks);
    const segmentBytes = chunkSize * segmentChunks;
    const perJob = Math.max(1, Math.floor(JOB_BYTES / segmentBytes));
    const jobs: { first: number; count: number }[] = [];
    for (let first = 0; first < segmentCount; first += perJob) {
      jobs.push({ first, count: Math.min(perJob, segmentCount - first) });
    }
    // The key crosses to the worker in its own 32-byte buffer, not a view of a shared slab.
    const ownKey = new Uint8Array(key);
    const digests: string[] = [];
    await pipelined(
      jobs,
      Math.max(1, threads) * 2,
      (j) =>
        sealRangeAsync(
          {
            key: ownKey,
            inFd: input.fd,
            outFd,
            outBase,
            size,
            chunkSize,
            segmentChunks,
            firstSegment: j.first,
            segments: j.count,
          },
          threads,
        ),
      (r) => {
        if (!r.ok) {
          if (r.problem === 'short') {
            throw new DsiError('INPUT_ERROR', `file ${file.name} (${source}) shrank while being read`, {
              file: file.name,
            });
          }
          throw new DsiError('INPUT_ERROR', `cannot read file ${file.name} (${source}): ${r.message}`, {
            file: file.name,
            ...(r.code ? { errno: r.code } : {}),
          });
        }
        const before = digests.length * segmentBytes;
        digests.push(...r.digests);
        onSealed(Math.min(size, digests.length * segmentBytes) - before);
      },
    );
    const { bytesRead } = await input.read(Buffer.alloc(1), 0, 1, size);
    if (bytesRead !== 0) {
      throw new DsiError('INPUT_ERROR', `file ${file.name} (${source}) grew while being read`, {
        file: file.name,
      });
    }
    return digests;
  } finally {
    await input.close();
  }
}

/** Where {@link protectToFile} wrote the DSI. */
export interface ProtectedFile {
  readonly dsiId: string;
  readonly manifest: Manifest;
  /** Container size in bytes. */
  readonly size: number;
}

/**
 * Seals a package of files given as paths or bytes straight into the file `output`, in one
 * pass: every header length is known before encryption (digests, keys and stanzas have fixed
 * sizes, and the signature is drawn to the expected length), so the payload is written at its
 * final offset and the header is written last. The container is built in a new `output.partial`
 * (whatever was there, a symlink included, is removed first, never written through) and
 * renamed; nothing else touches disk. Streams as inputs need {@link protect}.
 * @throws DsiError INVALID_ARGUMENT | INPUT_ERROR | UNSUPPORTED_KEY
 */
export async function protectToFile(options: ProtectOptions, output: string): Promise<ProtectedFile> {
  return atBoundary('protectToFile', async () => {
    const { chunkSize, segmentChunks } = checkOptions(options);
    const recipientKeys = options.recipients.map((r) => recipientPublicKey(r));
    const leaf = options.signer.certificates[0];
    if (!leaf) throw new DsiError('INVALID_ARGUMENT', 'the signer has no certificate');
    assertP256(leaf.publicKey, 'the signer certificate key');
    const sizes = await Promise.all(
      options.files.map(async (f) => {
        if (f.source instanceof Uint8Array) return f.source.byteLength;
        if (typeof f.source === 'string') {
          try {
            return (await stat(f.source)).size;
          } catch (err) {
            throw new DsiError(
              'INPUT_ERROR',
              `cannot read ${f.source} for file ${f.name}`,
              { file: f.name },
              { cause: err },
            );
          }
        }
        throw new DsiError(
          'INVALID_ARGUMENT',
          `file ${f.name} is a stream; protectToFile needs paths or bytes (use protect)`,
        );
      }),
    );
    const contentKeys = options.files.map(
      (_, i) => options.contentKeysForTestVectors?.[i] ?? randomBytes(32),
    );
    const zero = '0'.repeat(64);
    const placeholder = (size: number, i: number): ManifestFile => {
      const file = options.files[i] as ProtectFile;
      const key = contentKeys[i] as Buffer;
      const segments = Array.from(
        { length: fileLayout(size, chunkSize, segmentChunks).segmentCount },
        () => zero,
      );
      return {
        name: file.confidentialName ? null : file.name,
        sealedName: file.confidentialName ? sealName(key, file.name).toString('base64') : null,
        mediaType: file.mediaType ?? mediaTypeFor(file.name),
        size,
        keyCommitment: keyCommitment(key),
        digest: zero,
        segments,
        ...(file.process ? { process: file.process } : {}),
      };
    };
    const created = options.created ?? new Date();
    const fixed: ProtectOptions = { ...options, created };
    // The header length follows from sizes alone; a 71-byte DER placeholder has the usual base64 length.
    const headerLength = encodeHeader({
      manifestBytes: encodeManifest({
        format: MANIFEST_FORMAT,
        title: options.title,
        partNumber: options.partNumber,
        revision: options.revision,
        productionRules: options.productionRules ?? null,
        created: created.toISOString(),
        creator: { mspId: options.mspId ?? null, subject: leaf.subject },
        chunkSize,
        segmentChunks,
        files: sizes.map(placeholder),
      }),
      signature: Buffer.alloc(71),
      certificates: options.signer.certificates.map((c) => c.raw),
      recipients: recipientKeys.map(() => ({
        type: RECIPIENT_TYPE,
        keyId: zero,
        enc: Buffer.alloc(65),
        wrappedKeys: Buffer.alloc(32 * options.files.length + 16),
      })),
    }).length;
    if (headerLength > LIMITS.maxHeaderBytes) {
      throw new DsiError(
        'INVALID_ARGUMENT',
        `header would be ${headerLength} bytes, over the ${LIMITS.maxHeaderBytes}-byte limit`,
      );
    }

    const partial = `${output}.partial`;
    // Never write through whatever is already at `output.partial` (a symlink or a hard link to
    // another file): remove it (a symlink itself, not its target) and create a new file, refusing
    // to follow a link that appears in between.
    await rm(partial, { force: true });
    const fh = await openFile(
      partial,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
      0o644,
    );
    try {
      let offset = PREAMBLE_LENGTH + headerLength;
      let sealed = 0;
      let pendingWrite: Promise<void> = Promise.resolve();
      const entries: ManifestFile[] = [];
      for (const [i, file] of options.files.entries()) {
        const key = payloadKey(contentKeys[i] as Buffer);
        if (typeof file.source === 'string') {
          // Paths: worker threads read, seal and write at the final offsets themselves.
          const size = sizes[i] as number;
          const segments = await sealPathInto(
            file,
            file.source,
            size,
            key,
            fh.fd,
            offset,
            chunkSize,
            segmentChunks,
            (n) => {
              sealed += n;
              options.onProgress?.(sealed);
            },
            fileThreads(),
          );
          offset += fileLayout(size, chunkSize, segmentChunks).ciphertextSize;
          entries.push({ ...placeholder(size, i), digest: fileDigest(segments), segments });
          continue;
        }
        const segments: string[] = [];
        let size = 0;
        await pipelined(
          numbered(file, chunkSize, segmentChunks),
          pipelineDepth(),
          (s) =>
            sealSegmentAsync({ key, data: s.data, firstChunk: s.firstChunk, chunkSize, lastSegment: s.last }),
          async (r, s) => {
            // Keep one write in flight so writing overlaps reading and sealing the next segments.
            await pendingWrite;
            const at = offset;
            pendingWrite = fh.write(r.ciphertext, 0, r.ciphertext.length, at).then(() => {
              release(r.ciphertext);
            });
            pendingWrite.catch(() => undefined);
            offset += r.ciphertext.length;
            segments.push(r.digest);
            size += s.plainLength;
            sealed += s.plainLength;
            options.onProgress?.(sealed);
          },
        );
        await pendingWrite;
        if (size !== sizes[i]) {
          throw new DsiError('INPUT_ERROR', `file ${file.name} changed size while being sealed`, {
            file: file.name,
          });
        }
        entries.push({ ...placeholder(size, i), digest: fileDigest(segments), segments });
      }
      const { manifest, dsiId, header } = await signedHeader(
        fixed,
        chunkSize,
        segmentChunks,
        entries,
        contentKeys,
        recipientKeys,
        headerLength,
      );
      await fh.write(
        Buffer.concat([encodePreamble(header.length), header]),
        0,
        PREAMBLE_LENGTH + header.length,
        0,
      );
      await fh.close();
      await rename(partial, output);
      return { dsiId, manifest, size: offset };
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw err;
    }
  });
}
