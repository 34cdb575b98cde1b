import { generateKeyPairSync, sign } from 'node:crypto';
import {
  LedgerError,
  scrapRecordSigningBytes,
  START_BUILD_REQUEST_TYPE,
  type Allocation,
  type Build,
  type Dsi,
  type LicenseGrant,
  type LicenseMode,
  type Machine,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import fc from 'fast-check';
import type { Actor } from './actor.js';
import { abortBuild, completeBuild, scrapBuild, startBuild } from './build-rules.js';
import type { ChainNode } from './chain.js';
import { registerDsi } from './dsi-rules.js';
import {
  allocateUnits,
  allocationAvailable,
  issueLicense,
  remainingUnits,
  revokeLicense,
  splitLicense,
  type NewLicense,
} from './license-rules.js';
import { narrowingViolations } from './narrowing.js';
import { instant, txTime, type TxTime } from './time.js';

/*
 * Property: over any random sequence of split / allocate / start / complete / abort / scrap / revoke / clock
 * steps applied through the pure rules, every step either succeeds or fails with a LedgerError, and after
 * every step, at every license: Σ children granted + consumed − credited scrap ≤ granted, no counter is
 * negative, the cached balances equal the sums they summarise, every child narrows its parent, and no build
 * ever started under a revoked or expired chain. Inputs handed to the rules are frozen, so a rule that
 * mutates them fails the property.
 */

const ORGS = ['OemMSP', 'ManufacturerMSP', 'SubcontractorMSP'] as const;
const MACHINE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = MACHINE_KEY.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const MACHINES: Machine[] = ORGS.flatMap((org) =>
  [0, 1].map((n) => ({
    machineId: `${org}-m${n}`,
    ownerMsp: org,
    make: 'EOS',
    model: n === 0 ? 'M290' : 'M400',
    serial: `S${n}`,
    firmware: '1',
    certifications: ['nadcap-am'],
    publicKeyPem: PEM,
    recipientPublicKeyPem: '',
    status: 'active',
    registeredAt: '2026-01-01T00:00:00.000Z',
    deactivatedAt: null,
    deactivationReason: null,
  })),
);
const BASE_TERMS: ProductionTerms = {
  machines: { makes: ['EOS'], models: ['M290', 'M400'], serials: [], requiredCertifications: ['nadcap-am'] },
  envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 }],
  operators: { roles: ['operator'], qualifications: [] },
  workstations: [],
};
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const DAY = 86_400_000;

type Step =
  | {
      kind: 'split';
      parent: number;
      holder: number;
      quantity: number;
      mode: LicenseMode;
      laserMin: number;
      laserMax: number;
      span: number;
      model: 'any' | 'M290' | 'M400';
      scrap: number;
    }
  | { kind: 'allocate'; license: number; machine: number; quantity: number; scrap: number }
  | { kind: 'start'; allocation: number; laser: number; operatorOrg: number }
  | { kind: 'complete' | 'abort'; build: number }
  | { kind: 'scrap'; build: number; credit: boolean; evidence: boolean }
  | { kind: 'revoke'; license: number }
  | { kind: 'tick'; days: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('split' as const),
      parent: fc.nat(20),
      holder: fc.nat(2),
      quantity: fc.integer({ min: 1, max: 25 }),
      mode: fc.constantFrom<LicenseMode>('engineering', 'manufacturing', 'manufacturing', 'distribution'),
      laserMin: fc.integer({ min: 190, max: 300 }),
      laserMax: fc.integer({ min: 300, max: 410 }),
      span: fc.double({ min: 0.05, max: 1.1, noNaN: true }),
      model: fc.constantFrom('any' as const, 'M290' as const, 'M400' as const),
      scrap: fc.nat(3),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('allocate' as const),
      license: fc.nat(20),
      machine: fc.nat(MACHINES.length - 1),
      quantity: fc.integer({ min: 1, max: 10 }),
      scrap: fc.nat(2),
    }),
  },
  // Operators are mostly from the machine's org (index 3 = "the machine owner"), sometimes from another org.
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      allocation: fc.nat(20),
      laser: fc.oneof(fc.constant(300), fc.integer({ min: 150, max: 450 })),
      operatorOrg: fc.constantFrom(3, 3, 3, 0, 1, 2),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('complete' as const, 'abort' as const), build: fc.nat(40) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('scrap' as const),
      build: fc.nat(40),
      credit: fc.boolean(),
      evidence: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), license: fc.nat(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), days: fc.integer({ min: 1, max: 20 }) }),
  },
);

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}
MACHINES.forEach(deepFreeze);

