/** Runs test vectors: reads a `vectors.json` and checks one vector's container against its expectation. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { keyCommitment } from '../crypto/key-schedule';
import { softwareRecipientKey } from '../keys/software';
import { inspect } from '../container/inspect';
import { open } from '../container/open';
import { verify } from '../container/verify';
import { VECTOR_INDEX_FILE, type TestVector, type TestVectorIndex } from '../vectors/generate-vectors';
import { expectCode, pem } from './fixtures';

/** Every outcome the vector set must cover: valid containers and one vector per failure class. */
export const VECTOR_OUTCOMES: readonly TestVector['expect'][] = [
  'OK',
  'BAD_MAGIC',
  'UNSUPPORTED_VERSION',
  'HEADER_TOO_LARGE',
  'MALFORMED_HEADER',
  'BAD_SIGNATURE',
  'UNTRUSTED_SIGNER',
  'SIGNER_EXPIRED',
  'NOT_A_RECIPIENT',
  'WRAP_MISMATCH',
  'DIGEST_MISMATCH',
  'CORRUPTED_CHUNK',
  'TRUNCATED',
  'TRAILING_DATA',
  'PATH_LENGTH_EXCEEDED',
  'NAME_CONSTRAINT_VIOLATION',
  'SIGNER_NOT_A_LEAF',
  'SIGNER_KEY_USAGE',
  'UNKNOWN_CRITICAL_EXTENSION',
];

/** The parsed `vectors.json` of `dir`. */
export function readVectorIndex(dir: string): TestVectorIndex {
  return JSON.parse(readFileSync(path.join(dir, VECTOR_INDEX_FILE), 'utf8')) as TestVectorIndex;
}

/**
 * Opens the container of `v` (in `dir`) as the vector says and asserts its outcome: the error code
 * with no plaintext released (per chunk for CORRUPTED_CHUNK), or the DSI id, key commitments and
 * every plaintext's name, size and SHA-256.
 */
export async function checkVector(dir: string, v: TestVector): Promise<void> {
  const bytes = readFileSync(path.join(dir, v.file));
  const options = { trustedRoots: v.trustedRoots.map(pem), at: new Date(v.at) };
  const key = softwareRecipientKey(pem(v.recipientKey));
  if (v.expect !== 'OK') {
    let released = 0;
    let error: unknown;
    try {
      const opened = await open(bytes, key, options);
      try {
        for (const f of opened.files) for await (const p of f.stream()) released += (p as Buffer).length;
      } finally {
        await opened.close();
      }
    } catch (err) {
      error = err;
    }
    expectCode(error, v.expect, v.name);
    if (v.expect !== 'CORRUPTED_CHUNK') expect(released).to.equal(0);
    return;
  }
  const info = await inspect(bytes);
  expect(info.dsiId).to.equal(v.dsiId);
  expect((await verify(bytes, options)).dsiId).to.equal(v.dsiId);
  info.manifest.files.forEach((f, i) => {
    expect(f.keyCommitment).to.equal(keyCommitment(Buffer.from(v.contentKeys?.[i] ?? '', 'hex')));
  });
  const opened = await open(bytes, key, options);
  try {
    const got = [];
    for (const f of opened.files) {
      const h = createHash('sha256');
      let size = 0;
      for await (const p of f.stream()) {
        h.update(p as Buffer);
        size += (p as Buffer).length;
      }
      got.push({ name: f.name, size, sha256: h.digest('hex') });
    }
    expect(got).to.deep.equal(v.files);
  } finally {
    await opened.close();
  }
}
