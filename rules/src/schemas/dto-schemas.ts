import { LICENSE_MODES, RELEASE_STANZA_TYPE, START_BUILD_REQUEST_TYPE } from '@threadseal/ledger-model';
import { DTO_EXAMPLES } from './dto-examples.js';

/*
 * JSON Schemas (draft 2020-12) of the DTOs, written to accept what the decoders of ../inputs accept. Every
 * schema is self-contained (no `$ref`), so each can be published on its own as an OpenAPI component.
 * A schema cannot say everything a decoder checks; the decoders stay authoritative for these cross-field
 * rules: `validUntil` after `validFrom`, `min ≤ max` of a range, unique envelope parameter names, instants
 * that are real dates, and lengths counted in UTF-16 code units. Unknown members are allowed in inputs
 * because the decoders drop them.
 */

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$',
  description: '1..128 characters [A-Za-z0-9._:@+-], starting alphanumeric',
} as const;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'lower-case hex SHA-256' } as const;
const instant = {
  type: 'string',
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$',
  description: 'ISO 8601 UTC instant as Date.prototype.toISOString writes it',
} as const;
const text = <const N extends number>(maxLength: N) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\u0000]*$' }) as const;
const integerFrom = <const N extends number>(minimum: N) =>
  ({ type: 'integer', minimum, maximum: Number.MAX_SAFE_INTEGER }) as const;
const uniqueStrings = {
  type: 'array',
  maxItems: 256,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 128 },
} as const;
const parameterValue = { type: ['number', 'string'] } as const;

const fileDigest = {
  type: 'object',
  required: ['path', 'ciphertextDigest'],
  properties: { path: text(1024), ciphertextDigest: hex64 },
} as const;

const grant = {
  type: 'object',
  required: ['quantity', 'mode', 'validFrom', 'validUntil', 'maySublicense', 'scrapAllowance'],
  properties: {
    quantity: integerFrom(1),
    mode: { enum: LICENSE_MODES },
    validFrom: instant,
    validUntil: instant,
    maySublicense: { type: 'boolean' },
    scrapAllowance: integerFrom(0),
  },
} as const;

const parameterBound = {
  type: 'object',
  required: ['name', 'unit', 'kind'],
  properties: {
    name: text(64),
    unit: { type: 'string', maxLength: 32 },
    kind: { enum: ['range', 'exact'] },
  },
  oneOf: [
    {
      type: 'object',
      required: ['min', 'max'],
      properties: { kind: { const: 'range' }, min: { type: 'number' }, max: { type: 'number' } },
    },
    {
      type: 'object',
      required: ['value'],
      properties: {
        kind: { const: 'exact' },
        value: { oneOf: [{ type: 'number' }, { type: 'string', minLength: 1, maxLength: 128 }] },
      },
    },
  ],
} as const;

