/** verify(): every check that needs no key, in order (docs/container-format.md §7). */
import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { DsiError, atBoundary } from '../errors';
import { isLowSDer } from '../crypto/ecdsa';
import { pae } from '../crypto/dsse';
import { assertP256 } from '../crypto/p256';
import { MANIFEST_PAYLOAD_TYPE } from '../format/limits';
import type { Manifest } from '../format/manifest';
import { digestRangesAsync, digestSegmentAsync, fileThreads, pipelineDepth } from '../engine/pool';
import { parseCertificates } from '../keys/software';
import { parseDerCertificates, verifyChain } from '../trust/chain';
import { checkSignerPath } from '../trust/policy';
import { parseContainer, type ParsedContainer } from './layout';
import { pipelined } from './pipeline';
import { describeSegment, segmentsOf, type SegmentRef } from './segments';
import { openSource, type ContainerSource, type RandomAccess } from './source';

/** Trust anchors and the time at which certificates must be valid. */
export interface VerifyOptions {
  /** Trusted root CA certificates (PEM text, PEM bundles or X509Certificate). */
  readonly trustedRoots: readonly (string | Buffer | X509Certificate)[];
  /** When the signer chain must be valid; defaults to now. */
  readonly at?: Date;
  /** Directory for spooling stream inputs (ciphertext only); defaults to the OS temp dir. */
  readonly tmpDir?: string;
  /**
   * The signer the caller expects. A trusted root vouches for every certificate its CA issued;
   * pinning says which of them must have signed this DSI. Every given field must match.
   */
  readonly expectedSigner?: ExpectedSigner;
}

/** Who must have signed a DSI; at least one field. */
export interface ExpectedSigner {
  /** SHA-256 of the signer (leaf) certificate's DER, hex; colons and case are ignored. */
  readonly fingerprint256?: string;
  /** The manifest's `creator.mspId`. */
  readonly mspId?: string;
  /** The signer certificate's subject, in `X509Certificate.subject` form (`O=…\nCN=…`). */
  readonly subject?: string;
}

/** What a successful verification established. */
export interface VerifiedDsi {
  /** The ledger id: hex SHA-256 of the signed manifest. */
  readonly dsiId: string;
  readonly manifest: Manifest;
  /** Signer certificate, then the path up to and including the trusted root. */
  readonly signerPath: readonly X509Certificate[];
}

/** Ciphertext bytes per worker job when verifying a file. */
const BATCH_BYTES = 8 * 1024 * 1024;

function roots(trusted: VerifyOptions['trustedRoots']): X509Certificate[] {
  return trusted.flatMap((r) => (r instanceof X509Certificate ? [r] : parseCertificates(r)));
}

const normalFingerprint = (f: string): string => f.replace(/:/g, '').toLowerCase();

function checkExpectedSigner(expected: ExpectedSigner, leaf: X509Certificate, manifest: Manifest): void {
  const { fingerprint256, mspId, subject } = expected;
  if (fingerprint256 === undefined && mspId === undefined && subject === undefined)
    throw new DsiError('INVALID_ARGUMENT', 'expectedSigner names no fingerprint, MSP id or subject');
  const who = leaf.subject.replace(/\n/g, ', ');
  if (fingerprint256 !== undefined) {
    const found = normalFingerprint(leaf.fingerprint256);
    if (normalFingerprint(fingerprint256) !== found)
      throw new DsiError(
        'UNEXPECTED_SIGNER',
        `signer "${who}" has certificate fingerprint ${found}, expected ${normalFingerprint(fingerprint256)}`,
        { subject: who },
      );
  }
  if (mspId !== undefined && manifest.creator.mspId !== mspId)
    throw new DsiError(
      'UNEXPECTED_SIGNER',
      `signer "${who}" signed for MSP ${manifest.creator.mspId ?? '(none)'}, expected ${mspId}`,
      { subject: who },
    );
  if (subject !== undefined && leaf.subject !== subject)
    throw new DsiError(
      'UNEXPECTED_SIGNER',
      `signer "${who}" is not the expected "${subject.replace(/\n/g, ', ')}"`,
      { subject: who },
    );
}

