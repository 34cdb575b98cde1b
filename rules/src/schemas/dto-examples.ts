import {
  RELEASE_STANZA_TYPE,
  START_BUILD_REQUEST_TYPE,
  type AbortBuildInput,
  type AllocateInput,
  type AllocationRef,
  type BuildNonceRef,
  type BuildRef,
  type CompleteBuildInput,
  type DeactivateMachineInput,
  type RotateMachineKeysInput,
  type DsiTreeInput,
  type GetDsiInput,
  type IssueLicenseInput,
  type LicenseGrant,
  type LicenseRef,
  type MachineRef,
  type PartRef,
  type ProductionTerms,
  type RecordReleaseInput,
  type RegisterDsiInput,
  type RegisterMachineInput,
  type ReleaseRef,
  type RevokeDsiInput,
  type RevokeLicenseInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildInput,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';

/*
 * One valid instance of every input DTO, published as the `examples` of its JSON Schema. The digests are
 * SHA-256 of short labels, the machine key is a real P-256 SPKI key, and the StartBuild signature and the DSI
 * registration's manifest and signature only have the right shape (they verify against no key).
 */

const DSI_ID = '89333bc71f02c647533ab52e592ad22c609728f12eabff6fda0920109db40401';

const registerDsi: RegisterDsiInput = {
  dsiId: DSI_ID,
  manifest: 'eyJleGFtcGxlIjoibWFuaWZlc3QgYnl0ZXMifQ==',
  signature:
    'MEUCIQDY5yQ4tIVrGZ4qYdVv3Uq9sZ1c5jY0aXo2b7p4vN0lAgIgB2c0P9hE5n3z6m9s2Zq1fX1y6C0xq3Jt5w8n1cV4aQo=',
  signerCertificate:
    '-----BEGIN CERTIFICATE-----\n' +
    'MIIBPDCB4gIUJqZDb7sKxe38rjxa5f3vejeP2HswCgYIKoZIzj0EAwIwFzEVMBMG\n' +
    'A1UEAwwMdW5pdC10ZXN0LWNhMCAXDTI2MTIwMTIwMDUxOVoYDzIxMjYxMTA3MjAw\n' +
    'NTE5WjAoMQ8wDQYDVQQLDAZjbGllbnQxFTATBgNVBAMMDG9lbS1pcC1hZG1pbjBZ\n' +
    'MBMGByqGSM49AgEGCCqGSM49AwEHA0IABIC3llPJU05yQY5a2w/Y9vvoE4W9fSAb\n' +
    'yOW8ALeB++KQZTTrfmMPfmNnfrI1l7UW8tcBbHpucYEwzzGpfHDHGlcwCgYIKoZI\n' +
    'zj0EAwIDSQAwRgIhAMp7Ein13PegM3vOx9XXgopm4ki7hwUAw7m276Q6NVQuAiEA\n' +
    '6m4TW/ROySnIhvEDEcYxPsuNgLVLoavYY96O72Y9rtU=\n' +
    '-----END CERTIFICATE-----\n',
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
    recipientPublicKeyPem:
      '-----BEGIN PUBLIC KEY-----\n' +
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9kDYCKH60F/7u6/IADvXiXTknMRl\n' +
      'D+wQCY+j9Z3BQQzgasiDLfpVWnMGgaunYlZOGZFfexsdkbtRJ29gP4jUaw==\n' +
      '-----END PUBLIC KEY-----\n',
  } satisfies RegisterMachineInput,
  DeactivateMachineInput: { machineId, reason: 'controller replaced' } satisfies DeactivateMachineInput,
  // The registration's two keys swapped: well-formed input (the rule would refuse reusing current keys).
  RotateMachineKeysInput: {
    machineId,
    publicKeyPem:
      '-----BEGIN PUBLIC KEY-----\n' +
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9kDYCKH60F/7u6/IADvXiXTknMRl\n' +
      'D+wQCY+j9Z3BQQzgasiDLfpVWnMGgaunYlZOGZFfexsdkbtRJ29gP4jUaw==\n' +
      '-----END PUBLIC KEY-----\n',
    recipientPublicKeyPem:
      '-----BEGIN PUBLIC KEY-----\n' +
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKHSV/U+NuFkj10GEh00/EnbK9t4A\n' +
      '4GL9ZYPKLs9ERz2Wy82+BrvaWPLSWIty6EVemvEgxKwBA0Tv+hj1b7n9MQ==\n' +
      '-----END PUBLIC KEY-----\n',
    reason: 'signing key suspected copied',
  } satisfies RotateMachineKeysInput,
  MachineRef: { machineId } satisfies MachineRef,
  StartBuildInput: {
    request: {
      type: START_BUILD_REQUEST_TYPE,
      licenseId,
      machineId,
      operator: '5b0d1f3c8e2a47d69c1e0b7a3f58d2c4e6a9b1d3f5c7e9a2b4d6f8a0c2e4b6d8',
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
    machineSignature:
      'MEQCIHexampleexampleexampleexampleexampleexampleAiBexampleexampleexampleexampleexample',
  } satisfies ScrapBuildInput,
  BuildRef: { buildId } satisfies BuildRef,
  BuildNonceRef: { machineId, nonce: 'x7Qm2vRt9KpL4sWn' } satisfies BuildNonceRef,
  RecordReleaseInput: {
    buildId,
    stanza: {
      type: RELEASE_STANZA_TYPE,
      keyId: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881',
      enc: 'BMGXoF+sTB4XLHyHfneHAaB2kbw+sFcbGPF0QeRqs4N0ne2NhAZbZ3QQVaZKLVx20fNPm/LEr22kWScXfZWyrZ0=',
      wrappedKeys: 'tOhkbLYY2FcBD68gHU6yvQPKA+j9LG0NRcCnE8gszMWfSmnx/5fVMUOJ7zKoPHjW',
    },
  } satisfies RecordReleaseInput,
  ReleaseRef: { buildId } satisfies ReleaseRef,
  PartRef: { partId: 'HSG-2210-B-0001' } satisfies PartRef,
  AllocationRef: { licenseId, machineId } satisfies AllocationRef,
} as const;
