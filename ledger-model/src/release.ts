/**
 * Key release: the IP owner's key-release service wraps a DSI's content keys to the machine of a committed
 * build, bound to that build (docs/decisions/0008-machine-identity-and-key-release.md). The wrap travels as a
 * ledger transaction: it is the trace of the release, and only the machine's decryption key opens it.
 */

/** The stanza type of a release: HPKE to the machine's recipient key, bound to the DSI id and the build id. */
export const RELEASE_STANZA_TYPE = 'hpke-p256-sha256-aes256gcm-build' as const;

/** The content keys of one DSI sealed to one machine for one build (base64 and hex fields, fixed sizes). */
export interface ReleaseStanza {
  readonly type: typeof RELEASE_STANZA_TYPE;
  /** Hex SHA-256 of the machine's recipient SPKI DER. */
  readonly keyId: string;
  /** Base64 of the HPKE encapsulated key (an uncompressed P-256 point, 65 bytes). */
  readonly enc: string;
  /** Base64 of the sealed content keys (32 bytes per file + 16). */
  readonly wrappedKeys: string;
}

/** Input of `release:Record`, submitted by the DSI owner's key-release service. */
export interface RecordReleaseInput {
  readonly buildId: string;
  readonly stanza: ReleaseStanza;
}

/** Input of `release:Get`. */
export interface ReleaseRef {
  readonly buildId: string;
}

/** A release on the ledger (key `release~<buildId>`): at most one per build. */
export interface KeyRelease {
  readonly buildId: string;
  readonly dsiId: string;
  readonly licenseId: string;
  readonly machineId: string;
  readonly machineOwnerMsp: string;
  readonly stanza: ReleaseStanza;
  /** The MSP id and Fabric id of the release service identity that submitted it. */
  readonly releasedByMsp: string;
  readonly releasedBy: string;
  readonly releasedAt: string;
}
