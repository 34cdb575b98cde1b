/** The signed manifest (public part of a DSI): types, strict decoding, layout arithmetic. */
import { createHash } from 'node:crypto';
import { parseDeclaredNumber, type ProcessDeclaration } from '@threadseal/ledger-model';
import { DsiError } from '../errors';
import { canonicalJsonBytes, parseCanonicalJson, type Json } from './canonical-json';
import * as f from './fields';
import { LABEL, LIMITS, MANIFEST_FORMAT, TAG_LENGTH } from './limits';

/** Who signed the DSI, copied from the signer certificate at protect time. */
export interface Creator {
  /** Fabric MSP id of the IP owner, if given. */
  readonly mspId: string | null;
  /** Subject DN of the signer certificate as Node's `X509Certificate.subject` prints it. */
  readonly subject: string;
}

/** One file of the technical data package, as the manifest describes it. */
export interface ManifestFile {
  /** Relative path (`/`-separated), or null when the name is confidential. */
  readonly name: string | null;
  /** Base64 AES-256-GCM sealed name when the name is confidential, else null. */
  readonly sealedName: string | null;
  /** Media type, e.g. `model/step`, `model/3mf`, `text/x-gcode`. */
  readonly mediaType: string;
  /** Plaintext size in bytes. */
  readonly size: number;
  /** HKDF-derived commitment to the file's content key (hex). */
  readonly keyCommitment: string;
  /** SHA-256 over the segment digests (hex): the digest of the file's ciphertext. */
  readonly digest: string;
  /** SHA-256 of each segment of ciphertext (hex). */
  readonly segments: readonly string[];
  /** What the program does, as its owner declared it (programs only; absent for other files). */
  readonly process?: ProcessDeclaration;
}

/** The public, signed description of a DSI. Contains no plaintext hashes. */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly title: string;
  readonly partNumber: string;
  readonly revision: string;
  /** Reference to the production rules (e.g. a ledger key), or null. */
  readonly productionRules: string | null;
  /** Creation time, `Date.toISOString()` form. */
  readonly created: string;
  readonly creator: Creator;
  /** Plaintext bytes per chunk. */
  readonly chunkSize: number;
  /** Chunks per segment. */
  readonly segmentChunks: number;
  readonly files: readonly ManifestFile[];
}

/** Where a file's ciphertext lies and how it is cut into chunks and segments. */
export interface FileLayout {
  readonly chunkCount: number;
  readonly segmentCount: number;
  readonly ciphertextSize: number;
}

/** Number of chunks of a `size`-byte file: an empty file still has one (empty, final) chunk. */
export function chunkCount(size: number, chunkSize: number): number {
  return size === 0 ? 1 : Math.ceil(size / chunkSize);
}

/** Layout of a file of `size` plaintext bytes. */
export function fileLayout(size: number, chunkSize: number, segmentChunks: number): FileLayout {
  const chunks = chunkCount(size, chunkSize);
  return {
    chunkCount: chunks,
    segmentCount: Math.ceil(chunks / segmentChunks),
    ciphertextSize: size + TAG_LENGTH * chunks,
  };
}

/** The file digest: SHA-256(label ‖ 0x00 ‖ segment digests as raw bytes). */
export function fileDigest(segmentDigests: readonly string[]): string {
  const h = createHash('sha256').update(LABEL.fileDigest).update(Buffer.of(0));
  for (const d of segmentDigests) h.update(Buffer.from(d, 'hex'));
  return h.digest('hex');
}

/** Display name of file `index` for messages: its name, or `#index` when confidential. */
export function displayName(file: ManifestFile, index: number): string {
  return file.name ?? `#${index} (confidential name)`;
}

