import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  isTransientConflict,
  signStartBuild,
  TransactionInvalidError,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import { LedgerError } from '@threadseal/ledger-model';
import { fixtureDsi, grant, m400Terms, newMachineKey, SCENARIO_PARAMETERS } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { testCausalGroup } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

const TRIALS = Number(process.env['RACE_TRIALS'] ?? 20);
const ATTEMPTS_PER_MACHINE = 20;
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
  const machines = [0, 1, 2].map((i) => newMachineKey(`race-m${i}-${run}`));
  const terms = m400Terms();
  let sessions: LedgerSessions | undefined;
  let oem: ThreadsealLedger;
  let cmAdmin: ThreadsealLedger;
  let cmMachines: ThreadsealLedger;
  let operator: ThreadsealLedger;

  before(async function () {
    // Each attempt may lose up to several rounds (MVCC at commit, peers at different heights) before it
    // sees the allocation used up: give the client rounds enough that no unit is left unclaimed.
    const ledgers = new LedgerSessions(testNetwork().connectionFile, {
      retry: { maxAttempts: 8, backoffMs: 50 },
      causal: testCausalGroup,
    });
    sessions = ledgers;
    oem = ledgers.as('oem', 'ip-admin');
    cmAdmin = ledgers.as('manufacturer', 'license-admin');
    cmMachines = ledgers.as('manufacturer', 'machine-admin');
    operator = ledgers.as('manufacturer', 'operator');
    const { dsiId } = (
      await oem.dsi.register(
        fixtureDsi(`race ${run}`, 'RACE-1').signedBy(ledgers.dsiSigner('oem', 'ip-admin')),
      )
    ).value;
    await oem.licenses.issue({
      licenseId: rootId,
      dsiId,
      holderMsp: 'ManufacturerMSP',
      grant: grant(4 * TRIALS),
      confidential: false,
      terms,
    });
    await Promise.all(
      machines.map((m) =>
        cmMachines.machines.register({
          machineId: m.machineId,
          make: 'EOS',
          model: 'M400',
          serial: `${m.machineId}-SN`,
          firmware: '1.0',
          certifications: [],
          publicKeyPem: m.publicKeyPem,
          recipientPublicKeyPem: m.recipientPublicKeyPem,
        }),
      ),
    );
  });

  after(function () {
    sessions?.closeAll();
  });

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: exactly 4 VALID, every other attempt refused or MVCC-invalid, 0 units left`, async function () {
      const licenseId = `L-RACE-${run}-${trial}`;
      await cmAdmin.licenses.split({
        parentId: rootId,
        licenseId,
        holderMsp: 'ManufacturerMSP',
        grant: grant(4, { maySublicense: false }),
        terms,
      });
      const quantities = [2, 1, 1];
      await Promise.all(
        machines.map((m, i) =>
          cmAdmin.licenses.allocate({
            licenseId,
            machineId: m.machineId,
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
              operator.builds.startWithMachineKey(
                { licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
                m.privateKey,
              ),
            ),
          );
        }
      }
      // The same signed request submitted twice: at most one of the two may consume a unit.
      const first = machines[0];
      if (!first) throw new Error('no machine');
      const twice = signStartBuild(
        {
          operator: operator.client.operator,
          licenseId,
          machineId: first.machineId,
          parameters: SCENARIO_PARAMETERS,
        },
        first.privateKey,
      );
      const doubles = [outcome(operator.builds.start(twice)), outcome(operator.builds.start(twice))];

      const outcomes = await Promise.all(attempts);
      const doubled = await Promise.all(doubles);
      const valid = [...outcomes, ...doubled].filter((o) => o.kind === 'valid').length;
      const refusedAs = (o: Outcome, invalidCodes: readonly string[]): boolean =>
        (o.kind === 'business' && ['ALLOCATION_EXHAUSTED', 'REPLAYED_REQUEST'].includes(o.code)) ||
        (o.kind === 'invalid' && invalidCodes.includes(o.code)) ||
        o.kind === 'valid';
      const conflicts = ['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'ENDORSEMENT_MVCC_MISMATCH'];
      const unexpected = [
        ...outcomes.filter((o) => !refusedAs(o, conflicts)),
        // The two copies of one request write the same new nonce key with its key-level policy: when both are
        // in one block, Fabric invalidates the second because the first changed that key's policy
        // (ENDORSEMENT_POLICY_FAILURE), otherwise by MVCC or REPLAYED_REQUEST.
        ...doubled.filter((o) => !refusedAs(o, [...conflicts, 'ENDORSEMENT_POLICY_FAILURE'])),
      ];
      expect(unexpected, JSON.stringify(unexpected)).to.deep.equal([]);
      expect(doubled.filter((o) => o.kind === 'valid').length, 'the same request twice').to.be.at.most(1);
      expect(valid).to.equal(4);
      for (const [i, m] of machines.entries()) {
        const latest = (await oem.trace.allocationHistory(licenseId, m.machineId))[0]?.value;
        expect([m.machineId, latest?.consumed]).to.deep.equal([m.machineId, quantities[i]]);
      }
      expect((await oem.licenses.get(licenseId)).remaining).to.equal(0);
    });
  }
});
