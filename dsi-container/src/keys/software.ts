/** Software keys from PEM files: a signer and a recipient key backed by node:crypto. */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  KeyObject,
  sign,
  X509Certificate,
} from 'node:crypto';
import { DsiError } from '../errors';
import { assertP256 } from '../crypto/p256';
import type { MessageSigner, RecipientKey, Signer } from './types';

/** Splits a PEM bundle into its certificates. @throws DsiError UNSUPPORTED_KEY */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const text = pem.toString();
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new DsiError('UNSUPPORTED_KEY', 'no PEM certificate found');
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new DsiError('UNSUPPORTED_KEY', 'a PEM certificate cannot be parsed', {}, { cause: err });
    }
  });
}

function privateKey(pem: string | Buffer | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = pem instanceof KeyObject ? pem : createPrivateKey(pem);
  } catch (err) {
    throw new DsiError('UNSUPPORTED_KEY', 'the private key cannot be parsed', {}, { cause: err });
  }
  if (key.type !== 'private') throw new DsiError('UNSUPPORTED_KEY', 'expected a private key');
  assertP256(key, 'the private key');
  return key;
}

/**
 * A signer from a PEM certificate (chain) and a PEM private key.
 * @throws DsiError UNSUPPORTED_KEY if the key is not P-256 or does not match the certificate
 */
export function softwareSigner(
  certificatePem: string | Buffer,
  privateKeyPem: string | Buffer | KeyObject,
): Signer {
  const certificates = parseCertificates(certificatePem);
  const key = privateKey(privateKeyPem);
  const leaf = certificates[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key))
    throw new DsiError('UNSUPPORTED_KEY', 'the private key does not match the signer certificate');
  return {
    certificates,
    sign: (message) => Promise.resolve(sign('sha256', message, { key, dsaEncoding: 'der' })),
  };
}

/**
 * A bare P-256 message signer from a private key held in software — for development machines only; a
 * production machine signs with its token's `Pkcs11Token.signingKey`. @throws DsiError UNSUPPORTED_KEY
 */
export function softwareMessageSigner(privateKeyPem: string | Buffer | KeyObject): MessageSigner {
  const key = privateKey(privateKeyPem);
  return {
    publicKey: createPublicKey(key),
    sign: (message) => Promise.resolve(sign('sha256', message, { key, dsaEncoding: 'der' })),
  };
}

/** A recipient key from a PEM private key. @throws DsiError UNSUPPORTED_KEY */
export function softwareRecipientKey(privateKeyPem: string | Buffer | KeyObject): RecipientKey {
  const key = privateKey(privateKeyPem);
  return {
    publicKey: createPublicKey(key),
    deriveSharedSecret: (peer) => Promise.resolve(diffieHellman({ privateKey: key, publicKey: peer })),
  };
}

/**
 * A recipient public key from a PEM certificate or a PEM public key (SPKI).
 * @throws DsiError UNSUPPORTED_KEY
 */
export function recipientPublicKey(pem: string | Buffer | KeyObject | X509Certificate): KeyObject {
  let key: KeyObject;
  if (pem instanceof X509Certificate) key = pem.publicKey;
  else if (pem instanceof KeyObject) key = pem.type === 'private' ? createPublicKey(pem) : pem;
  else if (pem.toString().includes('BEGIN CERTIFICATE'))
    key = (parseCertificates(pem)[0] as X509Certificate).publicKey;
  else {
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new DsiError('UNSUPPORTED_KEY', 'the recipient public key cannot be parsed', {}, { cause: err });
    }
  }
  assertP256(key, 'a recipient key');
  return key;
}
