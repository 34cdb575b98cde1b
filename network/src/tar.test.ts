import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { tarGz } from './tar';

describe('tarGz (chaincode packages)', function () {
  it('writes an archive GNU tar reads back byte for byte', function () {
    const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
    try {
      const big = Buffer.alloc(1500, 7);
      const archive = tarGz([
        { name: 'metadata.json', content: Buffer.from('{"type":"ccaas"}') },
        { name: 'code.tar.gz', content: big },
      ]);
      writeFileSync(join(dir, 'pkg.tar.gz'), archive);
      const r = spawnSync('tar', ['-xzf', 'pkg.tar.gz'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      expect(readFileSync(join(dir, 'metadata.json'), 'utf8')).to.equal('{"type":"ccaas"}');
      expect(readFileSync(join(dir, 'code.tar.gz')).equals(big)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic, so the same chaincode gives the same package id', function () {
    const entries = [{ name: 'a', content: Buffer.from('x') }];
    expect(tarGz(entries).equals(tarGz(entries))).to.equal(true);
  });
});
