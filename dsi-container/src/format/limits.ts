/** Format constants and hostile-input limits (docs/container-format.md §2 and §8). */

/** `\x89DSI\r\n\x1a\n`: a non-ASCII first byte and CR/LF/EOF bytes catch text-mode mangling, like PNG. */
export const MAGIC = Buffer.from([0x89, 0x44, 0x53, 0x49, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The only format version this library reads and writes. */
export const FORMAT_VERSION = 1;
/** Magic (8) + version (1) + header length (4). */
export const PREAMBLE_LENGTH = 13;
/** GCM tag bytes appended to every chunk. */
export const TAG_LENGTH = 16;

/** Hostile-input limits; every one is checked before memory proportional to it is allocated. */
export const LIMITS = {
  /** Largest header accepted; checked on the length field before any allocation. */
  maxHeaderBytes: 16 * 1024 * 1024,
  /** Most files in one DSI. */
  maxFiles: 10_000,
  /** Most recipient stanzas in one header. */
  maxRecipients: 1_000,
  /** Most certificates in the signer chain. */
  maxCertificates: 8,
  /** Largest plaintext file: 1 TiB keeps every per-file GCM key far below its usage limit. */
  maxFileBytes: 2 ** 40,
  /** Chunk size bounds (plaintext bytes per chunk). */
  minChunkSize: 64,
  maxChunkSize: 16 * 1024 * 1024,
  /** Chunks per segment bounds. */
  minSegmentChunks: 1,
  maxSegmentChunks: 65_536,
  /** Most chunks per file: the STREAM counter never nears 2^88, and GCM invocations per key stay ≤ 2^32. */
  maxChunksPerFile: 2 ** 32,
  /** Longest text field (title, name, media type…) in UTF-16 code units. */
  maxTextLength: 1024,
} as const;

/** Default plaintext bytes per chunk (64 KiB, as in age). */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Default chunks per segment: 16 × 64 KiB = 1 MiB segments (parallel work units, bounded memory). */
export const DEFAULT_SEGMENT_CHUNKS = 16;

/** Domain-separation labels of the key schedule. */
export const LABEL = {
  payloadKey: 'threadseal-dsi/1 payload key',
  commitment: 'threadseal-dsi/1 key commitment',
  nameKey: 'threadseal-dsi/1 name key',
  fileDigest: 'threadseal-dsi/1 file digest',
  wrapInfo: 'threadseal-dsi/1 wrap',
  releaseInfo: 'threadseal-dsi/1 release',
} as const;

/** DSSE payload type of the manifest. */
export { DSI_MANIFEST_PAYLOAD_TYPE as MANIFEST_PAYLOAD_TYPE } from '@threadseal/ledger-model';
/** Value of the manifest's `format` field. */
export const MANIFEST_FORMAT = 'threadseal-dsi/1';
/** Recipient stanza type: HPKE base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. */
export const RECIPIENT_TYPE = 'hpke-p256-sha256-aes256gcm';
