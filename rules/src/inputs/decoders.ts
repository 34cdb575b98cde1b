import {
  LICENSE_MODES,
  LedgerError,
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
  type ParameterBound,
  type ParameterValue,
  type PartRef,
  type ProductionTerms,
  type RecordReleaseInput,
  type RegisterDsiInput,
  type RegisterMachineInput,
  type ReleaseRef,
  type ReleaseStanza,
  type RevokeDsiInput,
  type RevokeLicenseInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildInput,
  type StartBuildRequest,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';
import { instant, isCanonicalInstant } from '../domain/time.js';

/*
 * Decoders of the JSON argument of every transaction. Each returns a fresh, fully validated object (never
 * the parsed input) and throws INVALID_ARGUMENT naming the offending path, what was expected and what was found.
 */

type Obj = Readonly<Record<string, unknown>>;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const NONCE = /^[A-Za-z0-9_-]{8,128}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function invalid(path: string, expected: string, found: unknown): never {
  // JSON.stringify is typed as string but returns undefined for undefined, functions and symbols.
  const json = JSON.stringify(found) as string | undefined;
  const shown = json === undefined ? 'nothing' : json.slice(0, 80);
  throw new LedgerError('INVALID_ARGUMENT', `${path}: expected ${expected}, got ${shown}`);
}

function object(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(path, 'an object', value);
  return value as Obj;
}

function text(o: Obj, key: string, path: string, max = 256): string {
  const value = o[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\u0000'))
    invalid(`${path}.${key}`, `a string of 1..${max} characters`, value);
  return value;
}

function id(o: Obj, key: string, path: string): string {
  const value = o[key];
  if (typeof value !== 'string' || !ID.test(value))
    invalid(`${path}.${key}`, 'an id of 1..128 characters [A-Za-z0-9._:@+-] starting alphanumeric', value);
  return value;
}

function hex64(o: Obj, key: string, path: string): string {
  const value = o[key];
  if (typeof value !== 'string' || !HEX64.test(value))
    invalid(`${path}.${key}`, '64 lower-case hex characters (SHA-256)', value);
  return value;
}

function integer(o: Obj, key: string, path: string, min: number): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    invalid(`${path}.${key}`, `an integer >= ${min}`, value);
  return value;
}

function finite(o: Obj, key: string, path: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    invalid(`${path}.${key}`, 'a finite number', value);
  return value;
}

function bool(o: Obj, key: string, path: string): boolean {
  const value = o[key];
  if (typeof value !== 'boolean') invalid(`${path}.${key}`, 'true or false', value);
  return value;
}

function isoInstant(o: Obj, key: string, path: string): string {
  const value = o[key];
  if (typeof value !== 'string' || !isCanonicalInstant(value))
    invalid(`${path}.${key}`, 'an ISO 8601 UTC instant like 2026-01-01T00:00:00.000Z', value);
  return value;
}

function list<T>(
  o: Obj,
  key: string,
  path: string,
  item: (value: unknown, itemPath: string) => T,
  max = 256,
): T[] {
  const value = o[key];
  if (!Array.isArray(value) || value.length > max)
    invalid(`${path}.${key}`, `an array of at most ${max} items`, value);
  return (value as unknown[]).map((entry, index) => item(entry, `${path}.${key}[${index}]`));
}

function uniqueStrings(o: Obj, key: string, path: string): string[] {
  const items = list(o, key, path, (value, itemPath) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > 128)
      invalid(itemPath, 'a string of 1..128 characters', value);
    return value;
  });
  if (new Set(items).size !== items.length) invalid(`${path}.${key}`, 'no duplicate entries', items);
  return items;
}

/**
 * Parses the single JSON argument of a transaction.
 * @throws LedgerError INVALID_ARGUMENT when it is not JSON.
 */
export function parseArgument(json: string, transaction: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `${transaction}: argument must be one JSON object, got ${JSON.stringify(json.slice(0, 80))}`,
    );
  }
}