const releaseStanza = {
  type: 'object',
  required: ['type', 'keyId', 'enc', 'wrappedKeys'],
  properties: {
    type: { const: RELEASE_STANZA_TYPE },
    keyId: hex64,
    enc: { type: 'string', minLength: 88, maxLength: 88, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
    wrappedKeys: { type: 'string', minLength: 1, maxLength: 426688, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
  },
} as const;

const productionTerms = {
  type: 'object',
  required: ['machines', 'envelope', 'operators', 'workstations'],
  properties: {
    machines: {
      type: 'object',
      required: ['makes', 'models', 'serials', 'requiredCertifications'],
      properties: {
        makes: uniqueStrings,
        models: uniqueStrings,
        serials: uniqueStrings,
        requiredCertifications: uniqueStrings,
      },
    },
    envelope: { type: 'array', maxItems: 256, items: parameterBound },
    operators: {
      type: 'object',
      required: ['roles', 'qualifications'],
      properties: { roles: uniqueStrings, qualifications: uniqueStrings },
    },
    workstations: uniqueStrings,
    digestKey: {
      ...hex64,
      description:
        'confidential terms only: 32 random bytes keying termsHash and the builds’ parametersDigest (HMAC-SHA256); kept in the collection, never on the channel',
    },
  },
} as const;

const base64 = (maxLength: number, description: string) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[A-Za-z0-9+/]+={0,2}$', description }) as const;
const registerDsiProperties = {
  dsiId: {
    ...hex64,
    description: 'SHA-256 of the signed manifest bytes; the chaincode computes and compares it',
  },
  manifest: base64(Math.ceil((16 * 1024 * 1024) / 3) * 4, 'the signed manifest bytes (DSSE payload)'),
  signature: base64(256, 'DER ECDSA P-256 signature over the DSSE pre-authentication encoding'),
  signerCertificate: {
    type: 'string',
    maxLength: 16_384,
    pattern: '^-----BEGIN CERTIFICATE-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END CERTIFICATE-----\\r?\\n?$',
    description: 'PEM of the signer certificate: the submitter’s own',
  },
} as const;
const registerDsiRequired = ['dsiId', 'manifest', 'signature', 'signerCertificate'] as const;

const startBuildRequest = {
  type: 'object',
  required: ['type', 'licenseId', 'machineId', 'operator', 'nonce', 'issuedAt', 'parameters'],
  properties: {
    type: { const: START_BUILD_REQUEST_TYPE },
    licenseId: id,
    machineId: id,
    operator: {
      ...hex64,
      description:
        'lower-case hex SHA-256 of the operator’s Fabric identity bytes (their PEM certificate); must be the submitter’s',
    },
    nonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' },
    issuedAt: instant,
    parameters: { type: 'object', additionalProperties: parameterValue },
  },
} as const;

/** An input DTO's schema: an object with its examples. */
const input = <const P, const R extends readonly string[], E>(
  title: string,
  description: string,
  properties: P,
  required: R,
  example: E,
) =>
  ({
    $schema: DRAFT,
    title,
    description,
    type: 'object',
    required,
    properties,
    examples: [example],
  }) as const;

/** An output DTO's schema: every member always present, nothing else. */
const output = <const P extends Record<string, unknown>>(title: string, description: string, properties: P) =>
  ({
    $schema: DRAFT,
    title,
    description,
    type: 'object',
    required: Object.keys(properties) as (keyof P & string)[],
    properties,
    additionalProperties: false,
  }) as const;

const nullable = <const S extends { readonly type: string }>(schema: S) =>
  ({ ...schema, type: [schema.type, 'null'] }) as const;
const nullableString = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

/** JSON Schemas (draft 2020-12) of every transaction input DTO, by type name. */
export const INPUT_SCHEMAS = {
  RegisterDsiInput: input(
    'RegisterDsiInput',
    'Input of dsi:Register: the container’s signed manifest, signature and signer certificate; the signer must be the submitter, whose MSP becomes the owner.',
    registerDsiProperties,
    registerDsiRequired,
    DTO_EXAMPLES.RegisterDsiInput,
  ),
  SupersedeDsiInput: input(
    'SupersedeDsiInput',
    'Input of dsi:Supersede: registers successor as the new revision of dsiId.',
    {
      dsiId: hex64,
      successor: { type: 'object', required: registerDsiRequired, properties: registerDsiProperties },
    },
    ['dsiId', 'successor'],
    DTO_EXAMPLES.SupersedeDsiInput,
  ),
  RevokeDsiInput: input(
    'RevokeDsiInput',
    'Input of dsi:Revoke.',
    { dsiId: hex64, reason: text(1024) },
    ['dsiId', 'reason'],
    DTO_EXAMPLES.RevokeDsiInput,
  ),
  GetDsiInput: input(
    'GetDsiInput',
    'Input of dsi:Get.',
    { dsiId: hex64 },
    ['dsiId'],
    DTO_EXAMPLES.GetDsiInput,
  ),
  DsiTreeInput: input(
    'DsiTreeInput',
    'Input of trace:GetDsiTree.',
    { dsiId: hex64 },
    ['dsiId'],
    DTO_EXAMPLES.DsiTreeInput,
  ),
  ProductionTerms: {
    $schema: DRAFT,
    title: 'ProductionTerms',
    description:
      'The production terms of a license; in the argument of a public license, in the transient field `terms` or `terms.<licenseId>` of a confidential one.',
    ...productionTerms,
    examples: [DTO_EXAMPLES.ProductionTerms],
  },
  IssueLicenseInput: input(
    'IssueLicenseInput',
    'Input of license:Issue; with confidential true, omit terms and pass them in the transient field `terms`.',
    {
      licenseId: id,
      dsiId: hex64,
      holderMsp: id,
      grant,
      confidential: { type: 'boolean' },
      terms: productionTerms,
    },
    ['licenseId', 'dsiId', 'holderMsp', 'grant', 'confidential'],
    DTO_EXAMPLES.IssueLicenseInput,
  ),
  SplitLicenseInput: input(
    'SplitLicenseInput',
    'Input of license:Split; confidentiality is inherited from the parent license.',
    { parentId: id, licenseId: id, holderMsp: id, grant, terms: productionTerms },
    ['parentId', 'licenseId', 'holderMsp', 'grant'],
    DTO_EXAMPLES.SplitLicenseInput,
  ),
  AllocateInput: input(
    'AllocateInput',
    'Input of license:Allocate: units of a manufacturing license for one of the holder’s machines.',
    { licenseId: id, machineId: id, quantity: integerFrom(1), scrapAllowance: integerFrom(0) },
    ['licenseId', 'machineId', 'quantity', 'scrapAllowance'],
    DTO_EXAMPLES.AllocateInput,
  ),
  RevokeLicenseInput: input(
    'RevokeLicenseInput',
    'Input of license:Revoke (grantor only).',
    { licenseId: id, reason: text(1024) },
    ['licenseId', 'reason'],
    DTO_EXAMPLES.RevokeLicenseInput,
  ),
  LicenseRef: input(
    'LicenseRef',
    'Input of license:Get, license:GetTerms and trace:GetLicenseHistory.',
    { licenseId: id },
    ['licenseId'],
    DTO_EXAMPLES.LicenseRef,
  ),
  RegisterMachineInput: input(
    'RegisterMachineInput',
    'Input of machine:Register; the owner org is the submitter’s MSP.',
    {
      machineId: id,
      make: text(128),
      model: text(128),
      serial: text(128),
      firmware: text(128),
      certifications: uniqueStrings,
      publicKeyPem: text(4096),
      recipientPublicKeyPem: text(4096),
    },
    [
      'machineId',
      'make',
      'model',
      'serial',
      'firmware',
      'certifications',
      'publicKeyPem',
      'recipientPublicKeyPem',
    ],
    DTO_EXAMPLES.RegisterMachineInput,
  ),
  DeactivateMachineInput: input(
    'DeactivateMachineInput',
    'Input of machine:Deactivate (the owner org’s machine-admin): no build starts on it and no key is released to it from then on.',
    { machineId: id, reason: text(1024) },
    ['machineId', 'reason'],
    DTO_EXAMPLES.DeactivateMachineInput,
  ),
  RotateMachineKeysInput: input(
    'RotateMachineKeysInput',
    'Input of machine:RotateKeys (the owner org’s machine-admin; the IP owner’s peer co-signs): two new P-256 keys; requests signed with the old key fail from then on.',
    { machineId: id, publicKeyPem: text(4096), recipientPublicKeyPem: text(4096), reason: text(1024) },
    ['machineId', 'publicKeyPem', 'recipientPublicKeyPem', 'reason'],
    DTO_EXAMPLES.RotateMachineKeysInput,
  ),
  MachineRef: input(
    'MachineRef',
    'Input of machine:Get.',
    { machineId: id },
    ['machineId'],
    DTO_EXAMPLES.MachineRef,
  ),
  StartBuildInput: input(
    'StartBuildInput',
    'Input of build:Start: a machine-signed request; under a confidential license it travels in the transient field `startBuild`.',
    {
      request: startBuildRequest,
      signature: { type: 'string', maxLength: 256, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
    },
    ['request', 'signature'],
    DTO_EXAMPLES.StartBuildInput,
  ),
  CompleteBuildInput: input(
    'CompleteBuildInput',
    'Input of build:Complete.',
    { buildId: id, partId: id, processRecordDigest: hex64 },
    ['buildId', 'partId', 'processRecordDigest'],
    DTO_EXAMPLES.CompleteBuildInput,
  ),
  AbortBuildInput: input(
    'AbortBuildInput',
    'Input of build:Abort.',
    { buildId: id, reason: text(1024) },
    ['buildId', 'reason'],
    DTO_EXAMPLES.AbortBuildInput,
  ),
  ScrapBuildInput: input(
    'ScrapBuildInput',
    'Input of build:Scrap; evidenceDigest may be omitted or null. Crediting the unit back (requestCredit) needs evidenceDigest and machineSignature: the build’s machine’s DER ECDSA P-256 signature over the canonical JSON of {type: "threadseal.scrap-record.v1", buildId, reason, evidenceDigest}.',
    {
      buildId: id,
      reason: text(1024),
      evidenceDigest: nullable(hex64),
      requestCredit: { type: 'boolean' },
      machineSignature: nullable({
        type: 'string',
        maxLength: 256,
        pattern: '^[A-Za-z0-9+/]+={0,2}$',
        description: 'base64 DER ECDSA signature of the build’s machine over the scrap record',
      }),
    },
    ['buildId', 'reason', 'requestCredit'],
    DTO_EXAMPLES.ScrapBuildInput,
  ),
  BuildRef: input('BuildRef', 'Input of build:Get.', { buildId: id }, ['buildId'], DTO_EXAMPLES.BuildRef),
  BuildNonceRef: input(
    'BuildNonceRef',
    'Input of build:GetByNonce: the build a machine’s signed request started.',
    { machineId: id, nonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' } },
    ['machineId', 'nonce'],
    DTO_EXAMPLES.BuildNonceRef,
  ),
  RecordReleaseInput: input(
    'RecordReleaseInput',
    'Input of release:Record (the DSI owner’s key-release service): the content keys sealed to the machine of a running build.',
    { buildId: id, stanza: releaseStanza },
    ['buildId', 'stanza'],
    DTO_EXAMPLES.RecordReleaseInput,
  ),
  ReleaseRef: input(
    'ReleaseRef',
    'Input of release:Get.',
    { buildId: id },
    ['buildId'],
    DTO_EXAMPLES.ReleaseRef,
  ),
  PartRef: input(
    'PartRef',
    'Input of trace:GetPart and trace:GetPartHistory.',
    { partId: id },
    ['partId'],
    DTO_EXAMPLES.PartRef,
  ),
  AllocationRef: input(
    'AllocationRef',
    'Input of trace:GetAllocationHistory.',
    { licenseId: id, machineId: id },
    ['licenseId', 'machineId'],
    DTO_EXAMPLES.AllocationRef,
  ),
} as const;

/** JSON Schemas (draft 2020-12) of the main output DTOs, as the chaincode writes them. */
export const OUTPUT_SCHEMAS = {
  Dsi: output('Dsi', 'A DSI as stored on the channel.', {
    dsiId: hex64,
    ownerMsp: { type: 'string' },
    partNumber: { type: 'string' },
    revision: { type: 'string' },
    title: { type: 'string' },
    fileDigests: { type: 'array', items: fileDigest },
    ownerCertFingerprint: hex64,
    status: { enum: ['active', 'superseded', 'revoked'] },
    supersedes: nullableString,
    supersededBy: nullableString,
    revokedReason: nullableString,
    registeredAt: instant,
    updatedAt: instant,
  }),
  License: output('License', 'The immutable part of a license.', {
    licenseId: { type: 'string' },
    dsiId: hex64,
    parentId: nullableString,
    ancestry: strings,
    grantorMsp: { type: 'string' },
    holderMsp: { type: 'string' },
    grant,
    terms: { oneOf: [productionTerms, { type: 'null' }] },
    termsHash: hex64,
    confidential: {
      oneOf: [
        { type: 'object', required: ['collection'], properties: { collection: { type: 'string' } } },
        { type: 'null' },
      ],
    },
    issuedAt: instant,
    issuedTxId: { type: 'string' },
  }),
  Allocation: output('Allocation', "A machine's share of a license.", {
    licenseId: { type: 'string' },
    machineId: { type: 'string' },
    dsiId: hex64,
    holderMsp: { type: 'string' },
    quantity: integerFrom(0),
    consumed: integerFrom(0),
    scrapCredited: integerFrom(0),
    scrapAllowance: integerFrom(0),
  }),
  Machine: output('Machine', 'A registered machine.', {
    machineId: { type: 'string' },
    ownerMsp: { type: 'string' },
    make: { type: 'string' },
    model: { type: 'string' },
    serial: { type: 'string' },
    firmware: { type: 'string' },
    certifications: strings,
    publicKeyPem: { type: 'string' },
    recipientPublicKeyPem: { type: 'string' },
    status: { enum: ['active', 'deactivated'] },
    registeredAt: instant,
    deactivatedAt: nullable(instant),
    deactivationReason: nullable({ type: 'string' }),
  }),
  Build: output('Build', 'One build; its id is the StartBuild transaction id.', {
    buildId: { type: 'string' },
    dsiId: hex64,
    licenseId: { type: 'string' },
    machineId: { type: 'string' },
    machineOwnerMsp: { type: 'string' },
    operatorId: { type: 'string' },
    nonce: { type: 'string' },
    parameters: {
      oneOf: [{ type: 'object', additionalProperties: parameterValue }, { type: 'null' }],
    },
    parametersDigest: hex64,
    status: { enum: ['running', 'completed', 'aborted', 'scrapped'] },
    startedAt: instant,
    endedAt: nullable(instant),
    partId: nullableString,
    processRecordDigest: nullable(hex64),
    reason: nullableString,
    evidenceDigest: nullable(hex64),
    scrapCredited: { type: 'boolean' },
  }),
  Part: output('Part', 'A produced part.', {
    partId: { type: 'string' },
    buildId: { type: 'string' },
    dsiId: hex64,
    licenseId: { type: 'string' },
    machineId: { type: 'string' },
    producerMsp: { type: 'string' },
    processRecordDigest: hex64,
    producedAt: instant,
  }),
  KeyRelease: output('KeyRelease', 'The content keys of a DSI released to the machine of one build.', {
    buildId: { type: 'string' },
    dsiId: hex64,
    licenseId: { type: 'string' },
    machineId: { type: 'string' },
    machineOwnerMsp: { type: 'string' },
    stanza: releaseStanza,
    releasedByMsp: { type: 'string' },
    releasedBy: { type: 'string' },
    releasedAt: instant,
  }),
} as const;

/** Every DTO schema, inputs and outputs, by type name: the components an OpenAPI document publishes. */
export const DTO_SCHEMAS = { ...INPUT_SCHEMAS, ...OUTPUT_SCHEMAS } as const;

/** The name of a DTO with a schema. */
export type DtoSchemaName = keyof typeof DTO_SCHEMAS;
