import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

/** The npm packages (not workspaces) that loading `entry` pulls in, as seen by a fresh Node process. */
function loadedPackages(entry: string): string[] {
  const script = `require(${JSON.stringify(entry)});
    const names = Object.keys(require.cache).map((file) => {
      const parts = (file.split('/node_modules/').pop() === file ? '' : file.split('/node_modules/').pop()).split('/');
      return parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    });
    process.stdout.write(JSON.stringify([...new Set(names)].filter(Boolean)));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: join(__dirname, '..') });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as string[];
}

const FABRIC = /fabric|grpc/i;

describe('test-support and scenario entry points', function () {
  this.timeout(30_000);

  it('load no Fabric or gRPC module from the fixtures and the scenario data', function () {
    for (const entry of ['@threadseal/test-support', '@threadseal/scenario'])
      expect(
        loadedPackages(entry).filter((p) => FABRIC.test(p)),
        entry,
      ).to.deep.equal([]);
  });

  it('keep the in-memory chaincode behind its own entry, with fabric-shim', function () {
    expect(loadedPackages('@threadseal/test-support/chaincode')).to.include('fabric-shim');
  });
});
