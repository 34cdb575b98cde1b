/** open(): verify, then unwrap, then decrypt — plaintext only ever in memory. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { RELEASE_STANZA_TYPE, type ReleaseStanza } from '@threadseal/ledger-model';
import { DsiError, atBoundary } from '../errors';
import { AEAD, openBase } from '../crypto/hpke';
import { keyCommitment, openName, payloadKey } from '../crypto/key-schedule';
import { keyId } from '../crypto/p256';
import type { RecipientStanza } from '../format/header';
import { LABEL } from '../format/limits';
import { fileNameProblem, type Manifest } from '../format/manifest';
import { openSegmentPiecesAsync, pipelineDepth } from '../engine/pool';
import type { RecipientKey } from '../keys/types';
import { parseContainer, type PlacedFile } from './layout';
import { pipelinedGenerator } from './pipeline';
import { describeSegment, segmentsOf, type SegmentRef } from './segments';
import { openSource, type ContainerSource, type RandomAccess } from './source';
import { verifyParsed, type VerifiedDsi, type VerifyOptions } from './verify';

/** One decrypted file: its metadata and a lazily decrypting in-memory stream. */
export interface OpenedFile {
  /** The file's name (confidential names are unsealed here). */
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  /**
   * A new stream of the file's plaintext. The file's ciphertext was authenticated against the
   * signed digests before `open` resolved; each segment is hashed again from the very buffer
   * that is decrypted (the file may have changed since), and each chunk is AEAD-checked, before
   * release. The stream fails with DIGEST_MISMATCH or CORRUPTED_CHUNK otherwise.
   */
  stream(): Readable;
}

/** What `open` takes besides the verification options. */
export interface OpenOptions extends VerifyOptions {
  /**
   * Open with the keys released to one build (a machine's agent) instead of a recipient stanza of the
   * container's header: `key` is then the machine's decryption key. A promise is awaited only after every
   * check of `verify` passed, so the verification runs while the release is still on its way; if it
   * rejects, `open` rejects (`INTERNAL`, with the reason as its `cause`) and nothing was decrypted.
   */
  readonly release?: ReleasedKeys | Promise<ReleasedKeys>;
}

/** An opened DSI. Call `close()` when done to release the input (and delete any spool). */
export interface OpenedDsi extends VerifiedDsi {
  readonly files: readonly OpenedFile[];
  close(): Promise<void>;
}

/** HPKE info and aad of a stanza: what it is bound to. */
interface WrapContext {
  readonly info: Buffer;
  readonly aad: Buffer;
  /** For messages: "DSI <id>" or "build <id> of DSI <id>". */
  readonly boundTo: string;
}

/** The wrap's HPKE info and aad: both bind the stanza to one DSI id. */
export function wrapContext(dsiId: string): WrapContext {
  const id = Buffer.from(dsiId, 'hex');
  return { info: Buffer.concat([Buffer.from(LABEL.wrapInfo), id]), aad: id, boundTo: `DSI ${dsiId}` };
}

/**
 * A release's HPKE info and aad: both bind it to one DSI id and one build id (its SHA-256, so the
 * context has a fixed length whatever the id), so a release for one build opens for no other.
 */
export function releaseContext(dsiId: string, buildId: string): WrapContext {
  const bound = Buffer.concat([
    Buffer.from(dsiId, 'hex'),
    createHash('sha256').update(buildId, 'utf8').digest(),
  ]);
  return {
    info: Buffer.concat([Buffer.from(LABEL.releaseInfo), bound]),
    aad: bound,
    boundTo: `build ${buildId} of DSI ${dsiId}`,
  };
}

/**
 * Opens one stanza and checks every file key against the signed commitment; the WRAP_MISMATCH it
 * would raise is returned instead, so the caller can try another stanza of the same key id.
 */
