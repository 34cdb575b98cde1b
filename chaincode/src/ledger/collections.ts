/**
 * The private data collection holding the confidential terms of a license: `terms-<A>-<B>[-<C>]` with the MSP
 * ids of the licence's guards (DSI owner, grantor, holder — `rightsGuards`) sorted and each once, so every org
 * whose peer must endorse the licence's changes can read the terms it endorses.
 * `chaincode/collections.json` defines one collection per set of two or three channel orgs (and one per org,
 * for records written before the guards included the DSI owner).
 */
export function termsCollection(...mspIds: string[]): string {
  return `terms-${[...new Set(mspIds)].sort().join('-')}`;
}
