import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import {
  isTransientConflict,
  LedgerClient,
  signStartBuild,
  threadsealLedger,
  TransactionInvalidError,
  type ThreadsealLedger,
} from '@threadseal/gateway';
import { LedgerError, type LicenseGrant, type ProductionTerms } from '@threadseal/ledger-model';
import { SCENARIO_PARAMETERS } from '@threadseal/cli';
import { testNetwork } from '../fixtures/network-fixture';

const TRIALS = Number(process.env['RACE_TRIALS'] ?? 20);
const ATTEMPTS_PER_MACHINE = 20;
const DAY = 86_400_000;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const terms: ProductionTerms = {
  machines: { makes: ['EOS'], models: ['M400'], serials: [], requiredCertifications: [] },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 },
    { name: 'bedTemperature', unit: 'degC', kind: 'range', min: 150, max: 200 },
    { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
  ],
  operators: { roles: ['am-operator'], qualifications: [] },
  workstations: [],
};

/** One validity window for every license of the file: a child may not outlive its parent. */
const NOW = Date.now();

function grant(quantity: number, maySublicense: boolean): LicenseGrant {
  const now = NOW;
  return {
    quantity,
    mode: 'manufacturing',
    validFrom: new Date(now - DAY).toISOString(),
    validUntil: new Date(now + 30 * DAY).toISOString(),
    maySublicense,
    scrapAllowance: 0,
  };
}

type Outcome = { kind: 'valid' } | { kind: 'business'; code: string } | { kind: 'invalid'; code: string };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { kind: 'valid' };
  } catch (err) {
    if (err instanceof LedgerError) return { kind: 'business', code: err.code };
    if (err instanceof TransactionInvalidError) return { kind: 'invalid', code: err.validationCode };
    // Still conflicting after the client's retries: peers disagreed on the allocation's version.
    if (isTransientConflict(err)) return { kind: 'invalid', code: 'ENDORSEMENT_MVCC_MISMATCH' };
    const details = (err as { details?: { mspId: string; message: string }[] }).details ?? [];
    throw new Error(
      `${(err as Error).message}: ${details.map((d) => `${d.mspId}: ${d.message}`).join(' | ')}`,
    );
  }
}

describe(`last-units race: 4 units on 3 machines, 3 × ${ATTEMPTS_PER_MACHINE} concurrent StartBuild + a double submit, ${TRIALS} trials`, function () {
  const run = randomBytes(3).toString('hex');
  const rootId = `L-RACE-ROOT-${run}`;
  const machines: { id: string; key: KeyObject }[] = [0, 1, 2].map((i) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { id: `race-m${i}-${run}`, key: privateKey };
  });
  const opened: ThreadsealLedger[] = [];
  let oem: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let cmMachines: ThreadsealLedger;
  let operator: ThreadsealLedger;

  before(async function () {
    const profile = testNetwork().connectionFile;
    // Each attempt may lose up to several rounds (MVCC at commit, peers at different heights) before it
    // sees the allocation used up: give the client rounds enough that no unit is left unclaimed.
    const retry = { maxAttempts: 8, backoffMs: 50 };
    const open = (org: string, user: string): ThreadsealLedger => {
      const l = threadsealLedger(LedgerClient.open(profile, { org, user }, retry));
      opened.push(l);
      return l;
    };
    oem = open('oem', 'ip-admin');
    cmAdmin = open('manufacturer', 'license-admin');
    cmMachines = open('manufacturer', 'machine-admin');
    operator = open('manufacturer', 'operator');
    const dsiId = sha256(`race ${run}`);
    await oem.dsi.register({
      dsiId,
      partNumber: 'RACE-1',
      revision: 'A',
      title: 'race fixture',
      fileDigests: [{ path: 'p.gcode', sha256: sha256('p') }],
      ownerCertFingerprint: sha256('oem'),
    });
    await oem.licenses.issue({
      licenseId: rootId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(4 * TRIALS, true),
      confidential: false,
      terms,
    });
    await Promise.all(
      machines.map((m) =>
        cmMachines.machines.register({
          machineId: m.id,
          make: 'EOS',
          model: 'M400',
          serial: `${m.id}-SN`,
          firmware: '1.0',
          certifications: [],
          publicKeyPem: createPublicPem(m.key),
        }),
      ),
    );
  });

  after(function () {
    for (const c of opened) c.close();
  });

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: exactly 4 VALID, every other attempt refused or MVCC-invalid, 0 units left`, async function () {
      const licenseId = `L-RACE-${run}-${trial}`;
      await cmAdmin.licenses.split({
        parentId: rootId,
        licenseId,
        holderMsp: 'ManufacturerMSP',
        grant: grant(4, false),
        terms,
      });
      const quantities = [2, 1, 1];
      await Promise.all(
        machines.map((m, i) =>
          cmAdmin.licenses.allocate({
            licenseId,
            machineId: m.id,
            quantity: quantities[i] ?? 0,
            scrapAllowance: 0,
          }),
        ),
      );

      const attempts: Promise<Outcome>[] = [];
      for (const m of machines) {
        for (let a = 0; a < ATTEMPTS_PER_MACHINE; a++) {
          attempts.push(
            outcome(
              operator.builds.start(
                signStartBuild({ licenseId, machineId: m.id, parameters: SCENARIO_PARAMETERS }, m.key),
              ),
            ),
          );
        }
      }
      // The same signed request submitted twice: at most one of the two may consume a unit.
      const first = machines[0];
      if (!first) throw new Error('no machine');
      const twice = signStartBuild(
        { licenseId, machineId: first.id, parameters: SCENARIO_PARAMETERS },
        first.key,
      );
      attempts.push(outcome(operator.builds.start(twice)), outcome(operator.builds.start(twice)));

      const outcomes = await Promise.all(attempts);
      const valid = outcomes.filter((o) => o.kind === 'valid').length;
      const unexpected = outcomes.filter(
        (o) =>
          (o.kind === 'business' && !['ALLOCATION_EXHAUSTED', 'REPLAYED_REQUEST'].includes(o.code)) ||
          (o.kind === 'invalid' &&
            !['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'ENDORSEMENT_MVCC_MISMATCH'].includes(o.code)),
      );
      expect(unexpected, JSON.stringify(unexpected)).to.deep.equal([]);
      expect(valid).to.equal(4);
      for (const [i, m] of machines.entries()) {
        const latest = (await oem.trace.allocationHistory(licenseId, m.id))[0]?.value;
        expect([m.id, latest?.consumed]).to.deep.equal([m.id, quantities[i]]);
      }
      expect((await oem.licenses.get(licenseId)).remaining).to.equal(0);
    });
  }
});

function createPublicPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
