import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  readonly tls?: TlsFiles;
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

/** A TLS certificate, its key, and the root of the TLS CA that issued it. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/**
 * Locates the TLS files enrolled into `dir/tls`.
 * @throws NetworkError IDENTITY_FAILED when `dir` has no TLS enrollment.
 */
export function tlsFiles(dir: string): TlsFiles {
  const tlsDir = join(dir, 'tls');
  return {
    cert: join(tlsDir, 'signcerts', 'cert.pem'),
    key: firstFile(join(tlsDir, 'keystore')),
    ca: firstFile(join(tlsDir, 'tlscacerts')),
  };
}

/** Locates the files of an identity enrolled into `dir` (`msp/` and optional `tls/`). */
export function identityFiles(dir: string): IdentityFiles {
  const mspDir = join(dir, 'msp');
  return {
    mspDir,
    cert: join(mspDir, 'signcerts', 'cert.pem'),
    key: firstFile(join(mspDir, 'keystore')),
    ...(existsSync(join(dir, 'tls')) ? { tls: tlsFiles(dir) } : {}),
  };
}

/** Which of an org's two CAs a `fabric-ca-client` call talks to. */
export type OrgCaRole = 'enrollment' | 'tls';

/** The secret and host names of a TLS enrollment (the identity registered at the org's TLS CA). */
export interface TlsEnrollment {
  readonly secret: string;
  readonly hosts: readonly string[];
}

