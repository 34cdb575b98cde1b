import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificates, softwareSigner, type Signer as DsiSigner } from '@threadseal/dsi-container';
import { loadMspCredentials, signers, type HSMSignerFactory, type Signer } from '@threadseal/ledger-client';
import { ThreadsealError } from '@threadseal/ledger-model';

/** A service identity whose key the gateway holds: an MES, a PLM connector, the dashboard's reader. */
export interface CustodialIdentity {
  /** The enrollment id, for logs. */
  readonly name: string;
  readonly certificatePem: string;
  readonly signer: Signer;
  /** Signs DSI manifests as this identity (upload-and-protect at the IP owner's gateway). */
  readonly dsiSigner?: DsiSigner;
  /** Where the key is, for the start-up log. */
  readonly keyStore?: 'software' | 'pkcs11';
}

/** Where a custodial identity's software key is: an MSP folder as the network tool enrolls it. */
export interface CustodialMspDir {
  readonly name: string;
  readonly mspDir: string;
}

/**
 * A custodial identity whose key lives in a PKCS#11 token (an HSM; SoftHSM2 in the tests): the gateway
 * logs in with the PIN read from the environment variable `pinEnv` — never from the configuration file or
 * a command line — and signs inside the token; the key never leaves it.
 */
export interface CustodialPkcs11 {
  readonly name: string;
  /** PEM of the identity's enrollment certificate (its public half; the key is in the token). */
  readonly certFile: string;
  readonly pkcs11: {
    /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
    readonly library: string;
    /** Label of the token. */
    readonly token: string;
    /** Name of the environment variable holding the user PIN. */
    readonly pinEnv: string;
    /** CKA_ID of the private key, as text (`softhsm2-util --import … --id <hex of this text>`). */
    readonly keyId: string;
  };
}

/** One custodial identity of the configuration: a software key in an MSP folder, or a token key. */
export type CustodialKeyConfig = CustodialMspDir | CustodialPkcs11;