/** A license as the model tracks it: balance and revocation replaced as steps succeed. */
interface ModelLicense {
  license: NewLicense['license'];
  balance: NewLicense['balance'];
  revocation: NewLicense['revocation'];
  terms: ProductionTerms;
}

class Model {
  public readonly licenses: ModelLicense[] = [];
  public readonly allocations: Allocation[] = [];
  public readonly builds: Build[] = [];
  public readonly dsi: Dsi;
  public now: TxTime = txTime(new Date(T0 + DAY).toISOString());
  #tx = 0;

  public constructor() {
    this.dsi = registerDsi(
      {
        dsiId: 'D1',
        partNumber: 'P',
        revision: 'A',
        title: 't',
        fileDigests: [{ path: 'f', ciphertextDigest: '0'.repeat(64) }],
        ownerCertFingerprint: '0'.repeat(64),
      },
      'OemMSP',
      this.now,
    ).dsi;
    const grant: LicenseGrant = {
      quantity: 30,
      mode: 'manufacturing',
      validFrom: new Date(T0).toISOString(),
      validUntil: new Date(T0 + 400 * DAY).toISOString(),
      maySublicense: true,
      scrapAllowance: 4,
    };
    const root = issueLicense(
      this.dsi,
      {
        licenseId: 'L0',
        dsiId: 'D1',
        holderMsp: 'ManufacturerMSP',
        grant,
        confidential: false,
        terms: BASE_TERMS,
      },
      BASE_TERMS,
      null,
      this.now,
      'tx0',
    );
    this.licenses.push({ ...root, terms: BASE_TERMS });
  }