async function unwrapStanza(
  stanza: Pick<RecipientStanza, 'keyId' | 'enc' | 'wrappedKeys'>,
  manifest: Manifest,
  context: WrapContext,
  key: RecipientKey,
): Promise<Buffer[] | DsiError> {
  const id = stanza.keyId;
  const { info, aad } = context;
  const plain = await openBase(
    AEAD.aes256gcm,
    (peer) => key.deriveSharedSecret(peer),
    key.publicKey,
    stanza.enc,
    info,
    aad,
    stanza.wrappedKeys,
  );
  if (!plain)
    return new DsiError(
      'WRAP_MISMATCH',
      `recipient stanza for key ${id} does not decrypt for ${context.boundTo}`,
      { keyId: id },
    );
  const keys = manifest.files.map((_, i) => plain.subarray(32 * i, 32 * (i + 1)));
  const bad = keys.findIndex((k, i) => keyCommitment(k) !== manifest.files[i]?.keyCommitment);
  if (bad >= 0) {
    plain.fill(0);
    return new DsiError(
      'WRAP_MISMATCH',
      `content key of file #${bad} from stanza ${id} does not match the signed key commitment`,
      { keyId: id, file: bad },
    );
  }
  return keys;
}

/**
 * Finds the stanzas addressed to `key` and opens them in order until one yields keys that match
 * every signed commitment. Stanzas are not signed, so anyone can add a bogus one with a
 * recipient's key id: trying each keeps that from locking the recipient out.
 * @throws DsiError NOT_A_RECIPIENT | WRAP_MISMATCH (the first matching stanza's failure)
 */
export async function unwrapFileKeys(
  recipients: readonly RecipientStanza[],
  manifest: Manifest,
  dsiId: string,
  key: RecipientKey,
): Promise<Buffer[]> {
  const id = keyId(key.publicKey);
  const stanzas = recipients.filter((r) => r.keyId === id);
  if (stanzas.length === 0)
    throw new DsiError(
      'NOT_A_RECIPIENT',
      `no recipient stanza for key ${id} (${recipients.length} stanzas present)`,
      { keyId: id },
    );
  let first: DsiError | undefined;
  for (const stanza of stanzas) {
    const r = await unwrapStanza(stanza, manifest, wrapContext(dsiId), key);
    if (!(r instanceof DsiError)) return r;
    first ??= r;
  }
  throw first as DsiError;
}

/** The content keys released to one build, as the ledger's `release:Get` returns them. */
export interface ReleasedKeys {
  readonly buildId: string;
  readonly stanza: ReleaseStanza;
}

/**
 * Opens the content keys a key-release service sealed to `key` for one build, checking each against the
 * signed commitment. @throws DsiError NOT_A_RECIPIENT (sealed to another key) | WRAP_MISMATCH
 */
export async function unwrapReleasedKeys(
  released: ReleasedKeys,
  manifest: Manifest,
  dsiId: string,
  key: RecipientKey,
): Promise<Buffer[]> {
  const id = keyId(key.publicKey);
  const { stanza } = released;
  // The release comes off the ledger: its type is checked at run time whatever its static type says.
  if ((stanza.type as string) !== RELEASE_STANZA_TYPE || stanza.keyId !== id)
    throw new DsiError(
      'NOT_A_RECIPIENT',
      `the release of build ${released.buildId} is sealed to key ${stanza.keyId}, not to ${id}`,
      { keyId: id },
    );
  const enc = Buffer.from(stanza.enc, 'base64');
  const wrappedKeys = Buffer.from(stanza.wrappedKeys, 'base64');
  if (enc.length !== 65 || wrappedKeys.length !== 32 * manifest.files.length + 16)
    throw new DsiError(
      'WRAP_MISMATCH',
      `the release of build ${released.buildId} has the wrong size for ${manifest.files.length} file keys`,
      { keyId: id },
    );
  const r = await unwrapStanza(
    { keyId: id, enc, wrappedKeys },
    manifest,
    releaseContext(dsiId, released.buildId),
    key,
  );
  if (r instanceof DsiError) throw r;
  return r;
}

