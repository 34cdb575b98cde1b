import { createHash } from 'node:crypto';
import type { LicenseGrant, ProductionTerms, RegisterDsiInput } from '@threadseal/ledger-model';
import type { UnitTestUser } from './unit-test-stub.js';

/** UNIT-TEST ONLY: the orgs, users and terms of the aerospace scenario. */

export const OEM = 'OemMSP';
export const CM = 'ManufacturerMSP';
export const SUB = 'SubcontractorMSP';

const user = (mspId: string, name: string, attributes: Record<string, string>): UnitTestUser => ({
  mspId,
  name,
  attributes,
});

export const USERS = {
  oemAdmin: user(OEM, 'oem-ip-admin', { role: 'ip-admin' }),
  cmAdmin: user(CM, 'cm-license-admin', { role: 'license-admin' }),
  cmMachineAdmin: user(CM, 'cm-machine-admin', { role: 'machine-admin' }),
  cmOperator: user(CM, 'cm-operator', { role: 'am-operator', qualification: 'nadcap-am, ndt-2' }),
  subAdmin: user(SUB, 'sub-license-admin', { role: 'license-admin' }),
  subMachineAdmin: user(SUB, 'sub-machine-admin', { role: 'machine-admin' }),
  subOperator: user(SUB, 'sub-operator', { role: 'am-operator', qualification: 'nadcap-am,ndt-2,ti-powder' }),
  subTrainee: user(SUB, 'sub-trainee', { role: 'am-operator', qualification: 'nadcap-am' }),
} as const;

/** Hex SHA-256 of a string, for digests in fixtures. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const START = new Date('2026-03-01T08:00:00.000Z');

export const DSI: RegisterDsiInput = {
  // DSI id = SHA-256 (lower-case hex) of the signed manifest bytes (docs/container-format.md).
  dsiId: sha256('manifest: bracket rev C'),
  partNumber: 'BRKT-7731',
  revision: 'C',
  title: 'Titanium engine mount bracket',
  fileDigests: [
    { path: 'model/bracket.3mf', ciphertextDigest: sha256('3mf') },
    { path: 'process/build-plan.json', ciphertextDigest: sha256('plan') },
  ],
  ownerCertFingerprint: sha256('oem signing cert'),
};

export const ROOT_GRANT: LicenseGrant = {
  quantity: 20,
  mode: 'manufacturing',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2027-01-01T00:00:00.000Z',
  maySublicense: true,
  scrapAllowance: 2,
};

export const ROOT_TERMS: ProductionTerms = {
  machines: {
    makes: ['EOS', 'SLM'],
    models: ['M400', 'M290', 'SLM500'],
    serials: [],
    requiredCertifications: ['nadcap-am'],
  },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 200, max: 400 },
    { name: 'bedTemperature', unit: 'degC', kind: 'range', min: 150, max: 200 },
    { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
  ],
  operators: { roles: ['am-operator'], qualifications: ['nadcap-am'] },
  workstations: [],
};

/** The contract manufacturer's own shop floor: same terms, 12 units. */
export const FLOOR_GRANT: LicenseGrant = {
  ...ROOT_GRANT,
  quantity: 12,
  maySublicense: false,
  scrapAllowance: 1,
};

/** The subcontractor: 8 units, EOS M290 only, tighter laser power, an extra qualification. */
export const SUB_GRANT: LicenseGrant = {
  ...ROOT_GRANT,
  quantity: 8,
  maySublicense: false,
  scrapAllowance: 1,
  validUntil: '2026-09-01T00:00:00.000Z',
};
export const SUB_TERMS: ProductionTerms = {
  machines: {
    makes: ['EOS'],
    models: ['M290'],
    serials: [],
    requiredCertifications: ['nadcap-am', 'as9100'],
  },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 250, max: 350 },
    { name: 'bedTemperature', unit: 'degC', kind: 'exact', value: 180 },
    { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
  ],
  operators: { roles: ['am-operator'], qualifications: ['nadcap-am', 'ti-powder'] },
  workstations: [],
};

/** Parameters inside both envelopes. */
export const GOOD_PARAMETERS = {
  laserPower: 300,
  bedTemperature: 180,
  material: 'Ti-6Al-4V',
  layerThickness: 0.03,
} as const;
