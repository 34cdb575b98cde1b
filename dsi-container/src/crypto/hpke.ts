/**
 * HPKE (RFC 9180) base mode, single-shot, with DHKEM(P-256, HKDF-SHA256) and HKDF-SHA256.
 * The recipient's only private-key operation is one plain ECDH, so the key may live in a
 * PKCS#11 token (CKM_ECDH1_DERIVE with CKD_NULL returns exactly the DH x-coordinate).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { decodePoint, encodePoint } from './p256';

const KEM_ID = 0x0010;
const KDF_ID = 0x0001;
/** AEAD ids of RFC 9180 §7.3 this module supports. */
export const AEAD = { aes128gcm: 0x0001, aes256gcm: 0x0002 } as const;
export type AeadId = (typeof AEAD)[keyof typeof AEAD];

const i2osp = (n: number, len: number): Buffer => {
  const b = Buffer.alloc(len);
  b.writeUIntBE(n, 0, len);
  return b;
};
const KEM_SUITE = Buffer.concat([Buffer.from('KEM'), i2osp(KEM_ID, 2)]);
const hpkeSuite = (aead: AeadId): Buffer =>
  Buffer.concat([Buffer.from('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(aead, 2)]);

function extract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt.length === 0 ? Buffer.alloc(32) : salt)
    .update(ikm)
    .digest();
}
function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; out.length * 32 < length; i++) {
    t = createHmac('sha256', prk).update(t).update(info).update(Buffer.of(i)).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}
const V1 = Buffer.from('HPKE-v1');
function labeledExtract(suite: Buffer, salt: Buffer, label: string, ikm: Buffer): Buffer {
  return extract(salt, Buffer.concat([V1, suite, Buffer.from(label), ikm]));
}
function labeledExpand(suite: Buffer, prk: Buffer, label: string, info: Buffer, length: number): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), V1, suite, Buffer.from(label), info]), length);
}

function kemSharedSecret(dh: Buffer, enc: Buffer, pkRm: Buffer): Buffer {
  const prk = labeledExtract(KEM_SUITE, Buffer.alloc(0), 'eae_prk', dh);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', Buffer.concat([enc, pkRm]), 32);
}

/** Key schedule of RFC 9180 §5.1 for mode_base; returns the AEAD key and base nonce. */
export function keySchedule(
  aead: AeadId,
  sharedSecret: Buffer,
  info: Buffer,
): { key: Buffer; baseNonce: Buffer } {
  const suite = hpkeSuite(aead);
  const empty = Buffer.alloc(0);
  const pskIdHash = labeledExtract(suite, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(suite, empty, 'info_hash', info);
  const context = Buffer.concat([Buffer.of(0), pskIdHash, infoHash]);
  const secret = labeledExtract(suite, sharedSecret, 'secret', empty);
  return {
    key: labeledExpand(suite, secret, 'key', context, aead === AEAD.aes256gcm ? 32 : 16),
    baseNonce: labeledExpand(suite, secret, 'base_nonce', context, 12),
  };
}

const gcm = (aead: AeadId): 'aes-128-gcm' | 'aes-256-gcm' =>
  aead === AEAD.aes256gcm ? 'aes-256-gcm' : 'aes-128-gcm';

/** The result of a single-shot seal: encapsulated key and ciphertext (with tag). */
export interface Sealed {
  readonly enc: Buffer;
  readonly ciphertext: Buffer;
}

/**
 * SealBase(pkR, info, aad, pt) with sequence number 0. `ephemeral` is for test vectors only.
 */
export function sealBase(
  aead: AeadId,
  recipient: KeyObject,
  info: Buffer,
  aad: Buffer,
  plaintext: Buffer,
  ephemeral?: KeyObject,
): Sealed {
  const skE = ephemeral ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const enc = encodePoint(skE);
  const dh = diffieHellman({ privateKey: skE, publicKey: recipient });
  const { key, baseNonce } = keySchedule(aead, kemSharedSecret(dh, enc, encodePoint(recipient)), info);
  const c = createCipheriv(gcm(aead), key, baseNonce);
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return { enc, ciphertext };
}

/** A recipient's private-key step: ECDH with a peer point, returning the 32-byte x-coordinate. */
export type Ecdh = (peer: KeyObject) => Promise<Buffer>;

/**
 * OpenBase(enc, skR, info, aad, ct) with sequence number 0. Resolves to undefined when the
 * encapsulated key is not a valid point or the AEAD tag does not verify.
 */
export async function openBase(
  aead: AeadId,
  ecdh: Ecdh,
  recipientPublic: KeyObject,
  enc: Buffer,
  info: Buffer,
  aad: Buffer,
  ciphertext: Buffer,
): Promise<Buffer | undefined> {
  const pkE = decodePoint(enc);
  if (!pkE || ciphertext.length < 16) return undefined;
  const dh = await ecdh(pkE);
  const { key, baseNonce } = keySchedule(aead, kemSharedSecret(dh, enc, encodePoint(recipientPublic)), info);
  const d = createDecipheriv(gcm(aead), key, baseNonce);
  d.setAAD(aad);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  try {
    return Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}
