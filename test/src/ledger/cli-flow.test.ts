import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '@threadseal/network';
import type {
  Allocation,
  Build,
  Dsi,
  DsiTree,
  IssueLicenseInput,
  LicenseView,
  Machine,
  ProductionTerms,
  SplitLicenseInput,
} from '@threadseal/ledger-model';
import { protectDemoTdp } from '@threadseal/scenario/run';
import { fixtureDsi, grant, m400Terms, sha256 } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { TEST_BASE_PORT, testNetwork } from '../fixtures/network-fixture';

const run = randomBytes(3).toString('hex');

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `threadseal` binary as a shell user would. */
function binary(args: readonly string[]): Promise<CliRun> {
  const bin = join(repoRoot(), 'cli', 'bin', 'threadseal.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a ledger verb of the binary against the test network. */
function threadseal(...args: string[]): Promise<CliRun> {
  return binary([...args, '--state-dir', testNetwork().plan.stateDir, '--base-port', String(TEST_BASE_PORT)]);
}

/** Runs the binary, expects success, and decodes the JSON it printed. */
async function ok<T>(...args: string[]): Promise<T> {
  const r = await threadseal(...args);
  expect(r.code, `threadseal ${args.join(' ')}\n${r.stderr}`).to.equal(0);
  return JSON.parse(r.stdout) as T;
}

const terms = m400Terms({
  bedTemperature: false,
  qualifications: ['nadcap-am'],
  certifications: ['nadcap-am'],
});

describe('the licensing flow driven only through the threadseal CLI (real network)', function () {
  let dsiId: string;
  const rootId = `L-CLI-ROOT-${run}`;
  const floorId = `L-CLI-FLOOR-${run}`;
  const machineId = `cli-eos-m400-${run}`;
  const partIds = [`P-CLI-${run}-a`, `P-CLI-${run}-b`];
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-cli-flow-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('machine keygen writes the machine key pair', async function () {
    // A local verb: it takes no network options.
    const r = await binary(['machine', 'keygen', '--out', join(dir, 'machine')]);
    expect(r.code, r.stderr).to.equal(0);
    const keys = JSON.parse(r.stdout) as { privateKeyFile: string; publicKeyFile: string };
    expect(keys.privateKeyFile).to.equal(join(dir, 'machine', 'machine.key.pem'));
    expect(keys.publicKeyFile).to.equal(join(dir, 'machine', 'machine.pub.pem'));
  });

  it('the OEM registers the DSI it sealed (--container) and issues a license to the manufacturer (--input)', async function () {
    const releaseKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const sealed = await protectDemoTdp(testNetwork(), `cli-${run}`, [releaseKey]);
    dsiId = sealed.dsiId;
    const dsi = await ok<Dsi>('dsi', 'register', '--as', 'ip-admin@oem', '--container', sealed.file);
    expect([dsi.dsiId, dsi.ownerMsp, dsi.status]).to.deep.equal([dsiId, 'OemMSP', 'active']);
    expect(dsi.fileDigests).to.deep.equal(sealed.fileDigests);

    const issue: IssueLicenseInput = {
      licenseId: rootId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(10),
      confidential: false,
      terms,
    };
    writeFileSync(join(dir, 'issue.json'), JSON.stringify(issue));
    const root = await ok<LicenseView>(
      'license',
      'issue',
      '--as',
      'ip-admin@oem',
      '--input',
      join(dir, 'issue.json'),
    );
    expect([root.license.licenseId, root.license.holderMsp, root.remaining]).to.deep.equal([
      rootId,
      'ManufacturerMSP',
      10,
    ]);
  });

  it('the manufacturer registers the machine, splits to its shop floor and allocates 2 units', async function () {
    const machine = await ok<Machine>(
      'machine',
      'register',
      '--as',
      'machine-admin@manufacturer',
      '--id',
      machineId,
      '--make',
      'EOS',
      '--model',
      'M400',
      '--serial',
      `SN-${run}`,
      '--firmware',
      '4.2.1',
      '--cert',
      'nadcap-am',
      '--public-key',
      join(dir, 'machine', 'machine.pub.pem'),
      '--recipient-key',
      join(dir, 'machine', 'machine-recipient.pub.pem'),
    );
    expect([machine.machineId, machine.ownerMsp, machine.certifications]).to.deep.equal([
      machineId,
      'ManufacturerMSP',
      ['nadcap-am'],
    ]);

    const split: SplitLicenseInput = {
      parentId: rootId,
      licenseId: floorId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(5),
      terms,
    };
    const floor = await ok<LicenseView>(
      'license',
      'split',
      '--as',
      'license-admin@manufacturer',
      '--json',
      JSON.stringify(split),
    );
    expect([floor.license.parentId, floor.remaining]).to.deep.equal([rootId, 5]);

    const allocation = await ok<Allocation>(
      'license',
      'allocate',
      '--as',
      'license-admin@manufacturer',
      '--license',
      floorId,
      '--machine',
      machineId,
      '--quantity',
      '2',
    );
    expect([
      allocation.licenseId,
      allocation.machineId,
      allocation.quantity,
      allocation.consumed,
    ]).to.deep.equal([floorId, machineId, 2, 0]);
  });

  it('the operator builds 2 parts; the third start is refused with ALLOCATION_EXHAUSTED and exit code 1', async function () {
    const start = [
      'build',
      'start',
      '--as',
      'operator@manufacturer',
      '--license',
      floorId,
      '--machine',
      machineId,
      '--machine-key',
      join(dir, 'machine', 'machine.key.pem'),
      '--param',
      'laserPower=300',
      '--param',
      'material=Ti-6Al-4V',
    ];
    for (const partId of partIds) {
      const started = await ok<Build>(...start);
      expect([started.status, started.licenseId, started.parameters]).to.deep.equal([
        'running',
        floorId,
        { laserPower: 300, material: 'Ti-6Al-4V' },
      ]);
      const completed = await ok<Build>(
        'build',
        'complete',
        '--as',
        'operator@manufacturer',
        '--build',
        started.buildId,
        '--part',
        partId,
        '--digest',
        sha256(`record ${partId}`),
      );
      expect([completed.buildId, completed.status, completed.partId]).to.deep.equal([
        started.buildId,
        'completed',
        partId,
      ]);
    }
    const third = await threadseal(...start);
    expect({ code: third.code, stdout: third.stdout, stderr: third.stderr }).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `threadseal build start: ALLOCATION_EXHAUSTED: allocation of license ${floorId} to machine ${machineId} has 0 of 2 units left\n`,
    });
  });

  it('trace tree shows the licenses, the machine and its part ids (JSON and --text)', async function () {
    const tree = await ok<DsiTree>('trace', 'tree', '--as', 'ip-admin@oem', '--dsi', dsiId);
    expect(tree.licenses.map((l) => l.license.licenseId)).to.deep.equal([rootId, floorId]);
    expect(tree.parts.map((p) => p.partId).sort()).to.deep.equal(partIds);

    const text = await threadseal('trace', 'tree', '--as', 'ip-admin@oem', '--dsi', dsiId, '--text');
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain(`license ${rootId}: OemMSP → ManufacturerMSP, 10 manufacturing, 5 left`);
    expect(text.stdout).to.contain(
      `license ${floorId}: ManufacturerMSP → ManufacturerMSP, 5 manufacturing, 3 left`,
    );
    expect(text.stdout).to.contain(`machine ${machineId} (EOS M400): 2/2 used, parts ${partIds.join(' ')}`);
  });

  it('a read of something that does not exist prints the NOT_FOUND refusal with exit code 1', async function () {
    const r = await threadseal('license', 'get', '--as', 'ip-admin@oem', '--license', `L-CLI-NONE-${run}`);
    expect(r).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `threadseal license get: NOT_FOUND: license L-CLI-NONE-${run} does not exist\n`,
    });
  });
});

