import {
  LedgerError,
  type Dsi,
  type License,
  type LicenseRevocation,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import { instant, type TxTime } from './time.js';

/** One license of a chain with its revocation status and, when readable here, its production terms. */
export interface ChainNode {
  readonly license: License;
  readonly revocation: LicenseRevocation;
  /** `null` when the terms are confidential and this peer cannot read them (narrowing was checked at split). */
  readonly terms: ProductionTerms | null;
}

/**
 * Asserts that one license is usable at `now`: not revoked, inside its validity window.
 * @throws LedgerError LICENSE_REVOKED, LICENSE_NOT_YET_VALID or LICENSE_EXPIRED naming the license.
 */
export function assertLicenseUsable(node: ChainNode, now: TxTime, forLicenseId: string): void {
  const { license, revocation } = node;
  const via = license.licenseId === forLicenseId ? '' : ` (ancestor of ${forLicenseId})`;
  if (revocation.revoked) {
    throw new LedgerError(
      'LICENSE_REVOKED',
      `license ${license.licenseId}${via} was revoked by ${revocation.revokedBy ?? '?'} at ${revocation.revokedAt ?? '?'}: ${revocation.reason ?? ''}`,
    );
  }
  if (now.ms < instant(license.grant.validFrom)) {
    throw new LedgerError(
      'LICENSE_NOT_YET_VALID',
      `license ${license.licenseId}${via} is valid from ${license.grant.validFrom}, now is ${now.iso}`,
    );
  }
  if (now.ms >= instant(license.grant.validUntil)) {
    throw new LedgerError(
      'LICENSE_EXPIRED',
      `license ${license.licenseId}${via} expired at ${license.grant.validUntil}, now is ${now.iso}`,
    );
  }
}

/**
 * Walks a chain from the root license (issued by the DSI owner) down to the license used and asserts
 * that the DSI is not revoked, the links are consistent, and no license on the way is revoked or outside
 * its validity window. Revocation therefore needs no cascading writes.
 * @throws LedgerError DSI_NOT_ACTIVE, LICENSE_REVOKED, LICENSE_NOT_YET_VALID, LICENSE_EXPIRED or CORRUPT_STATE.
 */
export function assertChainUsable(dsi: Dsi, chain: readonly ChainNode[], now: TxTime): void {
  const leaf = chain[chain.length - 1];
  if (leaf === undefined) throw new LedgerError('CORRUPT_STATE', 'license chain is empty');
  if (dsi.status === 'revoked')
    throw new LedgerError('DSI_NOT_ACTIVE', `DSI ${dsi.dsiId} was revoked: ${dsi.revokedReason ?? ''}`);
  chain.forEach((node, index) => {
    const expectedParent = index === 0 ? null : (chain[index - 1]?.license.licenseId ?? null);
    const expectedGrantor = index === 0 ? dsi.ownerMsp : chain[index - 1]?.license.holderMsp;
    if (
      node.license.parentId !== expectedParent ||
      node.license.dsiId !== dsi.dsiId ||
      node.license.grantorMsp !== expectedGrantor
    ) {
      throw new LedgerError(
        'CORRUPT_STATE',
        `license ${node.license.licenseId} does not link to ${expectedParent ?? `DSI ${dsi.dsiId}`}`,
      );
    }
    assertLicenseUsable(node, now, leaf.license.licenseId);
  });
}
