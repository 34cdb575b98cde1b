import { X509Certificate, createHash, verify, type KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';

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
}

/** Why an identity or a signature was refused. */
export type IdentityResult =
  { readonly ok: true; readonly identity: ValidIdentity } | { readonly ok: false; readonly reason: string };

// The order of the P-256 group: Fabric's BCCSP refuses an ECDSA signature whose S is above n/2.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derSignatureS(signature: Uint8Array): bigint | undefined {
  // SEQUENCE { INTEGER r, INTEGER s }, short lengths only (a P-256 signature is at most 72 bytes).
  if (signature[0] !== 0x30 || signature.length < 8) return undefined;
  let offset = 2;
  if (signature[offset] !== 0x02) return undefined;
  const rLength = signature[offset + 1] ?? 0;
  offset += 2 + rLength;
  if (signature[offset] !== 0x02) return undefined;
  const sLength = signature[offset + 1] ?? 0;
  const s = signature.subarray(offset + 2, offset + 2 + sLength);
  if (s.length !== sLength || offset + 2 + sLength !== signature.length) return undefined;
  return BigInt(`0x${Buffer.from(s).toString('hex') || '0'}`);
}

/**
 * Verifies an ECDSA-with-SHA-256 signature (DER) the way Fabric's BCCSP does: a valid signature over
 * `data` by `key` whose S lies in the lower half of the group order.
 */
export function verifyFabricSignature(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const s = derSignatureS(signature);
  if (s === undefined || s > P256_N / 2n) return false;
  try {
    return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
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
    const unchecked: string[] = [];
    if (config.getRevocationListList().length > 0) unchecked.push('revocation list (CRLs)');
    if (config.getOrganizationalUnitIdentifiersList().length > 0)
      unchecked.push('organizational unit identifiers');
    this.unchecked = unchecked;
  }

  /** Whether `cert` chains to a root of this MSP, directly or through one or more intermediates. */
  #chains(cert: X509Certificate, depth = 0): boolean {
    if (depth > 4) return false;
    for (const root of this.#roots) {
      if (root.fingerprint256 === cert.fingerprint256) continue;
      if (cert.checkIssued(root) && cert.verify(root.publicKey)) return true;
    }
    for (const ca of this.#intermediates) {
      if (ca.fingerprint256 === cert.fingerprint256) continue;
      if (cert.checkIssued(ca) && cert.verify(ca.publicKey) && this.#chains(ca, depth + 1)) return true;
    }
    return false;
  }

  /** Validates a certificate as an identity of this MSP and classifies its roles. */
  public validate(serialized: Uint8Array, certificate: X509Certificate): IdentityResult {
    if (certificate.ca) return { ok: false, reason: `${this.id}: a CA certificate cannot sign` };
    if (!this.#chains(certificate))
      return {
        ok: false,
        reason: `${this.id}: certificate ${certificate.subject.replace(/\n/g, ',')} does not chain to the MSP's roots`,
      };
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
    return { ok: true, identity: { mspId: this.id, serialized, certificate, publicKey, roles } };
  }
}

/**
 * The MSPs of one channel configuration: deserializes `msp.SerializedIdentity` bytes and validates them
 * against the MSP they name, caching each verdict (identities repeat on every transaction).
 */
export class MspManager {
  readonly #msps: ReadonlyMap<string, Msp>;
  readonly #cache = new Map<string, IdentityResult>();

  public constructor(msps: readonly Msp[]) {
    this.#msps = new Map(msps.map((m) => [m.id, m]));
  }

  public get ids(): string[] {
    return [...this.#msps.keys()];
  }

  public msp(id: string): Msp | undefined {
    return this.#msps.get(id);
  }

  /** Deserializes and validates a serialized identity. */
  public identity(serialized: Uint8Array): IdentityResult {
    const key = createHash('sha256').update(serialized).digest('base64');
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const result = this.#deserialize(serialized);
    this.#cache.set(key, result);
    return result;
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
