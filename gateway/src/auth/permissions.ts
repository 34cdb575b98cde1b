import {
  ROLE,
  ThreadsealError,
  type JsonTransactionName,
  type SubmitTransactionName,
} from '@threadseal/ledger-model';
import type { Caller } from './caller';

/**
 * Who may ask the gateway to send a transaction, checked before anything reaches the ledger (the chaincode
 * checks again, with the ledger's state at hand):
 * - a list of roles: the caller's `role` attribute must be one of them;
 * - `any-role`: the caller must carry a role (builds: the licence decides which operator roles it accepts);
 * - `enrolled`: any enrolled identity of the org (reads; the chaincode decides what it may see).
 */
export type Permission = readonly string[] | 'any-role' | 'enrolled';

const LICENSE_ADMINS = [ROLE.ipAdmin, ROLE.licenseAdmin] as const;

/** The permission of every transaction the gateway sends. */
export const SUBMIT_PERMISSIONS: { readonly [N in SubmitTransactionName]: Permission } = {
  'dsi:Register': [ROLE.ipAdmin],
  'dsi:Supersede': [ROLE.ipAdmin],
  'dsi:Revoke': [ROLE.ipAdmin],
  'license:Issue': [ROLE.ipAdmin],
  'license:Split': LICENSE_ADMINS,
  'license:Allocate': LICENSE_ADMINS,
  'license:Revoke': LICENSE_ADMINS,
  'machine:Register': [ROLE.machineAdmin],
  'machine:Deactivate': [ROLE.machineAdmin],
  'machine:RotateKeys': [ROLE.machineAdmin],
  'release:Record': [ROLE.keyRelease],
  'build:Start': 'any-role',
  'build:Complete': 'any-role',
  'build:Abort': 'any-role',
  'build:Scrap': 'any-role',
};

/** The permission of a transaction: its row of {@link SUBMIT_PERMISSIONS}, `enrolled` for reads. */
export function permissionOf(name: JsonTransactionName): Permission {
  return Object.prototype.hasOwnProperty.call(SUBMIT_PERMISSIONS, name)
    ? SUBMIT_PERMISSIONS[name as SubmitTransactionName]
    : 'enrolled';
}

/**
 * Refuses a caller that lacks the permission of `name`.
 * @throws ThreadsealError FORBIDDEN naming the roles needed and the role the caller has.
 */
export function authorize(caller: Caller, name: JsonTransactionName): void {
  const permission = permissionOf(name);
  if (permission === 'enrolled') return;
  if (permission === 'any-role') {
    if (caller.role === null)
      throw new ThreadsealError('FORBIDDEN', `${name} requires a role, ${caller.name} has none`);
    return;
  }
  if (caller.role === null || !permission.includes(caller.role)) {
    throw new ThreadsealError(
      'FORBIDDEN',
      `${name} requires role ${permission.join(' or ')}, ${caller.name} has ${caller.role ?? 'no role'}`,
    );
  }
}
