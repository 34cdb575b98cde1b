import { createHash, X509Certificate } from 'node:crypto';
import { softwareSigner, type Signer as DsiSigner } from '@threadseal/dsi-container';
import { loadMspCredentials, signers, type Signer } from '@threadseal/ledger-client';

/** A service identity whose key the gateway holds: an MES, a PLM connector, the dashboard's reader. */
export interface CustodialIdentity {
  /** The enrollment id, for logs. */
  readonly name: string;
  readonly certificatePem: string;
  readonly signer: Signer;
  /** Signs DSI manifests as this identity (upload-and-protect at the IP owner's gateway). */
  readonly dsiSigner?: DsiSigner;
}

/** Where a custodial identity's software key is: an MSP folder as the network tool enrolls it. */
export interface CustodialMspDir {
  readonly name: string;
  readonly mspDir: string;
}

function fingerprintOf(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/**
 * The keys the gateway signs with for custodial callers, by certificate fingerprint: a caller whose
 * certificate is not here signs for itself (non-custodial), the gateway never shares one key between callers.
 */
export class CustodialKeys {
  readonly #byFingerprint = new Map<string, CustodialIdentity>();

  constructor(identities: readonly CustodialIdentity[] = []) {
    for (const identity of identities)
      this.#byFingerprint.set(fingerprintOf(identity.certificatePem), identity);
  }

  /**
   * Software keys read from MSP folders (signcerts/ + keystore/).
   * @throws LedgerError CONNECTION_FAILED when a folder has no certificate or no matching key.
   */
  static fromMspDirs(dirs: readonly CustodialMspDir[], mspId: string): CustodialKeys {
    return new CustodialKeys(
      dirs.map(({ name, mspDir }) => {
        const credentials = loadMspCredentials(mspDir, mspId);
        return {
          name,
          certificatePem: Buffer.from(credentials.identity.credentials).toString('utf8'),
          signer: signers.newPrivateKeySigner(credentials.privateKey),
          dsiSigner: softwareSigner(Buffer.from(credentials.identity.credentials), credentials.privateKey),
        };
      }),
    );
  }

  /** The custodial identity with this certificate fingerprint, if the gateway holds its key. */
  identityFor(fingerprint: string): CustodialIdentity | undefined {
    return this.#byFingerprint.get(fingerprint);
  }

  /** The names of the identities held, for the start-up log. */
  get names(): readonly string[] {
    return [...this.#byFingerprint.values()].map((i) => i.name);
  }
}
