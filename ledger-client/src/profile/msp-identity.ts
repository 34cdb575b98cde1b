import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Identity } from '@hyperledger/fabric-gateway';
import { LedgerError } from '@threadseal/ledger-model';

/** An identity read from an MSP folder, with the software key that signs for it. */
export interface MspCredentials {
  /** MSP id and certificate (PEM bytes), as `LedgerConnection.connect` takes them. */
  readonly identity: Identity;
  readonly certificateFile: string;
  /** The keystore file whose key belongs to the certificate. */
  readonly privateKeyFile: string;
  readonly privateKey: KeyObject;
}

function visibleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
}

function failed(detail: string, cause?: unknown): LedgerError {
  const err = new LedgerError('CONNECTION_FAILED', detail);
  return cause === undefined ? err : Object.assign(err, { cause });
}

/**
 * The signing certificate of an MSP folder: `signcerts/cert.pem`, or the only file of `signcerts/`.
 * @throws LedgerError CONNECTION_FAILED when there is none, several, or it is not an X.509 certificate.
 */
export function readMspCertificate(mspDir: string): {
  file: string;
  pem: Buffer;
  certificate: X509Certificate;
} {
  const dir = join(mspDir, 'signcerts');
  if (!existsSync(dir)) throw failed(`${dir} is missing: no signing certificate`);
  const files = visibleFiles(dir);
  const name = files.includes('cert.pem') ? 'cert.pem' : files.length === 1 ? files[0] : undefined;
  if (name === undefined) {
    throw failed(`${dir} must hold cert.pem or exactly one certificate, found ${files.length} files`);
  }
  const file = join(dir, name);
  const pem = readFileSync(file);
  try {
    return { file, pem, certificate: new X509Certificate(pem) };
  } catch (err) {
    throw failed(`${file} is not an X.509 certificate: ${(err as Error).message}`, err);
  }
}

/**
 * The private key in `keystoreDir` whose public key is the certificate's; files that are not private keys
 * are passed over, so a keystore holding old keys still yields the right one.
 * @throws LedgerError CONNECTION_FAILED when no key of the keystore matches the certificate.
 */
export function findMatchingPrivateKey(
  keystoreDir: string,
  certificate: X509Certificate,
  certificateFile = 'the certificate',
): { file: string; key: KeyObject } {
  if (!existsSync(keystoreDir)) throw failed(`${keystoreDir} is missing: no private key`);
  const wanted = certificate.publicKey.export({ type: 'spki', format: 'der' });
  const files = visibleFiles(keystoreDir);
  for (const name of files) {
    const file = join(keystoreDir, name);
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(file));
    } catch {
      continue; // not a private key: a keystore may hold other files
    }
    if (createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(wanted)) return { file, key };
  }
  throw failed(
    `no private key in ${keystoreDir} matches the public key of ${certificateFile} (${files.length} file(s) looked at)`,
  );
}

/**
 * Reads an MSP folder (`signcerts/` and `keystore/`) into an identity of `mspId` and its matching key.
 * @throws LedgerError CONNECTION_FAILED when the certificate is missing or no key matches it.
 */
export function loadMspCredentials(mspDir: string, mspId: string): MspCredentials {
  const cert = readMspCertificate(mspDir);
  const { file, key } = findMatchingPrivateKey(join(mspDir, 'keystore'), cert.certificate, cert.file);
  return {
    identity: { mspId, credentials: cert.pem },
    certificateFile: cert.file,
    privateKeyFile: file,
    privateKey: key,
  };
}
