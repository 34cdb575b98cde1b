/**
 * PKCS#11 token keys (tested with SoftHSM2). EC P-256 key pairs are generated inside the token as
 * sensitive, non-extractable objects; signing (CKM_ECDSA) and ECDH (CKM_ECDH1_DERIVE, CKD_NULL)
 * happen inside the token, and only signatures and per-message shared secrets leave it.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import type { ECDH1, PKCS11 } from 'pkcs11js';
import { DsiError } from '../errors';
import { rawToLowSDer } from '../crypto/ecdsa';
import { decodePoint, encodePoint } from '../crypto/p256';
import { parseCertificates } from './software';
import type { MessageSigner, RecipientKey, Signer } from './types';

/** Where the token is and how to log in. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly library: string;
  /** Label of the token to use (first token with this label). */
  readonly tokenLabel: string;
  /** User PIN. */
  readonly pin: string;
}

/** A key pair that lives in the token, found by its CKA_LABEL. */
export interface Pkcs11KeyPair {
  readonly label: string;
  readonly publicKey: KeyObject;
}

/** DER OID of prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of P-256. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

type Pkcs11Module = typeof Pkcs11Js;
let loaded: Pkcs11Module | undefined;

/**
 * Loads the native pkcs11js binding on first use, so the rest of the library works on machines
 * where it is not built (npm skips its install script unless allowed).
 */
function p11(): Pkcs11Module {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('pkcs11js') as Pkcs11Module;
    } catch (err) {
      throw new DsiError(
        'TOKEN_ERROR',
        'the pkcs11js native module is not available (was its install script allowed?)',
        {},
        { cause: err },
      );
    }
  }
  return loaded;
}

const modules = new Map<string, { lib: PKCS11; users: number }>();

function tokenError(what: string, err: unknown): DsiError {
  return new DsiError(
    'TOKEN_ERROR',
    `PKCS#11 ${what} failed: ${err instanceof Error ? err.message : String(err)}`,
    {},
    { cause: err },
  );
}

/** The one thing a generated token key may do: sign (ECDSA) or derive (ECDH, to unwrap content keys). */
export type Pkcs11KeyUsage = 'sign' | 'derive';

/** A logged-in session on a PKCS#11 token. Close it when done. */
export class Pkcs11Token {
  readonly #library: string;
  readonly #lib: PKCS11;
  readonly #session: Buffer;
  #closed = false;

  private constructor(library: string, lib: PKCS11, session: Buffer) {
    this.#library = library;
    this.#lib = lib;
    this.#session = session;
  }

