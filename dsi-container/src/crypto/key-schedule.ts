/**
 * Per-file key schedule (docs/container-format.md §5). Each file has its own random 256-bit
 * content key K; everything else is derived from K with HKDF-SHA256 (RFC 5869) under distinct
 * labels, so the payload key, the name key and the public commitment are independent.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { LABEL } from '../format/limits';

const derive = (contentKey: Buffer, label: string): Buffer =>
  Buffer.from(hkdfSync('sha256', contentKey, Buffer.alloc(0), label, 32));

/** AES-256-GCM key of the file's STREAM chunks. */
export function payloadKey(contentKey: Buffer): Buffer {
  return derive(contentKey, LABEL.payloadKey);
}

/** Public key commitment (hex) recorded in the signed manifest; binds the ciphertext to one key. */
export function keyCommitment(contentKey: Buffer): string {
  return derive(contentKey, LABEL.commitment).toString('hex');
}

// The name key encrypts exactly one message, so a fixed all-zero nonce is safe.
const NAME_NONCE = Buffer.alloc(12);

/** Seals a confidential file name under the file's name key (AES-256-GCM, tag appended). */
export function sealName(contentKey: Buffer, name: string): Buffer {
  const c = createCipheriv('aes-256-gcm', derive(contentKey, LABEL.nameKey), NAME_NONCE);
  return Buffer.concat([c.update(name, 'utf8'), c.final(), c.getAuthTag()]);
}

/** Opens a sealed name; undefined if it does not authenticate or is not UTF-8. */
export function openName(contentKey: Buffer, sealed: Buffer): string | undefined {
  if (sealed.length < 16) return undefined;
  const d = createDecipheriv('aes-256-gcm', derive(contentKey, LABEL.nameKey), NAME_NONCE);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    const bytes = Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
