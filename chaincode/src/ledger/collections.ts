/**
 * The private data collection holding the confidential terms of a license between `grantorMsp` and
 * `holderMsp`: `terms-<A>-<B>` with the two MSP ids sorted, or `terms-<A>` when an org licenses itself.
 * `chaincode/collections.json` defines one collection per pair of channel orgs and one per org.
 */
export function termsCollection(grantorMsp: string, holderMsp: string): string {
  return `terms-${[...new Set([grantorMsp, holderMsp])].sort().join('-')}`;
}