  /**
   * Loads the module (once per process), finds the token by label, opens a read-write session
   * and logs in as user. @throws DsiError TOKEN_ERROR
   */
  static open(options: Pkcs11TokenOptions): Pkcs11Token {
    let entry = modules.get(options.library);
    if (!entry) {
      const lib = new (p11().PKCS11)();
      try {
        lib.load(options.library);
        lib.C_Initialize();
      } catch (err) {
        throw tokenError(`loading ${options.library}`, err);
      }
      entry = { lib, users: 0 };
      modules.set(options.library, entry);
    }
    const { lib } = entry;
    try {
      const slot = lib
        .C_GetSlotList(true)
        .find((s) => lib.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
      if (!slot) throw new DsiError('TOKEN_ERROR', `no token labelled "${options.tokenLabel}"`);
      const session = lib.C_OpenSession(slot, p11().CKF_SERIAL_SESSION | p11().CKF_RW_SESSION);
      try {
        lib.C_Login(session, p11().CKU_USER, options.pin);
      } catch (err) {
        lib.C_CloseSession(session);
        throw err;
      }
      entry.users++;
      return new Pkcs11Token(options.library, lib, session);
    } catch (err) {
      if (entry.users === 0) {
        modules.delete(options.library);
        try {
          lib.C_Finalize();
        } catch {
          /* already failing */
        }
      }
      throw tokenError('opening the token', err);
    }
  }

  /**
   * Generates a P-256 key pair in the token: private key sensitive and never extractable, and good for one use
   * only — `sign` (ECDSA: a DSI signer, a machine's StartBuild key) or `derive` (ECDH: a recipient key that
   * unwraps content keys) — so that one key never both signs and decrypts.
   */
  generateKeyPair(label: string, usage: Pkcs11KeyUsage): Pkcs11KeyPair {
    const id = createHash('sha256').update(label).digest().subarray(0, 16);
    try {
      this.#lib.C_GenerateKeyPair(
        this.#session,
        { mechanism: p11().CKM_EC_KEY_PAIR_GEN },
        [
          { type: p11().CKA_TOKEN, value: true },
          { type: p11().CKA_LABEL, value: label },
          { type: p11().CKA_ID, value: id },
          { type: p11().CKA_EC_PARAMS, value: P256_PARAMS },
          { type: p11().CKA_VERIFY, value: true },
        ],
        [
          { type: p11().CKA_TOKEN, value: true },
          { type: p11().CKA_PRIVATE, value: true },
          { type: p11().CKA_LABEL, value: label },
          { type: p11().CKA_ID, value: id },
          { type: p11().CKA_SENSITIVE, value: true },
          { type: p11().CKA_EXTRACTABLE, value: false },
          { type: p11().CKA_SIGN, value: usage === 'sign' },
          { type: p11().CKA_DERIVE, value: usage === 'derive' },
        ],
      );
    } catch (err) {
      throw tokenError(`generating key pair "${label}"`, err);
    }
    return this.keyPair(label);
  }

  /** The key pair with CKA_LABEL `label`. @throws DsiError TOKEN_ERROR if absent */
  keyPair(label: string): Pkcs11KeyPair {
    const pub = this.#find(p11().CKO_PUBLIC_KEY, label);
    const [attr] = this.#lib.C_GetAttributeValue(this.#session, pub, [{ type: p11().CKA_EC_POINT }]);
    let point = attr?.value ?? Buffer.alloc(0);
    // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
    if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
    const publicKey = decodePoint(point);
    if (!publicKey) throw new DsiError('TOKEN_ERROR', `key "${label}" is not a P-256 key`);
    return { label, publicKey };
  }