  #txId(): string {
    this.#tx += 1;
    return `tx${this.#tx}`;
  }

  public chain(licenseId: string): ChainNode[] {
    const entry = this.#license(licenseId);
    return [...entry.license.ancestry, licenseId].map((id) => {
      const node = this.#license(id);
      return { license: node.license, revocation: node.revocation, terms: node.terms };
    });
  }

  #license(id: string): ModelLicense {
    const found = this.licenses.find((entry) => entry.license.licenseId === id);
    if (found === undefined) throw new Error(`model has no license ${id}`);
    return found;
  }

  public apply(s: Step): void {
    // Rules must never mutate their inputs: everything they receive is frozen (strict mode makes writes throw).
    deepFreeze(this.dsi);
    for (const entry of this.licenses)
      [entry.license, entry.balance, entry.revocation, entry.terms].forEach(deepFreeze);
    this.allocations.forEach(deepFreeze);
    this.builds.forEach(deepFreeze);
    switch (s.kind) {
      case 'split': {
        const parent = this.licenses[s.parent % this.licenses.length];
        if (parent === undefined) return;
        const validFrom = parent.license.grant.validFrom;
        const span = instant(parent.license.grant.validUntil) - instant(validFrom);
        const grant: LicenseGrant = {
          quantity: s.quantity,
          mode: s.mode,
          validFrom,
          validUntil: new Date(
            instant(validFrom) + Math.max(DAY, Math.round((s.span * span) / DAY) * DAY),
          ).toISOString(),
          maySublicense: s.mode === 'distribution' || s.quantity % 2 === 0,
          scrapAllowance: s.scrap,
        };
        const terms: ProductionTerms = {
          ...BASE_TERMS,
          machines: { ...BASE_TERMS.machines, models: s.model === 'any' ? ['M290', 'M400'] : [s.model] },
          envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: s.laserMin, max: s.laserMax }],
        };
        const id = `L${this.licenses.length}`;
        const result = splitLicense(
          this.dsi,
          this.chain(parent.license.licenseId),
          parent.balance,
          {
            parentId: parent.license.licenseId,
            licenseId: id,
            holderMsp: ORGS[s.holder] ?? 'OemMSP',
            grant,
            terms,
          },
          terms,
          null,
          this.now,
          this.#txId(),
        );
        parent.balance = result.parentBalance;
        this.licenses.push({
          license: result.license,
          balance: result.balance,
          revocation: result.revocation,
          terms,
        });
        return;
      }
      case 'allocate': {
        const entry = this.licenses[s.license % this.licenses.length];
        const machine = MACHINES[s.machine];
        if (entry === undefined || machine === undefined) return;
        const index = this.allocations.findIndex(
          (a) => a.licenseId === entry.license.licenseId && a.machineId === machine.machineId,
        );
        const result = allocateUnits(
          this.dsi,
          this.chain(entry.license.licenseId),
          entry.balance,
          this.allocations[index] ?? null,
          machine,
          {
            licenseId: entry.license.licenseId,
            machineId: machine.machineId,
            quantity: s.quantity,
            scrapAllowance: s.scrap,
          },
          this.now,
        );
        entry.balance = result.balance;
        if (index === -1) this.allocations.push(result.allocation);
        else this.allocations[index] = result.allocation;
        return;
      }
      case 'start': {
        const index = s.allocation % Math.max(1, this.allocations.length);
        const allocation = this.allocations[index];
        if (allocation === undefined) return;
        const machine = MACHINES.find((m) => m.machineId === allocation.machineId);
        if (machine === undefined) throw new Error('unknown machine');
        const actor: Actor = {
          mspId: ORGS[s.operatorOrg] ?? machine.ownerMsp,
          id: 'op',
          role: 'operator',
          qualifications: [],
        };
        const request = {
          type: START_BUILD_REQUEST_TYPE,
          licenseId: allocation.licenseId,
          machineId: machine.machineId,
          operator: '0'.repeat(64),
          // Unique per transaction, padded to the 8-character minimum a nonce must have.
          nonce: `nonce-${String(this.#tx).padStart(8, '0')}`,
          issuedAt: this.now.iso,
          parameters: { laserPower: s.laser },
        };
        const chain = this.chain(allocation.licenseId);
        const result = startBuild(
          this.dsi,
          chain,
          allocation,
          machine,
          actor,
          request,
          this.now,
          this.#txId(),
        );
        // Post-condition: a build only ever starts under a usable chain.
        for (const node of chain) {
          expect(node.revocation.revoked, `started under revoked ${node.license.licenseId}`).to.equal(false);
          expect(this.now.ms).to.be.within(
            instant(node.license.grant.validFrom),
            instant(node.license.grant.validUntil) - 1,
          );
        }
        this.allocations[index] = result.allocation;
        this.builds.push(result.build);
        return;
      }
      case 'complete':
      case 'abort': {
        const index = s.build % Math.max(1, this.builds.length);
        const build = this.builds[index];
        if (build === undefined) return;
        this.builds[index] =
          s.kind === 'complete'
            ? completeBuild(
                build,
                { buildId: build.buildId, partId: `P-${build.buildId}`, processRecordDigest: '1'.repeat(64) },
                this.now,
              ).build
            : abortBuild(build, { buildId: build.buildId, reason: 'stop' }, this.now).build;
        return;
      }
      case 'scrap': {
        const index = s.build % Math.max(1, this.builds.length);
        const build = this.builds[index];
        if (build === undefined) return;
        const allocationIndex = this.allocations.findIndex(
          (a) => a.licenseId === build.licenseId && a.machineId === build.machineId,
        );
        const allocation = this.allocations[allocationIndex];
        if (allocation === undefined) throw new Error('build without allocation');
        const machine = MACHINES.find((m) => m.machineId === build.machineId);
        if (machine === undefined) throw new Error('build without machine');
        const record = {
          buildId: build.buildId,
          reason: 'bad',
          evidenceDigest: s.evidence ? '2'.repeat(64) : null,
        };
        // The machine vouches for the scrap (every machine of this model shares one key).
        const machineSignature = sign('sha256', scrapRecordSigningBytes(record), {
          key: MACHINE_KEY.privateKey,
          dsaEncoding: 'der',
        }).toString('base64');
        const result = scrapBuild(
          build,
          allocation,
          machine,
          { ...record, requestCredit: s.credit, machineSignature },
          this.now,
        );
        this.builds[index] = result.build;
        this.allocations[allocationIndex] = result.allocation;
        return;
      }
      case 'revoke': {
        const entry = this.licenses[s.license % this.licenses.length];
        if (entry === undefined) return;
        entry.revocation = revokeLicense(
          entry.license,
          entry.revocation,
          'r',
          entry.license.grantorMsp,
          this.now,
        ).revocation;
        return;
      }
      case 'tick':
        this.now = txTime(new Date(this.now.ms + s.days * DAY).toISOString());
        return;
    }
  }

  public checkInvariants(): void {
    let netConsumedTree = 0;
    for (const { license, balance, terms } of this.licenses) {
      const children = this.licenses.filter((entry) => entry.license.parentId === license.licenseId);
      const allocations = this.allocations.filter((a) => a.licenseId === license.licenseId);
      const childGranted = children.reduce((sum, c) => sum + c.license.grant.quantity, 0);
      const consumed = allocations.reduce((sum, a) => sum + a.consumed, 0);
      const credited = allocations.reduce((sum, a) => sum + a.scrapCredited, 0);
      netConsumedTree += consumed - credited;
      expect(childGranted + consumed - credited, `Σ at ${license.licenseId}`).to.be.at.most(
        license.grant.quantity,
      );
      expect(balance.sublicensed).to.equal(childGranted);
      expect(balance.allocated).to.equal(allocations.reduce((sum, a) => sum + a.quantity, 0));
      // The scrap allowance is conserved like quantity: what the children and the allocations hold.
      expect(balance.scrapAllowanceAllocated).to.equal(
        allocations.reduce((sum, a) => sum + a.scrapAllowance, 0) +
          children.reduce((sum, c) => sum + c.license.grant.scrapAllowance, 0),
      );
      expect(balance.scrapAllowanceAllocated).to.be.at.most(license.grant.scrapAllowance);
      expect(remainingUnits(license, balance)).to.be.at.least(0);
      for (const child of children) {
        expect(
          narrowingViolations(
            { grant: license.grant, terms },
            { grant: child.license.grant, terms: child.terms },
          ),
        ).to.deep.equal([]);
        expect(child.license.grantorMsp).to.equal(license.holderMsp);
      }
    }
    for (const allocation of this.allocations) {
      const builds = this.builds.filter(
        (b) => b.licenseId === allocation.licenseId && b.machineId === allocation.machineId,
      );
      expect(allocation.consumed).to.equal(builds.length);
      expect(allocation.scrapCredited).to.equal(builds.filter((b) => b.scrapCredited).length);
      expect(allocation.scrapCredited).to.be.at.most(allocation.scrapAllowance);
      expect(allocationAvailable(allocation)).to.be.within(0, allocation.quantity);
      expect(Math.min(allocation.quantity, allocation.consumed, allocation.scrapCredited)).to.be.at.least(0);
    }
    const root = this.licenses[0];
    expect(netConsumedTree, 'net units consumed in the whole tree').to.be.at.most(
      root?.license.grant.quantity ?? 0,
    );
    // Σ scrap allowances that can credit units anywhere in the tree ≤ the root's (issue 7, attack 3).
    expect(
      this.allocations.reduce((sum, a) => sum + a.scrapAllowance, 0),
      'Σ scrap allowances of every allocation in the tree',
    ).to.be.at.most(root?.license.grant.scrapAllowance ?? 0);
    expect(
      this.allocations.reduce((sum, a) => sum + a.scrapCredited, 0),
      'units credited back in the whole tree',
    ).to.be.at.most(root?.license.grant.scrapAllowance ?? 0);
  }
}

describe('license rules over random operation sequences (property)', function () {
  this.timeout(60_000);
  it("keep Σ children + consumed − credited ≤ granted and Σ scrap allowances ≤ the root's at every node after every step", () => {
    let outcomes = { ok: 0, refused: 0 };
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80, size: 'max' }), (steps) => {
        const model = new Model();
        for (const s of steps) {
          try {
            model.apply(s);
            outcomes = { ...outcomes, ok: outcomes.ok + 1 };
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error;
            codes.set(`${s.kind}:${error.code}`, (codes.get(`${s.kind}:${error.code}`) ?? 0) + 1);
            outcomes = { ...outcomes, refused: outcomes.refused + 1 };
          }
          model.checkInvariants();
        }
      }),
      { numRuns: 300 },
    );
    if (process.env['THREADSEAL_PROPERTY_STATS'] !== undefined)
      console.log(outcomes, [...codes.entries()].sort());
    // Both paths must be exercised, or the property proves nothing.
    expect(outcomes.ok).to.be.greaterThan(1000);
    expect(outcomes.refused).to.be.greaterThan(1000);
  });
});
