import {
  EVENT,
  LedgerError,
  type Allocation,
  type AllocateInput,
  type Dsi,
  type IssueLicenseInput,
  type License,
  type LicenseBalance,
  type LicenseRevocation,
  type Machine,
  type ProductionTerms,
  type SplitLicenseInput,
  type LedgerEvent,
  transientTermsField,
} from '@threadseal/ledger-model';
import { assertChainUsable, type ChainNode } from './chain.js';
import { assertMachineEligible } from './eligibility.js';
import { assertNotSelfIssue } from './guards.js';
import { assertNarrows } from './narrowing.js';
import { termsHash } from './terms-hash.js';
import { assertNotBefore, type TxTime } from './time.js';
import { assertMachineActive } from './machine-rules.js';

/** Units of a license not yet sub-licensed or allocated. */
export function remainingUnits(license: License, balance: LicenseBalance): number {
  return license.grant.quantity - balance.sublicensed - balance.allocated;
}

/**
 * Returns the terms of the license being used, which must be known here: public, or confidential and supplied by
 * the client. Ancestors' confidential terms may stay unknown because every split was checked to narrow.
 * @throws LedgerError CONFIDENTIAL_TERMS_UNAVAILABLE.
 */
export function requireLeafTerms(leaf: ChainNode): ProductionTerms {
  if (leaf.terms === null) {
    throw new LedgerError(
      'CONFIDENTIAL_TERMS_UNAVAILABLE',
      `terms of license ${leaf.license.licenseId} are confidential; pass them in the transient field ${transientTermsField(leaf.license.licenseId)}`,
    );
  }
  return leaf.terms;
}

/** Units of an allocation a machine may still start builds with. */
export function allocationAvailable(allocation: Allocation): number {
  return allocation.quantity - allocation.consumed + allocation.scrapCredited;
}

/** The three records a new license is stored as. */
export interface NewLicense {
  readonly license: License;
  readonly balance: LicenseBalance;
  readonly revocation: LicenseRevocation;
}

/** Where a new license's terms go: on the channel (`null`) or into a collection. */
export type TermsPlacement = { readonly collection: string } | null;

/**
 * Confidential terms must carry their digest key (else their hash could be brute-forced from the channel);
 * public terms must not (it would be published with them).
 * @throws LedgerError INVALID_ARGUMENT.
 */
function assertDigestKeyPlacement(
  licenseId: string,
  terms: ProductionTerms,
  placement: TermsPlacement,
): void {
  if (placement !== null && terms.digestKey === undefined)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `license ${licenseId}: confidential terms need a digestKey (32 random bytes as hex; the client adds one) so that their hash cannot be guessed`,
    );
  if (placement === null && terms.digestKey !== undefined)
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `license ${licenseId}: public terms carry no digestKey (it would be published with them)`,
    );
}

function newLicense(
  fields: Omit<License, 'termsHash' | 'terms' | 'confidential' | 'issuedAt' | 'issuedTxId'>,
  terms: ProductionTerms,
  placement: TermsPlacement,
  now: TxTime,
  txId: string,
): NewLicense {
  if (fields.grant.mode === 'distribution' && !fields.grant.maySublicense) {
    throw new LedgerError(
      'INVALID_ARGUMENT',
      `license ${fields.licenseId}: a distribution license must allow sub-licensing`,
    );
  }
  assertDigestKeyPlacement(fields.licenseId, terms, placement);
  const license: License = {
    ...fields,
    terms: placement === null ? terms : null,
    termsHash: termsHash(terms),
    confidential: placement === null ? null : { collection: placement.collection },
    issuedAt: now.iso,
    issuedTxId: txId,
  };
  return {
    license,
    balance: { licenseId: license.licenseId, sublicensed: 0, allocated: 0, scrapAllowanceAllocated: 0 },
    revocation: {
      licenseId: license.licenseId,
      revoked: false,
      revokedAt: null,
      revokedBy: null,
      reason: null,
    },
  };
}

/**
 * The DSI owner licenses an active DSI to another org (never to itself, {@link assertNotSelfIssue}).
 * @throws LedgerError DSI_NOT_ACTIVE, INVALID_ARGUMENT.
 */
