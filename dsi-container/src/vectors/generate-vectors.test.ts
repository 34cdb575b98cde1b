/** Runs the vector generator into a temporary directory and checks what it wrote against the committed vectors. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { VECTORS_DIR } from '../testing/fixtures';
import { checkVector, readVectorIndex } from '../testing/vectors';

const run = promisify(execFile);

describe('test vector generator', () => {
  let out = '';
  before(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'threadseal-vectors-'));
    writeFileSync(path.join(out, 'README.md'), 'kept\n');
    writeFileSync(path.join(out, 'stale.dsi'), 'removed\n');
    const { stdout } = await run(process.execPath, [
      path.join(__dirname, 'generate-vectors.js'),
      '--out',
      out,
    ]);
    expect(stdout).to.match(/^wrote 25 vectors to /);
  });
  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('writes the committed index again: same vectors, expectations, DSI ids, keys and plaintexts', () => {
    expect(readVectorIndex(out)).to.deep.equal(readVectorIndex(VECTORS_DIR));
  });

  it('writes exactly the containers the index lists and keeps other files', () => {
    const files = readdirSync(out).sort();
    const listed = readVectorIndex(out).vectors.map((v) => v.file);
    expect(files).to.deep.equal([...listed, 'README.md', 'vectors.json'].sort());
  });

  // The generated containers carry fresh ECDSA and HPKE randomness, so they are checked against the
  // committed expectations rather than compared byte by byte.
  for (const v of readVectorIndex(VECTORS_DIR).vectors) {
    it(`generates ${v.name} with the committed verdict ${v.expect}`, async () => {
      await checkVector(out, v);
    });
  }

  it('rejects an unknown option with exit code 2', async () => {
    const error = await run(process.execPath, [path.join(__dirname, 'generate-vectors.js'), '--bogus']).then(
      () => undefined,
      (err: unknown) => err as { code: number; stderr: string },
    );
    expect(error?.code).to.equal(2);
    expect(error?.stderr).to.include('usage: generate-vectors [--out <dir>]');
  });
});