function fingerprintOf(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/**
 * The keys the gateway signs with for custodial callers, by certificate fingerprint: a caller whose
 * certificate is not here signs for itself (non-custodial), the gateway never shares one key between callers.
 */
export class CustodialKeys {
  readonly #byFingerprint = new Map<string, CustodialIdentity>();
  readonly #closers: (() => void)[];

  constructor(identities: readonly CustodialIdentity[] = [], closers: readonly (() => void)[] = []) {
    for (const identity of identities)
      this.#byFingerprint.set(fingerprintOf(identity.certificatePem), identity);
    this.#closers = [...closers];
  }

  /**
   * Software keys read from MSP folders (signcerts/ + keystore/).
   * @throws LedgerError CONNECTION_FAILED when a folder has no certificate or no matching key.
   */
  static fromMspDirs(dirs: readonly CustodialMspDir[], mspId: string): CustodialKeys {
    return new CustodialKeys(dirs.map((dir) => softwareIdentity(dir, mspId)));
  }

  /**
   * The keys of the configuration: MSP folders and PKCS#11 token keys (logged in once, a session per
   * identity kept until {@link CustodialKeys.close}). A token key is checked against its certificate before
   * it is used: the gateway signs a probe in the token and verifies it with the certificate's public key.
   * @throws ThreadsealError USAGE when a PIN variable is not set; CONNECTION_FAILED when a token, key or
   * certificate cannot be used (nothing stays open then).
   */
  static async fromConfig(
    entries: readonly CustodialKeyConfig[],
    mspId: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<CustodialKeys> {
    const identities: CustodialIdentity[] = [];
    const closers: (() => void)[] = [];
    const factories = new Map<string, HSMSignerFactory>();
    try {
      for (const entry of entries) {
        identities.push(
          'mspDir' in entry
            ? softwareIdentity(entry, mspId)
            : await pkcs11Identity(entry, env, factories, closers),
        );
      }
    } catch (err) {
      for (const close of closers.reverse()) close();
      for (const factory of factories.values()) factory.dispose();
      throw err;
    }
    for (const factory of factories.values())
      closers.push(() => {
        factory.dispose();
      });
    return new CustodialKeys(identities, closers);
  }

  /** The custodial identity with this certificate fingerprint, if the gateway holds its key. */
  identityFor(fingerprint: string): CustodialIdentity | undefined {
    return this.#byFingerprint.get(fingerprint);
  }

  /** The names of the identities held, for the start-up log. */
  get names(): readonly string[] {
    return [...this.#byFingerprint.values()].map((i) => i.name);
  }

  /** Logs out of the tokens (the PKCS#11 sessions, then the modules); the software keys need nothing. */
  close(): void {
    for (const close of this.#closers.splice(0)) close();
  }
}

function softwareIdentity(dir: CustodialMspDir, mspId: string): CustodialIdentity {
  const credentials = loadMspCredentials(dir.mspDir, mspId);
  return {
    name: dir.name,
    certificatePem: Buffer.from(credentials.identity.credentials).toString('utf8'),
    signer: signers.newPrivateKeySigner(credentials.privateKey),
    dsiSigner: softwareSigner(Buffer.from(credentials.identity.credentials), credentials.privateKey),
    keyStore: 'software',
  };
}

async function pkcs11Identity(
  entry: CustodialPkcs11,
  env: Readonly<Record<string, string | undefined>>,
  factories: Map<string, HSMSignerFactory>,
  closers: (() => void)[],
): Promise<CustodialIdentity> {
  const p = entry.pkcs11;
  const pin = env[p.pinEnv];
  if (pin === undefined || pin.length === 0)
    throw new ThreadsealError(
      'USAGE',
      `custodial identity ${entry.name}: the PIN of token ${p.token} is expected in the environment variable ${p.pinEnv}, which is not set`,
    );
  let certificatePem: string;
  try {
    certificatePem = new X509Certificate(readFileSync(entry.certFile)).toString();
  } catch (err) {
    throw new ThreadsealError(
      'CONNECTION_FAILED',
      `custodial identity ${entry.name}: cannot read the certificate ${entry.certFile}`,
      { cause: err },
    );
  }
  try {
    // One PKCS#11 module per process (a second C_Initialize fails): fabric-gateway's HSM signer signs both
    // the Fabric digests and, over SHA-256 of the manifest, the DSI manifests.
    let factory = factories.get(p.library);
    if (!factory) {
      factory = signers.newHSMSignerFactory(p.library);
      factories.set(p.library, factory);
    }
    const hsm = factory.newSigner({ label: p.token, pin, identifier: p.keyId });
    closers.push(() => {
      hsm.close();
    });
    // The key found by CKA_ID must be the certificate's: a probe signed in the token has to verify.
    const probe = randomBytes(32);
    const signature = await hsm.signer(createHash('sha256').update(probe).digest());
    if (!verify('sha256', probe, new X509Certificate(certificatePem).publicKey, signature))
      throw new ThreadsealError(
        'CONNECTION_FAILED',
        `the token key with CKA_ID ${p.keyId} is not the key of ${entry.certFile}`,
      );
    const dsiSigner: DsiSigner = {
      certificates: parseCertificates(certificatePem),
      sign: async (message) => Buffer.from(await hsm.signer(createHash('sha256').update(message).digest())),
    };
    return { name: entry.name, certificatePem, signer: hsm.signer, dsiSigner, keyStore: 'pkcs11' };
  } catch (err) {
    // The PIN is never part of a message: the token's own error text names the failing call only.
    throw new ThreadsealError(
      'CONNECTION_FAILED',
      `custodial identity ${entry.name}: the key ${p.keyId} of token ${p.token} cannot be used (${
        err instanceof Error ? (err.message.split('\n')[0] ?? '') : 'unknown error'
      })`,
      { cause: err },
    );
  }
}