function base64(o: Obj, key: string, path: string, max: number, what: string): string {
  const value = o[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !BASE64.test(value))
    invalid(`${path}.${key}`, `${what} in base64 (at most ${max} characters)`, value);
  return value;
}

/** A container header holds at most 16 MiB (docs/container-format.md), so its manifest no more in base64. */
const MANIFEST_BASE64_MAX = Math.ceil((16 * 1024 * 1024) / 3) * 4;

const CERTIFICATE_PEM =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

/** Decodes {@link RegisterDsiInput}: the shapes only; the chaincode verifies the signed manifest itself. */
export function decodeRegisterDsi(value: unknown, path = 'input'): RegisterDsiInput {
  const o = object(value, path);
  const signerCertificate = o['signerCertificate'];
  if (
    typeof signerCertificate !== 'string' ||
    signerCertificate.length > 16_384 ||
    !CERTIFICATE_PEM.test(signerCertificate)
  )
    invalid(`${path}.signerCertificate`, 'one PEM certificate', signerCertificate);
  return {
    dsiId: hex64(o, 'dsiId', path),
    manifest: base64(o, 'manifest', path, MANIFEST_BASE64_MAX, 'the signed manifest bytes'),
    signature: base64(o, 'signature', path, 256, 'a DER ECDSA signature'),
    signerCertificate,
  };
}

/** Decodes {@link SupersedeDsiInput}. */
export function decodeSupersedeDsi(value: unknown): SupersedeDsiInput {
  const o = object(value, 'input');
  return {
    dsiId: hex64(o, 'dsiId', 'input'),
    successor: decodeRegisterDsi(o['successor'], 'input.successor'),
  };
}

/** Decodes {@link RevokeDsiInput}. */
export function decodeRevokeDsi(value: unknown): RevokeDsiInput {
  const o = object(value, 'input');
  return { dsiId: hex64(o, 'dsiId', 'input'), reason: text(o, 'reason', 'input', 1024) };
}

/** Decodes {@link GetDsiInput} and {@link DsiTreeInput}. */
export function decodeDsiRef(value: unknown): GetDsiInput & DsiTreeInput {
  return { dsiId: hex64(object(value, 'input'), 'dsiId', 'input') };
}

function grant(value: unknown, path: string): LicenseGrant {
  const o = object(value, path);
  const mode = o['mode'];
  if (typeof mode !== 'string' || !(LICENSE_MODES as readonly string[]).includes(mode))
    invalid(`${path}.mode`, `one of ${LICENSE_MODES.join(', ')}`, mode);
  const decoded: LicenseGrant = {
    quantity: integer(o, 'quantity', path, 1),
    mode: mode as LicenseGrant['mode'],
    validFrom: isoInstant(o, 'validFrom', path),
    validUntil: isoInstant(o, 'validUntil', path),
    maySublicense: bool(o, 'maySublicense', path),
    scrapAllowance: integer(o, 'scrapAllowance', path, 0),
  };
  if (instant(decoded.validUntil) <= instant(decoded.validFrom))
    invalid(`${path}.validUntil`, `an instant after validFrom ${decoded.validFrom}`, decoded.validUntil);
  return decoded;
}

function parameterBound(value: unknown, path: string): ParameterBound {
  const o = object(value, path);
  const name = text(o, 'name', path, 64);
  const unit =
    typeof o['unit'] === 'string' && o['unit'].length <= 32
      ? o['unit']
      : invalid(`${path}.unit`, 'a string of 0..32 characters', o['unit']);
  const kind = o['kind'];
  if (kind === 'range') {
    const min = finite(o, 'min', path);
    const max = finite(o, 'max', path);
    if (min > max) invalid(`${path}.max`, `a number >= min ${min}`, max);
    return { name, unit, kind, min, max };
  }
  if (kind === 'exact') {
    const exact = o['value'];
    if (!(
      (typeof exact === 'number' && Number.isFinite(exact)) ||
      (typeof exact === 'string' && exact.length > 0 && exact.length <= 128)
    )) {
      invalid(`${path}.value`, 'a finite number or a string of 1..128 characters', exact);
    }
    return { name, unit, kind, value: exact };
  }
  return invalid(`${path}.kind`, 'range or exact', kind);
}

