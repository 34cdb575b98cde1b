/**
 * Generates the DSI test vectors: containers any implementation can check, one valid set and one
 * per failure class, indexed by `vectors.json` (docs/container-format.md §11). Uses only the public
 * entry points `@threadseal/dsi-container` and `@threadseal/dsi-container/format`, and the
 * TEST-ONLY PKI in dsi-container/test-pki.
 *
 *   node dsi-container/dist/vectors/generate-vectors.js [--out <dir>]   (default: dsi-container/vectors)
 *
 * Content keys are fixed (derived from the vector name) so manifests, DSI ids and `vectors.json`
 * are stable; ECDSA and HPKE use fresh randomness, so regenerated containers differ byte-wise but
 * carry the same expectations.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  dsiIdOfManifest,
  protect,
  recipientPublicKey,
  softwareSigner,
  type DsiErrorCode,
  type ProtectFile,
  type Signer,
} from '@threadseal/dsi-container';
import {
  decodeHeader,
  encodeHeader,
  encodeManifest,
  encodePreamble,
  fileDigest,
  PREAMBLE_LENGTH,
  signManifest,
  TAG_LENGTH,
  wrapKeys,
  type Header,
} from '@threadseal/dsi-container/format';

/** One entry of `vectors.json`: a container file and what opening it must give. */
export interface TestVector {
  readonly name: string;
  readonly file: string;
  readonly description: string;
  readonly operation: 'open';
  /** Test PKI file names of the trusted roots. */
  readonly trustedRoots: readonly string[];
  /** Test PKI file name of the recipient private key to open with. */
  readonly recipientKey: string;
  /** When certificate validity is checked (ISO 8601). */
  readonly at: string;
  /** `OK` or the code the open must fail with. */
  readonly expect: 'OK' | DsiErrorCode;
  /** Valid vectors: name, size and SHA-256 (hex) of each plaintext. */
  readonly files?: readonly { readonly name: string; readonly size: number; readonly sha256: string }[];
  /** Valid vectors: the test content keys (hex), one per file. */
  readonly contentKeys?: readonly string[];
  /** Valid vectors: the DSI id. */
  readonly dsiId?: string;
}

/** The whole of `vectors.json`. */
export interface TestVectorIndex {
  readonly format: 'threadseal-dsi/1';
  readonly generatedBy: string;
  readonly vectors: readonly TestVector[];
}

/** File name of the index in the output directory. */
export const VECTOR_INDEX_FILE = 'vectors.json';

const PACKAGE_DIR = path.resolve(__dirname, '../..');
const PKI_DIR = path.join(PACKAGE_DIR, 'test-pki');
/** Where the committed vectors live (the default output). */
export const DEFAULT_VECTORS_DIR = path.join(PACKAGE_DIR, 'vectors');

const AT = '2026-06-01T00:00:00.000Z';
const CREATED = new Date('2026-01-15T12:00:00.000Z');
const CHUNK_SIZE = 64;

const pem = (name: string): string => readFileSync(path.join(PKI_DIR, name), 'utf8');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Deterministic non-secret bytes for plaintexts and test content keys. */
function bytes(label: string, length: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < length; i++)
    parts.push(createHash('sha256').update(`${label}/${i}`).digest());
  return Buffer.concat(parts).subarray(0, length);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

const testSigner = (name: string, intermediates: readonly string[] = []): Signer =>
  softwareSigner(
    [pem(`${name}.cert.pem`), ...intermediates.map((c) => pem(`${c}.cert.pem`))].join('\n'),
    pem(`${name}.key.pem`),
  );

interface SealOptions {
  readonly signer?: string;
  readonly intermediates?: readonly string[];
  readonly recipients?: readonly string[];
}

/** Protects `files` with the content keys derived from `name`; resolves to the container bytes. */
async function seal(name: string, files: readonly ProtectFile[], options: SealOptions = {}): Promise<Buffer> {
  const r = await protect({
    files,
    signer: testSigner(options.signer ?? 'signer', options.intermediates),
    recipients: (options.recipients ?? ['recipient-a.pub.pem']).map(pem),
    title: `Test vector ${name}`,
    partNumber: 'TV-1',
    revision: 'A',
    productionRules: 'rules/TV-1/A',
    mspId: 'Org1MSP',
    created: CREATED,
    chunkSize: CHUNK_SIZE,
    segmentChunks: 4,
    contentKeysForTestVectors: files.map((f) => bytes(`${name}/${f.name}/key`, 32)),
  });
  return collect(r.stream);
}

