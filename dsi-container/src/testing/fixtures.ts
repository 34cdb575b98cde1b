/** Test fixtures: the committed TEST-ONLY PKI, a seeded PRNG and helpers to run the API end to end. */
import { readFileSync, existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { expect } from 'chai';
import { DsiError, type DsiErrorCode } from '../errors';
import { protect, type ProtectOptions } from '../container/protect';
import { open } from '../container/open';
import { softwareRecipientKey, softwareSigner } from '../keys/software';
import type { RecipientKey, Signer } from '../keys/types';
import type { ContainerSource } from '../container/source';

/** dsi-container/ (tests run from dist/). */
export const PACKAGE_DIR = path.resolve(__dirname, '../..');
/** The repository root. */
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..');
/** The shared corpus of real technical data packages (may be absent). */
export const CORPUS_DIR = path.resolve(REPO_ROOT, '../shared/corpus');
export const PKI_DIR = path.join(PACKAGE_DIR, 'test-pki');
export const VECTORS_DIR = path.join(PACKAGE_DIR, 'vectors');

const pemCache = new Map<string, string>();
/** A PEM file of the test PKI (cached). */
export function pem(name: string): string {
  let text = pemCache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(PKI_DIR, name), 'utf8');
    pemCache.set(name, text);
  }
  return text;
}
export const corpusPresent = (): boolean => existsSync(CORPUS_DIR);

/** A signer from the test PKI, e.g. `signer`, `expired-signer`, `rogue-signer`. */
export function testSigner(name: string, extraCerts: readonly string[] = []): Signer {
  return softwareSigner(
    [pem(`${name}.cert.pem`), ...extraCerts.map((c) => pem(`${c}.cert.pem`))].join('\n'),
    pem(`${name}.key.pem`),
  );
}
let keyA: RecipientKey | undefined;
export const recipientA = (): RecipientKey => (keyA ??= softwareRecipientKey(pem('recipient-a.key.pem')));
export const recipientB = (): RecipientKey => softwareRecipientKey(pem('recipient-b.key.pem'));
let roots: X509Certificate[] | undefined;
/** The trusted test root, parsed once. */
export const trustedRoots = (): X509Certificate[] =>
  (roots ??= [new X509Certificate(pem('root-ca.cert.pem'))]);

/** Collects a stream into one buffer. */
export async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p as Uint8Array));
  return Buffer.concat(parts);
}

/** Protect with test defaults (test signer, recipient A, small chunks) and return the container bytes. */
export async function protectBytes(
  overrides: Partial<ProtectOptions> & Pick<ProtectOptions, 'files'>,
): Promise<{ bytes: Buffer; dsiId: string }> {
  const r = await protect({
    signer: testSigner('signer'),
    recipients: [pem('recipient-a.pub.pem')],
    title: 'Worm drive housing',
    partNumber: 'WD-100',
    revision: 'C',
    chunkSize: 64,
    segmentChunks: 4,
    created: new Date('2026-01-02T03:04:05.678Z'),
    ...overrides,
  });
  return { bytes: await collect(r.stream), dsiId: r.dsiId };
}

/** Opens and drains every file, counting plaintext bytes released to the consumer even if it fails later. */
export async function openAndDrain(
  source: ContainerSource,
  key: RecipientKey = recipientA(),
  at?: Date,
): Promise<{ released: number; files: Map<string, Buffer>; error?: unknown }> {
  let released = 0;
  const files = new Map<string, Buffer>();
  try {
    const opened = await open(source, key, { trustedRoots: trustedRoots(), ...(at ? { at } : {}) });
    try {
      for (const f of opened.files) {
        const parts: Buffer[] = [];
        for await (const p of f.stream()) {
          released += (p as Buffer).length;
          parts.push(p as Buffer);
        }
        files.set(f.name, Buffer.concat(parts));
      }
    } finally {
      await opened.close();
    }
    return { released, files };
  } catch (error) {
    return { released, files, error };
  }
}

/** Asserts `error` is a DsiError whose code is `code` (or one of `code`). */
export function expectCode(
  error: unknown,
  code: DsiErrorCode | readonly DsiErrorCode[],
  context = '',
): DsiError {
  expect(error, `expected a DsiError ${String(code)} ${context}`).to.be.instanceOf(DsiError);
  const e = error as DsiError;
  const allowed = typeof code === 'string' ? [code] : code;
  expect(allowed, `${context}: got ${e.message}`).to.include(e.code);
  expect(e.message.startsWith(`${e.code}: `)).to.equal(true);
  return e;
}

/** Mulberry32: a tiny seeded PRNG so random tamper runs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random bytes (not secret) for test inputs. */
export function testBytes(length: number, seed = 1): Buffer {
  const next = prng(seed);
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(next() * 256);
  return b;
}
