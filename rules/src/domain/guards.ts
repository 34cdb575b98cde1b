import { LedgerError, type License } from '@threadseal/ledger-model';

/**
 * The orgs whose peers must endorse every later change of a record in a DSI's licence tree — the licence, its
 * balance, revocation, allocations, builds, nonces, releases, parts and tree entries: the DSI owner (the
 * stakeholder of the whole tree), the licence's grantor and its holder, each once, sorted. Never fewer than two
 * distinct orgs, because the owner never licenses itself ({@link assertNotSelfIssue}); a self-licence of a
 * licensee (grantor = holder) is therefore still guarded by the owner. Two licensees colluding cannot change a
 * record of a tree without the owner's peer, and the owner cannot change a licensee's records without it.
 * @throws LedgerError CORRUPT_STATE when fewer than two orgs would guard the record.
 */
export function rightsGuards(
  dsiOwnerMsp: string,
  license: Pick<License, 'grantorMsp' | 'holderMsp' | 'licenseId'>,
): string[] {
  const guards = [...new Set([dsiOwnerMsp, license.grantorMsp, license.holderMsp])].sort();
  if (guards.length < 2)
    throw new LedgerError(
      'CORRUPT_STATE',
      `license ${license.licenseId} would be guarded by ${guards.join(', ')} alone; a tree record needs two distinct orgs`,
    );
  return guards;
}

/**
 * The owner of a DSI never issues a licence to itself: its records would be guarded by one org alone, and the
 * owner needs no licence to its own IP.
 * @throws LedgerError INVALID_ARGUMENT.
 */
export function assertNotSelfIssue(dsiOwnerMsp: string, holderMsp: string, licenseId: string): void {
  if (holderMsp === dsiOwnerMsp)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `license ${licenseId}: ${holderMsp} owns the DSI and cannot be issued a licence to it (its records would be guarded by one org alone)`,
    );
}
