/**
 * @threadseal/dsi-container/format — the low-level encoders of the DSI wire format
 * (docs/container-format.md §3–§7), for building test vectors, including deliberately malformed
 * containers, and for interoperability tests of other implementations.
 *
 * Nothing here verifies anything: applications use the main entry point (`protect`, `verify`,
 * `open`), which is the only way to read a container safely.
 */
import type { KeyObject } from 'node:crypto';
import * as header from './header';
import * as limits from './limits';
import * as manifest from './manifest';
import { pae } from '../crypto/dsse';
import { normaliseDer } from '../crypto/ecdsa';
import { wrapKeys as wrapContentKeys } from '../container/protect';
import type { Signer } from '../keys/types';

/** For test vectors and interoperability: a decoded header (signed manifest, signature, signer chain, recipient stanzas). */
export type Header = header.Header;

/** For test vectors and interoperability: one recipient stanza, the content keys sealed to one P-256 public key. */
export type RecipientStanza = header.RecipientStanza;

/** For test vectors and interoperability: length of the preamble (magic, version byte, 32-bit header length). */
export const PREAMBLE_LENGTH: number = limits.PREAMBLE_LENGTH;

/** For test vectors and interoperability: bytes of the GCM tag that ends every ciphertext chunk. */
export const TAG_LENGTH: number = limits.TAG_LENGTH;

/** For test vectors and interoperability: the preamble announcing a header of `headerLength` bytes (not checked against the limit). */
export function encodePreamble(headerLength: number): Buffer {
  return header.encodePreamble(headerLength);
}

/**
 * For test vectors and interoperability: decodes header bytes (without the preamble) and the
 * manifest inside, checking their syntax only — no signature, chain or digest.
 * @throws DsiError MALFORMED_HEADER | MALFORMED_MANIFEST | LIMIT_EXCEEDED
 */
export function decodeHeader(bytes: Uint8Array): Header {
  return header.decodeHeader(bytes);
}

/** For test vectors and interoperability: the canonical header bytes of `h`, which is encoded as given, valid or not. */
export function encodeHeader(h: Omit<Header, 'manifest'>): Buffer {
  return header.encodeHeader(h);
}

/** For test vectors and interoperability: the canonical manifest bytes, the DSSE payload that the signer signs. */
export function encodeManifest(m: manifest.Manifest): Buffer {
  return manifest.encodeManifest(m);
}

/** For test vectors and interoperability: a file's ciphertext digest from its segment digests (hex in, hex out). */
export function fileDigest(segmentDigests: readonly string[]): string {
  return manifest.fileDigest(segmentDigests);
}

/**
 * For test vectors and interoperability: signs manifest bytes as `protect` does (ECDSA P-256 over
 * the DSSE pre-authentication encoding), resolving to the low-S DER signature.
 * @throws Error if the signer does not return a DER ECDSA signature
 */
export async function signManifest(manifestBytes: Buffer, signer: Signer): Promise<Buffer> {
  return normaliseDer(await signer.sign(pae(limits.MANIFEST_PAYLOAD_TYPE, manifestBytes)));
}

/**
 * For test vectors and interoperability: one recipient stanza per public key, each sealing the
 * concatenated content keys with HPKE bound to `dsiId` (fresh randomness on every call).
 */
export function wrapKeys(
  contentKeys: readonly Buffer[],
  recipients: readonly KeyObject[],
  dsiId: string,
): RecipientStanza[] {
  return wrapContentKeys(contentKeys, recipients, dsiId);
}
