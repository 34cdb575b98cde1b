/**
 * The enforce agent's remaining paths on the real network: machine keys in a PKCS#11 token (SoftHSM2) through
 * `threadseal agent keys` and `agent run`; the FFF printer path (the Marlin simulator on a pty) through
 * `runJob` and `threadseal agent run`; and the long-running mode, `threadseal agent serve`, taking jobs from a queue folder.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  protectToFile,
  registrationOf,
  softwareMessageSigner,
  softwareRecipientKey,
  softwareSigner,
} from '@threadseal/dsi-container';
import {
  JobJournal,
  linuxCncAvailability,
  LinuxCncController,
  MarlinController,
  MarlinPrinterSimulator,
  runJob,
  type JobLogEntry,
  type MachineFacts,
} from '@threadseal/enforce-agent';
import { declareProgram, type Dialect } from '@threadseal/gcode';
import {
  directoryDsiStore,
  KeyReleaseService,
  SOFTHSM_LIBRARY,
  type ReleaseDecision,
  type RunningKeyRelease,
} from '@threadseal/key-release';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import type { ProductionTerms } from '@threadseal/ledger-model';
import { grant } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { startOemKeyRelease } from '../fixtures/key-release';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

const run = randomBytes(3).toString('hex');
const OPERATORS = { roles: ['am-operator'], qualifications: ['nadcap-am'] };
const MILL_TERMS: ProductionTerms = {
  machines: { makes: ['Haas'], models: ['VF-2SS'], serials: [], requiredCertifications: ['AS9100D'] },
  envelope: [
    { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 8000 },
    { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 2000 },
    { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
  ],
  operators: OPERATORS,
  workstations: [],
};
const PRINTER = { make: 'threadseal', model: 'FFF-SIM 300', serial: `SIM-${run}` };
const PRINTER_TERMS: ProductionTerms = {
  machines: { makes: [PRINTER.make], models: [PRINTER.model], serials: [], requiredCertifications: [] },
  envelope: [
    { name: 'nozzleTemperature', unit: 'degC', kind: 'range', min: 190, max: 230 },
    { name: 'bedTemperature', unit: 'degC', kind: 'range', min: 50, max: 70 },
    { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 6000 },
  ],
  operators: OPERATORS,
  workstations: [],
};
const GOOD = 'G21 G90 G17 G94 G97\nS6000 M3\nG1 X15 F1200\nG1 Y15\nG1 X0 Y0\nM5\nM30\n';
const LONG = 'G21 G90 G17 G94 G97\nS5000 M3\nG1 X120 F400\nG1 X0\nM5\nM30\n';
const PRINT = [
  '; a generated print',
  'M140 S60',
  'M104 S210',
  'M190 S60',
  'M109 S210',
  'G28',
  'G1 Z0.2 F3000',
  ...Array.from({ length: 300 }, (_, i) => `G1 X${i % 200} Y${i % 7} E${(i * 0.05).toFixed(2)} F1800`),
  'M104 S0',
  'M140 S0',
  'M84',
  '',
].join('\n');
const MILL = { make: 'Haas', model: 'VF-2SS', certifications: ['AS9100D'] };

/** Runs the `threadseal` binary as a shell user would, with extra environment. */
function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(__dirname, '..', '..', '..', 'cli', 'bin', 'threadseal.js');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { timeout: 180_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

function declare(program: string, dialect: Dialect) {
  const declared = declareProgram(Buffer.from(program), dialect);
  if ('rejected' in declared)
    throw new Error(`the OEM's own program is rejected: ${declared.rejected.reason}`);
  return declared.declaration;
}

/** Polls `check` until it returns a value, failing with `what` after `ms`. */
async function until<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the enforce agent with token keys, on a printer, and as a queue service (real network)', function () {
  this.timeout(300_000);
  let dir = '';
  let sessions: LedgerSessions | undefined;
  let keyRelease: RunningKeyRelease | undefined;
  let operator: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let oem: ThreadsealLedger;
  let container = '';
  let dsiId = '';
  let trustedRoot = '';
  let rootFile = '';

  const consumed = async (machineId: string, license: string): Promise<number> =>
    Math.max(
      0,
      ...(await operator.trace.allocationHistory(license, machineId)).map((e) => e.value?.consumed ?? 0),
    );
  /** A licence of `units` for `machineId` on the test DSI. */
  async function license(id: string, machineId: string, units: number, terms: ProductionTerms) {
    await oem.licenses.issue({
      licenseId: id,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(units, { maySublicense: false }),
      confidential: false,
      terms,
    });
    await cmAdmin.licenses.allocate({ licenseId: id, machineId, quantity: units, scrapAllowance: 0 });
  }
  async function register(
    machineId: string,
    facts: MachineFacts,
    publicKeyPem: string,
    recipientPem: string,
  ) {
    await sessions?.as('manufacturer', 'machine-admin').machines.register({
      machineId,
      make: facts.make,
      model: facts.model,
      serial: facts.serial,
      firmware: facts.firmware,
      certifications: [...facts.certifications],
      publicKeyPem,
      recipientPublicKeyPem: recipientPem,
    });
  }
  const softwareKeys = () => {
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const decryption = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (k: typeof signing.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
    return {
      signing,
      decryption,
      publicKeyPem: pem(signing.publicKey),
      recipientPem: pem(decryption.publicKey),
    };
  };
  /** The facts a LinuxCNC with `serial` reports (it is started once to ask). */
  async function millFacts(serial: string): Promise<MachineFacts> {
    const probe = await LinuxCncController.start({ identity: { ...MILL, serial } });
    try {
      return await probe.identify();
    } finally {
      await probe.close();
    }
  }
  const agentConfig = (machineId: string, serial: string, keys: unknown, extra: object = {}) => ({
    profile: testNetwork().connectionFile,
    org: 'manufacturer',
    operator: 'operator',
    machineId,
    dialect: 'rs274ngc',
    keys,
    controller: { kind: 'linuxcnc', ...MILL, serial },
    trustedRoots: [rootFile],
    journal: join(dir, `${machineId}.journal`),
    ...extra,
  });

  before(async function () {
    if (!existsSync(SOFTHSM_LIBRARY)) {
      console.log(`      (skipped: ${SOFTHSM_LIBRARY} is absent)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'agent-more-'));
    const network = testNetwork();
    ({ keyRelease, trustedRoot } = await startOemKeyRelease(network, dir, { causal: testCausalGroup }));
    const store = join(dir, 'store');
    rootFile = join(dir, 'oem-ca.pem');
    writeFileSync(rootFile, trustedRoot);
    sessions = new LedgerSessions(network.connectionFile, { causal: testCausalGroup });
    oem = sessions.as('oem', 'ip-admin');
    cmAdmin = sessions.as('manufacturer', 'license-admin');
    operator = sessions.as('manufacturer', 'operator');
    const signer = sessions.dsiSigner('oem', 'ip-admin');
    const staging = join(store, 'staging');
    const sealed = await protectToFile(
      {
        files: [
          { name: 'good.ngc', source: Buffer.from(GOOD), process: declare(GOOD, 'rs274ngc') },
          { name: 'long.ngc', source: Buffer.from(LONG), process: declare(LONG, 'rs274ngc') },
          { name: 'print.gcode', source: Buffer.from(PRINT), process: declare(PRINT, 'fff') },
        ],
        signer: softwareSigner(signer.certificatePem, signer.privateKeyPem),
        recipients: [keyRelease.recipientPublicKey],
        title: 'Agent test parts',
        partNumber: `AGM-${run}`,
        revision: 'A',
        mspId: 'OemMSP',
      },
      staging,
    );
    dsiId = sealed.dsiId;
    container = join(store, `${sealed.dsiId}.dsi`);
    renameSync(staging, container);
    await oem.dsi.register(await registrationOf(container));
  });

  after(async () => {
    await keyRelease?.stop();
    sessions?.closeAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('machine keys in a PKCS#11 token (SoftHSM2)', () => {
    before(function () {
      const available = linuxCncAvailability();
      if (!available.ok) {
        console.log(`      (skipped: ${available.reason})`);
        this.skip();
      }
    });

    it('threadseal agent keys generates non-extractable keys in the token; agent run makes a part with them, a wrong PIN consumes nothing', async () => {
      const tokenDir = join(dir, 'machine-token');
      mkdirSync(tokenDir, { mode: 0o700 });
      const conf = join(tokenDir, 'softhsm2.conf');
      writeFileSync(
        conf,
        `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
      );
      const pin = randomBytes(8).toString('hex');
      // The machine's own token, in its own SoftHSM configuration (the child processes read it).
      execFileSync(
        'softhsm2-util',
        [
          '--init-token',
          '--free',
          '--label',
          'machine',
          '--so-pin',
          randomBytes(8).toString('hex'),
          '--pin',
          pin,
        ],
        { stdio: 'ignore', env: { ...process.env, SOFTHSM2_CONF: conf } },
      );
      const env = { SOFTHSM2_CONF: conf, MACHINE_PIN: pin };
      const machineId = `haas-token-${run}`;
      const serial = `HAAS-TOKEN-${run}`;
      const keys = {
        pkcs11: {
          library: SOFTHSM_LIBRARY,
          token: 'machine',
          pinEnv: 'MACHINE_PIN',
          signingKey: 'start-build',
          decryptionKey: 'key-release',
        },
      };
      const config = join(dir, 'token-agent.json');
      writeFileSync(config, JSON.stringify(agentConfig(machineId, serial, keys)));

      const made = await cli(['agent', 'keys', '--config', config, '--generate'], env);
      expect(made.code, made.stderr).to.equal(0);
      const pub = JSON.parse(made.stdout) as {
        publicKeyPem: string;
        recipientPublicKeyPem: string;
        signingKey: { sensitive: boolean; extractable: boolean };
        decryptionKey: { sensitive: boolean; extractable: boolean };
      };
      expect(pub.signingKey).to.include({ sensitive: true, extractable: false });
      expect(pub.decryptionKey).to.include({ sensitive: true, extractable: false });
      expect(made.stdout).not.to.include('PRIVATE KEY');
      // Asking again finds the same keys (nothing regenerated).
      const again = await cli(['agent', 'keys', '--config', config], env);
      expect(JSON.parse(again.stdout)).to.deep.include({ publicKeyPem: pub.publicKeyPem });

      await register(machineId, await millFacts(serial), pub.publicKeyPem, pub.recipientPublicKeyPem);
      const licenseId = `L-TOKEN-${run}`;
      await license(licenseId, machineId, 1, MILL_TERMS);
      const args = ['agent', 'run', '--config', config, '--dsi', container, '--license', licenseId];

      // The attacker without the PIN: the token refuses, nothing is submitted.
      const wrongPin = await cli([...args, '--program', 'good.ngc', '--part', `SN-tok-${run}-x`], {
        ...env,
        MACHINE_PIN: `${pin}0`,
      });
      expect(wrongPin.code).to.not.equal(0);
      expect(wrongPin.stderr).to.match(/TOKEN_ERROR|CKR_PIN_INCORRECT/);
      expect(await consumed(machineId, licenseId)).to.equal(0);

      const part = `SN-tok-${run}`;
      const ran = await cli([...args, '--program', 'good.ngc', '--part', part], env);
      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stderr).not.to.match(/WARNING: software machine keys/);
      const report = JSON.parse(ran.stdout) as { outcome: string; buildId: string };
      expect(report.outcome).to.equal('completed');
      const build = await operator.builds.get(report.buildId);
      expect(build).to.include({ status: 'completed', machineId });
      expect((await operator.releases.get(report.buildId)).machineId).to.equal(machineId);
      expect((await operator.trace.part(part)).buildId).to.equal(report.buildId);
      expect(await consumed(machineId, licenseId)).to.equal(1);
    });
  });

  describe('an FFF printer (the Marlin simulator on a pty) through runJob', () => {
    let sim: MarlinPrinterSimulator | undefined;
    let printer: MarlinController | undefined;
    const machineId = `printer-${run}`;
    const licenseId = `L-PRINT-${run}`;
    let keys: ReturnType<typeof softwareKeys>;
    const logs: JobLogEntry[] = [];

    before(async function () {
      if (!existsSync('/usr/bin/python3')) {
        console.log('      (skipped: no /usr/bin/python3 to make the pseudo-terminal)');
        this.skip();
      }
      sim = await MarlinPrinterSimulator.start({ ...PRINTER, moveMs: 5 });
      printer = await MarlinController.open(sim.path);
      keys = softwareKeys();
      await register(machineId, await printer.identify(), keys.publicKeyPem, keys.recipientPem);
      await license(licenseId, machineId, 2, PRINTER_TERMS);
    });

    after(async () => {
      await printer?.close();
      await sim?.close();
    });

    const ctx = () => ({
      machine: {
        machineId,
        signer: softwareMessageSigner(keys.signing.privateKey),
        decryptionKey: softwareRecipientKey(keys.decryption.privateKey),
        controller: printer as MarlinController,
        dialect: 'fff' as const,
      },
      operator,
      trustedRoots: [trustedRoot],
      log: (e: JobLogEntry) => logs.push(e),
    });

    it('prints a part: StartBuild with the declared temperatures, heaters watched, CompleteBuild with the telemetry digest', async () => {
      const report = await runJob(ctx(), {
        container,
        licenseId,
        program: 'print.gcode',
        partId: `SN-print-${run}-1`,
      });
      expect(report.outcome, JSON.stringify(report)).to.equal('completed');
      if (report.outcome !== 'completed') return;
      const build = await operator.builds.get(report.buildId);
      expect(build.status).to.equal('completed');
      expect(build.parameters).to.include({ nozzleTemperature: 210, bedTemperature: 60 });
      expect((await operator.trace.part(report.partId)).processRecordDigest).to.equal(report.telemetryDigest);
      expect(sim?.accepted.some((l) => /M109 S210/.test(l))).to.equal(true);
      expect(await consumed(machineId, licenseId)).to.equal(1);
      for (const line of logs) expect(JSON.stringify(line)).not.to.match(/M109 S210|PRIVATE KEY/);
    });

    it('threadseal agent run drives the printer too: a Marlin controller on the simulator pty makes a part through the CLI', async () => {
      // A second simulator of the same printer: the in-process adapter keeps the first pty.
      const sim2 = await MarlinPrinterSimulator.start({ ...PRINTER, moveMs: 5 });
      try {
        const cliLicense = `L-PRINT-CLI-${run}`;
        await license(cliLicense, machineId, 1, PRINTER_TERMS);
        const signingFile = join(dir, 'printer-signing.pem');
        const decryptionFile = join(dir, 'printer-decryption.pem');
        const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
        writeFileSync(signingFile, pkcs8(keys.signing.privateKey), { mode: 0o600 });
        writeFileSync(decryptionFile, pkcs8(keys.decryption.privateKey), { mode: 0o600 });
        const config = join(dir, 'printer-agent.json');
        writeFileSync(
          config,
          JSON.stringify({
            ...agentConfig(machineId, PRINTER.serial, {
              software: { signingKey: signingFile, decryptionKey: decryptionFile },
            }),
            dialect: 'fff',
            controller: { kind: 'marlin', device: sim2.path },
          }),
        );
        const part = `SN-print-cli-${run}`;
        const ran = await cli([
          'agent',
          'run',
          '--config',
          config,
          '--dsi',
          container,
          '--license',
          cliLicense,
          '--program',
          'print.gcode',
          '--part',
          part,
        ]);
        expect(ran.code, ran.stderr).to.equal(0);
        const report = JSON.parse(ran.stdout) as {
          outcome: string;
          buildId: string;
          telemetryDigest: string;
        };
        expect(report.outcome).to.equal('completed');
        const build = await operator.builds.get(report.buildId);
        expect(build).to.include({ status: 'completed', machineId, partId: part });
        expect(build.parameters).to.include({ nozzleTemperature: 210, bedTemperature: 60 });
        expect((await operator.trace.part(part)).processRecordDigest).to.equal(report.telemetryDigest);
        expect(sim2.accepted.some((l) => /M109 S210/.test(l))).to.equal(true);
        expect(await consumed(machineId, cliLicense)).to.equal(1);
        expect(ran.stderr).not.to.match(/M109 S210|PRIVATE KEY/);
      } finally {
        await sim2.close();
      }
    });

    /**
     * The print program sealed for a fresh owner key-release key (no running service holds it), registered, and
     * licensed to the manufacturer for one unit allocated to the printer.
     */
    async function sealedForOneUnit(tag: string, title: string, partNumber: string, licenseId: string) {
      const unwrap = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const store = join(dir, `store-${tag}`);
      mkdirSync(store);
      const ledgers = sessions;
      if (!ledgers) throw new Error('no sessions');
      const signer = ledgers.dsiSigner('oem', 'ip-admin');
      const staging = join(store, 'staging');
      const sealed = await protectToFile(
        {
          files: [{ name: 'print.gcode', source: Buffer.from(PRINT), process: declare(PRINT, 'fff') }],
          signer: softwareSigner(signer.certificatePem, signer.privateKeyPem),
          recipients: [unwrap.publicKey],
          title,
          partNumber,
          revision: 'A',
          mspId: 'OemMSP',
        },
        staging,
      );
      const container = join(store, `${sealed.dsiId}.dsi`);
      renameSync(staging, container);
      await oem.dsi.register(await registrationOf(container));
      await oem.licenses.issue({
        licenseId,
        dsiId: sealed.dsiId,
        holderMsp: 'ManufacturerMSP',
        grant: grant(1, { maySublicense: false }),
        confidential: false,
        terms: PRINTER_TERMS,
      });
      await cmAdmin.licenses.allocate({ licenseId, machineId, quantity: 1, scrapAllowance: 0 });
      return { unwrap, store, container, licenseId, ledgers };
    }

    it('a licence revoked between StartBuild and the release: no key leaves, the agent aborts with KEY_NOT_RELEASED, nothing reaches the printer', async () => {
      // A second key-release service of the owner, driven by hand so the revocation lands before it acts.
      const {
        unwrap,
        store,
        container: revokedContainer,
        licenseId: revokedLicense,
        ledgers,
      } = await sealedForOneUnit('revoke', 'Revoked print', `AGR-${run}`, `L-REVOKE-${run}`);
      const service = new KeyReleaseService({
        client: ledgers.as('oem', 'key-release').client,
        unwrapKey: softwareRecipientKey(unwrap.privateKey),
        containers: directoryDsiStore(store),
        trustedRoots: [trustedRoot],
        checkpointFile: join(store, 'release.checkpoint'),
        log: () => undefined,
      });
      const heatsBefore = sim?.accepted.filter((l) => /M109/.test(l)).length;
      let decided: Promise<ReleaseDecision> | undefined;
      const report = await runJob(
        {
          ...ctx(),
          releaseTimeoutMs: 8_000,
          log: (e: JobLogEntry) => {
            logs.push(e);
            const buildId = e.buildId;
            if (e.step === 'start' && e.outcome === 'ok' && buildId !== undefined && decided === undefined)
              decided = oem.licenses
                .revoke(revokedLicense, 'supplier audit failed')
                .then(() => service.release(buildId));
          },
        },
        {
          container: revokedContainer,
          licenseId: revokedLicense,
          program: 'print.gcode',
          partId: `SN-rev-${run}`,
        },
      );
      const decision = await decided;
      expect(decision).to.include({ outcome: 'refused' });
      expect(decision?.outcome === 'refused' && decision.reason).to.match(/revoked/i);
      expect(report).to.include({ outcome: 'aborted', step: 'release', code: 'KEY_NOT_RELEASED' });
      if (report.outcome !== 'aborted') return;
      const build = await operator.builds.get(report.buildId);
      expect(build.status).to.equal('aborted');
      expect(build.reason).to.match(/KEY_NOT_RELEASED|no key release/);
      let noRelease: unknown;
      try {
        await operator.releases.get(report.buildId);
      } catch (err) {
        noRelease = err;
      }
      expect((noRelease as { code?: string } | undefined)?.code).to.equal('NOT_FOUND');
      expect(sim?.accepted.filter((l) => /M109/.test(l)).length).to.equal(heatsBefore);
    });
    it('a cancellation while the agent waits for the key release takes effect at once: JOB_CANCELLED, AbortBuild recorded, the unit stays consumed', async () => {
      // Sealed to a key-release key no service holds: no release ever comes, only the cancellation ends the wait.
      const { container: cancelContainer, licenseId: cancelLicense } = await sealedForOneUnit(
        'cancel',
        'Cancelled print',
        `AGC-${run}`,
        `L-CANCEL-${run}`,
      );
      const heatsBefore = sim?.accepted.filter((l) => /M109/.test(l)).length;
      const controller = new AbortController();
      let abortedAt = 0;
      const report = await runJob(
        {
          ...ctx(),
          releaseTimeoutMs: 120_000,
          signal: controller.signal,
          log: (e: JobLogEntry) => {
            logs.push(e);
            if (e.step === 'start' && e.outcome === 'ok')
              setTimeout(() => {
                abortedAt = performance.now();
                controller.abort();
              }, 300);
          },
        },
        {
          container: cancelContainer,
          licenseId: cancelLicense,
          program: 'print.gcode',
          partId: `SN-can-${run}`,
        },
      );
      const reportedAfterMs = performance.now() - abortedAt;
      expect(abortedAt, JSON.stringify(report)).to.be.greaterThan(0);
      expect(report).to.include({ outcome: 'aborted', step: 'release', code: 'JOB_CANCELLED' });
      // At once: not at the end of the 120 s wait (the AbortBuild commit is most of this).
      expect(reportedAfterMs).to.be.below(10_000);
      if (report.outcome !== 'aborted') return;
      const build = await operator.builds.get(report.buildId);
      expect(build.status).to.equal('aborted');
      expect(build.reason).to.match(/cancelled while waiting for the key release/);
      expect(await consumed(machineId, cancelLicense)).to.equal(1);
      expect(sim?.accepted.filter((l) => /M109/.test(l)).length).to.equal(heatsBefore);
    });

    it('stops a print whose nozzle runs away to 280 °C (M112) and records the abort with the excursion', async () => {
      let injected = false;
      const report = await runJob(
        {
          ...ctx(),
          onProgress: (p) => {
            if (p.step === 'run' && !injected && (p.line ?? 0) >= 20) {
              injected = true;
              sim?.runaway(280);
            }
          },
        },
        { container, licenseId, program: 'print.gcode', partId: `SN-print-${run}-2` },
      );
      expect(report.outcome, JSON.stringify(report)).to.equal('aborted');
      if (report.outcome !== 'aborted') return;
      expect(report.code).to.equal('PARAMETER_OUT_OF_ENVELOPE');
      expect(report.excursion?.parameter).to.equal('nozzleTemperature');
      expect(report.excursion?.found).to.be.greaterThan(230);
      expect(sim?.halted).to.equal(true);
      const build = await operator.builds.get(report.buildId);
      expect(build.status).to.equal('aborted');
      expect(build.reason).to.match(/nozzleTemperature \d+(\.\d+)? outside in \[190, 230\] degC/);
      // The unit is spent and no part exists for it.
      expect(await consumed(machineId, licenseId)).to.equal(2);
      let missing: unknown;
      try {
        await operator.trace.part(`SN-print-${run}-2`);
      } catch (err) {
        missing = err;
      }
      expect(missing).to.be.instanceOf(Error);
    });
  });

  describe('threadseal agent serve: jobs from a queue folder', () => {
    before(function () {
      const available = linuxCncAvailability();
      if (!available.ok) {
        console.log(`      (skipped: ${available.reason})`);
        this.skip();
      }
    });

    it('refuses to start with an incomplete configuration, naming every missing setting', async () => {
      const config = join(dir, 'bad-serve.json');
      writeFileSync(config, JSON.stringify({ org: 'manufacturer', dialect: 'rs274ngc' }));
      const r = await cli(['agent', 'serve', '--config', config]);
      expect(r.code).to.equal(2);
      for (const missing of [
        'profile is missing',
        'machineId is missing',
        'queue is missing',
        'keys is missing',
      ])
        expect(r.stderr).to.include(missing);
    });

    it('makes a part per job, answers a malformed job, and on SIGTERM stops the running job and records it aborted', async () => {
      const machineId = `haas-serve-${run}`;
      const serial = `HAAS-SERVE-${run}`;
      const keys = softwareKeys();
      await register(machineId, await millFacts(serial), keys.publicKeyPem, keys.recipientPem);
      const licenseId = `L-SERVE-${run}`;
      await license(licenseId, machineId, 3, MILL_TERMS);
      const keyFile = (name: string, key: typeof keys.signing.privateKey): string => {
        const file = join(dir, name);
        writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        return file;
      };
      const queue = join(dir, 'queue');
      mkdirSync(queue);
      const journal = join(dir, `${machineId}.journal`);
      const config = join(dir, 'serve-agent.json');
      writeFileSync(
        config,
        JSON.stringify(
          agentConfig(
            machineId,
            serial,
            {
              software: {
                signingKey: keyFile('serve.key.pem', keys.signing.privateKey),
                decryptionKey: keyFile('serve-recipient.key.pem', keys.decryption.privateKey),
              },
            },
            { queue },
          ),
        ),
      );
      const bin = join(__dirname, '..', '..', '..', 'cli', 'bin', 'threadseal.js');
      const child = spawn(process.execPath, [bin, 'agent', 'serve', '--config', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const job = (id: string, body: object): void => {
        // Written aside, then renamed in: the agent never reads half a job.
        writeFileSync(join(queue, `${id}.tmp`), JSON.stringify(body));
        renameSync(join(queue, `${id}.tmp`), join(queue, `${id}.job.json`));
      };
      const result = (id: string) =>
        existsSync(join(queue, `${id}.result.json`))
          ? (JSON.parse(readFileSync(join(queue, `${id}.result.json`), 'utf8')) as Record<string, unknown>)
          : undefined;
      try {
        const base = { dsi: container, license: licenseId, operator: 'operator' };
        job('001', { ...base, program: 'good.ngc', part: `SN-serve-${run}-1` });
        job('002', { dsi: container, program: 'good.ngc' });
        const first = await until(`the first result (${output})`, 150_000, () => result('001'));
        expect(first, JSON.stringify(first)).to.include({
          outcome: 'completed',
          partId: `SN-serve-${run}-1`,
        });
        const second = await until('the second result', 30_000, () => result('002'));
        expect(second).to.include({ outcome: 'invalid', code: 'INVALID_ARGUMENT' });
        expect(second['reason']).to.equal(
          'license is missing (a non-empty string); part is missing (a non-empty string); operator is missing (a non-empty string)',
        );
        expect(await consumed(machineId, licenseId)).to.equal(1);

        job('003', { ...base, program: 'long.ngc', part: `SN-serve-${run}-3` });
        // Stopped once its unit is consumed and its program decrypted and verified.
        await until(`job 003 decrypted (${output})`, 90_000, () =>
          (output.split('job 003: taken')[1] ?? '').includes('"step":"decrypt","outcome":"ok"')
            ? true
            : undefined,
        );
        child.kill('SIGTERM');
        const code = await Promise.race([
          exited,
          new Promise<string>((r) =>
            setTimeout(() => {
              r('still running');
            }, 60_000),
          ),
        ]);
        expect(code, output).to.equal(0);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      const third = result('003');
      expect(third, output).to.include({ outcome: 'aborted', code: 'JOB_CANCELLED' });
      const build = await operator.builds.get(String(third?.['buildId']));
      expect(build.status).to.equal('aborted');
      expect(build.reason).to.match(/the agent is stopping/);
      expect(await consumed(machineId, licenseId)).to.equal(2);
      expect(new JobJournal(journal).entries()).to.deep.equal([]);
      expect(existsSync(join(queue, '003.job.json'))).to.equal(false);
      expect(output).to.match(/SIGTERM: finishing the current job and stopping/);
    });
  });
});
