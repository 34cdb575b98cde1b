import { LedgerError, type Machine, type ProductionTerms } from '@threadseal/ledger-model';
import { expect } from 'chai';
import type { Actor } from './actor.js';
import {
  assertMachineEligible,
  assertOperatorQualified,
  assertParametersInEnvelope,
  envelopeViolations,
} from './eligibility.js';

const TERMS: ProductionTerms = {
  machines: {
    makes: ['EOS'],
    models: ['M290'],
    serials: [],
    requiredCertifications: ['nadcap-am', 'as9100'],
  },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 250, max: 350 },
    { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
  ],
  operators: { roles: [], qualifications: ['ti-powder'] },
  workstations: [],
};
const MACHINE: Machine = {
  machineId: 'm1',
  ownerMsp: 'SubcontractorMSP',
  make: 'EOS',
  model: 'M290',
  serial: 'S1',
  firmware: '1',
  certifications: ['nadcap-am', 'as9100'],
  publicKeyPem: '',
  recipientPublicKeyPem: '',
  status: 'active',
  registeredAt: '2026-01-01T00:00:00.000Z',
  deactivatedAt: null,
  deactivationReason: null,
};
const OPERATOR: Actor = {
  mspId: 'SubcontractorMSP',
  id: 'op',
  role: 'operator',
  qualifications: ['ti-powder'],
};

describe('eligibility rules', () => {
  it('accepts a machine matching make, model and certifications', () => {
    expect(() => {
      assertMachineEligible('L1', TERMS, MACHINE);
    }).not.to.throw();
  });

  it('names the first failed machine constraint', () => {
    expect(() => {
      assertMachineEligible('L1', TERMS, { ...MACHINE, model: 'M400' });
    }).to.throw(
      LedgerError,
      'MACHINE_NOT_ELIGIBLE: machine m1 does not satisfy license L1: model M400 not in [M290]',
    );
    expect(() => {
      assertMachineEligible('L1', TERMS, { ...MACHINE, certifications: ['nadcap-am'] });
    }).to.throw(
      LedgerError,
      'MACHINE_NOT_ELIGIBLE: machine m1 does not satisfy license L1: missing certifications [as9100]',
    );
    expect(() => {
      assertMachineEligible('L1', { ...TERMS, machines: { ...TERMS.machines, serials: ['S9'] } }, MACHINE);
    }).to.throw(
      LedgerError,
      'MACHINE_NOT_ELIGIBLE: machine m1 does not satisfy license L1: serial S1 not in [S9]',
    );
  });

  it('requires role operator when a license names no roles, and every qualification', () => {
    expect(() => {
      assertOperatorQualified('L1', TERMS, OPERATOR);
    }).not.to.throw();
    expect(() => {
      assertOperatorQualified('L1', TERMS, { ...OPERATOR, role: 'license-admin' });
    }).to.throw(
      LedgerError,
      'OPERATOR_NOT_QUALIFIED: license L1 requires role one of [operator], operator has license-admin',
    );
    expect(() => {
      assertOperatorQualified('L1', TERMS, { ...OPERATOR, role: null });
    }).to.throw(
      LedgerError,
      'OPERATOR_NOT_QUALIFIED: license L1 requires role one of [operator], operator has no role',
    );
    expect(() => {
      assertOperatorQualified('L1', TERMS, { ...OPERATOR, qualifications: [] });
    }).to.throw(
      LedgerError,
      'OPERATOR_NOT_QUALIFIED: license L1 requires qualifications [ti-powder] the operator lacks',
    );
  });

  it('checks every envelope parameter: presence, range bounds inclusive, exact values and types', () => {
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: 250, material: 'Ti-6Al-4V', extra: 1 });
    }).not.to.throw();
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: 350, material: 'Ti-6Al-4V' });
    }).not.to.throw();
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: 350.5, material: 'Ti-6Al-4V' });
    }).to.throw(
      LedgerError,
      'PARAMETER_OUT_OF_ENVELOPE: license L1 requires laserPower in [250, 350] W, request has 350.5',
    );
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: '300', material: 'Ti-6Al-4V' });
    }).to.throw(
      LedgerError,
      'PARAMETER_OUT_OF_ENVELOPE: license L1 requires laserPower in [250, 350] W, request has "300"',
    );
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: 300, material: 'Inconel' });
    }).to.throw(
      LedgerError,
      'PARAMETER_OUT_OF_ENVELOPE: license L1 requires material = "Ti-6Al-4V", request has "Inconel"',
    );
    expect(() => {
      assertParametersInEnvelope('L1', TERMS, { laserPower: 300 });
    }).to.throw(
      LedgerError,
      'PARAMETER_OUT_OF_ENVELOPE: license L1 requires material = "Ti-6Al-4V", request has none',
    );
  });

  it('lists every envelope violation of a program without throwing, in envelope order', () => {
    expect(envelopeViolations(TERMS.envelope, { laserPower: 250, material: 'Ti-6Al-4V' })).to.deep.equal([]);
    expect(envelopeViolations(TERMS.envelope, { laserPower: 400, powder: 'IN718' })).to.deep.equal([
      { parameter: 'laserPower', expected: 'in [250, 350] W', found: 400 },
      { parameter: 'material', expected: '= "Ti-6Al-4V"', found: undefined },
    ]);
  });
});
