import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** The value a machine reports for one envelope parameter. */
export type ParameterValue = number | string;

/**
 * Tag of the StartBuild request format; part of the signed bytes. v2 added `operator` (v1 requests, which bound
 * no operator, are refused).
 */
export const START_BUILD_REQUEST_TYPE = 'threadseal.start-build.v2' as const;

/** The first PEM certificate block of a text: its base64 body. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/**
 * The operator reference a machine puts in its StartBuild request: lowercase hex SHA-256 of the DER of the
 * operator's Fabric enrolment certificate, read from their identity bytes — the PEM certificate their client
 * presents in its proposals (`Identity.credentials` of fabric-gateway; `ClientIdentity.getIDBytes()` in the
 * chaincode), so line endings and wrapping of the PEM do not matter; identity bytes that are not a PEM
 * certificate are hashed as they are. The chaincode refuses a request whose operator is not the submitter, so
 * a request made for one operator cannot be submitted by another. (The REST gateway's caller `fingerprint` is
 * the same value.)
 */
export function operatorFingerprint(identityBytes: Uint8Array | string): string {
  const text =
    typeof identityBytes === 'string' ? identityBytes : Buffer.from(identityBytes).toString('latin1');
  const pem = PEM_CERTIFICATE.exec(text);
  const bytes =
    pem?.[1] !== undefined
      ? Buffer.from(pem[1].replace(/\s+/g, ''), 'base64')
      : typeof identityBytes === 'string'
        ? Buffer.from(identityBytes, 'utf8')
        : identityBytes;
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What a machine signs to ask for one unit of its allocation. The chaincode verifies the signature
 * with the machine's registered key, rejects a nonce it has seen for that machine, a request whose operator
 * is not the submitter, and a request whose `issuedAt` is more than 5 minutes from the transaction timestamp.
 */
export interface StartBuildRequest {
  readonly type: typeof START_BUILD_REQUEST_TYPE;
  readonly licenseId: string;
  readonly machineId: string;
  /**
   * The operator logged in at the machine: {@link operatorFingerprint} of their enrolment certificate; the
   * chaincode requires it to be the submitter's.
   */
  readonly operator: string;
  /** Fresh random value chosen by the machine (8..128 characters of `[A-Za-z0-9_-]`). */
  readonly nonce: string;
  /** When the machine made the request (ISO 8601 UTC). */
  readonly issuedAt: string;
  /** The process parameters the machine will run with, by envelope parameter name. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
}

/**
 * The exact bytes a machine signs: UTF-8 of the canonical JSON of the request
 * (ECDSA P-256 over SHA-256, DER-encoded signature).
 */
export function startBuildSigningBytes(request: StartBuildRequest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(request));
}

/**
 * Input of `build:Start`. Under a confidential license send it in the transient field `startBuild` and `{}` as
 * the argument, so that the declared parameters never reach the block.
 */
export interface StartBuildInput {
  readonly request: StartBuildRequest;
  /** Base64 DER ECDSA signature over {@link startBuildSigningBytes}. */
  readonly signature: string;
}

/** Input of `build:Complete`. */
export interface CompleteBuildInput {
  readonly buildId: string;
  /** Physical part id (serial engraved on the part); unique on the channel. */
  readonly partId: string;
  /** Hex SHA-256 of the process record (machine log) of the build. */
  readonly processRecordDigest: string;
}

/** Input of `build:Abort`: the build stopped before producing a part; the unit stays consumed. */
export interface AbortBuildInput {
  readonly buildId: string;
  readonly reason: string;
}

/** Input of `build:Scrap`: the part failed; with evidence the unit may be credited back. */
export interface ScrapBuildInput {
  readonly buildId: string;
  readonly reason: string;
  /** Hex SHA-256 of the evidence (inspection report); required when `requestCredit` is true. */
  readonly evidenceDigest: string | null;
  readonly requestCredit: boolean;
  /**
   * Base64 DER ECDSA signature by the build's machine over {@link scrapRecordSigningBytes}: the machine's own
   * record that this build was scrapped, for this reason, with this evidence. Required when `requestCredit` is
   * true (a unit goes back only on the machine's word, never on a licensee's alone); may be omitted otherwise.
   */
  readonly machineSignature?: string | null;
}

/** Tag of the scrap record a machine signs to have a scrapped unit credited back; part of the signed bytes. */
export const SCRAP_RECORD_TYPE = 'threadseal.scrap-record.v1' as const;

/**
 * The exact bytes a machine signs to vouch for a scrap: UTF-8 of the canonical JSON of
 * `{type, buildId, reason, evidenceDigest}` (ECDSA P-256 over SHA-256, DER-encoded, with its StartBuild key).
 */
export function scrapRecordSigningBytes(
  input: Pick<ScrapBuildInput, 'buildId' | 'reason' | 'evidenceDigest'>,
): Uint8Array {
  return new TextEncoder().encode(
    canonicalJson({
      type: SCRAP_RECORD_TYPE,
      buildId: input.buildId,
      reason: input.reason,
      evidenceDigest: input.evidenceDigest,
    }),
  );
}

/** Input of `build:Get`. */
export interface BuildRef {
  readonly buildId: string;
}

/**
 * Input of `build:GetByNonce`: the build a machine's signed request started, found by the request's nonce (an
 * agent that crashed between submitting a StartBuild and learning its outcome looks its build up with it).
 */
export interface BuildNonceRef {
  readonly machineId: string;
  readonly nonce: string;
}

/** Lifecycle of a build. */
export type BuildStatus = 'running' | 'completed' | 'aborted' | 'scrapped';

/** One build (key `build~<buildId>`; the id is the StartBuild transaction id). */
export interface Build {
  readonly buildId: string;
  readonly dsiId: string;
  readonly licenseId: string;
  readonly machineId: string;
  readonly machineOwnerMsp: string;
  /** Client identity (`getID()`) of the operator who started it. */
  readonly operatorId: string;
  readonly nonce: string;
  /** The parameters the machine declared, or `null` under a confidential license (they would reveal its envelope). */
  readonly parameters: Readonly<Record<string, ParameterValue>> | null;
  /** Hex SHA-256 of the canonical JSON of the declared parameters (always present). */
  readonly parametersDigest: string;
  readonly status: BuildStatus;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly partId: string | null;
  readonly processRecordDigest: string | null;
  readonly reason: string | null;
  readonly evidenceDigest: string | null;
  /** True when the scrapped unit was credited back to the allocation. */
  readonly scrapCredited: boolean;
}

/** A produced part (key `part~<partId>`). */
export interface Part {
  readonly partId: string;
  readonly buildId: string;
  readonly dsiId: string;
  readonly licenseId: string;
  readonly machineId: string;
  readonly producerMsp: string;
  readonly processRecordDigest: string;
  readonly producedAt: string;
}

/** Input of `trace:GetPart` and `trace:GetPartHistory`. */
export interface PartRef {
  readonly partId: string;
}