/** Checks signature, signer chain, creator and every segment digest of an already parsed container. */
export async function verifyParsed(
  ra: RandomAccess,
  parsed: ParsedContainer,
  options: VerifyOptions,
): Promise<VerifiedDsi> {
  const { header } = parsed;
  // 4. The DSSE signature must verify under the signer certificate's key, with low S.
  const certs = parseDerCertificates(header.certificates);
  const leaf = certs[0] as X509Certificate;
  assertP256(leaf.publicKey, 'the signer certificate key');
  const message = pae(MANIFEST_PAYLOAD_TYPE, header.manifestBytes);
  let valid = false;
  try {
    valid =
      isLowSDer(header.signature) &&
      verifySignature('sha256', message, { key: leaf.publicKey, dsaEncoding: 'der' }, header.signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new DsiError(
      'BAD_SIGNATURE',
      `manifest signature does not verify with signer certificate "${leaf.subject.replace(/\n/g, ', ')}"`,
    );
  }
  // 5. The signer must chain to a trusted root and every certificate on the path must be valid.
  const at = options.at ?? new Date();
  const signerPath = verifyChain(leaf, certs.slice(1), roots(options.trustedRoots), at);
  // 5a–e. Path constraints and the leaf's fitness to sign (trust/policy.ts).
  await checkSignerPath(signerPath, at);
  // 6. The manifest's creator must be the certificate's subject.
  if (header.manifest.creator.subject !== leaf.subject) {
    throw new DsiError(
      'CREATOR_MISMATCH',
      `manifest creator "${header.manifest.creator.subject}" is not the signer "${leaf.subject}"`,
    );
  }
  // 6a. The signer must be the one the caller pinned.
  if (options.expectedSigner) checkExpectedSigner(options.expectedSigner, leaf, header.manifest);
  // 7. Every segment of ciphertext must match its signed digest.
  const { chunkSize, segmentChunks } = header.manifest;
  const refs = parsed.files.flatMap((f) => [...segmentsOf(f, chunkSize, segmentChunks)]);
  const mismatch = (ref: SegmentRef): DsiError =>
    new DsiError(
      'DIGEST_MISMATCH',
      `ciphertext of ${describeSegment(ref)} does not match the signed digest`,
      {
        file: ref.file.label,
        segment: ref.segment,
        offset: ref.offset,
      },
    );
  const truncated = (ref: SegmentRef): DsiError =>
    new DsiError('TRUNCATED', `input ended while reading ${describeSegment(ref)}`, {
      file: ref.file.label,
      segment: ref.segment,
    });
  if (ra.fd !== undefined) {
    // A file: worker threads read and hash runs of segments themselves; only digests come back.
    const fd = ra.fd;
    const batches: SegmentRef[][] = [];
    for (let i = 0; i < refs.length;) {
      const batch: SegmentRef[] = [];
      let bytes = 0;
      while (i < refs.length && (batch.length === 0 || bytes < BATCH_BYTES)) {
        const ref = refs[i++] as SegmentRef;
        batch.push(ref);
        bytes += ref.length;
      }
      batches.push(batch);
    }
    await pipelined(
      batches,
      Math.max(1, fileThreads()) * 2,
      (batch) =>
        digestRangesAsync({ fd, ranges: batch.map((r) => ({ offset: r.offset, length: r.length })) }),
      (r, batch) => {
        // Digests computed before a failure are checked first: the first bad segment is reported.
        r.digests.forEach((d, k) => {
          const ref = batch[k] as SegmentRef;
          if (d !== ref.file.entry.segments[ref.segment]) throw mismatch(ref);
        });
        if (!r.ok) {
          if (r.problem === 'short') throw truncated(batch[r.at] as SegmentRef);
          throw new DsiError(
            'INPUT_ERROR',
            `cannot read the container: ${r.message}`,
            r.code ? { errno: r.code } : {},
          );
        }
      },
    );
    return { dsiId: parsed.dsiId, manifest: header.manifest, signerPath };
  }
  await pipelined(
    refs,
    pipelineDepth(),
    async (ref) => {
      const data = await ra.read(ref.offset, ref.length);
      if (data.length !== ref.length) throw truncated(ref);
      return digestSegmentAsync(data);
    },
    (digest, ref) => {
      if (digest !== ref.file.entry.segments[ref.segment]) throw mismatch(ref);
    },
  );
  return { dsiId: parsed.dsiId, manifest: header.manifest, signerPath };
}

/**
 * Verifies a DSI without any key: strict format, exact length, DSSE signature (low-S ECDSA
 * P-256), signer chain to `trustedRoots` and validity, path constraints (CA leaf, critical
 * extensions, path length, name constraints, key usage), creator, the pinned `expectedSigner`
 * when given, and the ciphertext digest of every segment of every file.
 * @throws DsiError with the code of the first failing check
 */
export async function verify(source: ContainerSource, options: VerifyOptions): Promise<VerifiedDsi> {
  return atBoundary('verify', async () => {
    const ra = await openSource(source, options.tmpDir);
    try {
      // 1–3. Preamble, strict header and manifest, exact length.
      const parsed = await parseContainer(ra);
      return await verifyParsed(ra, parsed, options);
    } finally {
      await ra.close();
    }
  });
}
