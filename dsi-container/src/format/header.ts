/** The preamble and the header of a DSI container (docs/container-format.md §3–§4). */
import { DsiError } from '../errors';
import { canonicalJsonBytes, parseCanonicalJson, type Json } from './canonical-json';
import * as f from './fields';
import {
  FORMAT_VERSION,
  LIMITS,
  MAGIC,
  MANIFEST_PAYLOAD_TYPE,
  PREAMBLE_LENGTH,
  RECIPIENT_TYPE,
} from './limits';
import { decodeManifest, type Manifest } from './manifest';

/** One recipient stanza: the file keys sealed to one P-256 public key with HPKE. */
export interface RecipientStanza {
  readonly type: typeof RECIPIENT_TYPE;
  /** SHA-256 of the recipient's SubjectPublicKeyInfo DER (hex). */
  readonly keyId: string;
  /** HPKE encapsulated key: uncompressed P-256 point, 65 bytes. */
  readonly enc: Buffer;
  /** HPKE ciphertext of the concatenated 32-byte file keys plus a 16-byte tag. */
  readonly wrappedKeys: Buffer;
}

/** A decoded header: the DSSE envelope with the manifest, the signer chain and the recipients. */
export interface Header {
  /** The exact manifest bytes that were signed (the DSSE payload). */
  readonly manifestBytes: Buffer;
  readonly manifest: Manifest;
  /** DER ECDSA signature over the DSSE pre-authentication encoding. */
  readonly signature: Buffer;
  /** Signer certificate first, then intermediates (DER). */
  readonly certificates: readonly Buffer[];
  readonly recipients: readonly RecipientStanza[];
}

/** Encodes the preamble for a header of `headerLength` bytes. */
export function encodePreamble(headerLength: number): Buffer {
  const b = Buffer.alloc(PREAMBLE_LENGTH);
  MAGIC.copy(b, 0);
  b.writeUInt8(FORMAT_VERSION, 8);
  b.writeUInt32BE(headerLength, 9);
  return b;
}

/**
 * Decodes the 13-byte preamble and returns the header length, which is checked against the
 * limit before anything is allocated. `available` shorter than 13 bytes means the input ended.
 * @throws DsiError BAD_MAGIC | UNSUPPORTED_VERSION | HEADER_TOO_LARGE | TRUNCATED
 */
export function decodePreamble(available: Buffer): number {
  const magicPart = available.subarray(0, MAGIC.length);
  if (!magicPart.equals(MAGIC.subarray(0, magicPart.length))) {
    throw new DsiError(
      'BAD_MAGIC',
      `input does not start with the DSI magic (found ${magicPart.toString('hex')})`,
      { offset: 0 },
    );
  }
  if (available.length > MAGIC.length && available[8] !== FORMAT_VERSION) {
    throw new DsiError(
      'UNSUPPORTED_VERSION',
      `format version ${available[8]} is not supported (this library reads version ${FORMAT_VERSION})`,
      {
        offset: 8,
      },
    );
  }
  if (available.length < PREAMBLE_LENGTH) {
    throw new DsiError(
      'TRUNCATED',
      `input ends after ${available.length} bytes, inside the ${PREAMBLE_LENGTH}-byte preamble`,
      {
        offset: available.length,
      },
    );
  }
  const length = available.readUInt32BE(9);
  if (length > LIMITS.maxHeaderBytes) {
    throw new DsiError(
      'HEADER_TOO_LARGE',
      `header length ${length} exceeds the limit of ${LIMITS.maxHeaderBytes} bytes`,
      { offset: 9 },
    );
  }
  if (length === 0) throw new DsiError('MALFORMED_HEADER', 'header length is 0', { offset: 9 });
  return length;
}

const headerFail = (message: string): never => {
  throw new DsiError('MALFORMED_HEADER', `header ${message}`);
};

/** Decodes and validates header bytes (including the signed manifest inside). @throws DsiError */
export function decodeHeader(bytes: Uint8Array): Header {
  const fail = headerFail;
  const parsed = parseCanonicalJson(bytes);
  if ('problem' in parsed) fail(parsed.problem);
  const o = f.object(
    (parsed as { value: unknown }).value,
    'header',
    ['certificates', 'envelope', 'recipients'],
    fail,
  );
  const env = f.object(o.envelope, 'envelope', ['payload', 'payloadType', 'signatures'], fail);
  if (env.payloadType !== MANIFEST_PAYLOAD_TYPE)
    fail(`envelope.payloadType must be "${MANIFEST_PAYLOAD_TYPE}"`);
  const manifestBytes = f.base64(env.payload, 'envelope.payload', LIMITS.maxHeaderBytes, fail);
  const sigs = f.array(env.signatures, 'envelope.signatures', 1, 1, fail);
  const sigObj = f.object(sigs[0], 'envelope.signatures[0]', ['sig'], fail);
  const signature = f.base64(sigObj.sig, 'envelope.signatures[0].sig', 72, fail);
  const certificates = f
    .array(o.certificates, 'certificates', 1, LIMITS.maxCertificates, fail)
    .map((c, i) => f.base64(c, `certificates[${i}]`, 64 * 1024, fail));
  const recipients = f
    .array(o.recipients, 'recipients', 1, LIMITS.maxRecipients, fail)
    .map((r, i): RecipientStanza => {
      const w = `recipients[${i}]`;
      const ro = f.object(r, w, ['enc', 'keyId', 'type', 'wrappedKeys'], fail);
      if (ro.type !== RECIPIENT_TYPE)
        fail(`${w}.type must be "${RECIPIENT_TYPE}", found ${JSON.stringify(ro.type)}`);
      return {
        type: RECIPIENT_TYPE,
        keyId: f.hex32(ro.keyId, `${w}.keyId`, fail),
        enc: f.base64(ro.enc, `${w}.enc`, 65, fail, 65),
        wrappedKeys: f.base64(ro.wrappedKeys, `${w}.wrappedKeys`, 32 * LIMITS.maxFiles + 16, fail),
      };
    });
  const manifest = decodeManifest(manifestBytes);
  const expectedWrap = 32 * manifest.files.length + 16;
  recipients.forEach((r, i) => {
    if (r.wrappedKeys.length !== expectedWrap)
      fail(`recipients[${i}].wrappedKeys must be ${expectedWrap} bytes, found ${r.wrappedKeys.length}`);
  });
  return { manifestBytes, manifest, signature, certificates, recipients };
}

/** Encodes a header canonically. */
export function encodeHeader(h: Omit<Header, 'manifest'>): Buffer {
  const value = {
    certificates: h.certificates.map((c) => c.toString('base64')),
    envelope: {
      payload: h.manifestBytes.toString('base64'),
      payloadType: MANIFEST_PAYLOAD_TYPE,
      signatures: [{ sig: h.signature.toString('base64') }],
    },
    recipients: h.recipients.map((r) => ({
      enc: r.enc.toString('base64'),
      keyId: r.keyId,
      type: r.type,
      wrappedKeys: r.wrappedKeys.toString('base64'),
    })),
  } satisfies Json;
  return canonicalJsonBytes(value);
}
