import { createPublicKey, verify } from 'node:crypto';
import {
  LedgerError,
  operatorFingerprint,
  startBuildSigningBytes,
  type Machine,
  type StartBuildRequest,
} from '@threadseal/ledger-model';
import type { Submitter } from './dsi-authorship.js';
import { instant, type TxTime } from './time.js';

/** How far a request's `issuedAt` may be from the transaction timestamp. */
export const REQUEST_FRESHNESS_MS = 5 * 60 * 1000;

/**
 * True when `signatureBase64` is a DER ECDSA P-256 signature over SHA-256 of `bytes` by the machine's
 * registered StartBuild key; false for anything else, an unparsable key or signature included (fails closed).
 */
export function signedByMachine(machine: Machine, bytes: Uint8Array, signatureBase64: string): boolean {
  try {
    return verify(
      'sha256',
      bytes,
      { key: createPublicKey(machine.publicKeyPem), dsaEncoding: 'der' },
      Buffer.from(signatureBase64, 'base64'),
    );
  } catch {
    return false;
  }
}

/**
 * Asserts that a StartBuild request was signed by the machine's registered P-256 key (ECDSA verification
 * is deterministic, unlike signing) and was made within {@link REQUEST_FRESHNESS_MS} of the transaction.
 * @throws LedgerError BAD_SIGNATURE, STALE_REQUEST.
 */
export function assertRequestAuthentic(
  machine: Machine,
  request: StartBuildRequest,
  signatureBase64: string,
  now: TxTime,
): void {
  if (!signedByMachine(machine, startBuildSigningBytes(request), signatureBase64))
    throw new LedgerError(
      'BAD_SIGNATURE',
      `StartBuild request nonce ${request.nonce} is not signed by the registered key of machine ${machine.machineId}`,
    );
  const skew = Math.abs(instant(request.issuedAt) - now.ms);
  if (skew > REQUEST_FRESHNESS_MS) {
    throw new LedgerError(
      'STALE_REQUEST',
      `StartBuild request nonce ${request.nonce} was issued at ${request.issuedAt}, ${Math.round(skew / 1000)} s from the transaction time ${now.iso} (limit ${REQUEST_FRESHNESS_MS / 1000} s)`,
    );
  }
}

/**
 * Asserts that the operator the machine signed the request for is the submitter: a request made at the machine
 * for one operator cannot be relayed and submitted by a colleague with other qualifications.
 * @throws LedgerError OPERATOR_MISMATCH.
 */
export function assertOperatorIsSubmitter(request: StartBuildRequest, submitter: Submitter): void {
  const fingerprint = operatorFingerprint(submitter.certificate);
  if (request.operator !== fingerprint) {
    throw new LedgerError(
      'OPERATOR_MISMATCH',
      `StartBuild request nonce ${request.nonce} names operator ${request.operator.slice(0, 16)}…, submitted by a ${submitter.mspId} identity ${fingerprint.slice(0, 16)}…`,
    );
  }
}
