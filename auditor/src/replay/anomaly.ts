/** Kinds of anomaly an audit reports. Each is data about the ledger, never an exception. */
export const ANOMALY = {
  /** A block or one of its parts does not decode. */
  BLOCK_UNPARSABLE: 'BLOCK_UNPARSABLE',
  /** Block 0's header hash is not the pinned genesis hash. */
  GENESIS_MISMATCH: 'GENESIS_MISMATCH',
  /** A block number is not the previous one plus one (a removed or repeated block). */
  BLOCK_NUMBER_GAP: 'BLOCK_NUMBER_GAP',
  /** A block's previous hash is not the header hash of the block before it. */
  HASH_CHAIN_BROKEN: 'HASH_CHAIN_BROKEN',
  /** A block's data hash does not cover its envelopes (a changed, removed or reordered transaction). */
  DATA_HASH_MISMATCH: 'DATA_HASH_MISMATCH',
  /** The orderer signatures do not satisfy the channel's block validation policy. */
  ORDERER_SIGNATURES_INVALID: 'ORDERER_SIGNATURES_INVALID',
  /** The transactions filter is missing or its length differs from the number of envelopes. */
  VALIDATION_FLAGS_MALFORMED: 'VALIDATION_FLAGS_MALFORMED',
  /** An endorsement whose identity or signature does not verify. */
  ENDORSEMENT_SIGNATURE_INVALID: 'ENDORSEMENT_SIGNATURE_INVALID',
  /** The recomputed validation code differs from the one the peer wrote. */
  VALIDATION_FLAG_MISMATCH: 'VALIDATION_FLAG_MISMATCH',
  /** A check the auditor cannot redo (e.g. a range query recorded only as Merkle hashes). */
  NOT_RECOMPUTABLE: 'NOT_RECOMPUTABLE',
  /** A configuration block changed the channel configuration (a notice). */
  CONFIG_UPDATE: 'CONFIG_UPDATE',
  /**
   * A config block whose update is not what the configuration in force allows: its signatures do not
   * satisfy the mod_policy of an element it changes, its versions or read set are not current, or the
   * configuration it carries is not the previous one with the update applied. The configuration stays.
   */
  CONFIG_UPDATE_UNAUTHORIZED: 'CONFIG_UPDATE_UNAUTHORIZED',
  /**
   * A revocation list of an MSP in force is past its nextUpdate at the block time: certificates revoked
   * since are not on the ledger. Identities are still checked against the list (as Fabric does); the
   * audit reports it once per list, at the first block past the date.
   */
  REVOCATION_LIST_STALE: 'REVOCATION_LIST_STALE',
  /** The rebuilt world state differs from a peer's for a key. */
  STATE_MISMATCH: 'STATE_MISMATCH',
} as const;

/** One of {@link ANOMALY}. */
export type AnomalyKind = (typeof ANOMALY)[keyof typeof ANOMALY];

/** Anomalies that report a fact about the channel rather than a failure. */
export const NOTICE_KINDS: ReadonlySet<AnomalyKind> = new Set([ANOMALY.CONFIG_UPDATE]);

/** Something the audit found, located as exactly as it can be. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly block: bigint;
  readonly txIndex?: number;
  readonly txId?: string;
  /** The MSP ids that endorsed the transaction (or signed the block), when known. */
  readonly orgs?: readonly string[];
  readonly detail: string;
}