/**
 * Decodes a parameter envelope (the `envelope` of {@link ProductionTerms}): at most 256 {@link ParameterBound}
 * entries with unique names.
 */
export function decodeParameterEnvelope(value: unknown, path = 'envelope'): ParameterBound[] {
  if (!Array.isArray(value) || value.length > 256) invalid(path, 'an array of at most 256 items', value);
  const envelope = (value as unknown[]).map((entry, index) => parameterBound(entry, `${path}[${index}]`));
  const names = envelope.map((bound) => bound.name);
  if (new Set(names).size !== names.length) invalid(path, 'unique parameter names', names);
  return envelope;
}

/** Decodes {@link ProductionTerms}; parameter names must be unique. */
export function decodeProductionTerms(value: unknown, path = 'terms'): ProductionTerms {
  const o = object(value, path);
  const machines = object(o['machines'], `${path}.machines`);
  const operators = object(o['operators'], `${path}.operators`);
  const envelope = decodeParameterEnvelope(o['envelope'], `${path}.envelope`);
  return {
    machines: {
      makes: uniqueStrings(machines, 'makes', `${path}.machines`),
      models: uniqueStrings(machines, 'models', `${path}.machines`),
      serials: uniqueStrings(machines, 'serials', `${path}.machines`),
      requiredCertifications: uniqueStrings(machines, 'requiredCertifications', `${path}.machines`),
    },
    envelope,
    operators: {
      roles: uniqueStrings(operators, 'roles', `${path}.operators`),
      qualifications: uniqueStrings(operators, 'qualifications', `${path}.operators`),
    },
    workstations: uniqueStrings(o, 'workstations', path),
    ...(o['digestKey'] === undefined ? {} : { digestKey: hex64(o, 'digestKey', path) }),
  };
}

function optionalTerms(o: Obj, path: string): ProductionTerms | undefined {
  return o['terms'] === undefined ? undefined : decodeProductionTerms(o['terms'], `${path}.terms`);
}

/** Decodes {@link IssueLicenseInput}. */
export function decodeIssueLicense(value: unknown): IssueLicenseInput {
  const o = object(value, 'input');
  const terms = optionalTerms(o, 'input');
  const base = {
    licenseId: id(o, 'licenseId', 'input'),
    dsiId: hex64(o, 'dsiId', 'input'),
    holderMsp: id(o, 'holderMsp', 'input'),
    grant: grant(o['grant'], 'input.grant'),
    confidential: bool(o, 'confidential', 'input'),
  };
  return terms === undefined ? base : { ...base, terms };
}

/** Decodes {@link SplitLicenseInput}. */
export function decodeSplitLicense(value: unknown): SplitLicenseInput {
  const o = object(value, 'input');
  const terms = optionalTerms(o, 'input');
  const base = {
    parentId: id(o, 'parentId', 'input'),
    licenseId: id(o, 'licenseId', 'input'),
    holderMsp: id(o, 'holderMsp', 'input'),
    grant: grant(o['grant'], 'input.grant'),
  };
  return terms === undefined ? base : { ...base, terms };
}

/** Decodes {@link AllocateInput}. */
export function decodeAllocate(value: unknown): AllocateInput {
  const o = object(value, 'input');
  return {
    licenseId: id(o, 'licenseId', 'input'),
    machineId: id(o, 'machineId', 'input'),
    quantity: integer(o, 'quantity', 'input', 1),
    scrapAllowance: integer(o, 'scrapAllowance', 'input', 0),
  };
}

/** Decodes {@link RevokeLicenseInput}. */
export function decodeRevokeLicense(value: unknown): RevokeLicenseInput {
  const o = object(value, 'input');
  return { licenseId: id(o, 'licenseId', 'input'), reason: text(o, 'reason', 'input', 1024) };
}