/**
 * Drives `fabric-ca-client` against one org's CA server, which serves two CAs: the enrollment CA
 * (`ca-<org>`, member identities) and the TLS CA (`tlsca-<org>`, every TLS certificate). Secrets go to
 * `fabric-ca-client` through its environment (`FABRIC_CA_CLIENT_URL`, `FABRIC_CA_CLIENT_ID_SECRET`),
 * never on its command line, which every local user can read.
 */
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

  #registrarHome(role: OrgCaRole): string {
    return role === 'tls' ? this.#org.tlsRegistrarHome : this.#org.registrarHome;
  }

  #client(
    args: readonly string[],
    what: string,
    role: OrgCaRole,
    env: Readonly<Record<string, string>> = {},
  ): Promise<string> {
    const caName = role === 'tls' ? this.#org.ca.tlsName : this.#org.ca.name;
    // The CA server's own listener certificate is issued by its default (enrollment) CA.
    return runCommandAsync(
      join(this.#plan.binDir, 'fabric-ca-client'),
      [...args, '--caname', caName, '--tls.certfiles', this.#org.caCert],
      { what: `${what} (CA ${caName})`, env },
    );
  }

  /**
   * Enrolls into a fresh folder next to `dir` and moves the result into `dir` only when every step
   * succeeded: fabric-ca-client writes the new private key before the CA answers, so a refused enrollment
   * (wrong secret, unknown user, CA down) would otherwise leave a key in the keystore.
   */
  async #enrollStaged(
    dir: string,
    steps: readonly {
      readonly sub: 'msp' | 'tls';
      readonly role: OrgCaRole;
      readonly user: string;
      readonly secret: string;
      readonly args: readonly string[];
      readonly what: string;
    }[],
  ): Promise<void> {
    const parent = dirname(dir);
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    const staging = mkdtempSync(join(parent, `.enroll-${basename(dir)}-`));
    try {
      for (const step of steps) {
        await this.#client(['enroll', '-M', join(staging, step.sub), ...step.args], step.what, step.role, {
          FABRIC_CA_CLIENT_URL: this.#url(step.user, step.secret),
          // Its generated config file (no secret in it) goes to the staging folder, not to $HOME.
          FABRIC_CA_CLIENT_HOME: staging,
        });
      }
      for (const step of steps) chmodKeys(join(staging, step.sub));
      if (steps.some((s) => s.sub === 'msp')) {
        writeFileSync(
          join(staging, 'msp', 'config.yaml'),
          NODE_OU_CONFIG.replaceAll('cacerts/ca.pem', caCertRelative(join(staging, 'msp'))),
        );
      }
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const { sub } of steps) {
        // A folder being replaced (re-enrollment) is moved into the staging folder and removed with it.
        if (existsSync(join(dir, sub))) renameSync(join(dir, sub), join(staging, `replaced-${sub}`));
        renameSync(join(staging, sub), join(dir, sub));
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Enrolls the CA server's bootstrap registrar at both CAs (once each). */
  async enrollRegistrar(): Promise<void> {
    for (const role of ['enrollment', 'tls'] as const) {
      const home = this.#registrarHome(role);
      if (existsSync(join(home, 'msp', 'signcerts', 'cert.pem'))) continue;
      await this.#enrollStaged(home, [
        {
          sub: 'msp',
          role,
          user: 'registrar',
          secret: bootstrapSecret(this.#org),
          args: [],
          what: 'enroll registrar',
        },
      ]);
    }
  }

  /**
   * Registers an identity at the enrollment CA (or, with `role` `tls`, at the TLS CA); attributes are put
   * into enrollment certificates (`:ecert`).
   */
  async register(
    name: string,
    secret: string,
    type: string,
    attrs: Readonly<Record<string, string>> = {},
    role: OrgCaRole = 'enrollment',
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
        this.#registrarHome(role),
        '--id.name',
        name,
        '--id.type',
        type,
        ...(attrList.length > 0 ? ['--id.attrs', attrList.join(',')] : []),
      ],
      `register ${name}`,
      role,
      { FABRIC_CA_CLIENT_ID_SECRET: secret },
    );
  }

  /**
   * Enrolls `name` into `dir/msp` from the enrollment CA, and into `dir/tls` from the TLS CA (TLS profile,
   * `tls.hosts` as SANs) when `tls` is given. Nothing is written to `dir` unless every enrollment succeeds.
   * @throws NetworkError COMMAND_FAILED when the CA refuses or cannot be reached; `dir` is then unchanged.
   */
  async enroll(name: string, secret: string, dir: string, tls?: TlsEnrollment): Promise<IdentityFiles> {
    await this.#enrollStaged(dir, [
      { sub: 'msp', role: 'enrollment', user: name, secret, args: [], what: `enroll ${name}` },
      ...(tls ? [tlsStep(name, tls)] : []),
    ]);
    return identityFiles(dir);
  }

  /**
   * Revokes every enrollment certificate of `name` and generates the enrollment CA's certificate
   * revocation list; returns the CRL (PEM), for services that check client certificates against it.
   */
  async revoke(name: string, reason = 'keycompromise'): Promise<string> {
    await this.#client(
      ['revoke', '-u', this.#url(), '-H', this.#org.registrarHome, '-e', name, '-r', reason, '--gencrl'],
      `revoke ${name}`,
      'enrollment',
    );
    return readFileSync(join(this.#org.registrarHome, 'msp', 'crls', 'crl.pem'), 'utf8');
  }

  /**
   * Registers and enrolls in one step with fresh secrets: at the enrollment CA, and at the TLS CA as well
   * when `tlsHosts` is given.
   */
  async registerAndEnroll(
    name: string,
    type: string,
    dir: string,
    attrs: Readonly<Record<string, string>> = {},
    tlsHosts?: readonly string[],
  ): Promise<IdentityFiles> {
    const secret = newSecret();
    await this.register(name, secret, type, attrs);
    const tls = tlsHosts ? { secret: newSecret(), hosts: tlsHosts } : undefined;
    if (tls) await this.register(name, tls.secret, type, {}, 'tls');
    return this.enroll(name, secret, dir, tls);
  }

  /**
   * Registers `name` at the TLS CA only and enrolls its TLS certificate into `dir/tls`: for a server that
   * needs a TLS certificate and no member identity (a chaincode server).
   */
  async registerAndEnrollTls(name: string, dir: string, hosts: readonly string[]): Promise<TlsFiles> {
    const tls = { secret: newSecret(), hosts };
    await this.register(name, tls.secret, 'client', {}, 'tls');
    await this.#enrollStaged(dir, [tlsStep(name, tls)]);
    return tlsFiles(dir);
  }
}

function tlsStep(
  name: string,
  tls: TlsEnrollment,
): {
  sub: 'tls';
  role: 'tls';
  user: string;
  secret: string;
  args: string[];
  what: string;
} {
  return {
    sub: 'tls',
    role: 'tls',
    user: name,
    secret: tls.secret,
    args: ['--enrollment.profile', 'tls', '--csr.hosts', tls.hosts.join(',')],
    what: `enroll TLS ${name}`,
  };
}

/** fabric-ca-client names the CA cert after the CA's host and port; NodeOU config must point at it. */
function caCertRelative(mspDir: string): string {
  return `cacerts/${readdirSync(join(mspDir, 'cacerts'))[0] ?? 'ca.pem'}`;
}

function chmodKeys(mspDir: string): void {
  const keystore = join(mspDir, 'keystore');
  if (!existsSync(keystore)) return;
  for (const f of readdirSync(keystore)) chmodSync(join(keystore, f), 0o600);
}

/**
 * Writes the org MSP used in channel configuration: the enrollment CA root under `cacerts` (who is a
 * member), the TLS CA root under `tlscacerts` (whose TLS certificates nodes accept). The two are different
 * keys, so no TLS certificate is a member identity and no member certificate is a TLS server of the org.
 */
export function writeOrgMsp(org: OrgLayout): void {
  for (const [sub, root] of [
    ['cacerts', org.caCert],
    ['tlscacerts', org.tlsCaCert],
  ] as const) {
    mkdirSync(join(org.mspDir, sub), { recursive: true });
    copyFileSync(root, join(org.mspDir, sub, 'ca.pem'));
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
    // Each peer's chaincode server gets its own TLS certificate (not the peer's key) and no member identity.
    const ccDir = chaincodeIdentityDir(node);
    if (node.kind === 'peer' && !existsSync(join(ccDir, 'tls', 'signcerts'))) {
      await ca.registerAndEnrollTls(`${node.name}-chaincode`, ccDir, tlsHostsFor(node, org));
    }
  }
  for (const user of org.users) {
    const dir = identityDir(org, user.name);
    if (existsSync(join(dir, 'msp', 'signcerts'))) continue;
    await ca.registerAndEnroll(user.name, user.type, dir, user.attrs);
  }
}

/** The TLS server certificate, key and CA of a node. */
export function nodeTls(node: PeerNode | OrdererNode): TlsFiles {
  const files = identityFiles(nodeIdentityDir(node));
  if (!files.tls) throw new NetworkError('IDENTITY_FAILED', `${node.id} has no TLS enrollment`);
  return files.tls;
}

/** Where a peer's chaincode server keeps its TLS enrollment (`tls/` only). */
export function chaincodeIdentityDir(peer: PeerNode | OrdererNode): string {
  return join(peer.dir, 'chaincode-identity');
}

/**
 * The TLS certificate, key and CA of a peer's chaincode server.
 * @throws NetworkError IDENTITY_FAILED when it has not been enrolled.
 */
export function chaincodeServerTls(peer: PeerNode): TlsFiles {
  const dir = chaincodeIdentityDir(peer);
  if (!existsSync(join(dir, 'tls')))
    throw new NetworkError('IDENTITY_FAILED', `${peer.id} chaincode server has no TLS certificate`);
  return tlsFiles(dir);
}
