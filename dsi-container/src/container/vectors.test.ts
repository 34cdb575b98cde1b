/** Runs every committed test vector (dsi-container/vectors, made by src/vectors/generate-vectors.ts). */
import { expect } from 'chai';
import { VECTORS_DIR } from '../testing/fixtures';
import { checkVector, readVectorIndex, VECTOR_OUTCOMES } from '../testing/vectors';

const index = readVectorIndex(VECTORS_DIR);

describe('DSI test vectors', () => {
  it('has valid vectors and one vector per failure class', () => {
    const expects = new Set(index.vectors.map((v) => v.expect));
    for (const code of VECTOR_OUTCOMES) {
      expect(expects.has(code), code).to.equal(true);
    }
  });

  for (const v of index.vectors) {
    it(`${v.name}: ${v.description} → ${v.expect}`, async () => {
      await checkVector(VECTORS_DIR, v);
    });
  }
});
