import { expect } from 'chai';
import { acquire, sealSegmentAsync } from './pool';

describe('pooled plaintext buffers', () => {
  it('are zeroed once a segment is sealed, before they return to the pool', async () => {
    for (const size of [1000, 300 * 1024]) {
      const data = acquire(size).fill(0x41);
      const view = new Uint8Array(data.buffer, data.byteOffset, size);
      const r = await sealSegmentAsync({
        key: Buffer.alloc(32, 7),
        data,
        firstChunk: 0,
        chunkSize: 64 * 1024,
        lastSegment: true,
      });
      expect(r.ciphertext.length).to.be.greaterThan(size);
      // A buffer transferred to a worker is detached here (length 0): nothing of it is left to read.
      const detached = data.buffer.byteLength === 0;
      expect(detached || view.every((b) => b === 0)).to.equal(true);
    }
  });
});
