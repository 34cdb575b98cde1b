/** P-256 key conversions between KeyObject, SPKI and the uncompressed point encoding. */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { DsiError } from '../errors';

/** Throws UNSUPPORTED_KEY unless `key` is an EC P-256 key. */
export function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new DsiError(
      'UNSUPPORTED_KEY',
      `${what} must be an EC P-256 key, found ${key.asymmetricKeyType ?? 'a secret key'}`,
    );
  }
}

/** The 65-byte uncompressed point (0x04 ‖ X ‖ Y) of a P-256 public key. */
export function encodePoint(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string')
    throw new DsiError('UNSUPPORTED_KEY', 'public key has no EC coordinates');
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/** Parses an uncompressed P-256 point; OpenSSL rejects points not on the curve. Returns undefined if invalid. */
export function decodePoint(point: Buffer): KeyObject | undefined {
  if (point.length !== 65 || point[0] !== 4) return undefined;
  try {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return undefined;
  }
}

/** Recipient key id: SHA-256 of the SubjectPublicKeyInfo DER, hex. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}
