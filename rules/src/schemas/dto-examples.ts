import {
  START_BUILD_REQUEST_TYPE,
  type AbortBuildInput,
  type AllocateInput,
  type AllocationRef,
  type BuildRef,
  type CompleteBuildInput,
  type DsiTreeInput,
  type GetDsiInput,
  type IssueLicenseInput,
  type LicenseGrant,
  type LicenseRef,
  type MachineRef,
  type PartRef,
  type ProductionTerms,
  type RegisterDsiInput,
  type RegisterMachineInput,
  type RevokeDsiInput,
  type RevokeLicenseInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildInput,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';

/*
 * One valid instance of every input DTO, published as the `examples` of its JSON Schema. The digests are
 * SHA-256 of short labels, the machine key is a real P-256 SPKI key, and the StartBuild signature only has
 * the right shape (it verifies against no key).
 */

const DSI_ID = '89333bc71f02c647533ab52e592ad22c609728f12eabff6fda0920109db40401';

const registerDsi: RegisterDsiInput = {
  dsiId: DSI_ID,
  partNumber: 'HSG-2210',
  revision: 'B',
  title: 'Inconel turbine housing',
  fileDigests: [
    {
      path: 'model/housing.3mf',
      ciphertextDigest: '03f4884a8deed0886c0db1f652345d0ef03aa65ae86a119e9a51a3762950393b',
    },
    {
      path: 'process/plan.json',
      ciphertextDigest: '48ea4ca7c00783c2feba6615bc268a82da536b350bf07454b2d9898704f86ff2',
    },
  ],
  ownerCertFingerprint: '811da315484967c9006b81c6ed0e4edf12be9896a8d6cb5477f739db58239110',
};

const grant: LicenseGrant = {
  quantity: 6,
  mode: 'manufacturing',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2026-07-01T00:00:00.000Z',
  maySublicense: false,
  scrapAllowance: 1,
};

const terms: ProductionTerms = {
  machines: { makes: ['EOS'], models: ['M290'], serials: [], requiredCertifications: ['as9100'] },
  envelope: [
    { name: 'laserPower', unit: 'W', kind: 'range', min: 180, max: 370 },
    { name: 'powder', unit: '', kind: 'exact', value: 'IN718' },
  ],
  operators: { roles: ['am-operator'], qualifications: [] },
  workstations: [],
};

const licenseId = 'L-HSG-1';
const machineId = 'eos-m290-7';
const buildId = '5f1d2c0a9b8e7d6c5f1d2c0a9b8e7d6c5f1d2c0a9b8e7d6c5f1d2c0a9b8e7d6c';

/** A valid example of each input DTO, by the name of its schema in {@link DTO_SCHEMAS}. */
export const DTO_EXAMPLES = {
  RegisterDsiInput: registerDsi,
  SupersedeDsiInput: {
    dsiId: DSI_ID,
    successor: {
      ...registerDsi,
      dsiId: '27ba4c110e28d18d46d93ef74bbb0fc332cf5ad1f993033bcfbc726573b8eabe',
      revision: 'C',
    },
  } satisfies SupersedeDsiInput,
  RevokeDsiInput: { dsiId: DSI_ID, reason: 'drawing error in revision B' } satisfies RevokeDsiInput,
  GetDsiInput: { dsiId: DSI_ID } satisfies GetDsiInput,
  DsiTreeInput: { dsiId: DSI_ID } satisfies DsiTreeInput,
  ProductionTerms: terms,
  IssueLicenseInput: {
    licenseId,
    dsiId: DSI_ID,
    holderMsp: 'ManufacturerMSP',
    grant,
    confidential: false,
    terms,
  } satisfies IssueLicenseInput,
  SplitLicenseInput: {
    parentId: licenseId,
    licenseId: 'L-HSG-1.1',
    holderMsp: 'SubcontractorMSP',
    grant: { ...grant, quantity: 2, scrapAllowance: 0 },
  } satisfies SplitLicenseInput,
  AllocateInput: { licenseId, machineId, quantity: 3, scrapAllowance: 1 } satisfies AllocateInput,
  RevokeLicenseInput: { licenseId, reason: 'contract ended' } satisfies RevokeLicenseInput,
  LicenseRef: { licenseId } satisfies LicenseRef,
  RegisterMachineInput: {
    machineId,
    make: 'EOS',
    model: 'M290',
    serial: 'SN-29007',
    firmware: '4.2.1',
    certifications: ['as9100'],
    publicKeyPem:
      '-----BEGIN PUBLIC KEY-----\n' +
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKHSV/U+NuFkj10GEh00/EnbK9t4A\n' +
      '4GL9ZYPKLs9ERz2Wy82+BrvaWPLSWIty6EVemvEgxKwBA0Tv+hj1b7n9MQ==\n' +
      '-----END PUBLIC KEY-----\n',
  } satisfies RegisterMachineInput,
  MachineRef: { machineId } satisfies MachineRef,
  StartBuildInput: {
    request: {
      type: START_BUILD_REQUEST_TYPE,
      licenseId,
      machineId,
      nonce: 'x7Qm2vRt9KpL4sWn',
      issuedAt: '2026-03-02T09:30:00.000Z',
      parameters: { laserPower: 285, powder: 'IN718' },
    },
    signature: 'MEUCIQDexampleexampleexampleexampleexampleexampleAiBexampleexampleexampleexampleexample=',
  } satisfies StartBuildInput,
  CompleteBuildInput: {
    buildId,
    partId: 'HSG-2210-B-0001',
    processRecordDigest: '27ba4c110e28d18d46d93ef74bbb0fc332cf5ad1f993033bcfbc726573b8eabe',
  } satisfies CompleteBuildInput,
  AbortBuildInput: { buildId, reason: 'recoater crash at layer 212' } satisfies AbortBuildInput,
  ScrapBuildInput: {
    buildId,
    reason: 'porosity above limit',
    evidenceDigest: '03f4884a8deed0886c0db1f652345d0ef03aa65ae86a119e9a51a3762950393b',
    requestCredit: true,
  } satisfies ScrapBuildInput,
  BuildRef: { buildId } satisfies BuildRef,
  PartRef: { partId: 'HSG-2210-B-0001' } satisfies PartRef,
  AllocationRef: { licenseId, machineId } satisfies AllocationRef,
} as const;
