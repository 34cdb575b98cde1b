import { join, resolve } from 'node:path';
import type { NetworkDescription, PeerOrgSpec, UserSpec } from './description';
import { ThreadsealError } from '@threadseal/ledger-model';

/** A Fabric CA of one org. */
export interface CaNode {
  readonly kind: 'ca';
  readonly id: string;
  readonly org: string;
  readonly host: string;
  readonly port: number;
  readonly opsPort: number;
  /** Home of the enrollment CA (the server's default CA, `ca-<org>`). */
  readonly home: string;
  /** The enrollment CA's name, what `fabric-ca-client --caname` selects. */
  readonly name: string;
  /** Home of the TLS CA served by the same process (`--cafiles`), `<home>/tlsca`. */
  readonly tlsHome: string;
  /** The TLS CA's name (`tlsca-<org>`). */
  readonly tlsName: string;
}

/** A peer and the chaincode-as-a-service process that serves it. */
export interface PeerNode {
  readonly kind: 'peer';
  readonly id: string;
  readonly name: string;
  readonly org: string;
  readonly mspId: string;
  readonly host: string;
  readonly port: number;
  readonly chaincodePort: number;
  readonly opsPort: number;
  readonly ccaasPort: number;
  readonly dir: string;
}

/** A Raft orderer. */
export interface OrdererNode {
  readonly kind: 'orderer';
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  readonly opsPort: number;
  readonly dir: string;
}

/** Where an org keeps its generated material. */
export interface OrgLayout {
  readonly name: string;
  readonly mspId: string;
  readonly domain: string;
  /** The org MSP used in the channel configuration (cacerts, tlscacerts, NodeOU config). */
  readonly mspDir: string;
  /**
   * Root of the org's enrollment CA: it issues the identities of the org's members (MSP `cacerts`), and is
   * the trust anchor for what they sign (transactions, DSIs). It issues no TLS certificate to a node.
   */
  readonly caCert: string;
  /**
   * Root of the org's TLS CA, a separate key and certificate: it issues every TLS certificate of the org's
   * peers, orderers, chaincode servers and clients (MSP `tlscacerts`). Clients dialling a node trust it.
   */
  readonly tlsCaCert: string;
  /** fabric-ca-client home of the CA server's bootstrap registrar at the enrollment CA, and at the TLS CA. */
  readonly registrarHome: string;
  readonly tlsRegistrarHome: string;
  readonly usersDir: string;
  readonly users: readonly UserSpec[];
  readonly ca: CaNode;
}

/** The description resolved into ports and folders for one state directory. */
export interface NetworkPlan {
  readonly description: NetworkDescription;
  readonly stateDir: string;
  readonly logsDir: string;
  readonly channelDir: string;
  readonly chaincodeDir: string;
  readonly binDir: string;
  readonly fabricConfigDir: string;
  readonly repoRoot: string;
  readonly orgs: readonly OrgLayout[];
  readonly ordererOrg: OrgLayout;
  readonly cas: readonly CaNode[];
  readonly peers: readonly PeerNode[];
  readonly orderers: readonly OrdererNode[];
  /** Every port with the node and purpose that owns it, in allocation order. */
  readonly ports: readonly { readonly port: number; readonly host: string; readonly owner: string }[];
}

export interface PlanOptions {
  readonly stateDir: string;
  readonly repoRoot: string;
  readonly basePort?: number;
}

/** Hands out ports in description order from `basePort` and lays out the state directory. */
export function planNetwork(description: NetworkDescription, options: PlanOptions): NetworkPlan {
  const stateDir = resolve(options.stateDir);
  let next = options.basePort ?? description.basePort;
  const ports: { port: number; host: string; owner: string }[] = [];
  const take = (host: string, owner: string): number => {
    const port = next++;
    ports.push({ port, host, owner });
    return port;
  };
  const orgLayout = (
    org: { name: string; mspId: string; domain: string; ca: { host: string } },
    users: readonly UserSpec[],
  ): OrgLayout => {
    const dir = join(stateDir, 'orgs', org.name);
    const id = `ca.${org.name}`;
    const ca: CaNode = {
      kind: 'ca',
      id,
      org: org.name,
      host: org.ca.host,
      port: take(org.ca.host, `${id} listen`),
      opsPort: take(org.ca.host, `${id} operations`),
      home: join(stateDir, 'ca', org.name),
      name: `ca-${org.name}`,
      tlsHome: join(stateDir, 'ca', org.name, 'tlsca'),
      tlsName: `tlsca-${org.name}`,
    };
    return {
      name: org.name,
      mspId: org.mspId,
      domain: org.domain,
      mspDir: join(dir, 'msp'),
      caCert: join(ca.home, 'ca-cert.pem'),
      tlsCaCert: join(ca.tlsHome, 'ca-cert.pem'),
      registrarHome: join(dir, 'registrar'),
      tlsRegistrarHome: join(dir, 'registrar-tls'),
      usersDir: join(dir, 'users'),
      users,
      ca,
    };
  };
  const peers: PeerNode[] = [];
  const orgs = description.orgs.map((org: PeerOrgSpec) => {
    const layout = orgLayout(org, org.users);
    for (const p of org.peers) {
      const id = `${p.name}.${org.name}`;
      peers.push({
        kind: 'peer',
        id,
        name: p.name,
        org: org.name,
        mspId: org.mspId,
        host: p.host,
        port: take(p.host, `${id} listen`),
        chaincodePort: take(p.host, `${id} chaincode`),
        opsPort: take(p.host, `${id} operations`),
        ccaasPort: take(p.host, `${id} chaincode server`),
        dir: join(stateDir, 'nodes', id),
      });
    }
    return layout;
  });
  const ordererOrg = orgLayout(description.ordererOrg, []);
  const orderers = description.ordererOrg.orderers.map((o): OrdererNode => {
    const id = `${o.name}.${description.ordererOrg.name}`;
    return {
      kind: 'orderer',
      id,
      name: o.name,
      host: o.host,
      port: take(o.host, `${id} listen`),
      adminPort: take(o.host, `${id} admin`),
      opsPort: take(o.host, `${id} operations`),
      dir: join(stateDir, 'nodes', id),
    };
  });
  return {
    description,
    stateDir,
    logsDir: join(stateDir, 'logs'),
    channelDir: join(stateDir, 'channel'),
    chaincodeDir: join(stateDir, 'chaincode'),
    binDir: join(options.repoRoot, '.fabric', 'bin'),
    fabricConfigDir: join(options.repoRoot, '.fabric', 'config'),
    repoRoot: options.repoRoot,
    orgs,
    ordererOrg,
    cas: [...orgs.map((o) => o.ca), ordererOrg.ca],
    peers,
    orderers,
    ports,
  };
}

/** Folder of an enrolled identity (`msp/` and `tls/` inside). */
export function identityDir(org: OrgLayout, name: string): string {
  return join(org.usersDir, name);
}

/** Folder of a node's enrollment (`msp/` and `tls/` inside). */
export function nodeIdentityDir(node: PeerNode | OrdererNode): string {
  return join(node.dir, 'identity');
}

/** The org a peer or orderer belongs to. */
export function orgOf(plan: NetworkPlan, node: PeerNode | OrdererNode): OrgLayout {
  if (node.kind === 'orderer') return plan.ordererOrg;
  const org = plan.orgs.find((o) => o.name === node.org);
  if (!org) throw new ThreadsealError('INTERNAL', `peer ${node.id} has no org`);
  return org;
}