function fileNames(manifest: Manifest, keys: readonly Buffer[]): string[] {
  const names = manifest.files.map((f, i) => {
    if (f.name !== null) return f.name;
    const name = openName(keys[i] as Buffer, Buffer.from(f.sealedName ?? '', 'base64'));
    const problem = name === undefined ? 'does not decrypt' : fileNameProblem(name);
    if (problem !== undefined || name === undefined)
      throw new DsiError('MALFORMED_MANIFEST', `sealed name of file #${i} ${problem ?? ''}`, { file: i });
    return name;
  });
  if (new Set(names).size !== names.length)
    throw new DsiError('MALFORMED_MANIFEST', 'two files have the same name');
  return names;
}

function decryptStream(
  ra: RandomAccess,
  file: PlacedFile,
  manifest: Manifest,
  key: Buffer,
  name: string,
): Readable {
  const { chunkSize, segmentChunks } = manifest;
  async function* generate(): AsyncGenerator<Buffer> {
    const refs = [...segmentsOf(file, chunkSize, segmentChunks)];
    const truncated = (ref: SegmentRef): DsiError =>
      new DsiError('TRUNCATED', `input ended while decrypting ${describeSegment(ref)}`, {
        file: name,
        segment: ref.segment,
      });
    const results = pipelinedGenerator(refs, pipelineDepth(), async (ref) => {
      // This read is not the one `verify` hashed: the file may have changed since (any recipient
      // knows the content key and can seal same-length ciphertext). So the buffer decrypted is
      // hashed again, in the same job, and must match the signed digest before any of it is.
      const ciphertext = await ra.read(ref.offset, ref.length);
      if (ciphertext.length !== ref.length) throw truncated(ref);
      return openSegmentPiecesAsync({
        key,
        ciphertext,
        firstChunk: ref.firstChunk,
        chunkSize,
        lastSegment: ref.lastSegment,
        expectedDigest: ref.file.entry.segments[ref.segment] ?? '',
      });
    });
    for await (const { result, item: ref } of results) {
      if ('digestMismatch' in result) {
        throw new DsiError(
          'DIGEST_MISMATCH',
          `ciphertext of ${describeSegment(ref)} changed after verification: it no longer matches the signed digest`,
          { file: name, segment: ref.segment, offset: ref.offset },
        );
      }
      if (!Array.isArray(result)) {
        throw new DsiError('CORRUPTED_CHUNK', `corrupted chunk ${result.badChunk} of file ${name}`, {
          file: name,
          chunk: result.badChunk,
        });
      }
      for (const piece of result) if (piece.length > 0) yield piece;
    }
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 1 });
}

/**
 * Opens a DSI for `key`: runs every check of `verify` first (so no file's plaintext exists
 * before its whole ciphertext matched the signed digests), then unwraps the content keys and
 * checks them against the signed commitments. Plaintext is produced only in memory, lazily,
 * by each file's `stream()`.
 * @throws DsiError every `verify` code, NOT_A_RECIPIENT, WRAP_MISMATCH; streams may fail with DIGEST_MISMATCH or CORRUPTED_CHUNK
 */
export async function open(
  source: ContainerSource,
  key: RecipientKey,
  options: OpenOptions,
): Promise<OpenedDsi> {
  return atBoundary('open', async () => {
    const ra = await openSource(source, options.tmpDir);
    try {
      const parsed = await parseContainer(ra);
      const verified = await verifyParsed(ra, parsed, options);
      const release = await options.release;
      const keys = release
        ? await unwrapReleasedKeys(release, verified.manifest, verified.dsiId, key)
        : await unwrapFileKeys(parsed.header.recipients, verified.manifest, verified.dsiId, key);
      const names = fileNames(verified.manifest, keys);
      const files = parsed.files.map((file, i): OpenedFile => {
        const name = names[i] as string;
        const pk = payloadKey(keys[i] as Buffer);
        return {
          name,
          mediaType: file.entry.mediaType,
          size: file.entry.size,
          stream: () => decryptStream(ra, file, verified.manifest, pk, name),
        };
      });
      return { ...verified, files, close: () => ra.close() };
    } catch (err) {
      await ra.close();
      throw err;
    }
  });
}
