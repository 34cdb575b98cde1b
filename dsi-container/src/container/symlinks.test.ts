/** protectToFile never writes through a symlink (or hard link) planted at `output.partial`. */
import { linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { protectToFile } from './protect';
import { openAndDrain, pem, testBytes, testSigner } from '../testing/fixtures';

const VICTIM = 'precious data\n';

async function protectInto(out: string): Promise<Buffer> {
  const source = testBytes(3000, 8);
  await protectToFile(
    {
      files: [{ name: 'part.gcode', source }],
      signer: testSigner('signer'),
      recipients: [pem('recipient-a.pub.pem')],
      title: 'T',
      partNumber: 'P',
      revision: 'R',
      chunkSize: 1024,
    },
    out,
  );
  return source;
}

describe('protectToFile and links at output.partial', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dsi-link-'));
    writeFileSync(path.join(dir, 'victim.txt'), VICTIM);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [kind, plant] of [
    [
      'symlink',
      (target: string, at: string) => {
        symlinkSync(target, at);
      },
    ],
    [
      'hard link',
      (target: string, at: string) => {
        linkSync(target, at);
      },
    ],
  ] as const) {
    it(`leaves the target of a ${kind} at output.partial unchanged and writes a new file`, async () => {
      const out = path.join(dir, 'out.dsi');
      plant(path.join(dir, 'victim.txt'), `${out}.partial`);
      const source = await protectInto(out);
      expect(readFileSync(path.join(dir, 'victim.txt'), 'utf8')).to.equal(VICTIM);
      expect(lstatSync(out).isFile()).to.equal(true);
      const r = await openAndDrain(out);
      expect(r.error).to.equal(undefined);
      expect(r.files.get('part.gcode')?.equals(source)).to.equal(true);
    });
  }
});