describe('a confidential license tree driven through the threadseal CLI (real network)', function () {
  const fixture = fixtureDsi(`cli confidential ${run}`, 'BRKT-CLI-C');
  const { dsiId } = fixture;
  const rootId = `L-CLI-CROOT-${run}`;
  const floorId = `L-CLI-CFLOOR-${run}`;
  const machineId = `cli-conf-m400-${run}`;
  const endorse = ['--endorse', 'ManufacturerMSP', '--endorse', 'OemMSP'];
  let dir: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-cli-confidential-'));
    const keys = await binary(['machine', 'keygen', '--out', join(dir, 'machine')]);
    expect(keys.code, keys.stderr).to.equal(0);
    // The OEM ip-admin signs the manifest it registers (--json: the DTO as the ledger takes it).
    const register = fixture.signedBy(
      new LedgerSessions(testNetwork().connectionFile).dsiSigner('oem', 'ip-admin'),
    );
    await ok<Dsi>('dsi', 'register', '--as', 'ip-admin@oem', '--json', JSON.stringify(register));
    await ok<Machine>(
      'machine',
      'register',
      '--as',
      'machine-admin@manufacturer',
      '--id',
      machineId,
      '--make',
      'EOS',
      '--model',
      'M400',
      '--serial',
      `SN-C-${run}`,
      '--firmware',
      '4.2.1',
      '--cert',
      'nadcap-am',
      '--public-key',
      join(dir, 'machine', 'machine.pub.pem'),
      '--recipient-key',
      join(dir, 'machine', 'machine-recipient.pub.pem'),
    );
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('license issue sends confidential terms as transient data only; license terms reads them back', async function () {
    const issue: IssueLicenseInput = {
      licenseId: rootId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(10),
      confidential: true,
      terms,
    };
    const root = await ok<LicenseView>(
      'license',
      'issue',
      '--as',
      'ip-admin@oem',
      '--json',
      JSON.stringify(issue),
    );
    expect([root.license.terms, root.license.confidential]).to.deep.equal([
      null,
      { collection: 'terms-ManufacturerMSP-OemMSP' },
    ]);

    const r = await threadseal('license', 'terms', '--as', 'license-admin@manufacturer', '--license', rootId);
    expect(r.code, r.stderr).to.equal(0);
    const { digestKey, ...readBack } = (JSON.parse(r.stdout) as { terms: ProductionTerms }).terms;
    expect(readBack).to.deep.equal(terms);
    // The terms came back with the random key of their commitments, which the CLI's client added.
    expect(digestKey).to.match(/^[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'root-terms.json'), r.stdout);
  });

  it('license split --parent-terms --endorse keeps the child terms off the ledger too', async function () {
    const split: SplitLicenseInput = {
      parentId: rootId,
      licenseId: floorId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(5),
      terms,
    };
    const floor = await ok<LicenseView>(
      'license',
      'split',
      '--as',
      'license-admin@manufacturer',
      ...endorse,
      '--parent-terms',
      join(dir, 'root-terms.json'),
      '--json',
      JSON.stringify(split),
    );
    expect([floor.license.parentId, floor.license.terms, floor.remaining]).to.deep.equal([rootId, null, 5]);
  });

  it('license allocate needs the terms (--terms): without them the chaincode refuses', async function () {
    const allocate = [
      'license',
      'allocate',
      '--as',
      'license-admin@manufacturer',
      '--license',
      floorId,
      '--machine',
      machineId,
      '--quantity',
      '2',
    ];
    const refused = await threadseal(...allocate);
    expect(refused).to.deep.equal({
      code: 1,
      stdout: '',
      stderr: `threadseal license allocate: CONFIDENTIAL_TERMS_UNAVAILABLE: terms of license ${floorId} are confidential; pass them in the transient field terms.${floorId}\n`,
    });
    const r = await threadseal(
      'license',
      'terms',
      '--as',
      'license-admin@manufacturer',
      '--license',
      floorId,
    );
    expect(r.code, r.stderr).to.equal(0);
    writeFileSync(join(dir, 'floor-terms.json'), r.stdout);
    const allocation = await ok<Allocation>(
      ...allocate,
      ...endorse,
      '--terms',
      join(dir, 'floor-terms.json'),
    );
    expect([allocation.licenseId, allocation.machineId, allocation.quantity]).to.deep.equal([
      floorId,
      machineId,
      2,
    ]);
  });

  it('build start --terms under the confidential license keeps the parameters off the ledger', async function () {
    const start = (laserPower: number): string[] => [
      'build',
      'start',
      '--as',
      'operator@manufacturer',
      ...endorse,
      '--terms',
      join(dir, 'floor-terms.json'),
      '--license',
      floorId,
      '--machine',
      machineId,
      '--machine-key',
      join(dir, 'machine', 'machine.key.pem'),
      '--param',
      `laserPower=${laserPower}`,
      '--param',
      'material=Ti-6Al-4V',
    ];
    const started = await ok<Build>(...start(300));
    expect([started.status, started.licenseId, started.parameters]).to.deep.equal(['running', floorId, null]);
    expect(started.parametersDigest).to.match(/^[0-9a-f]{64}$/);
    const outOfEnvelope = await threadseal(...start(450));
    expect(outOfEnvelope.code).to.equal(1);
    expect(outOfEnvelope.stderr).to.match(/^threadseal build start: PARAMETER_OUT_OF_ENVELOPE: .*laserPower/);
  });
});