/** Decodes {@link LicenseRef}. */
export function decodeLicenseRef(value: unknown): LicenseRef {
  return { licenseId: id(object(value, 'input'), 'licenseId', 'input') };
}

/** Decodes {@link RegisterMachineInput}. */
export function decodeRegisterMachine(value: unknown): RegisterMachineInput {
  const o = object(value, 'input');
  return {
    machineId: id(o, 'machineId', 'input'),
    make: text(o, 'make', 'input', 128),
    model: text(o, 'model', 'input', 128),
    serial: text(o, 'serial', 'input', 128),
    firmware: text(o, 'firmware', 'input', 128),
    certifications: uniqueStrings(o, 'certifications', 'input'),
    publicKeyPem: text(o, 'publicKeyPem', 'input', 4096),
    recipientPublicKeyPem: text(o, 'recipientPublicKeyPem', 'input', 4096),
  };
}

/** Decodes {@link DeactivateMachineInput}. */
export function decodeDeactivateMachine(value: unknown): DeactivateMachineInput {
  const o = object(value, 'input');
  return { machineId: id(o, 'machineId', 'input'), reason: text(o, 'reason', 'input', 1024) };
}

/** Decodes {@link RotateMachineKeysInput}. */
export function decodeRotateMachineKeys(value: unknown): RotateMachineKeysInput {
  const o = object(value, 'input');
  return {
    machineId: id(o, 'machineId', 'input'),
    publicKeyPem: text(o, 'publicKeyPem', 'input', 4096),
    recipientPublicKeyPem: text(o, 'recipientPublicKeyPem', 'input', 4096),
    reason: text(o, 'reason', 'input', 1024),
  };
}

/** A release stanza's encapsulated key is one uncompressed P-256 point: 65 bytes, 88 base64 characters. */
const ENC_BASE64_LENGTH = 88;
/** At most 10 000 files per DSI (docs/container-format.md): 32 bytes each plus the 16-byte tag. */
const WRAPPED_KEYS_BASE64_MAX = Math.ceil((32 * 10_000 + 16) / 3) * 4;

function releaseStanza(value: unknown, path: string): ReleaseStanza {
  const o = object(value, path);
  if (o['type'] !== RELEASE_STANZA_TYPE)
    invalid(`${path}.type`, JSON.stringify(RELEASE_STANZA_TYPE), o['type']);
  const enc = base64(o, 'enc', path, ENC_BASE64_LENGTH, 'an uncompressed P-256 point');
  if (enc.length !== ENC_BASE64_LENGTH) invalid(`${path}.enc`, 'an uncompressed P-256 point (65 bytes)', enc);
  return {
    type: RELEASE_STANZA_TYPE,
    keyId: hex64(o, 'keyId', path),
    enc,
    wrappedKeys: base64(o, 'wrappedKeys', path, WRAPPED_KEYS_BASE64_MAX, 'the sealed content keys'),
  };
}

/** Decodes {@link RecordReleaseInput}. */
export function decodeRecordRelease(value: unknown): RecordReleaseInput {
  const o = object(value, 'input');
  return { buildId: id(o, 'buildId', 'input'), stanza: releaseStanza(o['stanza'], 'input.stanza') };
}

/** Decodes {@link ReleaseRef}. */
export function decodeReleaseRef(value: unknown): ReleaseRef {
  return { buildId: id(object(value, 'input'), 'buildId', 'input') };
}

/** Decodes {@link MachineRef}. */
export function decodeMachineRef(value: unknown): MachineRef {
  return { machineId: id(object(value, 'input'), 'machineId', 'input') };
}

