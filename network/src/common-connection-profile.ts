import { readFileSync } from 'node:fs';
import type { NetworkPlan, OrgLayout } from './plan';

/**
 * One org's view of the network in Fabric's common connection profile format — the shape fabric-samples,
 * the Fabric SDKs and tools such as Hyperledger Caliper read (`client.organization`,
 * `organizations.<org>.{mspid, peers, certificateAuthorities}`, `peers.<name>.{url, tlsCACerts,
 * grpcOptions}`, `certificateAuthorities`, `channels`). Certificates are inlined as PEM, so the file is
 * usable on its own. Our own `connection.json` stays the profile the threadseal client reads.
 */
export interface CommonConnectionProfile {
  readonly name: string;
  readonly version: '1.0.0';
  readonly client: {
    readonly organization: string;
    readonly connection: { readonly timeout: { readonly peer: { readonly endorser: string } } };
  };
  readonly channels: Readonly<
    Record<string, { readonly peers: Readonly<Record<string, Readonly<Record<string, boolean>>>> }>
  >;
  readonly organizations: Readonly<
    Record<
      string,
      {
        readonly mspid: string;
        readonly peers: readonly string[];
        readonly certificateAuthorities: readonly string[];
      }
    >
  >;
  readonly peers: Readonly<
    Record<
      string,
      {
        readonly url: string;
        readonly tlsCACerts: { readonly pem: string };
        readonly grpcOptions: Readonly<Record<string, string>>;
      }
    >
  >;
  readonly certificateAuthorities: Readonly<
    Record<
      string,
      {
        readonly url: string;
        readonly caName: string;
        readonly tlsCACerts: { readonly pem: readonly string[] };
        readonly httpOptions: { readonly verify: boolean };
      }
    >
  >;
}

/** The file name of an org's common connection profile inside the state directory. */
export function commonConnectionProfileFile(orgName: string): string {
  return `connection-${orgName}.json`;
}

/**
 * Builds the common connection profile of one peer org from the plan: peers are trusted through the org's
 * TLS CA root; the CA server's own listener certificate comes from its enrollment CA, so the CA entry
 * trusts that root.
 */
export function commonConnectionProfile(plan: NetworkPlan, org: OrgLayout): CommonConnectionProfile {
  const tlsRoot = readFileSync(org.tlsCaCert, 'utf8');
  const caListenerRoot = readFileSync(org.caCert, 'utf8');
  const peers = plan.peers.filter((p) => p.org === org.name);
  const peerName = (name: string): string => `${name}.${org.domain}`;
  const caName = `ca.${org.domain}`;
  const { channel } = plan.description;
  return {
    name: `${plan.description.name}-${org.name}`,
    version: '1.0.0',
    client: { organization: org.name, connection: { timeout: { peer: { endorser: '300' } } } },
    channels: {
      [channel.name]: {
        peers: Object.fromEntries(
          peers.map((p) => [
            peerName(p.name),
            { endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true },
          ]),
        ),
      },
    },
    organizations: {
      [org.name]: {
        mspid: org.mspId,
        peers: peers.map((p) => peerName(p.name)),
        certificateAuthorities: [caName],
      },
    },
    peers: Object.fromEntries(
      peers.map((p) => [
        peerName(p.name),
        {
          url: `grpcs://${p.host}:${p.port}`,
          tlsCACerts: { pem: tlsRoot },
          grpcOptions: {
            'ssl-target-name-override': peerName(p.name),
            hostnameOverride: peerName(p.name),
          },
        },
      ]),
    ),
    certificateAuthorities: {
      [caName]: {
        url: `https://${org.ca.host}:${org.ca.port}`,
        caName: `ca-${org.name}`,
        tlsCACerts: { pem: [caListenerRoot] },
        httpOptions: { verify: true },
      },
    },
  };
}
