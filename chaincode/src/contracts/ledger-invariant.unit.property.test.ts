import '@threadseal/test-support/quiet-logs';
import {
  LedgerError,
  TX,
  type Build,
  type DsiTree,
  type LicenseGrant,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import fc from 'fast-check';
import { CM, DSI, OEM, START, SUB, USERS } from '@threadseal/test-support';
import { UnitTestMachine, UnitTestNetwork, type UnitTestUser } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';
import { policyOrgs } from '../ledger/endorsement.js';

/*
 * Property over the persisted state (unit test over the in-memory ChaincodeStub): random sequences of
 * contract calls, then the OEM's tree query must show Σ children + consumed − credited ≤ granted at every
 * license and balances equal to the sums of what the tree holds; Σ scrap allowances ≤ the root's; and every
 * key-level policy written names the DSI owner, and every tree record's at least two distinct orgs including the
 * licence's grantor and holder.
 */

const ORGS = [OEM, CM, SUB] as const;
const admin = (msp: string): UnitTestUser => ({
  mspId: msp,
  name: `${msp}-admin`,
  attributes: { role: msp === OEM ? 'ip-admin' : 'license-admin' },
});
const operator = (msp: string): UnitTestUser => ({
  mspId: msp,
  name: `${msp}-op`,
  attributes: { role: 'operator' },
});
const TERMS: ProductionTerms = {
  machines: { makes: ['EOS'], models: [], serials: [], requiredCertifications: [] },
  envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 }],
  operators: { roles: [], qualifications: [] },
  workstations: [],
};
const GRANT: LicenseGrant = {
  quantity: 12,
  mode: 'manufacturing',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  maySublicense: true,
  scrapAllowance: 3,
};

type Call =
  | { kind: 'split'; parent: number; holder: number; quantity: number }
  | { kind: 'allocate'; license: number; machine: number; quantity: number; scrap: number }
  | { kind: 'start'; allocation: number }
  | { kind: 'complete'; build: number }
  | { kind: 'scrap'; build: number }
  | { kind: 'revoke'; license: number };

const call: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('split' as const),
      parent: fc.nat(10),
      holder: fc.nat(2),
      quantity: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('allocate' as const),
      license: fc.nat(10),
      machine: fc.nat(5),
      quantity: fc.integer({ min: 1, max: 4 }),
      scrap: fc.nat(1),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('start' as const), allocation: fc.nat(10) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), build: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('scrap' as const), build: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), license: fc.nat(10) }) },
);