/** Offset of the first payload byte: the preamble's header length is at bytes 9..12. */
const headerEnd = (c: Buffer): number => PREAMBLE_LENGTH + c.readUInt32BE(9);
const headerOf = (c: Buffer): Header => decodeHeader(c.subarray(PREAMBLE_LENGTH, headerEnd(c)));
/** `c` with its header replaced by the encoding of `header` (which need not be valid). */
const withHeader = (c: Buffer, header: Omit<Header, 'manifest'>): Buffer => {
  const hb = encodeHeader(header);
  return Buffer.concat([encodePreamble(hb.length), hb, c.subarray(headerEnd(c))]);
};
const withByte = (c: Buffer, at: number, value: (old: number) => number): Buffer => {
  const copy = Buffer.from(c);
  copy.writeUInt8(value(copy.readUInt8(at)), at);
  return copy;
};
const flipByte = (c: Buffer, at: number, mask = 1): Buffer => withByte(c, at, (old) => old ^ mask);

type Extra = Partial<Pick<TestVector, 'recipientKey' | 'files' | 'contentKeys' | 'dsiId'>>;

/**
 * Writes every vector and `vectors.json` into `outDir` (created if missing; `*.dsi` files already
 * there are removed first, other files such as a README are kept).
 */
export async function generateVectors(outDir: string): Promise<TestVectorIndex> {
  mkdirSync(outDir, { recursive: true });
  for (const entry of readdirSync(outDir)) if (entry.endsWith('.dsi')) rmSync(path.join(outDir, entry));

  const vectors: TestVector[] = [];
  const add = (
    name: string,
    container: Buffer,
    description: string,
    expect: TestVector['expect'],
    extra: Extra = {},
  ): void => {
    writeFileSync(path.join(outDir, `${name}.dsi`), container);
    vectors.push({
      name,
      file: `${name}.dsi`,
      description,
      operation: 'open',
      trustedRoots: ['root-ca.cert.pem'],
      recipientKey: extra.recipientKey ?? 'recipient-a.key.pem',
      at: AT,
      expect,
      ...(extra.files ? { files: extra.files } : {}),
      ...(extra.contentKeys ? { contentKeys: extra.contentKeys } : {}),
      ...(extra.dsiId ? { dsiId: extra.dsiId } : {}),
    });
  };

  // ---- valid containers ----
  const plain = {
    empty: Buffer.alloc(0),
    one: bytes('one', 1),
    exact: bytes('exact', CHUNK_SIZE),
    multi: bytes('multi', CHUNK_SIZE * 9 + 5),
    small: bytes('small', 40),
  };
  type Plain = readonly [name: string, data: Buffer, confidentialName?: boolean];
  const ok = async (
    name: string,
    description: string,
    files: readonly Plain[],
    options: SealOptions & { readonly recipientKey?: string } = {},
  ): Promise<Buffer> => {
    const c = await seal(
      name,
      files.map(([n, data, confidential]) => ({
        name: n,
        source: data,
        confidentialName: confidential === true,
      })),
      options,
    );
    add(name, c, description, 'OK', {
      ...(options.recipientKey ? { recipientKey: options.recipientKey } : {}),
      contentKeys: files.map(([n]) => bytes(`${name}/${n}/key`, 32).toString('hex')),
      files: files.map(([n, data]) => ({ name: n, size: data.length, sha256: sha256(data) })),
      dsiId: dsiIdOfManifest(headerOf(c).manifestBytes),
    });
    return c;
  };
  await ok('valid-empty-file', 'one empty file: one empty final chunk (16-byte tag only)', [
    ['empty.gcode', plain.empty],
  ]);
  await ok('valid-one-byte', 'one 1-byte file', [['one.ngc', plain.one]]);
  await ok('valid-exact-chunk', 'file of exactly one chunk (64 bytes)', [['exact.step', plain.exact]]);
  const multiFiles: readonly Plain[] = [
    ['cad/part.step', plain.multi],
    ['build/part.3mf', plain.small],
    ['secret/fixture.gcode', plain.one, true],
  ];
  const base = await ok(
    'valid-multi-file',
    'three files, 10-chunk file spanning 3 segments, one confidential name',
    multiFiles,
  );
  await ok(
    'valid-intermediate-ca',
    'signer certified by an intermediate CA included in the container',
    [['part.gcode', plain.small]],
    { signer: 'chained-signer', intermediates: ['intermediate-ca'] },
  );
  await ok(
    'valid-two-recipients',
    'two recipient stanzas; opened with the second recipient',
    [['part.gcode', plain.small]],
    { recipients: ['recipient-a.pub.pem', 'recipient-b.pub.pem'], recipientKey: 'recipient-b.key.pem' },
  );

  // ---- one per failure class ----
  const h = headerOf(base);
  const payloadStart = headerEnd(base);
  const step = CHUNK_SIZE + TAG_LENGTH;
  add('bad-magic', flipByte(base, 1, 0x20), 'second magic byte altered', 'BAD_MAGIC');
  add(
    'unsupported-version',
    withByte(base, 8, () => 2),
    'version byte 2',
    'UNSUPPORTED_VERSION',
  );
  {
    const c = Buffer.from(base);
    c.writeUInt32BE(0x7fffffff, 9);
    add('header-too-large', c, 'header length 2^31-1, over the 16 MiB limit', 'HEADER_TOO_LARGE');
  }
  {
    const raw = base.subarray(PREAMBLE_LENGTH, payloadStart).toString();
    const dup = Buffer.from(raw.replace('{"certificates":', '{"certificates":[],"certificates":'));
    add(
      'malformed-header-duplicate-field',
      Buffer.concat([encodePreamble(dup.length), dup, base.subarray(payloadStart)]),
      'header JSON with a duplicate "certificates" field',
      'MALFORMED_HEADER',
    );
  }
  add(
    'truncated-last-chunk',
    base.subarray(0, base.length - 1),
    'last byte of the last chunk removed',
    'TRUNCATED',
  );
  add(
    'truncated-chunk-boundary',
    base.subarray(0, payloadStart + 2 * step),
    'cut after the second chunk',
    'TRUNCATED',
  );
  add('trailing-data', Buffer.concat([base, Buffer.from('X')]), 'one byte appended', 'TRAILING_DATA');
  add(
    'digest-mismatch',
    flipByte(base, payloadStart + 100),
    'one bit flipped in chunk 1 of file cad/part.step',
    'DIGEST_MISMATCH',
  );
  add(
    'bad-signature-wrong-signer',
    withHeader(base, { ...h, certificates: [new X509Certificate(pem('other-signer.cert.pem')).raw] }),
    'signer certificate replaced by another certificate of the same CA',
    'BAD_SIGNATURE',
  );
  add(
    'untrusted-signer',
    await seal('untrusted', [{ name: 'part.gcode', source: plain.small }], { signer: 'rogue-signer' }),
    'signed by a certificate of a CA that is not trusted',
    'UNTRUSTED_SIGNER',
  );
  add(
    'signer-expired',
    await seal('expired', [{ name: 'part.gcode', source: plain.small }], { signer: 'expired-signer' }),
    'signer certificate valid 2020-01-01..2021-01-01, checked at 2026-06-01',
    'SIGNER_EXPIRED',
  );
  add(
    'not-a-recipient',
    base,
    'valid container opened with a key that is not a recipient',
    'NOT_A_RECIPIENT',
    {
      recipientKey: 'recipient-b.key.pem',
    },
  );
  {
    // A donor DSI with the same file count, so the stanza has the right size and only its binding fails.
    const donor = await seal(
      'donor',
      multiFiles.map(([name, source, confidential]) => ({
        name,
        source,
        ...(confidential ? { confidentialName: true } : {}),
      })),
    );
    add(
      'wrap-mismatch-moved-stanza',
      withHeader(base, { ...h, recipients: headerOf(donor).recipients }),
      'recipient stanza (for recipient A) taken from another DSI with the same files',
      'WRAP_MISMATCH',
    );
  }
  {
    // A signer that signed bad ciphertext: digests match, the AEAD tag of chunk 2 does not.
    const payload = Buffer.from(base.subarray(payloadStart));
    payload.writeUInt8(payload.readUInt8(2 * step + 3) ^ 1, 2 * step + 3);
    const m = h.manifest;
    const [f0, ...rest] = m.files;
    if (f0 === undefined) throw new Error('valid-multi-file has no files');
    const segmentLength = m.segmentChunks * step;
    const f0Ciphertext = payload.subarray(0, f0.size + TAG_LENGTH * Math.ceil(f0.size / m.chunkSize));
    const segments = f0.segments.map((_, i) =>
      sha256(f0Ciphertext.subarray(i * segmentLength, (i + 1) * segmentLength)),
    );
    const manifestBytes = encodeManifest({
      ...m,
      files: [{ ...f0, segments, digest: fileDigest(segments) }, ...rest],
    });
    const signature = await signManifest(manifestBytes, testSigner('signer'));
    const keys = multiFiles.map(([name]) => bytes(`valid-multi-file/${name}/key`, 32));
    const recipients = wrapKeys(
      keys,
      [recipientPublicKey(pem('recipient-a.pub.pem'))],
      dsiIdOfManifest(manifestBytes),
    );
    const hb = encodeHeader({ manifestBytes, signature, certificates: h.certificates, recipients });
    add(
      'corrupted-chunk-signed',
      Buffer.concat([encodePreamble(hb.length), hb, payload]),
      'the signer signed digests of ciphertext whose chunk 2 fails its GCM tag',
      'CORRUPTED_CHUNK',
    );
  }

  // ---- signer path policy (issue 7): trusted, but must not sign (test-pki/policy/) ----
  const policy = async (
    name: string,
    signer: string,
    intermediates: readonly string[],
    description: string,
    code: DsiErrorCode,
  ): Promise<void> => {
    const c = await seal(name, [{ name: 'part.gcode', source: plain.small }], {
      signer: `policy/${signer}`,
      intermediates: intermediates.map((i) => `policy/${i}`),
    });
    add(name, c, description, code);
  };
  await policy(
    'path-length-exceeded',
    'deep-signer',
    ['sub-ca', 'pathlen0-ca'],
    'root → CA with pathLenConstraint 0 → sub-CA → signer',
    'PATH_LENGTH_EXCEEDED',
  );
  await policy(
    'name-constraint-violation',
    'nc-outside-signer',
    ['nc-ca'],
    'signer O=ThreadSeal Test, OU=org1 under a CA permitted only O=ThreadSeal Test, OU=org2',
    'NAME_CONSTRAINT_VIOLATION',
  );
  await policy('signer-not-a-leaf', 'ca-signer', [], 'signed by a CA certificate', 'SIGNER_NOT_A_LEAF');
  await policy(
    'signer-tls-only',
    'tls-signer',
    [],
    'signed by a TLS certificate (extendedKeyUsage serverAuth, clientAuth only)',
    'SIGNER_KEY_USAGE',
  );
  await policy(
    'unknown-critical-extension',
    'critical-signer',
    [],
    'signer certificate with an unknown critical extension',
    'UNKNOWN_CRITICAL_EXTENSION',
  );

  // The committed index names the launcher, so regenerating leaves vectors.json unchanged.
  const index: TestVectorIndex = {
    format: 'threadseal-dsi/1',
    generatedBy: 'scripts/gen-container-vectors.mjs',
    vectors,
  };
  writeFileSync(path.join(outDir, VECTOR_INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** Command line: `[--out <dir>]`. Resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let out: string;
  try {
    const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' } }, strict: true });
    out = path.resolve(values.out ?? DEFAULT_VECTORS_DIR);
  } catch (err) {
    process.stderr.write(
      `generate-vectors: ${(err as Error).message}\nusage: generate-vectors [--out <dir>]\n`,
    );
    return 2;
  }
  const index = await generateVectors(out);
  const shown = path.relative(process.cwd(), out);
  process.stdout.write(
    `wrote ${index.vectors.length} vectors to ${shown.startsWith('..') || shown === '' ? out : shown}\n`,
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `generate-vectors: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
