/**
 * A co-recipient knows every content key, so it can seal its own ciphertext that passes AEAD.
 * `open` must decrypt exactly the bytes whose signed digest it checked: a file rewritten after
 * verification, or a caller's buffer changed after `open` resolved, never yields the forged bytes.
 */
import { mkdtemp, open as openFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { payloadKey } from '../crypto/key-schedule';
import { openSegment, sealSegment } from '../crypto/stream';
import { parseContainer } from './layout';
import { open, unwrapFileKeys, type OpenedFile } from './open';
import { openSource } from './source';
import {
  collect,
  expectCode,
  pem,
  protectBytes,
  recipientA,
  recipientB,
  testBytes,
  trustedRoots,
} from '../testing/fixtures';

/** One file of one segment (4 chunks of 64), sealed for recipients A and B. */
const SIZE = 200;

/**
 * What recipient B can forge: new plaintext sealed under the file's real content key, same
 * length, so every AEAD tag verifies. Returns the original bytes and the forged ciphertext's offset.
 */
async function coRecipientForgery(): Promise<{ bytes: Buffer; forged: Buffer; offset: number }> {
  const { bytes } = await protectBytes({
    recipients: [pem('recipient-a.pub.pem'), pem('recipient-b.pub.pem')],
    files: [{ name: 'part.gcode', source: testBytes(SIZE, 7) }],
  });
  const ra = await openSource(bytes);
  try {
    const parsed = await parseContainer(ra);
    const [contentKey] = await unwrapFileKeys(
      parsed.header.recipients,
      parsed.header.manifest,
      parsed.dsiId,
      recipientB(),
    );
    const { ciphertext } = sealSegment({
      key: payloadKey(contentKey as Buffer),
      data: Buffer.alloc(SIZE, 'G'),
      firstChunk: 0,
      chunkSize: parsed.header.manifest.chunkSize,
      lastSegment: true,
    });
    const offset = (parsed.files[0] as { offset: number }).offset;
    expect(ciphertext.length).to.equal(bytes.length - offset);
    return { bytes, forged: Buffer.from(ciphertext), offset };
  } finally {
    await ra.close();
  }
}

async function drain(
  opened: Awaited<ReturnType<typeof open>>,
): Promise<{ released: number; error?: unknown }> {
  let released = 0;
  try {
    for (const f of opened.files) for await (const p of f.stream()) released += (p as Buffer).length;
    return { released };
  } catch (error) {
    return { released, error };
  } finally {
    await opened.close();
  }
}

describe('DSI open against a co-recipient', function () {
  this.timeout(20_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dsi-swap-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("forges ciphertext that passes AEAD under the file's real key (the attack is real)", async () => {
    const { bytes, forged, offset } = await coRecipientForgery();
    const swapped = Buffer.concat([bytes.subarray(0, offset), forged]);
    const ra = await openSource(swapped);
    try {
      const parsed = await parseContainer(ra);
      const [contentKey] = await unwrapFileKeys(
        parsed.header.recipients,
        parsed.header.manifest,
        parsed.dsiId,
        recipientA(),
      );
      const plain = openSegment({
        key: payloadKey(contentKey as Buffer),
        ciphertext: forged,
        firstChunk: 0,
        chunkSize: parsed.header.manifest.chunkSize,
        lastSegment: true,
      });
      expect(Buffer.isBuffer(plain) && plain.equals(Buffer.alloc(SIZE, 'G'))).to.equal(true);
    } finally {
      await ra.close();
    }
  });

  it('refuses a file rewritten with validly sealed same-length ciphertext after verification with DIGEST_MISMATCH, releasing 0 bytes', async () => {
    const { bytes, forged, offset } = await coRecipientForgery();
    const file = path.join(dir, 'swap.dsi');
    await writeFile(file, bytes);
    const opened = await open(file, recipientA(), { trustedRoots: trustedRoots() });
    // Between verification and decryption the co-recipient overwrites the payload in place.
    const fh = await openFile(file, 'r+');
    await fh.write(forged, 0, forged.length, offset);
    await fh.close();
    const r = await drain(opened);
    expect(r.released).to.equal(0);
    const e = expectCode(r.error, 'DIGEST_MISMATCH');
    expect(e.message).to.equal(
      `DIGEST_MISMATCH: ciphertext of segment 0 of 1 (chunks 0–3, offset ${offset}) of file part.gcode changed after verification: it no longer matches the signed digest`,
    );
  });

  it('refuses the swap also when segments are decrypted on a worker thread', async () => {
    const previous = process.env.THREADSEAL_CRYPTO_THREADS;
    process.env.THREADSEAL_CRYPTO_THREADS = '2';
    try {
      const chunkSize = 64 * 1024;
      const segmentChunks = 8;
      const { bytes } = await protectBytes({
        recipients: [pem('recipient-a.pub.pem'), pem('recipient-b.pub.pem')],
        files: [{ name: 'big.gcode', source: testBytes(600 * 1024, 9) }],
        chunkSize,
        segmentChunks,
      });
      const ra = await openSource(bytes);
      const parsed = await parseContainer(ra);
      await ra.close();
      const [contentKey] = await unwrapFileKeys(
        parsed.header.recipients,
        parsed.header.manifest,
        parsed.dsiId,
        recipientB(),
      );
      // Segment 0 (512 KiB, over the inline limit) re-sealed by the co-recipient.
      const { ciphertext } = sealSegment({
        key: payloadKey(contentKey as Buffer),
        data: Buffer.alloc(chunkSize * segmentChunks, 'G'),
        firstChunk: 0,
        chunkSize,
        lastSegment: false,
      });
      const file = path.join(dir, 'swap-big.dsi');
      await writeFile(file, bytes);
      const opened = await open(file, recipientA(), { trustedRoots: trustedRoots() });
      const fh = await openFile(file, 'r+');
      await fh.write(ciphertext, 0, ciphertext.length, (parsed.files[0] as { offset: number }).offset);
      await fh.close();
      const r = await drain(opened);
      expect(r.released).to.equal(0);
      expectCode(r.error, 'DIGEST_MISMATCH');
    } finally {
      if (previous === undefined) delete process.env.THREADSEAL_CRYPTO_THREADS;
      else process.env.THREADSEAL_CRYPTO_THREADS = previous;
    }
  });

  it("releases the original plaintext when the caller's buffer is changed after open", async () => {
    const { bytes, forged, offset } = await coRecipientForgery();
    const callers = Buffer.from(bytes);
    const opened = await open(callers, recipientA(), { trustedRoots: trustedRoots() });
    forged.copy(callers, offset);
    const [file] = opened.files;
    const plain = await collect((file as OpenedFile).stream());
    await opened.close();
    expect(plain.equals(testBytes(SIZE, 7))).to.equal(true);
  });
});
