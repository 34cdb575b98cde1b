import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { readChaincodeBuild } from './chaincode-lifecycle';
import { parseDescription } from './description';
import { planNetwork, type NetworkPlan } from './plan';

describe('chaincode label', function () {
  let root: string;
  let plan: NetworkPlan;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), 'chaincode-label-'));
    const text = readFileSync(join(__dirname, '..', 'profiles', 'reference.yaml'), 'utf8');
    plan = planNetwork(parseDescription(text), { stateDir: join(root, 'state'), repoRoot: root });
    const chaincodeDir = plan.description.chaincode.path;
    write(
      `${chaincodeDir}/package.json`,
      JSON.stringify({ name: '@threadseal/chaincode', dependencies: { '@threadseal/rules': '0.1.0' } }),
    );
    write(`${chaincodeDir}/dist/index.js`, 'exports.contracts = [];');
    write(
      'rules/package.json',
      JSON.stringify({ name: '@threadseal/rules', dependencies: { '@threadseal/ledger-model': '0.1.0' } }),
    );
    write('rules/dist/index.js', 'exports.rule = 1;');
    write('ledger-model/package.json', JSON.stringify({ name: '@threadseal/ledger-model' }));
    write('ledger-model/dist/index.js', 'exports.TX = {};');
    mkdirSync(join(root, 'node_modules', '@threadseal'), { recursive: true });
    symlinkSync(join('..', '..', 'rules'), join(root, 'node_modules', '@threadseal', 'rules'));
    symlinkSync(join('..', '..', 'ledger-model'), join(root, 'node_modules', '@threadseal', 'ledger-model'));
  });
  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it('is the same for the same code, and changes with the code of a workspace the chaincode depends on', function () {
    const first = readChaincodeBuild(plan).label;
    expect(readChaincodeBuild(plan).label).to.equal(first);
    write('rules/dist/index.js', 'exports.rule = 2;');
    const second = readChaincodeBuild(plan).label;
    expect(second).not.to.equal(first);
    write('ledger-model/dist/index.js', 'exports.TX = { x: 1 };');
    expect(readChaincodeBuild(plan).label).not.to.equal(second);
  });

  it('ignores test files, source maps and declarations of those workspaces', function () {
    const first = readChaincodeBuild(plan).label;
    write('rules/dist/index.test.js', 'describe("x", () => {});');
    write('rules/dist/index.js.map', '{}');
    write('rules/dist/index.d.ts', 'export {};');
    expect(readChaincodeBuild(plan).label).to.equal(first);
  });
});
