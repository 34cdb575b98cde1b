import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  open,
  protectToFile,
  registrationOf,
  softwareRecipientKey,
  softwareSigner,
  type RecipientKey,
} from '@threadseal/dsi-container';
import {
  directoryDsiStore,
  KeyReleaseService,
  openDevelopmentToken,
  SOFTHSM_LIBRARY,
  type DevelopmentToken,
  type ReleaseDecision,
  type ReleaseLogEntry,
} from '@threadseal/key-release';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import { LedgerError, type KeyRelease } from '@threadseal/ledger-model';
import {
  grant,
  m400Terms,
  newMachineKey,
  SCENARIO_PARAMETERS,
  type MachineKey,
} from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

const run = randomBytes(3).toString('hex');
const terms = m400Terms({ qualifications: ['nadcap-am'], certifications: ['nadcap-am'] });
const FILES = [
  { name: 'bracket.gcode', source: Buffer.from(`G21 G90\nM3 S8000\nG1 X10 F600 ; ${run}\nM30\n`) },
  { name: 'bracket.step', source: randomBytes(3000) },
];

async function refusal(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

describe('key release: content keys reach a machine only for its committed build (real network, PKCS#11)', function () {
  this.timeout(120_000);
  let dir = '';
  let sessions: LedgerSessions | undefined;
  let token: DevelopmentToken | undefined;
  let unwrapKey: RecipientKey;
  let oem: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let operator: ThreadsealLedger;
  let containerFile = '';
  let dsiId = '';
  let trustedRoot = '';
  const licenseId = `L-KR-${run}`;
  const machines: MachineKey[] = [];
  let startBlock = 0n;
  const decisions: ReleaseDecision[] = [];
  const logs: ReleaseLogEntry[] = [];
  let service: KeyReleaseService | undefined;
  let running: Promise<void> | undefined;

  const ledger = (org: string, user: string): ThreadsealLedger => {
    if (!sessions) throw new Error('the sessions are opened in before()');
    return sessions.as(org, user);
  };
  const startService = (): void => {
    service = new KeyReleaseService({
      client: ledger('oem', 'key-release').client,
      unwrapKey,
      containers: directoryDsiStore(dir),
      trustedRoots: [trustedRoot],
      checkpointFile: join(dir, 'release.checkpoint'),
      startBlock,
      log: (entry) => logs.push(entry),
    });
    running = service.run((d) => decisions.push(d));
  };
  const stopService = async (): Promise<void> => {
    service?.stop();
    await running;
    service = undefined;
  };
  /** Waits until the running service decided about `buildId` (it follows the events; no fixed sleep). */
  async function decisionFor(buildId: string): Promise<ReleaseDecision> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = decisions.find((d) => d.buildId === buildId);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no release decision for build ${buildId} within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const startBuild = async (m: MachineKey): Promise<string> =>
    (
      await operator.builds.startWithMachineKey(
        { licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
        m.privateKey,
      )
    ).value.buildId;
  async function openAsMachine(m: MachineKey, release: KeyRelease): Promise<Buffer[]> {
    const key = softwareRecipientKey(m.recipientKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const opened = await open(containerFile, key, { trustedRoots: [trustedRoot], release });
    try {
      const out: Buffer[] = [];
      for (const f of opened.files) {
        const parts: Buffer[] = [];
        for await (const p of f.stream()) parts.push(p as Buffer);
        out.push(Buffer.concat(parts));
      }
      return out;
    } finally {
      await opened.close();
    }
  }

  before(async function () {
    if (!existsSync(SOFTHSM_LIBRARY)) {
      console.log(`      (skipped: ${SOFTHSM_LIBRARY} is absent — the bootstrap installs softhsm2)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'key-release-'));
    token = openDevelopmentToken(dir);
    unwrapKey = token.token.recipientKey(token.keyLabel);
    const ledgers = new LedgerSessions(testNetwork().connectionFile, { causal: testCausalGroup });
    sessions = ledgers;
    oem = ledgers.as('oem', 'ip-admin');
    cmAdmin = ledgers.as('manufacturer', 'license-admin');
    operator = ledgers.as('manufacturer', 'operator');
    const oemOrg = testNetwork().plan.orgs.find((o) => o.name === 'oem');
    if (!oemOrg) throw new Error('the test network has no oem org');
    trustedRoot = readFileSync(oemOrg.caCert, 'utf8');
    // The OEM seals the TDP for its key-release service only: no licensee holds a content key at rest.
    const signer = ledgers.dsiSigner('oem', 'ip-admin');
    const staging = join(dir, 'staging.dsi');
    const sealed = await protectToFile(
      {
        files: FILES.map((f) => ({ name: f.name, source: f.source })),
        signer: softwareSigner(signer.certificatePem, signer.privateKeyPem),
        recipients: [unwrapKey.publicKey],
        title: 'Key release bracket',
        partNumber: `KR-${run}`,
        revision: 'A',
        mspId: 'OemMSP',
      },
      staging,
    );
    dsiId = sealed.dsiId;
    containerFile = join(dir, `${dsiId}.dsi`);
    renameSync(staging, containerFile);
    await oem.dsi.register(await registrationOf(containerFile));
    await oem.licenses.issue({
      licenseId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(12, { maySublicense: false }),
      confidential: false,
      terms,
    });
    const cmMachines = ledgers.as('manufacturer', 'machine-admin');
    for (let i = 0; i < 2; i++) {
      const m = newMachineKey(`kr-m${i}-${run}`);
      await cmMachines.machines.register({
        machineId: m.machineId,
        make: 'EOS',
        model: 'M400',
        serial: `${m.machineId}-SN`,
        firmware: '1',
        certifications: ['nadcap-am'],
        publicKeyPem: m.publicKeyPem,
        recipientPublicKeyPem: m.recipientPublicKeyPem,
      });
      machines.push(m);
    }
    for (const m of machines)
      await cmAdmin.licenses.allocate({ licenseId, machineId: m.machineId, quantity: 6, scrapAllowance: 0 });
    startBlock = await ledgers.as('oem', 'key-release').client.connection.peerHeight();
    startService();
  });

  after(async () => {
    await stopService();
    sessions?.closeAll();
    token?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('releases after a committed StartBuild; the machine opens the DSI with that release and its own key only', async () => {
    const [m0] = machines as [MachineKey, MachineKey];
    const buildId = await startBuild(m0);
    const decision = await decisionFor(buildId);
    expect(decision.outcome).to.equal('released');
    const release = await operator.releases.get(buildId);
    expect(release).to.include({ buildId, dsiId, machineId: m0.machineId, releasedByMsp: 'OemMSP' });
    expect(await openAsMachine(m0, release)).to.deep.equal(FILES.map((f) => f.source));
    // The machine is no recipient of the container itself, and nobody's enrolment key is either.
    const machineKey = softwareRecipientKey(
      m0.recipientKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const err = await refusal(open(containerFile, machineKey, { trustedRoots: [trustedRoot] }));
    expect((err as { code?: string }).code).to.equal('NOT_A_RECIPIENT');
    // No log line carries key material: only ids, outcomes and codes.
    for (const line of logs) expect(JSON.stringify(line)).not.to.match(/wrappedKeys|BEGIN|PRIVATE/);
  });

  it('a release opens for no other build and no other machine', async () => {
    const [m0, m1] = machines as [MachineKey, MachineKey];
    const first = await startBuild(m0);
    const second = await startBuild(m0);
    const [a, b] = [await decisionFor(first), await decisionFor(second)];
    expect([a.outcome, b.outcome]).to.deep.equal(['released', 'released']);
    const release = await operator.releases.get(first);
    const asSecond = { ...release, buildId: second };
    expect(((await refusal(openAsMachine(m0, asSecond))) as { code?: string }).code).to.equal(
      'WRAP_MISMATCH',
    );
    expect(((await refusal(openAsMachine(m1, release))) as { code?: string }).code).to.equal(
      'NOT_A_RECIPIENT',
    );
  });

  it('refuses to record a release for anyone but the owner’s key-release identity (real endorsement)', async () => {
    const [m0] = machines as [MachineKey, MachineKey];
    const buildId = await startBuild(m0);
    await decisionFor(buildId);
    const genuine = await operator.releases.get(buildId);
    for (const [org, user] of [
      ['oem', 'ip-admin'],
      ['manufacturer', 'license-admin'],
    ] as const) {
      const err = await refusal(ledger(org, user).releases.record({ buildId, stanza: genuine.stanza }));
      expect(err).to.be.instanceOf(LedgerError);
      expect((err as LedgerError).code).to.equal('FORBIDDEN');
    }
    expect(await operator.releases.get(buildId)).to.deep.equal(genuine);
  });

  it('resumes after a restart without missing a build or repeating a release; a revoked license stops releases', async () => {
    const [m0, m1] = machines as [MachineKey, MachineKey];
    const before = await startBuild(m1);
    expect((await decisionFor(before)).outcome).to.equal('released');
    await stopService();
    // While the service is down: one build it must not miss, then a build under a license about to be revoked.
    const missed = await startBuild(m1);
    const late = await startBuild(m0);
    await oem.licenses.revoke(licenseId, `key-release test ${run}`);
    const countBefore = decisions.length;
    startService();
    const [m, l] = [await decisionFor(missed), await decisionFor(late)];
    // Both builds started before the revocation, but keys are released only while the chain is usable.
    expect(m.outcome).to.equal('refused');
    expect(l).to.include({ outcome: 'refused', code: 'LICENSE_REVOKED' });
    for (const id of [missed, late]) {
      const err = await refusal(operator.releases.get(id));
      expect((err as LedgerError).code).to.equal('NOT_FOUND');
    }
    // The builds handled before the restart were not handled again: the checkpoint held.
    const again = decisions.slice(countBefore).map((d) => d.buildId);
    expect(again).to.not.include(before);
    expect(again.filter((id) => id === missed)).to.have.length(1);
    // Handling a released build again records nothing new.
    const restarted = service;
    if (!restarted) throw new Error('the service was restarted above');
    expect((await restarted.release(before)).outcome).to.equal('already-released');
  });
});
