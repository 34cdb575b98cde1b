import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { NetworkError } from './errors';
import { runCommandAsync } from './processes';
import {
  identityDir,
  nodeIdentityDir,
  type NetworkPlan,
  type OrdererNode,
  type OrgLayout,
  type PeerNode,
} from './plan';

/** Paths of an enrolled identity's signing certificate and private key (and its TLS pair when enrolled). */
export interface IdentityFiles {
  readonly mspDir: string;
  readonly cert: string;
  readonly key: string;
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

const NODE_OU_CONFIG = `NodeOUs:
  Enable: true
  ClientOUIdentifier: { Certificate: cacerts/ca.pem, OrganizationalUnitIdentifier: client }
  PeerOUIdentifier: { Certificate: cacerts/ca.pem, OrganizationalUnitIdentifier: peer }
  AdminOUIdentifier: { Certificate: cacerts/ca.pem, OrganizationalUnitIdentifier: admin }
  OrdererOUIdentifier: { Certificate: cacerts/ca.pem, OrganizationalUnitIdentifier: orderer }
`;

/** A fresh enrollment secret; never logged, kept only in the git-ignored state directory. */
export function newSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** The bootstrap registrar secret of an org CA, created once with owner-only permissions. */
export function bootstrapSecret(org: OrgLayout): string {
  const file = join(org.ca.home, 'bootstrap-secret');
  if (!existsSync(file)) {
    mkdirSync(org.ca.home, { recursive: true });
    writeFileSync(file, newSecret(), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8');
}

function firstFile(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : [];
  const first = files[0];
  if (first === undefined) throw new NetworkError('IDENTITY_FAILED', `no file in ${dir}`);
  return join(dir, first);
}

/** Locates the files of an identity enrolled into `dir` (`msp/` and optional `tls/`). */
export function identityFiles(dir: string): IdentityFiles {
  const mspDir = join(dir, 'msp');
  const tlsDir = join(dir, 'tls');
  return {
    mspDir,
    cert: join(mspDir, 'signcerts', 'cert.pem'),
    key: firstFile(join(mspDir, 'keystore')),
    ...(existsSync(tlsDir)
      ? {
          tls: {
            cert: join(tlsDir, 'signcerts', 'cert.pem'),
            key: firstFile(join(tlsDir, 'keystore')),
            ca: firstFile(join(tlsDir, 'tlscacerts')),
          },
        }
      : {}),
  };
}

/** Drives `fabric-ca-client` against one org's CA. */
export class OrgCa {
  readonly #plan: NetworkPlan;
  readonly #org: OrgLayout;

  constructor(plan: NetworkPlan, org: OrgLayout) {
    this.#plan = plan;
    this.#org = org;
  }

  #url(user?: string, secret?: string): string {
    const { host, port } = this.#org.ca;
    return user && secret
      ? `https://${user}:${encodeURIComponent(secret)}@${host}:${port}`
      : `https://${host}:${port}`;
  }

  #client(args: readonly string[], what: string): Promise<string> {
    return runCommandAsync(
      join(this.#plan.binDir, 'fabric-ca-client'),
      [...args, '--caname', `ca-${this.#org.name}`, '--tls.certfiles', this.#org.caCert],
      { what: `${what} (CA ${this.#org.name})` },
    );
  }

  /** Enrolls the CA's bootstrap registrar (once). */
  async enrollRegistrar(): Promise<void> {
    if (existsSync(join(this.#org.registrarHome, 'msp', 'signcerts', 'cert.pem'))) return;
    await this.#client(
      ['enroll', '-u', this.#url('registrar', bootstrapSecret(this.#org)), '-H', this.#org.registrarHome],
      'enroll registrar',
    );
  }

  /** Registers an identity; attributes are put into enrollment certificates (`:ecert`). */
  async register(
    name: string,
    secret: string,
    type: string,
    attrs: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    // fabric-ca-client splits --id.attrs on commas unless an attribute is double-quoted (lists such as
    // qualification=nadcap-am,ti-powder).
    const attrList = Object.entries(attrs).map(([k, v]) =>
      v.includes(',') ? `"${k}=${v}:ecert"` : `${k}=${v}:ecert`,
    );
    await this.#client(
      [
        'register',
        '-u',
        this.#url(),
        '-H',
        this.#org.registrarHome,
        '--id.name',
        name,
        '--id.secret',
        secret,
        '--id.type',
        type,
        ...(attrList.length > 0 ? ['--id.attrs', attrList.join(',')] : []),
      ],
      `register ${name}`,
    );
  }

  /** Enrolls `name` into `dir/msp` (and `dir/tls` with the TLS profile when `tlsHosts` is given). */
  async enroll(
    name: string,
    secret: string,
    dir: string,
    tlsHosts?: readonly string[],
  ): Promise<IdentityFiles> {
    await this.#client(['enroll', '-u', this.#url(name, secret), '-M', join(dir, 'msp')], `enroll ${name}`);
    writeFileSync(
      join(dir, 'msp', 'config.yaml'),
      NODE_OU_CONFIG.replaceAll('cacerts/ca.pem', caCertRelative(dir)),
    );
    if (tlsHosts) {
      await this.#client(
        [
          'enroll',
          '-u',
          this.#url(name, secret),
          '-M',
          join(dir, 'tls'),
          '--enrollment.profile',
          'tls',
          '--csr.hosts',
          tlsHosts.join(','),
        ],
        `enroll TLS ${name}`,
      );
    }
    chmodKeys(dir);
    return identityFiles(dir);
  }

  /**
   * Revokes every certificate of `name` and generates the CA's certificate revocation list; returns the CRL
   * (PEM), for services that check client certificates against it.
   */
  async revoke(name: string, reason = 'keycompromise'): Promise<string> {
    await this.#client(
      ['revoke', '-u', this.#url(), '-H', this.#org.registrarHome, '-e', name, '-r', reason, '--gencrl'],
      `revoke ${name}`,
    );
    return readFileSync(join(this.#org.registrarHome, 'msp', 'crls', 'crl.pem'), 'utf8');
  }

  /** Registers and enrolls in one step with a fresh secret. */
  async registerAndEnroll(
    name: string,
    type: string,
    dir: string,
    attrs: Readonly<Record<string, string>> = {},
    tlsHosts?: readonly string[],
  ): Promise<IdentityFiles> {
    const secret = newSecret();
    await this.register(name, secret, type, attrs);
    return this.enroll(name, secret, dir, tlsHosts);
  }
}

/** fabric-ca-client names the CA cert after the CA's host and port; NodeOU config must point at it. */
function caCertRelative(dir: string): string {
  return `cacerts/${readdirSync(join(dir, 'msp', 'cacerts'))[0] ?? 'ca.pem'}`;
}

function chmodKeys(dir: string): void {
  for (const sub of ['msp', 'tls']) {
    const keystore = join(dir, sub, 'keystore');
    if (!existsSync(keystore)) continue;
    for (const f of readdirSync(keystore)) chmodSync(join(keystore, f), 0o600);
  }
}

/** Writes the org MSP used in channel configuration: the CA root serves as both identity and TLS root. */
export function writeOrgMsp(org: OrgLayout): void {
  for (const sub of ['cacerts', 'tlscacerts']) {
    mkdirSync(join(org.mspDir, sub), { recursive: true });
    copyFileSync(org.caCert, join(org.mspDir, sub, 'ca.pem'));
  }
  writeFileSync(join(org.mspDir, 'config.yaml'), NODE_OU_CONFIG);
}

function tlsHostsFor(node: { host: string; name: string }, org: OrgLayout): string[] {
  return [...new Set([node.host, `${node.name}.${org.domain}`, 'localhost', '127.0.0.1'])];
}

/** Enrolls everything an org needs at network creation: its admin, its nodes and the users of the description. */
export async function enrollOrg(plan: NetworkPlan, org: OrgLayout): Promise<void> {
  const ca = new OrgCa(plan, org);
  await ca.enrollRegistrar();
  writeOrgMsp(org);
  const adminDir = identityDir(org, 'admin');
  if (!existsSync(join(adminDir, 'msp', 'signcerts'))) {
    await ca.registerAndEnroll('admin', 'admin', adminDir, { role: 'org-admin' }, ['admin', 'localhost']);
  }
  const nodes: (PeerNode | OrdererNode)[] =
    org === plan.ordererOrg ? [...plan.orderers] : plan.peers.filter((p) => p.org === org.name);
  for (const node of nodes) {
    const dir = nodeIdentityDir(node);
    if (!existsSync(join(dir, 'msp', 'signcerts'))) {
      await ca.registerAndEnroll(node.name, node.kind, dir, {}, tlsHostsFor(node, org));
    }
    // Each peer's chaincode server gets its own TLS identity (not the peer's key).
    const ccDir = join(node.dir, 'chaincode-identity');
    if (node.kind === 'peer' && !existsSync(join(ccDir, 'msp', 'signcerts'))) {
      await ca.registerAndEnroll(`${node.name}-chaincode`, 'client', ccDir, {}, tlsHostsFor(node, org));
    }
  }
  for (const user of org.users) {
    const dir = identityDir(org, user.name);
    if (existsSync(join(dir, 'msp', 'signcerts'))) continue;
    await ca.registerAndEnroll(user.name, user.type, dir, user.attrs);
  }
}

/** The TLS server certificate, key and CA of a node. */
export function nodeTls(node: PeerNode | OrdererNode): { cert: string; key: string; ca: string } {
  const files = identityFiles(nodeIdentityDir(node));
  if (!files.tls) throw new NetworkError('IDENTITY_FAILED', `${node.id} has no TLS enrollment`);
  return files.tls;
}
