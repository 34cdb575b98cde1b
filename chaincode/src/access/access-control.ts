import {
  IDENTITY_ATTRIBUTE,
  LedgerError,
  ROLE,
  type Build,
  type Dsi,
  type License,
  type Machine,
  type Role,
} from '@threadseal/ledger-model';
import type { ClientIdentity } from 'fabric-shim-api';
import { qualificationsOf, type Actor, type Submitter } from '@threadseal/rules';

/*
 * Who may do what, in one place. Rights depend on the submitter's MSP id and the `role` attribute of its
 * Fabric CA certificate; operator qualifications are license terms and are checked by the build rules.
 */

/** Reads the submitter's org and CA attributes (`role`, comma-separated `qualification`). */
export function actorOf(identity: ClientIdentity): Actor {
  const qualification = identity.getAttributeValue(IDENTITY_ATTRIBUTE.qualification);
  return {
    mspId: identity.getMSPID(),
    id: identity.getID(),
    role: identity.getAttributeValue(IDENTITY_ATTRIBUTE.role),
    qualifications: qualificationsOf(qualification),
  };
}

/** The submitter's MSP id and certificate (Fabric's identity bytes), to check who signed what it submits. */
export function submitterOf(identity: ClientIdentity): Submitter {
  return { mspId: identity.getMSPID(), certificate: identity.getIDBytes() };
}

function requireRole(actor: Actor, roles: readonly Role[], action: string): void {
  if (actor.role === null || !(roles as readonly string[]).includes(actor.role)) {
    throw new LedgerError(
      'FORBIDDEN',
      `${action} requires role ${roles.join(' or ')}, ${actor.mspId} client has ${actor.role ?? 'no role'}`,
    );
  }
}

function requireOrg(actor: Actor, mspId: string, action: string): void {
  if (actor.mspId !== mspId)
    throw new LedgerError('FORBIDDEN', `${action} is reserved to ${mspId}, submitter is ${actor.mspId}`);
}

const LICENSE_ADMINS: readonly Role[] = [ROLE.ipAdmin, ROLE.licenseAdmin];

/** Registering a DSI: an `ip-admin`; the submitter's org becomes the owner. @throws LedgerError FORBIDDEN. */
export function assertCanRegisterDsi(actor: Actor): void {
  requireRole(actor, [ROLE.ipAdmin], 'registering a DSI');
}

/** Superseding or revoking a DSI: an `ip-admin` of the owner org. @throws LedgerError FORBIDDEN. */
export function assertCanManageDsi(actor: Actor, dsi: Dsi): void {
  requireRole(actor, [ROLE.ipAdmin], `changing DSI ${dsi.dsiId}`);
  requireOrg(actor, dsi.ownerMsp, `changing DSI ${dsi.dsiId}`);
}

/** Issuing a root license: an `ip-admin` of the DSI owner. @throws LedgerError FORBIDDEN. */
export function assertCanIssueLicense(actor: Actor, dsi: Dsi): void {
  requireRole(actor, [ROLE.ipAdmin], `licensing DSI ${dsi.dsiId}`);
  requireOrg(actor, dsi.ownerMsp, `licensing DSI ${dsi.dsiId}`);
}

/** Splitting or allocating a license: an `ip-admin` or `license-admin` of its holder. @throws LedgerError FORBIDDEN. */
export function assertCanSpendLicense(actor: Actor, license: License): void {
  requireRole(actor, LICENSE_ADMINS, `spending license ${license.licenseId}`);
  requireOrg(actor, license.holderMsp, `spending license ${license.licenseId}`);
}

/** Revoking a license: an `ip-admin` or `license-admin` of its grantor. @throws LedgerError FORBIDDEN. */
export function assertCanRevokeLicense(actor: Actor, license: License): void {
  requireRole(actor, LICENSE_ADMINS, `revoking license ${license.licenseId}`);
  requireOrg(actor, license.grantorMsp, `revoking license ${license.licenseId}`);
}

/** Reading a license's confidential terms: its grantor or holder. @throws LedgerError FORBIDDEN. */
export function assertCanReadTerms(actor: Actor, license: License): void {
  if (actor.mspId !== license.grantorMsp && actor.mspId !== license.holderMsp) {
    throw new LedgerError(
      'FORBIDDEN',
      `terms of license ${license.licenseId} are readable by ${license.grantorMsp} and ${license.holderMsp}, submitter is ${actor.mspId}`,
    );
  }
}

/** Registering a machine: a `machine-admin`; the submitter's org becomes the owner. @throws LedgerError FORBIDDEN. */
export function assertCanRegisterMachine(actor: Actor): void {
  requireRole(actor, [ROLE.machineAdmin], 'registering a machine');
}

/** Deactivating a machine: a `machine-admin` of its owner org. @throws LedgerError FORBIDDEN. */
export function assertCanDeactivateMachine(actor: Actor, machine: Machine): void {
  requireRole(actor, [ROLE.machineAdmin], `deactivating machine ${machine.machineId}`);
  requireOrg(actor, machine.ownerMsp, `deactivating machine ${machine.machineId}`);
}

/** Rotating a machine's keys: the owner org's `machine-admin`. @throws LedgerError FORBIDDEN. */
export function assertCanRotateMachineKeys(actor: Actor, machine: Machine): void {
  requireRole(actor, [ROLE.machineAdmin], `rotating the keys of machine ${machine.machineId}`);
  requireOrg(actor, machine.ownerMsp, `rotating the keys of machine ${machine.machineId}`);
}

/**
 * Recording a key release: the `key-release` service identity of the DSI owner (the org is checked by the
 * release rule). @throws LedgerError FORBIDDEN.
 */
export function assertCanReleaseKeys(actor: Actor, dsi: Dsi): void {
  requireRole(actor, [ROLE.keyRelease], `releasing the keys of DSI ${dsi.dsiId}`);
}

/**
 * Completing, aborting or scrapping a build: the operator who started it, or an `ip-admin`/`license-admin`
 * of the machine's org. @throws LedgerError FORBIDDEN.
 */
export function assertCanFinishBuild(actor: Actor, build: Build): void {
  requireOrg(actor, build.machineOwnerMsp, `finishing build ${build.buildId}`);
  if (actor.id === build.operatorId) return;
  requireRole(actor, LICENSE_ADMINS, `finishing build ${build.buildId} started by another operator`);
}
