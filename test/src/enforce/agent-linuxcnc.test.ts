import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  reconcileJobs,
  LinuxCncController,
  runJob,
  type JobLogEntry,
  type MachineAgent,
  type MachineFacts,
} from '@threadseal/enforce-agent';
import { declareProgram } from '@threadseal/gcode';
import { SOFTHSM_LIBRARY, type RunningKeyRelease } from '@threadseal/key-release';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import { ThreadsealError, type ProductionTerms } from '@threadseal/ledger-model';
import { grant } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { existsSync } from 'node:fs';
import { startOemKeyRelease } from '../fixtures/key-release';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

const run = randomBytes(3).toString('hex');
const IDENTITY = { make: 'Haas', model: 'VF-2SS', serial: `HAAS-${run}`, certifications: ['AS9100D'] };
const TERMS: ProductionTerms = {
  machines: { makes: ['Haas'], models: ['VF-2SS'], serials: [], requiredCertifications: ['AS9100D'] },
  envelope: [
    { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 8000 },
    { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 2000 },
    { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
  ],
  operators: { roles: ['am-operator'], qualifications: ['nadcap-am'] },
  workstations: [],
};
const GOOD = 'G21 G90 G17 G94 G97\nS6000 M3\nG1 X15 F1200\nG1 Y15\nG1 X0 Y0\nM5\nM30\n';
const TOO_FAST = 'G21 G90 G17 G94 G97\nS9500 M3\nG1 X5 F600\nM5\nM30\n';
/** A spindle speed LinuxCNC computes at run time from a system parameter: nothing can tell it beforehand. */
const UNDETERMINABLE = 'G21 G90 G17 G94 G97\nS[#5420 * 100] M3\nG1 X5 F600\nM5\nM30\n';
const LONG = 'G21 G90 G17 G94 G97\nS5000 M3\nG1 X120 F400\nG1 X0\nM5\nM30\n';

/** Runs the `threadseal` binary as a shell user would. */
function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(__dirname, '..', '..', '..', 'cli', 'bin', 'threadseal.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The OEM's step at protect time: its verifier declares what each program does. */
function declare(program: string) {
  const declared = declareProgram(Buffer.from(program), 'rs274ngc');
  if ('rejected' in declared)
    throw new Error(`the OEM's own program is rejected: ${declared.rejected.reason}`);
  return declared.declaration;
}

describe('the enforce agent on a real LinuxCNC: verify, consume one unit, get the key, run, record (real network)', function () {
  this.timeout(240_000);
  let dir = '';
  let sessions: LedgerSessions | undefined;
  let keyRelease: RunningKeyRelease | undefined;
  let controller: LinuxCncController | undefined;
  let operator: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let container = '';
  let dsiId = '';
  let trustedRoot = '';
  let machine: MachineAgent;
  const licenseId = `L-AGENT-${run}`;
  const machineId = `haas-${run}`;
  const logs: JobLogEntry[] = [];
  const ctx = () => ({
    machine,
    operator,
    trustedRoots: [trustedRoot],
    log: (e: JobLogEntry) => logs.push(e),
  });
  /** Registers `id` with what its controller reports and two fresh software keys (development mode). */
  async function registerMachine(id: string, facts: MachineFacts) {
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const decryption = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (k: typeof signing.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
    await sessions?.as('manufacturer', 'machine-admin').machines.register({
      machineId: id,
      make: facts.make,
      model: facts.model,
      serial: facts.serial,
      firmware: facts.firmware,
      certifications: [...facts.certifications],
      publicKeyPem: pem(signing.publicKey),
      recipientPublicKeyPem: pem(decryption.publicKey),
    });
    return { signing, decryption };
  }
  const consumed = async (id = machineId, license = licenseId): Promise<number> =>
    Math.max(
      -1,
      ...(await operator.trace.allocationHistory(license, id)).map((e) => e.value?.consumed ?? -1),
    );

  before(async function () {
    const available = linuxCncAvailability();
    if (!available.ok || !existsSync(SOFTHSM_LIBRARY)) {
      console.log(`      (skipped: ${available.ok ? `${SOFTHSM_LIBRARY} is absent` : available.reason})`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'agent-'));
    const network = testNetwork();
    ({ keyRelease, trustedRoot } = await startOemKeyRelease(network, dir, { causal: testCausalGroup }));
    const store = join(dir, 'store');
    const ledgers = new LedgerSessions(network.connectionFile, { causal: testCausalGroup });
    sessions = ledgers;
    const oem = ledgers.as('oem', 'ip-admin');
    cmAdmin = ledgers.as('manufacturer', 'license-admin');
    operator = ledgers.as('manufacturer', 'operator');
    const signer = ledgers.dsiSigner('oem', 'ip-admin');
    const staging = join(store, 'staging');
    const sealed = await protectToFile(
      {
        files: [
          { name: 'good.ngc', source: Buffer.from(GOOD), process: declare(GOOD) },
          { name: 'too-fast.ngc', source: Buffer.from(TOO_FAST), process: declare(TOO_FAST) },
          { name: 'long.ngc', source: Buffer.from(LONG), process: declare(LONG) },
          // The OEM's verifier cannot declare it (see the test), so it is sealed without a declaration.
          { name: 'undeterminable.ngc', source: Buffer.from(UNDETERMINABLE) },
        ],
        signer: softwareSigner(signer.certificatePem, signer.privateKeyPem),
        recipients: [keyRelease.recipientPublicKey],
        title: 'Agent test bracket',
        partNumber: `AG-${run}`,
        revision: 'A',
        mspId: 'OemMSP',
      },
      staging,
    );
    dsiId = sealed.dsiId;
    container = join(store, `${sealed.dsiId}.dsi`);
    renameSync(staging, container);
    await oem.dsi.register(await registrationOf(container));
    await oem.licenses.issue({
      licenseId,
      dsiId: sealed.dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(6, { maySublicense: false }),
      confidential: false,
      terms: TERMS,
    });

    controller = await LinuxCncController.start({ identity: IDENTITY });
    const facts = await controller.identify();
    // The machine's keys in software: development mode (a production machine keeps them in its token).
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const decryption = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = (k: typeof signing.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
    const machineAdmin = ledgers.as('manufacturer', 'machine-admin');
    const registration = {
      make: facts.make,
      model: facts.model,
      firmware: facts.firmware,
      certifications: [...facts.certifications],
      publicKeyPem: pem(signing.publicKey),
      recipientPublicKeyPem: pem(decryption.publicKey),
    };
    await machineAdmin.machines.register({ machineId, serial: facts.serial, ...registration });
    // A second registration claiming a serial this controller does not report.
    await machineAdmin.machines.register({
      machineId: `${machineId}-other`,
      serial: 'HAAS-0000',
      ...registration,
    });
    await cmAdmin.licenses.allocate({ licenseId, machineId, quantity: 3, scrapAllowance: 0 });
    await cmAdmin.licenses.allocate({
      licenseId,
      machineId: `${machineId}-other`,
      quantity: 1,
      scrapAllowance: 0,
    });
    machine = {
      machineId,
      signer: softwareMessageSigner(signing.privateKey),
      decryptionKey: softwareRecipientKey(decryption.privateKey),
      controller,
      dialect: 'rs274ngc',
    };
  });

  after(async () => {
    await controller?.close();
    await keyRelease?.stop();
    sessions?.closeAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a part: StartBuild VALID, key released for that build, program run on LinuxCNC, CompleteBuild with the telemetry digest', async () => {
    const report = await runJob(ctx(), { container, licenseId, program: 'good.ngc', partId: `SN-${run}-1` });
    expect(report.outcome, JSON.stringify(report)).to.equal('completed');
    if (report.outcome !== 'completed') return;
    const part = await operator.trace.part(report.partId);
    expect(part).to.include({
      buildId: report.buildId,
      machineId,
      processRecordDigest: report.telemetryDigest,
    });
    expect(report.samples).to.be.greaterThan(5);
    const build = await operator.builds.get(report.buildId);
    expect(build).to.include({ status: 'completed' });
    expect(build.parameters).to.deep.equal({ spindleSpeed: 6000, feedRate: 1200, feedOverride: 100 });
    expect((await operator.releases.get(report.buildId)).machineId).to.equal(machineId);
    for (const line of logs) expect(JSON.stringify(line)).not.to.match(/G1 X15|PRIVATE KEY/);
  });

  it('refuses a program outside the envelope before anything is sent: no unit consumed, no build', async () => {
    const before = await consumed();
    const report = await runJob(ctx(), {
      container,
      licenseId,
      program: 'too-fast.ngc',
      partId: `SN-${run}-x`,
    });
    expect(report).to.include({ outcome: 'refused', step: 'program', code: 'PROGRAM_REJECTED' });
    expect(report.outcome === 'refused' && report.reason).to.match(
      /spindleSpeed to 9500, outside in \[0, 8000\] rpm/,
    );
    expect(await consumed()).to.equal(before);
  });

  it('refuses a program with a value no one can determine before it runs: rejected with line and reason, no unit consumed', async () => {
    // The verifier (the OEM's, at sealing; the agent's, after decryption) rejects it naming the line.
    const declared = declareProgram(Buffer.from(UNDETERMINABLE), 'rs274ngc');
    expect('rejected' in declared && declared.rejected).to.include({ line: 2, code: 'UNDETERMINABLE_VALUE' });
    const before = await consumed();
    const report = await runJob(ctx(), {
      container,
      licenseId,
      program: 'undeterminable.ngc',
      partId: `SN-${run}-u`,
    });
    expect(report).to.include({ outcome: 'refused', step: 'program', code: 'PROGRAM_REJECTED' });
    expect(report.outcome === 'refused' && report.reason).to.match(
      /undeterminable\.ngc has no process declaration: it cannot be verified before a unit is consumed/,
    );
    expect(await consumed()).to.equal(before);
  });

  it('refuses an operator logged in at the machine without the licence’s qualification: no unit consumed', async () => {
    const user = `agent-trainee-${run}`;
    await testNetwork().registerUser('manufacturer', user, { role: 'am-operator', qualification: 'ndt-2' });
    const trainee = (sessions as LedgerSessions).as('manufacturer', user);
    const before = await consumed();
    const report = await runJob(
      { ...ctx(), operator: trainee },
      { container, licenseId, program: 'good.ngc', partId: `SN-${run}-t` },
    );
    expect(report).to.include({ outcome: 'refused', step: 'operator', code: 'OPERATOR_NOT_QUALIFIED' });
    expect(report.outcome === 'refused' && report.reason).to.match(/nadcap-am/);
    expect(await consumed()).to.equal(before);
  });

  it('refuses a machine whose controller reports another serial than its registration: no unit consumed', async () => {
    const report = await runJob(
      { ...ctx(), machine: { ...machine, machineId: `${machineId}-other` } },
      { container, licenseId, program: 'good.ngc', partId: `SN-${run}-y` },
    );
    expect(report).to.include({ outcome: 'refused', step: 'machine', code: 'MACHINE_MISMATCH' });
    expect(await consumed(`${machineId}-other`)).to.equal(0);
  });

  it('stops the job when the operator turns the feed override to 150 %, and records the abort with the excursion', async () => {
    let turned = false;
    const report = await runJob(
      {
        ...ctx(),
        onProgress: (p) => {
          if (p.step === 'run' && !turned && (p.line ?? 0) >= 3) {
            turned = true;
            void controller?.operatorSets('feedOverride', 150);
          }
        },
      },
      { container, licenseId, program: 'long.ngc', partId: `SN-${run}-2` },
    );
    expect(report.outcome, JSON.stringify(report)).to.equal('aborted');
    if (report.outcome !== 'aborted') return;
    expect(report.excursion).to.include({ parameter: 'feedOverride', found: 150 });
    const build = await operator.builds.get(report.buildId);
    expect(build.status).to.equal('aborted');
    expect(build.reason).to.match(/feedOverride 150 outside in \[50, 120\] %/);
  });

  it('two agents sharing a copied software machine key race for the last 3 units: exactly 3 parts', async () => {
    const raceLicense = `L-RACE-${run}`;
    const raceMachine = `haas-race-${run}`;
    const identity = { ...IDENTITY, serial: `HAAS-RACE-${run}` };
    const copies = [
      await LinuxCncController.start({ identity }),
      await LinuxCncController.start({ identity }),
    ];
    try {
      const facts = await copies[0]?.identify();
      if (!facts) throw new Error('no controller');
      const dsiId = (await operator.licenses.get(licenseId)).license.dsiId;
      await sessions?.as('oem', 'ip-admin').licenses.issue({
        licenseId: raceLicense,
        dsiId,
        holderMsp: 'ManufacturerMSP',
        grant: grant(3, { maySublicense: false }),
        confidential: false,
        terms: TERMS,
      });
      const { signing, decryption } = await registerMachine(raceMachine, facts);
      await cmAdmin.licenses.allocate({
        licenseId: raceLicense,
        machineId: raceMachine,
        quantity: 3,
        scrapAllowance: 0,
      });
      // The copied key: both agents hold the same software keys and claim the same machine.
      const agents = copies.map((controller) => ({
        ...machine,
        machineId: raceMachine,
        signer: softwareMessageSigner(signing.privateKey),
        decryptionKey: softwareRecipientKey(decryption.privateKey),
        controller,
      }));
      const reports = await Promise.all(
        agents.map(async (agent, a) => {
          const out = [];
          for (let i = 0; i < 3; i++)
            out.push(
              await runJob(
                { ...ctx(), machine: agent },
                {
                  container,
                  licenseId: raceLicense,
                  program: 'good.ngc',
                  partId: `SN-race-${run}-${a}-${i}`,
                },
              ),
            );
          return out;
        }),
      );
      const all = reports.flat();
      expect(all.filter((r) => r.outcome === 'completed')).to.have.length(3);
      expect(all.filter((r) => r.outcome === 'aborted')).to.have.length(0);
      for (const r of all)
        if (r.outcome === 'refused')
          expect(r.code).to.be.oneOf(['ALLOCATION_EXHAUSTED', 'TRANSACTION_INVALID']);
      expect(await consumed(raceMachine, raceLicense)).to.equal(3);
    } finally {
      await Promise.all(copies.map((c) => c.close()));
    }
  });

  it('reconciles after the agent is killed mid-job: the build is recorded aborted, its unit stays consumed, an old journal regains nothing', async () => {
    const crashMachine = `haas-crash-${run}`;
    const identity = { ...IDENTITY, serial: `HAAS-CRASH-${run}` };
    const probe = await LinuxCncController.start({ identity });
    const facts = await probe.identify();
    await probe.close();
    const { signing, decryption } = await registerMachine(crashMachine, facts);
    await cmAdmin.licenses.allocate({ licenseId, machineId: crashMachine, quantity: 2, scrapAllowance: 0 });
    const journalFile = join(dir, 'agent.journal');
    const settings = join(dir, 'child.json');
    writeFileSync(
      settings,
      JSON.stringify({
        profileFile: testNetwork().connectionFile,
        machineId: crashMachine,
        signingKeyPem: signing.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        decryptionKeyPem: decryption.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        identity,
        container,
        licenseId,
        program: 'long.ngc',
        partId: `SN-crash-${run}`,
        trustedRoot,
        journalFile,
      }),
      { mode: 0o600 },
    );
    const backup = new JobJournal(join(dir, 'backup.journal'));
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'agent-child.js'), settings], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Killed once the job runs on the controller (the unit is consumed and the keys released).
      const deadline = Date.now() + 90_000;
      while (!output.includes('"step":"run"') && !output.includes('"step":"decrypt","outcome":"ok"')) {
        if (child.exitCode !== null) throw new Error(`the agent ended before it was killed: ${output}`);
        if (Date.now() > deadline) throw new Error(`the agent did not reach its job in time: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await exited;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const journal = new JobJournal(journalFile);
    const open = journal.entries();
    expect(open).to.have.length(1);
    const buildId = open[0]?.buildId;
    expect(buildId).to.be.a('string');
    expect(await consumed(crashMachine)).to.equal(1);

    // The old backup (taken before the job) knows nothing of the build: reconciling it changes nothing.
    expect(await reconcileJobs(operator, backup, crashMachine)).to.deep.equal([]);
    const results = await reconcileJobs(operator, journal, crashMachine);
    expect(results).to.deep.equal([{ nonce: open[0]?.nonce, buildId, outcome: 'aborted' }]);
    const build = await operator.builds.get(buildId as string);
    expect(build.status).to.equal('aborted');
    expect(build.reason).to.match(/agent restarted: the job for part SN-crash-.* was interrupted/);
    expect(journal.entries()).to.deep.equal([]);
    expect(await consumed(crashMachine)).to.equal(1);
    // A second reconcile finds nothing, and the unit is never reused: one unit is left, and it makes a part.
    expect(await reconcileJobs(operator, journal, crashMachine)).to.deep.equal([]);
    const restarted = await LinuxCncController.start({ identity });
    try {
      const report = await runJob(
        {
          ...ctx(),
          journal,
          machine: {
            ...machine,
            machineId: crashMachine,
            signer: softwareMessageSigner(signing.privateKey),
            decryptionKey: softwareRecipientKey(decryption.privateKey),
            controller: restarted,
          },
        },
        { container, licenseId, program: 'good.ngc', partId: `SN-crash-${run}-2` },
      );
      expect(report.outcome).to.equal('completed');
    } finally {
      await restarted.close();
    }
    expect(await consumed(crashMachine)).to.equal(2);
    expect(journal.entries()).to.deep.equal([]);
  });

  it('a completed job whose CompleteBuild commit status is lost is resolved by its transaction id and completed, never recorded as aborted', async () => {
    const lostLicense = `L-LOST-${run}`;
    await sessions?.as('oem', 'ip-admin').licenses.issue({
      licenseId: lostLicense,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(3, { maySublicense: false }),
      confidential: false,
      terms: TERMS,
    });
    await cmAdmin.licenses.allocate({ licenseId: lostLicense, machineId, quantity: 3, scrapAllowance: 0 });
    const journal = new JobJournal(join(dir, 'lost.journal'));
    const lost = () =>
      new ThreadsealError('LEDGER_UNAVAILABLE', 'commit status: deadline exceeded (simulated)');
    type Complete = ThreadsealLedger['builds']['complete'];
    /** The operator's ledger whose CompleteBuild is `complete` (everything else as it is). */
    const withComplete = (complete: Complete): ThreadsealLedger => ({
      ...operator,
      builds: new Proxy(operator.builds, {
        get(target, prop) {
          if (prop === 'complete') return complete;
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    });
    const job = (ledger: ThreadsealLedger, part: string) =>
      runJob(
        { ...ctx(), operator: ledger, journal },
        { container, licenseId: lostLicense, program: 'good.ngc', partId: part },
      );
    const expectCompleted = async (buildId: string, partId: string, digest: string) => {
      const build = await operator.builds.get(buildId);
      expect(build).to.include({ status: 'completed', partId, processRecordDigest: digest });
    };

    // 1. It committed, and the agent lost its status: found VALID by its transaction id, nothing sent again.
    let submitted = 0;
    const first = await job(
      withComplete(async (input, options) => {
        submitted++;
        await operator.builds.complete(input, options);
        throw lost();
      }),
      `SN-lost-${run}-1`,
    );
    expect(first.outcome, JSON.stringify(first)).to.equal('completed');
    if (first.outcome !== 'completed') return;
    expect(submitted).to.equal(1);
    await expectCompleted(first.buildId, `SN-lost-${run}-1`, first.telemetryDigest);
    expect(
      logs.some((l) => l.buildId === first.buildId && /CompleteBuild status lost/.test(l.detail ?? '')),
    ).to.equal(true);
    expect(journal.entries()).to.deep.equal([]);

    // 2. It never reached the orderer: its id is on no block, so it is completed anew, once.
    const calls: string[] = [];
    const second = await job(
      withComplete(async (input, options) => {
        calls.push(input.buildId);
        if (calls.length === 1) {
          options?.onTransactionId?.(randomBytes(32).toString('hex'));
          throw lost();
        }
        return operator.builds.complete(input, options);
      }),
      `SN-lost-${run}-2`,
    );
    expect(second.outcome, JSON.stringify(second)).to.equal('completed');
    if (second.outcome !== 'completed') return;
    expect(calls).to.have.length(2);
    await expectCompleted(second.buildId, `SN-lost-${run}-2`, second.telemetryDigest);

    // 3. The ledger stays out of reach: the agent gives up with the completion journaled, and the next
    // reconcile completes the build (not an abort) with the journaled part id and telemetry digest.
    let failure: unknown;
    try {
      await job(
        withComplete(() => Promise.reject(lost())),
        `SN-lost-${run}-3`,
      );
    } catch (err) {
      failure = err;
    }
    expect((failure as { code?: string } | undefined)?.code).to.equal('LEDGER_UNAVAILABLE');
    const [entry] = journal.entries();
    expect(entry?.completion?.partId).to.equal(`SN-lost-${run}-3`);
    const buildId = entry?.buildId ?? '';
    expect((await operator.builds.get(buildId)).status).to.equal('running');
    expect(await reconcileJobs(operator, journal, machineId)).to.deep.equal([
      { nonce: entry?.nonce, buildId, outcome: 'completed' },
    ]);
    await expectCompleted(buildId, `SN-lost-${run}-3`, entry?.completion?.telemetryDigest ?? '');
    expect(journal.entries()).to.deep.equal([]);
    expect(await consumed(machineId, lostLicense)).to.equal(3);
  });

  it('threadseal agent run: the one command makes a part from a configuration file, with progress on stderr', async () => {
    const cliMachine = `haas-cli-${run}`;
    const identity = { ...IDENTITY, serial: `HAAS-CLI-${run}` };
    const facts = { ...(await controller?.identify()), ...identity } as MachineFacts;
    const { signing, decryption } = await registerMachine(cliMachine, facts);
    const cliLicense = `L-CLI-AGENT-${run}`;
    await sessions?.as('oem', 'ip-admin').licenses.issue({
      licenseId: cliLicense,
      dsiId: (await operator.licenses.get(licenseId)).license.dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(1, { maySublicense: false }),
      confidential: false,
      terms: TERMS,
    });
    await cmAdmin.licenses.allocate({
      licenseId: cliLicense,
      machineId: cliMachine,
      quantity: 1,
      scrapAllowance: 0,
    });
    const keyFile = (name: string, key: typeof signing.privateKey): string => {
      const file = join(dir, name);
      writeFileSync(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      return file;
    };
    const rootFile = join(dir, 'oem-ca.pem');
    writeFileSync(rootFile, trustedRoot);
    const config = join(dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        profile: testNetwork().connectionFile,
        org: 'manufacturer',
        operator: 'operator',
        machineId: cliMachine,
        dialect: 'rs274ngc',
        keys: {
          software: {
            signingKey: keyFile('cli.key.pem', signing.privateKey),
            decryptionKey: keyFile('cli-recipient.key.pem', decryption.privateKey),
          },
        },
        controller: { kind: 'linuxcnc', ...identity },
        trustedRoots: [rootFile],
        journal: join(dir, 'cli-agent.journal'),
      }),
    );
    const args = [
      'agent',
      'run',
      '--config',
      config,
      '--dsi',
      container,
      '--license',
      cliLicense,
      '--program',
      'good.ngc',
    ];
    const made = await cli([...args, '--part', `SN-cli-${run}`]);
    expect(made.code, made.stderr).to.equal(0);
    const report = JSON.parse(made.stdout) as { outcome: string; buildId: string; partId: string };
    expect(report).to.include({ outcome: 'completed', partId: `SN-cli-${run}` });
    expect(made.stderr).to.match(/WARNING: software machine keys/);
    expect(made.stderr).to.match(/run: line \d+ of \d+/);
    expect((await operator.trace.part(`SN-cli-${run}`)).buildId).to.equal(report.buildId);
    // The one unit is used: the next run is refused before anything is submitted, exit 1.
    const refused = await cli([...args, '--part', `SN-cli-${run}-2`]);
    expect(refused.code).to.equal(1);
    expect(JSON.parse(refused.stdout)).to.include({ outcome: 'refused', code: 'ALLOCATION_EXHAUSTED' });
  });

  it('refuses a tampered DSI before anything is submitted', async () => {
    const before = await consumed();
    const bytes = readFileSync(container);
    bytes.writeUInt8((bytes.at(-10) ?? 0) ^ 0x01, bytes.length - 10);
    const tampered = join(dir, 'tampered.dsi');
    writeFileSync(tampered, bytes);
    const report = await runJob(ctx(), {
      container: tampered,
      licenseId,
      program: 'good.ngc',
      partId: `SN-${run}-t`,
    });
    expect(report).to.include({ outcome: 'refused', step: 'dsi' });
    expect(report.outcome === 'refused' && report.code).to.be.oneOf(['DIGEST_MISMATCH', 'CORRUPTED_CHUNK']);
    expect(await consumed()).to.equal(before);
  });

  it('refuses once the allocation is used up, before submitting anything', async () => {
    // Three units: one part, one aborted build, and one more part.
    const third = await runJob(ctx(), { container, licenseId, program: 'good.ngc', partId: `SN-${run}-3` });
    expect(third.outcome).to.equal('completed');
    const report = await runJob(ctx(), { container, licenseId, program: 'good.ngc', partId: `SN-${run}-4` });
    expect(report).to.include({ outcome: 'refused', step: 'license', code: 'ALLOCATION_EXHAUSTED' });
    expect(await consumed()).to.equal(3);
  });
});
