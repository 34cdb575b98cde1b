import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { chaincodeLabel, chaincodePackageFiles } from './chaincode-lifecycle';
import { repoRoot } from './network';

describe('the chaincode package (what its label is made of)', function () {
  let dir: string;
  const write = (file: string, content: string): void => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  };

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'chaincode-package-'));
    write('dist/index.js', 'exports.contracts = [];');
    write('dist/index.js.map', '{}');
    write('dist/index.d.ts', 'export {};');
    write('dist/contracts/a.js', 'a');
    write('dist/contracts/a.test.js', 'test');
    write('dist-test/contracts/a.test.js', 'test');
    write('dist-test/index.js', 'exports.contracts = [];');
    write('src/index.ts', 'export const contracts = [];');
    write('package.json', '{"name":"cc"}');
    write('deployment.json', '{}');
    write('tsconfig.tsbuildinfo', '{}');
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the built code in dist/ and the definition files, without maps, declarations or tests', function () {
    expect(chaincodePackageFiles(dir)).to.deep.equal([
      'dist/contracts/a.js',
      'dist/index.js',
      'package.json',
      'deployment.json',
    ]);
  });

  it('gets a new label when its code or a definition changes, not when a test or test build does', function () {
    const label = chaincodeLabel('cc', dir);
    expect(label).to.match(/^cc_[0-9a-f]{12}$/);
    write('dist/contracts/a.test.js', 'test changed');
    write('dist-test/contracts/a.test.js', 'test changed');
    write('dist-test/index.js', 'changed');
    write('dist/index.js.map', '{"changed":true}');
    write('src/index.ts', 'changed');
    expect(chaincodeLabel('cc', dir)).to.equal(label);
    write('dist/contracts/a.js', 'a changed');
    const codeChanged = chaincodeLabel('cc', dir);
    expect(codeChanged).to.not.equal(label);
    write('deployment.json', '{"signaturePolicy":"OR(\'A.peer\')"}');
    expect(chaincodeLabel('cc', dir)).to.not.equal(codeChanged);
  });

  it('of the threadseal chaincode holds no test file and never loads test support', function () {
    const chaincodeDir = join(repoRoot(), 'chaincode');
    const files = chaincodePackageFiles(chaincodeDir);
    expect(files).to.include('dist/index.js');
    const testOnly = files.filter((f) => /\.test\.|(^|\/)testing\//.test(f));
    expect(testOnly, 'stale test output in chaincode/dist: rebuild it from clean').to.deep.equal([]);
    const loadsTestSupport = files.filter(
      (f) => f.endsWith('.js') && readFileSync(join(chaincodeDir, f), 'utf8').includes('test-support'),
    );
    expect(loadsTestSupport).to.deep.equal([]);
  });
});
