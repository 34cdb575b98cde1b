import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { chunkNonce, openSegment, sealSegment } from './stream';
import { TAG_LENGTH } from '../format/limits';

const key = randomBytes(32);
const CHUNK = 64;
const STEP = CHUNK + TAG_LENGTH;

describe('STREAM chunked AES-256-GCM', () => {
  const data = randomBytes(5 * CHUNK + 9);
  const sealed = sealSegment({ key, data, firstChunk: 0, chunkSize: CHUNK, lastSegment: true });
  const chunks = Array.from({ length: 6 }, (_, i) => sealed.ciphertext.subarray(i * STEP, (i + 1) * STEP));
  const openAll = (ct: Buffer, lastSegment = true): Buffer | { badChunk: number } =>
    openSegment({ key, ciphertext: ct, firstChunk: 0, chunkSize: CHUNK, lastSegment });

  it('encodes the chunk index as an 11-byte big-endian counter followed by the last-chunk flag', () => {
    expect(chunkNonce(0, false).toString('hex')).to.equal('000000000000000000000000');
    expect(chunkNonce(1, true).toString('hex')).to.equal('000000000000000000000101');
    expect(chunkNonce(0xffffffff, false).toString('hex')).to.equal('00000000000000ffffffff00');
  });

  it('round-trips a segment', () => {
    expect(openAll(sealed.ciphertext)).to.deep.equal(data);
  });

  it('detects reordered chunks at the first moved chunk', () => {
    const swapped = Buffer.concat([chunks[1] as Buffer, chunks[0] as Buffer, ...chunks.slice(2)]);
    expect(openAll(swapped)).to.deep.equal({ badChunk: 0 });
  });

  it('detects truncation at a chunk boundary: the new final chunk lacks the last-chunk flag', () => {
    expect(openAll(Buffer.concat(chunks.slice(0, 5)))).to.deep.equal({ badChunk: 4 });
  });

  it('detects a duplicated chunk', () => {
    expect(openAll(Buffer.concat([chunks[0] as Buffer, ...chunks]))).to.deep.equal({ badChunk: 1 });
  });

  it('detects a segment that claims not to be last (an attacker appending data)', () => {
    expect(openAll(sealed.ciphertext, false)).to.deep.equal({ badChunk: 5 });
  });

  it('seals an empty file as one empty final chunk of 16 bytes', () => {
    const empty = sealSegment({
      key,
      data: Buffer.alloc(0),
      firstChunk: 0,
      chunkSize: CHUNK,
      lastSegment: true,
    });
    expect(empty.ciphertext.length).to.equal(TAG_LENGTH);
    expect(openAll(empty.ciphertext)).to.deep.equal(Buffer.alloc(0));
  });
});