describe('ledger invariant over random contract calls (unit test over the in-memory ChaincodeStub, property)', function () {
  this.timeout(60_000);
  const machines = ORGS.flatMap((org) =>
    [0, 1].map((n) => ({ org, machine: new UnitTestMachine(`${org}-m${n}`) })),
  );

  it("keeps the persisted tree within its grants, scrap allowances within the root's, and every key guarded by ≥ 2 orgs with the DSI owner, after every call", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 5, maxLength: 40, size: 'max' }), async (calls) => {
        const net = new UnitTestNetwork(contracts, START);
        await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
        await net.submit(USERS.oemAdmin, TX.license.issue, {
          licenseId: 'L0',
          dsiId: DSI.dsiId,
          holderMsp: CM,
          grant: GRANT,
          confidential: false,
          terms: TERMS,
        });
        for (const { org, machine } of machines) {
          await net.submit(
            { mspId: org, name: 'ma', attributes: { role: 'machine-admin' } },
            TX.machine.register,
            machine.registration({
              make: 'EOS',
              model: 'M290',
              serial: machine.machineId,
              firmware: '1',
              certifications: [],
            }),
          );
        }
        for (const c of calls) {
          net.advance(1000);
          const tree = await net.evaluate<DsiTree>(USERS.oemAdmin, TX.trace.getDsiTree, { dsiId: DSI.dsiId });
          try {
            switch (c.kind) {
              case 'split': {
                const parent = tree.licenses[c.parent % tree.licenses.length]?.license;
                if (parent === undefined) break;
                await net.submit(admin(parent.holderMsp), TX.license.split, {
                  parentId: parent.licenseId,
                  licenseId: `L${tree.licenses.length}`,
                  holderMsp: ORGS[c.holder] ?? OEM,
                  grant: { ...GRANT, quantity: c.quantity, scrapAllowance: c.quantity % 2 },
                  terms: TERMS,
                });
                break;
              }
              case 'allocate': {
                const license = tree.licenses[c.license % tree.licenses.length]?.license;
                const target = machines.filter((m) => m.org === license?.holderMsp)[c.machine % 2];
                if (license === undefined || target === undefined) break;
                await net.submit(admin(license.holderMsp), TX.license.allocate, {
                  licenseId: license.licenseId,
                  machineId: target.machine.machineId,
                  quantity: c.quantity,
                  scrapAllowance: c.scrap,
                });
                break;
              }
              case 'start': {
                const allocation = tree.allocations[c.allocation % Math.max(1, tree.allocations.length)];
                const target = machines.find((m) => m.machine.machineId === allocation?.machineId);
                if (allocation === undefined || target === undefined) break;
                await net.submit(
                  operator(target.org),
                  TX.build.start,
                  target.machine.startBuild(operator(target.org), allocation.licenseId, net.now, {
                    laserPower: 300,
                  }),
                );
                break;
              }
              case 'complete':
              case 'scrap': {
                const build: Build | undefined = tree.builds[c.build % Math.max(1, tree.builds.length)];
                if (build === undefined) break;
                const who = operator(build.machineOwnerMsp);
                if (c.kind === 'complete')
                  await net.submit(who, TX.build.complete, {
                    buildId: build.buildId,
                    partId: `P-${build.buildId}`,
                    processRecordDigest: 'a'.repeat(64),
                  });
                else {
                  const machine = machines.find((m) => m.machine.machineId === build.machineId)?.machine;
                  await net.submit(who, TX.build.scrap, {
                    buildId: build.buildId,
                    reason: 'bad',
                    evidenceDigest: 'b'.repeat(64),
                    requestCredit: true,
                    machineSignature: machine?.scrapRecord(build.buildId, 'bad', 'b'.repeat(64)) ?? null,
                  });
                }
                break;
              }
              case 'revoke': {
                const license = tree.licenses[c.license % tree.licenses.length]?.license;
                if (license === undefined || license.parentId === null) break;
                await net.submit(admin(license.grantorMsp), TX.license.revoke, {
                  licenseId: license.licenseId,
                  reason: 'r',
                });
                break;
              }
            }
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error;
          }
        }
        const tree = await net.evaluate<DsiTree>(USERS.oemAdmin, TX.trace.getDsiTree, { dsiId: DSI.dsiId });
        for (const { license, balance, remaining } of tree.licenses) {
          const children = tree.licenses.filter((view) => view.license.parentId === license.licenseId);
          const allocations = tree.allocations.filter((a) => a.licenseId === license.licenseId);
          const childGranted = children.reduce((sum, view) => sum + view.license.grant.quantity, 0);
          const net_ = allocations.reduce((sum, a) => sum + a.consumed - a.scrapCredited, 0);
          expect(childGranted + net_).to.be.at.most(license.grant.quantity);
          expect(balance.sublicensed).to.equal(childGranted);
          expect(balance.allocated).to.equal(allocations.reduce((sum, a) => sum + a.quantity, 0));
          expect(remaining).to.be.at.least(0);
        }
        for (const allocation of tree.allocations) {
          const builds = tree.builds.filter(
            (b) => b.licenseId === allocation.licenseId && b.machineId === allocation.machineId,
          );
          expect(allocation.consumed).to.equal(builds.length);
          expect(allocation.scrapCredited).to.equal(builds.filter((b) => b.scrapCredited).length);
          expect(allocation.consumed - allocation.scrapCredited).to.be.within(0, allocation.quantity);
        }
        expect(tree.parts.length).to.equal(tree.builds.filter((b) => b.partId !== null).length);
        // Σ scrap allowances that can credit units anywhere in the tree ≤ the root's (issue 7, attack 3).
        expect(tree.allocations.reduce((sum, a) => sum + a.scrapAllowance, 0)).to.be.at.most(
          GRANT.scrapAllowance,
        );
        // Every key written carries a key-level policy naming ≥ 2 distinct orgs, the DSI owner among them, and
        // for a licence's own records its grantor and holder (issue 7: endorsement follows rights).
        const byId = new Map(tree.licenses.map((view) => [view.license.licenseId, view.license]));
        for (const key of net.ledger.keys()) {
          const [type = '', first = ''] = key.split('\u0000').filter((part) => part.length > 0);
          const policy = net.ledger.validationParameter(key);
          expect(policy, `${type} key ${first} has a key-level policy`).to.not.equal(undefined);
          const orgs = policyOrgs(policy ?? new Uint8Array());
          if (type === 'dsi' || type === 'machine') {
            // Outside the tree: the owner and the stakeholder (for the OEM's own DSI and machines, the OEM).
            expect(orgs, `${type} ${first}`).to.include(OEM);
            continue;
          }
          expect(orgs.length, `${type} ${first}`).to.be.at.least(2);
          expect(orgs, `${type} ${first}`).to.include(OEM);
          const license = ['license', 'license-balance', 'license-revocation', 'allocation'].includes(type)
            ? byId.get(first)
            : undefined;
          if (license !== undefined) expect(orgs).to.include.members([license.grantorMsp, license.holderMsp]);
        }
      }),
      { numRuns: 60 },
    );
  });
});