function startBuildRequest(value: unknown, path: string): StartBuildRequest {
  const o = object(value, path);
  if (o['type'] !== START_BUILD_REQUEST_TYPE)
    invalid(
      `${path}.type`,
      `${START_BUILD_REQUEST_TYPE} (a request that names its operator; earlier formats are refused)`,
      o['type'],
    );
  const nonce = o['nonce'];
  if (typeof nonce !== 'string' || !NONCE.test(nonce))
    invalid(`${path}.nonce`, '8..128 characters [A-Za-z0-9_-]', nonce);
  const raw = object(o['parameters'], `${path}.parameters`);
  const parameters: Record<string, ParameterValue> = {};
  for (const [name, parameter] of Object.entries(raw)) {
    if (!((typeof parameter === 'number' && Number.isFinite(parameter)) || typeof parameter === 'string'))
      invalid(`${path}.parameters.${name}`, 'a finite number or a string', parameter);
    parameters[name] = parameter;
  }
  return {
    type: START_BUILD_REQUEST_TYPE,
    licenseId: id(o, 'licenseId', path),
    machineId: id(o, 'machineId', path),
    operator: hex64(o, 'operator', path),
    nonce,
    issuedAt: isoInstant(o, 'issuedAt', path),
    parameters,
  };
}

/** Decodes {@link StartBuildInput}. */
export function decodeStartBuild(value: unknown): StartBuildInput {
  const o = object(value, 'input');
  const signature = o['signature'];
  if (typeof signature !== 'string' || signature.length > 256 || !BASE64.test(signature))
    invalid('input.signature', 'a base64 DER ECDSA signature', signature);
  return { request: startBuildRequest(o['request'], 'input.request'), signature };
}

/** Decodes {@link CompleteBuildInput}. */
export function decodeCompleteBuild(value: unknown): CompleteBuildInput {
  const o = object(value, 'input');
  return {
    buildId: id(o, 'buildId', 'input'),
    partId: id(o, 'partId', 'input'),
    processRecordDigest: hex64(o, 'processRecordDigest', 'input'),
  };
}

/** Decodes {@link AbortBuildInput}. */
export function decodeAbortBuild(value: unknown): AbortBuildInput {
  const o = object(value, 'input');
  return { buildId: id(o, 'buildId', 'input'), reason: text(o, 'reason', 'input', 1024) };
}

/** Decodes {@link ScrapBuildInput}. */
export function decodeScrapBuild(value: unknown): ScrapBuildInput {
  const o = object(value, 'input');
  return {
    buildId: id(o, 'buildId', 'input'),
    reason: text(o, 'reason', 'input', 1024),
    evidenceDigest:
      o['evidenceDigest'] === null || o['evidenceDigest'] === undefined
        ? null
        : hex64(o, 'evidenceDigest', 'input'),
    requestCredit: bool(o, 'requestCredit', 'input'),
    machineSignature: nullableSignature(o, 'machineSignature', 'input'),
  };
}

function nullableSignature(o: Obj, key: string, path: string): string | null {
  const value = o[key];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > 256 || !BASE64.test(value))
    invalid(`${path}.${key}`, 'a base64 DER ECDSA signature or null', value);
  return value;
}

/** Decodes {@link BuildNonceRef}. */
export function decodeBuildNonceRef(value: unknown): BuildNonceRef {
  const o = object(value, 'input');
  const nonce = o['nonce'];
  if (typeof nonce !== 'string' || !NONCE.test(nonce))
    invalid('input.nonce', '8..128 characters [A-Za-z0-9_-]', nonce);
  return { machineId: id(o, 'machineId', 'input'), nonce };
}

/** Decodes {@link BuildRef}. */
export function decodeBuildRef(value: unknown): BuildRef {
  return { buildId: id(object(value, 'input'), 'buildId', 'input') };
}

/** Decodes {@link PartRef}. */
export function decodePartRef(value: unknown): PartRef {
  return { partId: id(object(value, 'input'), 'partId', 'input') };
}

/** Decodes {@link AllocationRef}. */
export function decodeAllocationRef(value: unknown): AllocationRef {
  const o = object(value, 'input');
  return { licenseId: id(o, 'licenseId', 'input'), machineId: id(o, 'machineId', 'input') };
}
