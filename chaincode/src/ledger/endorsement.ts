import { KeyEndorsementPolicy } from 'fabric-shim';

/**
 * Role name accepted by `KeyEndorsementPolicy.addOrgs`. fabric-shim 2.5.8 declares `ENDORSER_ROLES` in its
 * typings but does not export it at run time, hence the literal.
 */
const PEER_ROLE = 'PEER';

/**
 * A key-level endorsement policy requiring one peer of every listed org (AND); duplicates are ignored so a
 * license an org grants to itself needs that org's peer once.
 */
export function peersOf(...mspIds: string[]): Uint8Array {
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs(PEER_ROLE, ...[...new Set(mspIds)].sort());
  return policy.getPolicy();
}

/** The org ids a policy made by {@link peersOf} requires, sorted (for tests and diagnostics). */
export function policyOrgs(policy: Uint8Array): string[] {
  return new KeyEndorsementPolicy(policy).listOrgs().sort();
}