export function issueLicense(
  dsi: Dsi,
  input: IssueLicenseInput,
  terms: ProductionTerms,
  placement: TermsPlacement,
  now: TxTime,
  txId: string,
): NewLicense & { readonly event: LedgerEvent } {
  if (dsi.status !== 'active')
    throw new LedgerError(
      'DSI_NOT_ACTIVE',
      `DSI ${dsi.dsiId} is ${dsi.status}; licenses can only be issued for an active DSI`,
    );
  assertNotSelfIssue(dsi.ownerMsp, input.holderMsp, input.licenseId);
  const created = newLicense(
    {
      licenseId: input.licenseId,
      dsiId: dsi.dsiId,
      parentId: null,
      ancestry: [],
      grantorMsp: dsi.ownerMsp,
      holderMsp: input.holderMsp,
      grant: input.grant,
    },
    terms,
    placement,
    now,
    txId,
  );
  const { license } = created;
  return {
    ...created,
    event: {
      name: EVENT.licenseIssued,
      payload: {
        licenseId: license.licenseId,
        dsiId: license.dsiId,
        grantorMsp: license.grantorMsp,
        holderMsp: license.holderMsp,
        grant: license.grant,
        termsHash: license.termsHash,
        confidential: placement !== null,
      },
    },
  };
}

/**
 * The holder of the last license of `chain` grants part of its remaining units to another org (or itself)
 * with terms that only narrow its own. The parent's balance grows by the child's quantity in the same step,
 * so Σ children + allocated ≤ granted holds at the parent afterwards; the scrap allowance is conserved the same
 * way (Σ children's and allocations' allowances ≤ the parent's).
 * @throws LedgerError SUBLICENSE_NOT_ALLOWED, LICENSE_EXHAUSTED, SCRAP_ALLOWANCE_EXCEEDED, NARROWING_VIOLATION, CONFIDENTIAL_TERMS_UNAVAILABLE,
 * or any chain error of {@link assertChainUsable}.
 */
export function splitLicense(
  dsi: Dsi,
  chain: readonly ChainNode[],
  parentBalance: LicenseBalance,
  input: SplitLicenseInput,
  childTerms: ProductionTerms,
  placement: TermsPlacement,
  now: TxTime,
  txId: string,
): NewLicense & { readonly parentBalance: LicenseBalance; readonly event: LedgerEvent } {
  const parentNode = chain[chain.length - 1];
  if (parentNode === undefined)
    throw new LedgerError('CORRUPT_STATE', `license chain of ${input.parentId} is empty`);
  const parent = parentNode.license;
  assertChainUsable(dsi, chain, now);
  if (!parent.grant.maySublicense)
    throw new LedgerError(
      'SUBLICENSE_NOT_ALLOWED',
      `license ${parent.licenseId} does not allow sub-licensing`,
    );
  const remaining = remainingUnits(parent, parentBalance);
  if (input.grant.quantity > remaining) {
    throw new LedgerError(
      'LICENSE_EXHAUSTED',
      `license ${parent.licenseId} has ${remaining} of ${parent.grant.quantity} units left, sub-license ${input.licenseId} asks for ${input.grant.quantity}`,
    );
  }
  const parentTerms = requireLeafTerms(parentNode);
  assertNarrows(
    input.licenseId,
    parent.licenseId,
    { grant: parent.grant, terms: parentTerms },
    { grant: input.grant, terms: childTerms },
  );
  const scrapLeft = parent.grant.scrapAllowance - parentBalance.scrapAllowanceAllocated;
  if (input.grant.scrapAllowance > scrapLeft) {
    throw new LedgerError(
      'SCRAP_ALLOWANCE_EXCEEDED',
      `license ${parent.licenseId} has ${scrapLeft} of ${parent.grant.scrapAllowance} scrap allowance left, sub-license ${input.licenseId} asks for ${input.grant.scrapAllowance}`,
    );
  }
  const created = newLicense(
    {
      licenseId: input.licenseId,
      dsiId: parent.dsiId,
      parentId: parent.licenseId,
      ancestry: [...parent.ancestry, parent.licenseId],
      grantorMsp: parent.holderMsp,
      holderMsp: input.holderMsp,
      grant: input.grant,
    },
    childTerms,
    placement,
    now,
    txId,
  );
  const newParentBalance: LicenseBalance = {
    ...parentBalance,
    sublicensed: parentBalance.sublicensed + input.grant.quantity,
    scrapAllowanceAllocated: parentBalance.scrapAllowanceAllocated + input.grant.scrapAllowance,
  };
  const { license } = created;
  return {
    ...created,
    parentBalance: newParentBalance,
    event: {
      name: EVENT.licenseSplit,
      payload: {
        licenseId: license.licenseId,
        parentId: parent.licenseId,
        dsiId: license.dsiId,
        grantorMsp: license.grantorMsp,
        holderMsp: license.holderMsp,
        grant: license.grant,
        termsHash: license.termsHash,
        confidential: placement !== null,
        parentRemaining: remainingUnits(parent, newParentBalance),
      },
    },
  };
}