  /**
   * The token key `label` as a bare ECDSA P-256 signer (no certificate): what a machine signs its StartBuild
   * requests with. Resolves to a low-S DER signature over SHA-256 of the message.
   */
  signingKey(label: string): MessageSigner {
    const { publicKey } = this.keyPair(label);
    return {
      publicKey,
      sign: (message) => {
        const priv = this.#find(p11().CKO_PRIVATE_KEY, label);
        try {
          this.#lib.C_SignInit(this.#session, { mechanism: p11().CKM_ECDSA }, priv);
          const raw = this.#lib.C_Sign(
            this.#session,
            createHash('sha256').update(message).digest(),
            Buffer.alloc(132),
          );
          return Promise.resolve(rawToLowSDer(raw));
        } catch (err) {
          return Promise.reject(tokenError(`signing with "${label}"`, err));
        }
      },
    };
  }

  /** A signer whose key is the token key `label` and whose certificate chain is `certificatePem`. */
  signer(label: string, certificatePem: string | Buffer): Signer {
    const certificates = parseCertificates(certificatePem);
    const key = this.signingKey(label);
    if (
      !encodePoint(key.publicKey).equals(
        encodePoint((certificates[0] as (typeof certificates)[number]).publicKey),
      )
    ) {
      throw new DsiError('UNSUPPORTED_KEY', `token key "${label}" does not match the signer certificate`);
    }
    return { certificates, sign: (message) => key.sign(message) };
  }

  /** A recipient key whose ECDH runs in the token. */
  recipientKey(label: string): RecipientKey {
    const { publicKey } = this.keyPair(label);
    return {
      publicKey,
      deriveSharedSecret: (peer) => {
        const priv = this.#find(p11().CKO_PRIVATE_KEY, label);
        try {
          const derived = this.#lib.C_DeriveKey(
            this.#session,
            {
              mechanism: p11().CKM_ECDH1_DERIVE,
              parameter: {
                type: p11().CK_PARAMS_EC_DH,
                kdf: p11().CKD_NULL,
                publicData: encodePoint(peer),
              } as ECDH1,
            },
            priv,
            [
              { type: p11().CKA_CLASS, value: p11().CKO_SECRET_KEY },
              { type: p11().CKA_KEY_TYPE, value: p11().CKK_GENERIC_SECRET },
              { type: p11().CKA_VALUE_LEN, value: 32 },
              { type: p11().CKA_TOKEN, value: false },
              { type: p11().CKA_SENSITIVE, value: false },
              { type: p11().CKA_EXTRACTABLE, value: true },
            ],
          );
          try {
            const [value] = this.#lib.C_GetAttributeValue(this.#session, derived, [
              { type: p11().CKA_VALUE },
            ]);
            return Promise.resolve(Buffer.from(value?.value ?? Buffer.alloc(0)));
          } finally {
            this.#lib.C_DestroyObject(this.#session, derived);
          }
        } catch (err) {
          return Promise.reject(tokenError(`ECDH with "${label}"`, err));
        }
      },
    };
  }

  /**
   * Tries to read the private key value (CKA_VALUE). Exists so tests can prove keys generated by
   * {@link generateKeyPair} cannot leave the token. @throws DsiError TOKEN_ERROR
   */
  readPrivateKeyValue(label: string): Buffer {
    const priv = this.#find(p11().CKO_PRIVATE_KEY, label);
    try {
      const [value] = this.#lib.C_GetAttributeValue(this.#session, priv, [{ type: p11().CKA_VALUE }]);
      return Buffer.from(value?.value ?? Buffer.alloc(0));
    } catch (err) {
      throw tokenError(`reading the private value of "${label}"`, err);
    }
  }

  /** CKA_SENSITIVE and CKA_EXTRACTABLE of the private key `label`. */
  privateKeyFlags(label: string): { sensitive: boolean; extractable: boolean } {
    const priv = this.#find(p11().CKO_PRIVATE_KEY, label);
    const [s, e] = this.#lib.C_GetAttributeValue(this.#session, priv, [
      { type: p11().CKA_SENSITIVE },
      { type: p11().CKA_EXTRACTABLE },
    ]);
    return { sensitive: s?.value[0] === 1, extractable: e?.value[0] === 1 };
  }

  /** What the private key `label` may do: sign (CKA_SIGN) and derive (CKA_DERIVE). */
  privateKeyUsage(label: string): { sign: boolean; derive: boolean } {
    const priv = this.#find(p11().CKO_PRIVATE_KEY, label);
    const [sign, derive] = this.#lib.C_GetAttributeValue(this.#session, priv, [
      { type: p11().CKA_SIGN },
      { type: p11().CKA_DERIVE },
    ]);
    return { sign: sign?.value[0] === 1, derive: derive?.value[0] === 1 };
  }

  /** Logs out, closes the session and finalises the module when no other session uses it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#lib.C_Logout(this.#session);
    } catch {
      /* session may already be gone */
    }
    this.#lib.C_CloseSession(this.#session);
    const entry = modules.get(this.#library);
    if (entry && --entry.users === 0) {
      modules.delete(this.#library);
      entry.lib.C_Finalize();
    }
  }

  #find(cls: number, label: string): Buffer {
    try {
      this.#lib.C_FindObjectsInit(this.#session, [
        { type: p11().CKA_CLASS, value: cls },
        { type: p11().CKA_LABEL, value: label },
      ]);
      const handle = this.#lib.C_FindObjects(this.#session);
      this.#lib.C_FindObjectsFinal(this.#session);
      if (!handle)
        throw new DsiError(
          'TOKEN_ERROR',
          `no ${cls === p11().CKO_PRIVATE_KEY ? 'private' : 'public'} key labelled "${label}"`,
        );
      return handle;
    } catch (err) {
      throw tokenError(`finding key "${label}"`, err);
    }
  }
}
