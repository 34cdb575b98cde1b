import type { ParameterValue } from './build.js';
import type { LicenseGrant } from './license.js';

/** Chaincode event names; every state-changing transaction emits exactly one. */
export const EVENT = {
  dsiRegistered: 'DsiRegistered',
  dsiSuperseded: 'DsiSuperseded',
  dsiRevoked: 'DsiRevoked',
  licenseIssued: 'LicenseIssued',
  licenseSplit: 'LicenseSplit',
  licenseRevoked: 'LicenseRevoked',
  unitsAllocated: 'UnitsAllocated',
  machineRegistered: 'MachineRegistered',
  machineDeactivated: 'MachineDeactivated',
  machineKeysRotated: 'MachineKeysRotated',
  buildStarted: 'BuildStarted',
  buildCompleted: 'BuildCompleted',
  buildAborted: 'BuildAborted',
  buildScrapped: 'BuildScrapped',
  keyReleased: 'KeyReleased',
} as const;

/** Any value of {@link EVENT}. */
export type EventName = (typeof EVENT)[keyof typeof EVENT];

/** Payload of each event, by name (canonical JSON on the wire). Confidential terms appear only as their hash. */
export interface EventPayloads {
  DsiRegistered: {
    dsiId: string;
    ownerMsp: string;
    partNumber: string;
    revision: string;
    supersedes: string | null;
  };
  DsiSuperseded: { dsiId: string; successorId: string; ownerMsp: string; revision: string };
  DsiRevoked: { dsiId: string; ownerMsp: string; reason: string };
  LicenseIssued: {
    licenseId: string;
    dsiId: string;
    grantorMsp: string;
    holderMsp: string;
    grant: LicenseGrant;
    termsHash: string;
    confidential: boolean;
  };
  LicenseSplit: {
    licenseId: string;
    parentId: string;
    dsiId: string;
    grantorMsp: string;
    holderMsp: string;
    grant: LicenseGrant;
    termsHash: string;
    confidential: boolean;
    parentRemaining: number;
  };
  LicenseRevoked: { licenseId: string; dsiId: string; grantorMsp: string; holderMsp: string; reason: string };
  UnitsAllocated: {
    licenseId: string;
    machineId: string;
    dsiId: string;
    holderMsp: string;
    added: number;
    quantity: number;
    licenseRemaining: number;
  };
  MachineRegistered: { machineId: string; ownerMsp: string; make: string; model: string; serial: string };
  MachineDeactivated: { machineId: string; ownerMsp: string; reason: string };
  MachineKeysRotated: {
    machineId: string;
    ownerMsp: string;
    reason: string;
    /** hex SHA-256 of the SPKI DER of the old and new keys. */
    previousSigningKeyId: string;
    signingKeyId: string;
    previousRecipientKeyId: string;
    recipientKeyId: string;
  };
  BuildStarted: {
    buildId: string;
    dsiId: string;
    licenseId: string;
    machineId: string;
    operatorId: string;
    nonce: string;
    parameters: Record<string, ParameterValue> | null;
    parametersDigest: string;
    allocationRemaining: number;
  };
  BuildCompleted: {
    buildId: string;
    dsiId: string;
    licenseId: string;
    machineId: string;
    partId: string;
    processRecordDigest: string;
  };
  BuildAborted: { buildId: string; dsiId: string; licenseId: string; machineId: string; reason: string };
  BuildScrapped: {
    buildId: string;
    dsiId: string;
    licenseId: string;
    machineId: string;
    reason: string;
    evidenceDigest: string | null;
    credited: boolean;
    allocationRemaining: number;
  };
  KeyReleased: {
    buildId: string;
    dsiId: string;
    licenseId: string;
    machineId: string;
    machineOwnerMsp: string;
    keyId: string;
    releasedByMsp: string;
  };
}

/** A named event with its typed payload. */
export type LedgerEvent = {
  [N in EventName]: { readonly name: N; readonly payload: EventPayloads[N] };
}[EventName];

const EVENT_NAMES: ReadonlySet<string> = new Set(Object.values(EVENT));

/** Returns true when `name` is one of {@link EVENT}. */
export function isEventName(name: string): name is EventName {
  return EVENT_NAMES.has(name);
}

/**
 * Decodes a chaincode event as delivered to clients (name + payload bytes). Returns `undefined` for events
 * this package does not know (e.g. from a newer chaincode), so listeners can skip them.
 * @throws SyntaxError when a known event's payload is not JSON.
 */
export function parseLedgerEvent(name: string, payload: Uint8Array): LedgerEvent | undefined {
  if (!isEventName(name)) return undefined;
  return {
    name,
    payload: JSON.parse(new TextDecoder().decode(payload)) as EventPayloads[typeof name],
  } as LedgerEvent;
}
