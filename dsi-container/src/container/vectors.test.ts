/** Runs every committed test vector (dsi-container/vectors, made by scripts/gen-container-vectors.mjs). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { keyCommitment } from '../crypto/key-schedule';
import { softwareRecipientKey } from '../keys/software';
import { inspect } from './inspect';
import { open } from './open';
import { verify } from './verify';
import { expectCode, pem, VECTORS_DIR } from '../testing/fixtures';
import type { DsiErrorCode } from '../errors';

interface Vector {
  name: string;
  file: string;
  description: string;
  operation: 'open';
  trustedRoots: string[];
  recipientKey: string;
  at: string;
  expect: 'OK' | DsiErrorCode;
  files?: { name: string; size: number; sha256: string }[];
  contentKeys?: string[];
  dsiId?: string;
}

const index = JSON.parse(readFileSync(path.join(VECTORS_DIR, 'vectors.json'), 'utf8')) as {
  vectors: Vector[];
};

describe('DSI test vectors', () => {
  it('has valid vectors and one vector per failure class', () => {
    const expects = new Set(index.vectors.map((v) => v.expect));
    for (const code of [
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
    ]) {
      expect(expects.has(code as Vector['expect']), code).to.equal(true);
    }
  });

  for (const v of index.vectors) {
    it(`${v.name}: ${v.description} → ${v.expect}`, async () => {
      const bytes = readFileSync(path.join(VECTORS_DIR, v.file));
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
    });
  }
});