/**
 * Checks a file name is a safe relative path: `/`-separated, no empty, `.` or `..` segments,
 * no backslash, no control characters. Returns a problem description or undefined.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > LIMITS.maxTextLength) return 'must be 1 to 1024 characters';
  if (/[\u0000-\u001f\u007f\\:]/u.test(name))
    return 'must not contain control characters, backslash or colon';
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..')
      return 'must be a relative path without empty, "." or ".." segments';
  }
  return undefined;
}

const manifestFail = (message: string): never => {
  throw new DsiError('MALFORMED_MANIFEST', `manifest ${message}`);
};

/** Decodes and validates signed manifest bytes. @throws DsiError MALFORMED_MANIFEST | LIMIT_EXCEEDED */
export function decodeManifest(bytes: Uint8Array): Manifest {
  const parsed = parseCanonicalJson(bytes);
  if ('problem' in parsed) manifestFail(parsed.problem);
  const fail = manifestFail;
  const v = (parsed as { value: unknown }).value;
  const o = f.object(
    v,
    'manifest',
    [
      'chunkSize',
      'created',
      'creator',
      'files',
      'format',
      'partNumber',
      'productionRules',
      'revision',
      'segmentChunks',
      'title',
    ],
    fail,
  );
  if (o.format !== MANIFEST_FORMAT)
    fail(`format must be "${MANIFEST_FORMAT}", found ${JSON.stringify(o.format)}`);
  const max = LIMITS.maxTextLength;
  const creatorObj = f.object(o.creator, 'creator', ['mspId', 'subject'], fail);
  const chunkSize = f.integer(o.chunkSize, 'chunkSize', LIMITS.minChunkSize, LIMITS.maxChunkSize, fail);
  const segmentChunks = f.integer(
    o.segmentChunks,
    'segmentChunks',
    LIMITS.minSegmentChunks,
    LIMITS.maxSegmentChunks,
    fail,
  );
  const filesRaw = f.array(o.files, 'files', 1, Number.MAX_SAFE_INTEGER, fail);
  if (filesRaw.length > LIMITS.maxFiles) {
    throw new DsiError(
      'LIMIT_EXCEEDED',
      `manifest lists ${filesRaw.length} files, the limit is ${LIMITS.maxFiles}`,
    );
  }
  const names = new Set<string>();
  const files = filesRaw.map((raw, i): ManifestFile => {
    const w = `files[${i}]`;
    const fileKeys = ['digest', 'keyCommitment', 'mediaType', 'name', 'sealedName', 'segments', 'size'];
    const declared = typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'process');
    const fo = f.object(raw, w, declared ? [...fileKeys, 'process'] : fileKeys, fail);
    const name = f.nullableString(fo.name, `${w}.name`, max, fail);
    const sealedName =
      fo.sealedName === null
        ? null
        : f.base64(fo.sealedName, `${w}.sealedName`, 4 * max + 16, fail).toString('base64');
    if ((name === null) === (sealedName === null)) fail(`${w} must have exactly one of name and sealedName`);
    if (name !== null) {
      const problem = fileNameProblem(name);
      if (problem) fail(`${w}.name ${problem}`);
      if (names.has(name)) fail(`${w}.name "${name}" is a duplicate`);
      names.add(name);
    }
    const size = f.integer(fo.size, `${w}.size`, 0, Number.MAX_SAFE_INTEGER, fail);
    if (size > LIMITS.maxFileBytes) {
      throw new DsiError('LIMIT_EXCEEDED', `${w} is ${size} bytes, the limit is ${LIMITS.maxFileBytes}`);
    }
    const layout = fileLayout(size, chunkSize, segmentChunks);
    if (layout.chunkCount > LIMITS.maxChunksPerFile) {
      throw new DsiError(
        'LIMIT_EXCEEDED',
        `${w} has ${layout.chunkCount} chunks, the limit is ${LIMITS.maxChunksPerFile}`,
      );
    }
    const segRaw = f.array(fo.segments, `${w}.segments`, layout.segmentCount, layout.segmentCount, fail);
    const segments = segRaw.map((s, j) => f.hex32(s, `${w}.segments[${j}]`, fail));
    const digest = f.hex32(fo.digest, `${w}.digest`, fail);
    if (fileDigest(segments) !== digest) fail(`${w}.digest does not match its segment digests`);
    return {
      name,
      sealedName,
      mediaType: f.string(fo.mediaType, `${w}.mediaType`, 255, fail),
      size,
      keyCommitment: f.hex32(fo.keyCommitment, `${w}.keyCommitment`, fail),
      digest,
      segments,
      ...(declared ? { process: decodeProcess(fo.process, `${w}.process`, fail) } : {}),
    };
  });
  return {
    format: MANIFEST_FORMAT,
    title: f.string(o.title, 'title', max, fail),
    partNumber: f.string(o.partNumber, 'partNumber', max, fail),
    revision: f.string(o.revision, 'revision', max, fail),
    productionRules: f.nullableString(o.productionRules, 'productionRules', max, fail),
    created: f.timestamp(o.created, 'created', fail),
    creator: {
      mspId: f.nullableString(creatorObj.mspId, 'creator.mspId', max, fail),
      subject: f.string(creatorObj.subject, 'creator.subject', 4 * max, fail),
    },
    chunkSize,
    segmentChunks,
    files,
  };
}

const DIALECT = /^[a-z][a-z0-9-]{0,31}$/;
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** Decodes a file's process declaration: a dialect and at most 64 named ranges of decimal texts, min ≤ max. */
export function decodeProcess(
  v: unknown,
  where: string,
  fail: (message: string) => never,
): ProcessDeclaration {
  const o = f.object(v, where, ['dialect', 'parameters'], fail);
  const dialect = f.string(o.dialect, `${where}.dialect`, 32, fail);
  if (!DIALECT.test(dialect)) fail(`${where}.dialect must be a dialect name like "rs274ngc"`);
  if (typeof o.parameters !== 'object' || o.parameters === null || Array.isArray(o.parameters))
    fail(`${where}.parameters must be an object`);
  const entries = Object.entries(o.parameters as Record<string, unknown>);
  if (entries.length > 64) fail(`${where}.parameters holds more than 64 parameters`);
  const parameters: Record<string, { min: string; max: string }> = {};
  for (const [name, range] of entries) {
    if (!PARAMETER_NAME.test(name)) fail(`${where}.parameters has an invalid name ${JSON.stringify(name)}`);
    const r = f.object(range, `${where}.parameters.${name}`, ['max', 'min'], fail);
    const min = f.string(r.min, `${where}.parameters.${name}.min`, 32, fail);
    const max = f.string(r.max, `${where}.parameters.${name}.max`, 32, fail);
    const [lo, hi] = [parseDeclaredNumber(min), parseDeclaredNumber(max)];
    if (lo === undefined || hi === undefined || lo > hi)
      fail(`${where}.parameters.${name} must hold two decimal numbers (String(n)) with min <= max`);
    parameters[name] = { min, max };
  }
  return { dialect, parameters };
}

/** Canonical bytes of a manifest (what the signer signs). */
export function encodeManifest(m: Manifest): Buffer {
  return canonicalJsonBytes(m as unknown as Json);
}
