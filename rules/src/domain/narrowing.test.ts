import type { LicenseGrant, ProductionTerms } from '@threadseal/ledger-model';
import { expect } from 'chai';
import fc from 'fast-check';
import { assertNarrows, narrowingViolations, type GrantAndTerms } from './narrowing.js';
import { LedgerError } from '@threadseal/ledger-model';

const GRANT: LicenseGrant = {
  quantity: 10,
  mode: 'manufacturing',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  maySublicense: true,
  scrapAllowance: 2,
};
const TERMS: ProductionTerms = {
  machines: {
    makes: ['EOS', 'SLM'],
    models: [],
    serials: ['S1', 'S2'],
    requiredCertifications: ['nadcap-am'],
  },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 },
    { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
  ],
  operators: { roles: ['am-operator', 'lead'], qualifications: ['nadcap-am'] },
  workstations: ['ws-1', 'ws-2'],
};
const MATERIAL = { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' } as const;
const PARENT: GrantAndTerms = { grant: GRANT, terms: TERMS };
const child = (grant: Partial<LicenseGrant>, terms: Partial<ProductionTerms> = {}): GrantAndTerms => ({
  grant: { ...GRANT, ...grant },
  terms: { ...TERMS, ...terms },
});

describe('narrowing rules', () => {
  it('accepts identical terms (a license narrows itself)', () => {
    expect(narrowingViolations(PARENT, PARENT)).to.deep.equal([]);
  });

  it('orders modes engineering < manufacturing < distribution', () => {
    expect(narrowingViolations(PARENT, child({ mode: 'engineering' }))).to.deep.equal([]);
    expect(narrowingViolations(PARENT, child({ mode: 'distribution' }))).to.deep.equal([
      'mode distribution is wider than parent mode manufacturing',
    ]);
  });

  it('refuses a longer validity window on either side', () => {
    expect(
      narrowingViolations(
        PARENT,
        child({ validFrom: '2025-12-31T00:00:00.000Z', validUntil: '2027-01-02T00:00:00.000Z' }),
      ),
    ).to.deep.equal([
      'validFrom 2025-12-31T00:00:00.000Z is before parent validFrom 2026-01-01T00:00:00.000Z',
      'validUntil 2027-01-02T00:00:00.000Z is after parent validUntil 2027-01-01T00:00:00.000Z',
    ]);
  });

  it('treats empty machine lists as "any": a constrained parent needs a constrained child', () => {
    const machines = { ...TERMS.machines, makes: [], serials: ['S3'], models: ['M400'] };
    expect(narrowingViolations(PARENT, child({}, { machines }))).to.deep.equal([
      'machine makes must be a non-empty subset of [EOS, SLM], got any',
      'machine serials [S3] not allowed by parent [S1, S2]',
    ]);
  });

  it('requires the child to keep every certification and qualification', () => {
    const terms = {
      machines: { ...TERMS.machines, requiredCertifications: [] },
      operators: { roles: ['lead'], qualifications: ['ndt-2'] },
    };
    expect(narrowingViolations(PARENT, child({}, terms))).to.deep.equal([
      'required certifications must include [nadcap-am]',
      'operator qualifications must include [nadcap-am]',
    ]);
  });

  it('accepts a tighter range or an exact value inside it, refuses a wider range, a changed unit or a changed exact value', () => {
    const tighter = [
      { name: 'laserPower', unit: 'W', kind: 'exact', value: 300 } as const,
      { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' } as const,
    ];
    expect(narrowingViolations(PARENT, child({}, { envelope: tighter }))).to.deep.equal([]);
    const wider = [
      { name: 'laserPower', unit: 'kW', kind: 'range', min: 0.2, max: 0.4 } as const,
      { name: 'material', unit: '', kind: 'exact', value: 'Inconel 718' } as const,
    ];
    expect(narrowingViolations(PARENT, child({}, { envelope: wider }))).to.deep.equal([
      'parameter laserPower unit must be W, got kW',
      'parameter material must stay exactly Ti-6Al-4V',
    ]);
  });

  it('lets a child add parameters of its own', () => {
    const envelope = [
      ...TERMS.envelope,
      { name: 'bedTemperature', unit: 'degC', kind: 'range', min: 170, max: 190 } as const,
    ];
    expect(narrowingViolations(PARENT, child({}, { envelope }))).to.deep.equal([]);
  });

  it('throws NARROWING_VIOLATION naming both licenses', () => {
    expect(() => {
      assertNarrows('L2', 'L1', PARENT, child({ scrapAllowance: 3, maySublicense: true }));
    }).to.throw(
      LedgerError,
      'NARROWING_VIOLATION: sub-license L2 widens parent L1: scrapAllowance 3 exceeds parent scrapAllowance 2',
    );
  });

  it('accepts every randomly narrowed child (property)', () => {
    const subset = <T>(items: readonly T[]) =>
      fc.subarray([...items], { minLength: items.length === 0 ? 0 : 1 });
    const narrowed = fc.record({
      makes: subset(TERMS.machines.makes),
      serials: subset(TERMS.machines.serials),
      roles: subset(TERMS.operators.roles),
      workstations: fc.subarray([...TERMS.workstations]),
      low: fc.integer({ min: 200, max: 300 }),
      high: fc.integer({ min: 300, max: 400 }),
      extraCert: fc.boolean(),
      mode: fc.constantFrom('engineering' as const, 'manufacturing' as const),
      startDays: fc.integer({ min: 0, max: 100 }),
      endDays: fc.integer({ min: 0, max: 100 }),
      scrap: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(narrowed, (n) => {
        const c = child(
          {
            mode: n.mode,
            scrapAllowance: n.scrap,
            validFrom: new Date(Date.parse(GRANT.validFrom) + n.startDays * 86_400_000).toISOString(),
            validUntil: new Date(Date.parse(GRANT.validUntil) - n.endDays * 86_400_000).toISOString(),
          },
          {
            machines: {
              makes: n.makes,
              models: ['M290'],
              serials: n.serials,
              requiredCertifications: n.extraCert ? ['nadcap-am', 'as9100'] : ['nadcap-am'],
            },
            envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: n.low, max: n.high }, MATERIAL],
            operators: { roles: n.roles, qualifications: ['nadcap-am', 'extra'] },
            workstations: n.workstations,
          },
        );
        expect(narrowingViolations(PARENT, c)).to.deep.equal([]);
      }),
    );
  });

  it('refuses every child whose laser range leaves the parent range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 }), (a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const envelope = [{ name: 'laserPower', unit: 'W', kind: 'range', min, max } as const, MATERIAL];
        const violations = narrowingViolations(PARENT, child({}, { envelope }));
        expect(violations.length === 0).to.equal(min >= 200 && max <= 400);
      }),
    );
  });
});

describe('narrowing of operator roles', () => {
  const withRoles = (roles: string[]): GrantAndTerms => ({
    grant: GRANT,
    terms: { ...TERMS, operators: { roles, qualifications: ['nadcap-am'] } },
  });

  it('reads an empty role list as [operator] on both sides', () => {
    expect(narrowingViolations(withRoles([]), withRoles(['operator']))).to.deep.equal([]);
    expect(narrowingViolations(withRoles(['operator']), withRoles([]))).to.deep.equal([]);
    expect(narrowingViolations(withRoles([]), withRoles(['license-admin']))).to.deep.equal([
      'operator roles [license-admin] not allowed by parent [operator]',
    ]);
    expect(narrowingViolations(withRoles(['am-operator']), withRoles([]))).to.deep.equal([
      'operator roles [operator] not allowed by parent [am-operator]',
    ]);
  });
});
