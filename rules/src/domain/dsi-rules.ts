import { EVENT, LedgerError, type Dsi, type LedgerEvent } from '@threadseal/ledger-model';
import type { VerifiedDsiManifest } from './dsi-authorship.js';
import type { TxTime } from './time.js';

/** Registers a DSI owned by `ownerMsp` (the submitter's org) from its verified manifest (`verifyDsiRegistration`). */
export function registerDsi(
  input: VerifiedDsiManifest,
  ownerMsp: string,
  now: TxTime,
  supersedes: string | null = null,
): { readonly dsi: Dsi; readonly event: LedgerEvent } {
  const dsi: Dsi = {
    dsiId: input.dsiId,
    ownerMsp,
    partNumber: input.partNumber,
    revision: input.revision,
    title: input.title,
    fileDigests: input.fileDigests.map((d) => ({ path: d.path, ciphertextDigest: d.ciphertextDigest })),
    ownerCertFingerprint: input.ownerCertFingerprint,
    status: 'active',
    supersedes,
    supersededBy: null,
    revokedReason: null,
    registeredAt: now.iso,
    updatedAt: now.iso,
  };
  return {
    dsi,
    event: {
      name: EVENT.dsiRegistered,
      payload: { dsiId: dsi.dsiId, ownerMsp, partNumber: dsi.partNumber, revision: dsi.revision, supersedes },
    },
  };
}

/**
 * Registers `successor` as the next revision of an active DSI of the same part number and marks the old one
 * superseded: no new root licenses for it, existing licenses keep working until revoked or expired.
 * @throws LedgerError DSI_NOT_ACTIVE, INVALID_ARGUMENT.
 */
export function supersedeDsi(
  old: Dsi,
  successor: VerifiedDsiManifest,
  now: TxTime,
): { readonly old: Dsi; readonly successor: Dsi; readonly event: LedgerEvent } {
  if (old.status !== 'active')
    throw new LedgerError(
      'DSI_NOT_ACTIVE',
      `DSI ${old.dsiId} is ${old.status}; only an active DSI can be superseded`,
    );
  if (successor.partNumber !== old.partNumber) {
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `successor ${successor.dsiId} has part number ${successor.partNumber}, expected ${old.partNumber}`,
    );
  }
  if (successor.revision === old.revision)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `successor ${successor.dsiId} must have a revision other than ${old.revision}`,
    );
  const next = registerDsi(successor, old.ownerMsp, now, old.dsiId).dsi;
  return {
    old: { ...old, status: 'superseded', supersededBy: next.dsiId, updatedAt: now.iso },
    successor: next,
    event: {
      name: EVENT.dsiSuperseded,
      payload: { dsiId: old.dsiId, successorId: next.dsiId, ownerMsp: old.ownerMsp, revision: next.revision },
    },
  };
}

/**
 * Revokes a DSI: no license under it can start a build any more.
 * @throws LedgerError DSI_NOT_ACTIVE when it is already revoked.
 */
export function revokeDsi(
  dsi: Dsi,
  reason: string,
  now: TxTime,
): { readonly dsi: Dsi; readonly event: LedgerEvent } {
  if (dsi.status === 'revoked')
    throw new LedgerError('DSI_NOT_ACTIVE', `DSI ${dsi.dsiId} is already revoked`);
  return {
    dsi: { ...dsi, status: 'revoked', revokedReason: reason, updatedAt: now.iso },
    event: { name: EVENT.dsiRevoked, payload: { dsiId: dsi.dsiId, ownerMsp: dsi.ownerMsp, reason } },
  };
}
