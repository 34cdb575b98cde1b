import { X509Certificate, verify, type KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { BytesMap } from './bytes-map';
import { parseRevocationList, subjectKeyIdentifier, type RevocationList } from './der';

export { BytesMap } from './bytes-map';
export { publicKeyOfIdentity, verifyFabricSignature } from './fabric-signature';

/** The roles an MSP principal can name (msp.MSPRole.MSPRoleType). */
export type MspRole = 'member' | 'admin' | 'client' | 'peer' | 'orderer';

/** An identity that chains to one of the channel's MSPs, with what its certificate says. */
export interface ValidIdentity {
  readonly mspId: string;
  /** The serialized identity (msp.SerializedIdentity bytes) exactly as signed. */
  readonly serialized: Uint8Array;
  readonly certificate: X509Certificate;
  readonly publicKey: KeyObject;
  readonly roles: ReadonlySet<MspRole>;
  /** The certificate's validity period (milliseconds since the epoch). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** The CAs the certificate chains through, issuer first, root last, with their validity periods. */
  readonly caChain: readonly CaValidity[];
}

/** A CA certificate of an identity's chain and its validity period (milliseconds since the epoch). */
export interface CaValidity {
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** A revocation list of an MSP past its nextUpdate. */
export interface StaleRevocationList {
  readonly mspId: string;
  /** Its index in the MSP's `revocation_list`. */
  readonly index: number;
  readonly nextUpdate: number;
}

/** Why an identity or a signature was refused. */
export type IdentityResult =
  { readonly ok: true; readonly identity: ValidIdentity } | { readonly ok: false; readonly reason: string };

/** DER of a PEM block (the first one), or the bytes themselves when they are not PEM. */
function pemOrDer(bytes: Uint8Array): Buffer {
  const text = Buffer.from(bytes).toString('latin1');
  const m = /-----BEGIN [A-Z0-9 ]+-----([A-Za-z0-9+/=\s]+)-----END [A-Z0-9 ]+-----/.exec(text);
  return m?.[1] === undefined ? Buffer.from(bytes) : Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

function pemCertificates(bytes: readonly Uint8Array[]): X509Certificate[] {
  return bytes.map((b) => new X509Certificate(Buffer.from(b)));
}

/** The values of one attribute in an X.509 subject as Node prints it (`OU=peer\nO=…`). */
function subjectValues(subject: string, attribute: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith(`${attribute}=`))
    .map((line) => line.slice(attribute.length + 1));
}

/**
 * One organisation's MSP as the channel configuration defines it: root and intermediate CAs, admin
 * certificates and NodeOU classification. Identities are validated by their chain to the roots.
 */
export class Msp {
  readonly id: string;
  readonly #roots: X509Certificate[];
  readonly #intermediates: X509Certificate[];
  readonly #adminFingerprints: Set<string>;
  readonly #nodeOus: { client?: string; peer?: string; admin?: string; orderer?: string } | undefined;
  readonly #revocationLists: readonly RevocationList[];
  /** Why the MSP's revocation lists cannot be used: then no identity of the MSP validates (fail closed). */
  readonly #revocationError: string | undefined;
  /** Parts of the MSP this auditor does not check, so a report can say so. */
  readonly unchecked: readonly string[];

  public constructor(config: msp.FabricMSPConfig) {
    this.id = config.getName();
    this.#roots = pemCertificates(config.getRootCertsList_asU8());
    this.#intermediates = pemCertificates(config.getIntermediateCertsList_asU8());
    this.#adminFingerprints = new Set(
      pemCertificates(config.getAdminsList_asU8()).map((c) => c.fingerprint256),
    );
    const ous = config.getFabricNodeOus();
    this.#nodeOus = ous?.getEnable()
      ? {
          client: ous.getClientOuIdentifier()?.getOrganizationalUnitIdentifier(),
          peer: ous.getPeerOuIdentifier()?.getOrganizationalUnitIdentifier(),
          admin: ous.getAdminOuIdentifier()?.getOrganizationalUnitIdentifier(),
          orderer: ous.getOrdererOuIdentifier()?.getOrganizationalUnitIdentifier(),
        }
      : undefined;
    const lists: RevocationList[] = [];
    let revocationError: string | undefined;
    config.getRevocationListList_asU8().forEach((bytes, i) => {
      try {
        lists.push(parseRevocationList(pemOrDer(bytes)));
      } catch (err) {
        revocationError ??= `revocation list ${i} does not parse (${(err as Error).message})`;
      }
    });
    this.#revocationLists = lists;
    this.#revocationError = revocationError;
    const unchecked: string[] = [];
    if (config.getOrganizationalUnitIdentifiersList().length > 0)
      unchecked.push('organizational unit identifiers');
    this.unchecked = unchecked;
  }

  /** When each of the MSP's revocation lists said the next one would be out (undefined: no nextUpdate). */
  public get revocationListsNextUpdate(): readonly (number | undefined)[] {
    return this.#revocationLists.map((l) => l.nextUpdate);
  }

  /**
   * The CAs `cert` chains through to a root of this MSP, issuer first and root last (directly, or through
   * one or more intermediates); undefined when it does not chain.
   */
  #chainOf(cert: X509Certificate, depth = 0): X509Certificate[] | undefined {
    if (depth > 4) return undefined;
    for (const root of this.#roots) {
      if (root.fingerprint256 === cert.fingerprint256) continue;
      if (cert.checkIssued(root) && cert.verify(root.publicKey)) return [root];
    }
    for (const ca of this.#intermediates) {
      if (ca.fingerprint256 === cert.fingerprint256) continue;
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) continue;
      const above = this.#chainOf(ca, depth + 1);
      if (above) return [ca, ...above];
    }
    return undefined;
  }

  /**
   * Why `cert` (issued by `issuer`) is revoked by this MSP's CRLs, as Fabric's
   * `validateCertAgainstChain` decides: a CRL whose authority key identifier is the issuer's subject key
   * identifier, listing the serial number, and signed by the issuer. Undefined when it is not revoked.
   */
  #revoked(cert: X509Certificate, issuer: X509Certificate): string | undefined {
    if (this.#revocationLists.length === 0 && this.#revocationError === undefined) return undefined;
    if (this.#revocationError !== undefined) return `${this.id}: ${this.#revocationError}`;
    let ski: Uint8Array | undefined;
    try {
      ski = subjectKeyIdentifier(issuer.raw);
    } catch {
      ski = undefined;
    }
    if (!ski)
      return `${this.id}: the issuing CA ${issuer.subject.replace(/\n/g, ',')} has no subject key identifier to find its CRL by`;
    const serial = cert.serialNumber.toUpperCase().replace(/^0+/, '') || '0';
    for (const [i, crl] of this.#revocationLists.entries()) {
      if (!crl.hasAuthorityKeyIdentifier)
        return `${this.id}: revocation list ${i} has no authority key identifier`;
      if (!crl.authorityKeyIdentifier || !Buffer.from(crl.authorityKeyIdentifier).equals(Buffer.from(ski)))
        continue;
      if (!crl.revokedSerials.has(serial)) continue;
      // As Fabric: a CRL that names the serial but is not signed by the issuing CA is skipped.
      if (!crl.hash) continue;
      let signedByIssuer = false;
      try {
        signedByIssuer = verify(crl.hash, crl.signedBytes, issuer.publicKey, crl.signature);
      } catch {
        signedByIssuer = false;
      }
      if (signedByIssuer)
        return `${this.id}: certificate ${cert.subject.replace(/\n/g, ',')} (serial ${serial}) is revoked by revocation list ${i}`;
    }
    return undefined;
  }

  /** Validates a certificate as an identity of this MSP and classifies its roles. */
  public validate(serialized: Uint8Array, certificate: X509Certificate): IdentityResult {
    if (certificate.ca) return { ok: false, reason: `${this.id}: a CA certificate cannot sign` };
    const chain = this.#chainOf(certificate);
    const issuer = chain?.[0];
    if (!chain || !issuer)
      return {
        ok: false,
        reason: `${this.id}: certificate ${certificate.subject.replace(/\n/g, ',')} does not chain to the MSP's roots`,
      };
    const revoked = this.#revoked(certificate, issuer);
    if (revoked !== undefined) return { ok: false, reason: revoked };
    const roles = new Set<MspRole>(['member']);
    if (this.#adminFingerprints.has(certificate.fingerprint256)) roles.add('admin');
    if (this.#nodeOus) {
      const ous = new Set(subjectValues(certificate.subject, 'OU'));
      const matched: MspRole[] = [];
      for (const role of ['client', 'peer', 'admin', 'orderer'] as const) {
        const ou = this.#nodeOus[role];
        if (ou && ous.has(ou)) matched.push(role);
      }
      // Fabric (NodeOUs, v1.4.3+): an identity must carry exactly one of the node OUs.
      if (matched.length !== 1)
        return {
          ok: false,
          reason: `${this.id}: identity has ${matched.length} node OUs (${matched.join(',')}), expected exactly one`,
        };
      for (const role of matched) roles.add(role);
    }
    let publicKey: KeyObject;
    try {
      publicKey = certificate.publicKey;
    } catch {
      return { ok: false, reason: `${this.id}: unreadable public key` };
    }
    const notBefore = Date.parse(certificate.validFrom);
    const notAfter = Date.parse(certificate.validTo);
    const caChain = chain.map((ca) => ({
      subject: ca.subject.replace(/\n/g, ','),
      notBefore: Date.parse(ca.validFrom),
      notAfter: Date.parse(ca.validTo),
    }));
    if ([notBefore, notAfter, ...caChain.flatMap((c) => [c.notBefore, c.notAfter])].some(Number.isNaN))
      return { ok: false, reason: `${this.id}: unreadable certificate validity period` };
    return {
      ok: true,
      identity: { mspId: this.id, serialized, certificate, publicKey, roles, notBefore, notAfter, caChain },
    };
  }
}

/**
 * Why an identity's certificate, or a CA certificate of its chain (an intermediate or the root), is not
 * valid at time `at`, or undefined when all are.
 */
function validityAt(identity: ValidIdentity, at: number): IdentityResult | undefined {
  const subject = identity.certificate.subject.replace(/\n/g, ',');
  if (at > identity.notAfter)
    return {
      ok: false,
      reason: `${identity.mspId}: certificate ${subject} expired at ${new Date(identity.notAfter).toISOString()}, before the block time ${new Date(at).toISOString()}`,
    };
  if (at < identity.notBefore)
    return {
      ok: false,
      reason: `${identity.mspId}: certificate ${subject} is not valid before ${new Date(identity.notBefore).toISOString()}, after the block time ${new Date(at).toISOString()}`,
    };
  for (const ca of identity.caChain) {
    if (at > ca.notAfter)
      return {
        ok: false,
        reason: `${identity.mspId}: CA certificate ${ca.subject} of certificate ${subject} expired at ${new Date(ca.notAfter).toISOString()}, before the block time ${new Date(at).toISOString()}`,
      };
    if (at < ca.notBefore)
      return {
        ok: false,
        reason: `${identity.mspId}: CA certificate ${ca.subject} of certificate ${subject} is not valid before ${new Date(ca.notBefore).toISOString()}, after the block time ${new Date(at).toISOString()}`,
      };
  }
  return undefined;
}

/**
 * The MSPs of one channel configuration: deserializes `msp.SerializedIdentity` bytes and validates them
 * against the MSP they name, caching each verdict (identities repeat on every transaction).
 */
export class MspManager {
  readonly #msps: ReadonlyMap<string, Msp>;
  readonly #cache = new BytesMap<IdentityResult>();

  public constructor(msps: readonly Msp[]) {
    this.#msps = new Map(msps.map((m) => [m.id, m]));
  }

  public get ids(): string[] {
    return [...this.#msps.keys()];
  }

  public msp(id: string): Msp | undefined {
    return this.#msps.get(id);
  }

  /** The MSPs' revocation lists whose nextUpdate is before `at` (milliseconds since the epoch). */
  public staleRevocationLists(at: number): StaleRevocationList[] {
    const stale: StaleRevocationList[] = [];
    for (const [mspId, msp] of this.#msps)
      msp.revocationListsNextUpdate.forEach((nextUpdate, index) => {
        if (nextUpdate !== undefined && nextUpdate < at) stale.push({ mspId, index, nextUpdate });
      });
    return stale;
  }

  /**
   * Deserializes and validates a serialized identity; with `at` (milliseconds since the epoch), its
   * certificate must also be within its validity period at that time.
   */
  public identity(serialized: Uint8Array, at?: number): IdentityResult {
    let result = this.#cache.get(serialized);
    if (!result) {
      result = this.#deserialize(serialized);
      this.#cache.set(serialized, result);
    }
    if (at === undefined || !result.ok) return result;
    return validityAt(result.identity, at) ?? result;
  }

  #deserialize(serialized: Uint8Array): IdentityResult {
    let sid: msp.SerializedIdentity;
    try {
      sid = msp.SerializedIdentity.deserializeBinary(serialized);
    } catch {
      return { ok: false, reason: 'identity is not a SerializedIdentity' };
    }
    const owner = this.#msps.get(sid.getMspid());
    if (!owner)
      return { ok: false, reason: `identity names MSP '${sid.getMspid()}', not one of the channel's` };
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(sid.getIdBytes_asU8()));
    } catch {
      return { ok: false, reason: `${sid.getMspid()}: identity bytes are not an X.509 certificate` };
    }
    return owner.validate(serialized, certificate);
  }
}
