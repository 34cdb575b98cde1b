import { createHash, sign, X509Certificate } from 'node:crypto';
import { encodeManifest, fileDigest } from '@threadseal/dsi-container/format';
import type { FileDigest, RegisterDsiInput } from '@threadseal/ledger-model';
import type { DsiSigner } from './unit-test-pki';

/** The DSSE payload type the container signs its manifest under (docs/container-format.md §4). */
const PAYLOAD_TYPE = 'application/vnd.threadseal.dsi-manifest+json';

/** What a fixture DSI describes: the manifest fields the ledger keeps. */
export interface DsiManifestFields {
  readonly title: string;
  readonly partNumber: string;
  readonly revision: string;
  /** MSP id the manifest names as its creator. */
  readonly creatorMsp: string;
  /** Labels of the files; each file's ciphertext digest is derived from its label. */
  readonly files: readonly string[];
}

/** A fixture DSI: a signed-manifest container header without the payload, for ledger tests. */
export interface FixtureDsi {
  /** SHA-256 of the manifest bytes: fixed before anyone signs. */
  readonly dsiId: string;
  readonly partNumber: string;
  readonly revision: string;
  readonly title: string;
  /** The digests the ledger records from the manifest. */
  readonly fileDigests: readonly FileDigest[];
  /** Base64 of the manifest bytes. */
  readonly manifest: string;
  /** The `dsi:Register` input with the manifest signed by `signer` (ECDSA P-256 over the DSSE PAE). */
  signedBy(signer: DsiSigner): RegisterDsiInput;
}

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Builds a container manifest (deterministic bytes, so the DSI id is known before it is signed). */
export function fixtureManifest(fields: DsiManifestFields): FixtureDsi {
  const files = fields.files.map((label) => {
    const segments = [hex(`segment ${label}`)];
    return {
      name: label,
      sealedName: null,
      mediaType: 'application/octet-stream',
      size: 64,
      keyCommitment: hex(`key ${label}`),
      digest: fileDigest(segments),
      segments,
    };
  });
  const bytes = encodeManifest({
    format: 'threadseal-dsi/1',
    title: fields.title,
    partNumber: fields.partNumber,
    revision: fields.revision,
    productionRules: null,
    created: '2026-01-02T03:04:05.678Z',
    creator: { mspId: fields.creatorMsp, subject: 'CN=ip-admin' },
    chunkSize: 65_536,
    segmentChunks: 16,
    files,
  });
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(PAYLOAD_TYPE)} ${PAYLOAD_TYPE} ${bytes.length} `),
    bytes,
  ]);
  return {
    dsiId: createHash('sha256').update(bytes).digest('hex'),
    partNumber: fields.partNumber,
    revision: fields.revision,
    title: fields.title,
    fileDigests: files.map((f) => ({ path: f.name, ciphertextDigest: f.digest })),
    manifest: bytes.toString('base64'),
    signedBy: (signer) => ({
      dsiId: createHash('sha256').update(bytes).digest('hex'),
      manifest: bytes.toString('base64'),
      signature: sign('sha256', pae, { key: signer.privateKeyPem, dsaEncoding: 'der' }).toString('base64'),
      signerCertificate: signer.certificatePem,
    }),
  };
}

/** SHA-256 fingerprint (lower-case hex) of a signer's certificate, as the ledger records the owner's. */
export function certificateFingerprint(signer: DsiSigner): string {
  return createHash('sha256').update(new X509Certificate(signer.certificatePem).raw).digest('hex');
}
