import { createHash, verify, X509Certificate } from 'node:crypto';
import {
  DSI_MANIFEST_PAYLOAD_TYPE,
  LedgerError,
  dssePae,
  type FileDigest,
  type RegisterDsiInput,
} from '@threadseal/ledger-model';

/** What the ledger records of a DSI, read from its verified signed manifest. */
export interface VerifiedDsiManifest {
  /** SHA-256 (lower-case hex) of the signed manifest bytes, computed here. */
  readonly dsiId: string;
  readonly partNumber: string;
  readonly revision: string;
  readonly title: string;
  /** One per manifest file: its name (or `file-<index>` when the name is confidential) and ciphertext digest. */
  readonly fileDigests: readonly FileDigest[];
  /** SHA-256 (lower-case hex) of the signer certificate's DER. */
  readonly ownerCertFingerprint: string;
}

/** The submitter as the chaincode's access layer sees it. */
export interface Submitter {
  readonly mspId: string;
  /** The submitter's identity bytes as Fabric gives them (its PEM certificate). */
  readonly certificate: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;

function certificateOf(pem: string | Uint8Array, what: string, code: 'INVALID_ARGUMENT' | 'FORBIDDEN') {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new LedgerError(code, `${what} is not an X.509 certificate`);
  }
}

type Obj = Readonly<Record<string, unknown>>;

function manifestFail(dsiId: string, problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', `manifest of DSI ${dsiId}: ${problem}`);
}

function field(o: Obj, key: string, dsiId: string, max: number): string {
  const value = o[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\u0000'))
    manifestFail(dsiId, `${key} must be a string of 1..${max} characters`);
  return value;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the fields the ledger keeps from the manifest JSON (the signature already covers these bytes). */
function manifestFields(
  bytes: Buffer,
  dsiId: string,
): Omit<VerifiedDsiManifest, 'dsiId' | 'ownerCertFingerprint'> & {
  readonly creatorMsp: string | null;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    manifestFail(dsiId, 'is not JSON');
  }
  if (!isObject(parsed)) manifestFail(dsiId, 'is not a JSON object');
  const files = parsed['files'];
  if (!Array.isArray(files) || files.length === 0 || files.length > 10_000)
    manifestFail(dsiId, 'files must list 1..10000 files');
  const fileDigests = files.map((file: unknown, i): FileDigest => {
    if (!isObject(file)) manifestFail(dsiId, `files[${i}] is not an object`);
    const name = file['name'];
    if (name !== null && (typeof name !== 'string' || name.length === 0 || name.length > 1024))
      manifestFail(dsiId, `files[${i}].name must be a string of 1..1024 characters or null`);
    const digest = file['digest'];
    if (typeof digest !== 'string' || !HEX64.test(digest))
      manifestFail(dsiId, `files[${i}].digest must be 64 lower-case hex characters`);
    return { path: name ?? `file-${i}`, ciphertextDigest: digest };
  });
  const creator = parsed['creator'];
  if (!isObject(creator)) manifestFail(dsiId, 'creator is not an object');
  const creatorMsp = creator['mspId'];
  if (creatorMsp !== null && typeof creatorMsp !== 'string')
    manifestFail(dsiId, 'creator.mspId must be a string or null');
  return {
    partNumber: field(parsed, 'partNumber', dsiId, 128),
    revision: field(parsed, 'revision', dsiId, 64),
    title: field(parsed, 'title', dsiId, 256),
    fileDigests,
    creatorMsp,
  };
}

/**
 * Verifies that a DSI registration proves authorship, in order: the DSI id is the SHA-256 of the signed
 * manifest; the signer certificate holds a P-256 key whose DSSE ECDSA signature over the manifest verifies;
 * the signer certificate is the submitter's own certificate (the submitter signed the container); the
 * manifest names no other org as its creator. Returns the record's fields from the verified manifest only.
 * @throws LedgerError INVALID_ARGUMENT (id mismatch, malformed manifest or certificate), BAD_SIGNATURE,
 *   FORBIDDEN (signed by someone other than the submitter).
 */
export function verifyDsiRegistration(input: RegisterDsiInput, submitter: Submitter): VerifiedDsiManifest {
  const manifest = Buffer.from(input.manifest, 'base64');
  const dsiId = createHash('sha256').update(manifest).digest('hex');
  if (input.dsiId !== dsiId)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `dsiId ${input.dsiId} is not the digest of the signed manifest, which is ${dsiId}`,
    );
  const signer = certificateOf(
    input.signerCertificate,
    `signer certificate of DSI ${dsiId}`,
    'INVALID_ARGUMENT',
  );
  const key = signer.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new LedgerError('INVALID_ARGUMENT', `signer certificate of DSI ${dsiId} must hold a P-256 key`);
  let valid = false;
  try {
    valid = verify(
      'sha256',
      dssePae(DSI_MANIFEST_PAYLOAD_TYPE, manifest),
      { key, dsaEncoding: 'der' },
      Buffer.from(input.signature, 'base64'),
    );
  } catch {
    valid = false;
  }
  if (!valid)
    throw new LedgerError(
      'BAD_SIGNATURE',
      `signature over the manifest of DSI ${dsiId} does not verify with the key of ${signer.subject.replace(/\n/g, ', ')}`,
    );
  const own = certificateOf(
    submitter.certificate,
    `identity of the ${submitter.mspId} submitter`,
    'FORBIDDEN',
  );
  if (!own.raw.equals(signer.raw))
    throw new LedgerError(
      'FORBIDDEN',
      `DSI ${dsiId} is signed by certificate ${signer.fingerprint256}, submitter ${submitter.mspId} has ${own.fingerprint256}: only the signer registers a DSI`,
    );
  const fields = manifestFields(manifest, dsiId);
  if (fields.creatorMsp !== null && fields.creatorMsp !== submitter.mspId)
    throw new LedgerError(
      'FORBIDDEN',
      `manifest of DSI ${dsiId} names creator ${fields.creatorMsp}, submitter is ${submitter.mspId}`,
    );
  return {
    dsiId,
    partNumber: fields.partNumber,
    revision: fields.revision,
    title: fields.title,
    fileDigests: fields.fileDigests,
    ownerCertFingerprint: createHash('sha256').update(signer.raw).digest('hex'),
  };
}