/**
 * The holder of a manufacturing license gives units (and a share of the scrap allowance) to one of its
 * own machines that satisfies the machine constraints of every readable license of the chain.
 * @throws LedgerError MODE_NOT_PERMITTED, MACHINE_NOT_ELIGIBLE, LICENSE_EXHAUSTED, SCRAP_ALLOWANCE_EXCEEDED,
 * or any chain error of {@link assertChainUsable}.
 */
export function allocateUnits(
  dsi: Dsi,
  chain: readonly ChainNode[],
  balance: LicenseBalance,
  existing: Allocation | null,
  machine: Machine,
  input: AllocateInput,
  now: TxTime,
): { readonly balance: LicenseBalance; readonly allocation: Allocation; readonly event: LedgerEvent } {
  const leaf = chain[chain.length - 1];
  if (leaf === undefined)
    throw new LedgerError('CORRUPT_STATE', `license chain of ${input.licenseId} is empty`);
  const license = leaf.license;
  if (license.grant.mode !== 'manufacturing') {
    throw new LedgerError(
      'MODE_NOT_PERMITTED',
      `license ${license.licenseId} has mode ${license.grant.mode}; only manufacturing licenses allocate units to machines`,
    );
  }
  assertChainUsable(dsi, chain, now);
  requireLeafTerms(leaf);
  assertMachineActive(machine);
  if (machine.ownerMsp !== license.holderMsp) {
    throw new LedgerError(
      'MACHINE_NOT_ELIGIBLE',
      `machine ${machine.machineId} belongs to ${machine.ownerMsp}, license ${license.licenseId} is held by ${license.holderMsp}`,
    );
  }
  for (const node of chain)
    if (node.terms !== null) assertMachineEligible(node.license.licenseId, node.terms, machine);
  const remaining = remainingUnits(license, balance);
  if (input.quantity > remaining) {
    throw new LedgerError(
      'LICENSE_EXHAUSTED',
      `license ${license.licenseId} has ${remaining} of ${license.grant.quantity} units left, allocation to machine ${machine.machineId} asks for ${input.quantity}`,
    );
  }
  const scrapLeft = license.grant.scrapAllowance - balance.scrapAllowanceAllocated;
  if (input.scrapAllowance > scrapLeft) {
    throw new LedgerError(
      'SCRAP_ALLOWANCE_EXCEEDED',
      `license ${license.licenseId} has ${scrapLeft} of ${license.grant.scrapAllowance} scrap allowance left, allocation to machine ${machine.machineId} asks for ${input.scrapAllowance}`,
    );
  }
  const allocation: Allocation =
    existing === null
      ? {
          licenseId: license.licenseId,
          machineId: machine.machineId,
          dsiId: license.dsiId,
          holderMsp: license.holderMsp,
          quantity: input.quantity,
          consumed: 0,
          scrapCredited: 0,
          scrapAllowance: input.scrapAllowance,
        }
      : {
          ...existing,
          quantity: existing.quantity + input.quantity,
          scrapAllowance: existing.scrapAllowance + input.scrapAllowance,
        };
  const newBalance: LicenseBalance = {
    ...balance,
    allocated: balance.allocated + input.quantity,
    scrapAllowanceAllocated: balance.scrapAllowanceAllocated + input.scrapAllowance,
  };
  return {
    balance: newBalance,
    allocation,
    event: {
      name: EVENT.unitsAllocated,
      payload: {
        licenseId: license.licenseId,
        machineId: machine.machineId,
        dsiId: license.dsiId,
        holderMsp: license.holderMsp,
        added: input.quantity,
        quantity: allocation.quantity,
        licenseRemaining: remainingUnits(license, newBalance),
      },
    },
  };
}

/**
 * The grantor revokes a license. Descendants are not written: StartBuild walks the chain and finds it.
 * @throws LedgerError LICENSE_REVOKED when it is already revoked, CLOCK_SKEW for a time before its issue.
 */
export function revokeLicense(
  license: License,
  revocation: LicenseRevocation,
  reason: string,
  revokedBy: string,
  now: TxTime,
): { readonly revocation: LicenseRevocation; readonly event: LedgerEvent } {
  if (revocation.revoked)
    throw new LedgerError(
      'LICENSE_REVOKED',
      `license ${license.licenseId} was already revoked at ${revocation.revokedAt ?? '?'}`,
    );
  assertNotBefore(now, license.issuedAt, `the issue of license ${license.licenseId}`);
  return {
    revocation: { licenseId: license.licenseId, revoked: true, revokedAt: now.iso, revokedBy, reason },
    event: {
      name: EVENT.licenseRevoked,
      payload: {
        licenseId: license.licenseId,
        dsiId: license.dsiId,
        grantorMsp: license.grantorMsp,
        holderMsp: license.holderMsp,
        reason,
      },
    },
  };
}
