import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument, stringify } from 'yaml';
import { parseDurationMs } from './description';
import { identityFiles, nodeTls } from './identities';
import { nodeIdentityDir, type NetworkPlan, type OrdererNode, type OrgLayout, type PeerNode } from './plan';
import { ThreadsealError } from '@threadseal/ledger-model';

/** Where the external builder for chaincode-as-a-service lives (detect/build/release scripts). */
export function ccaasBuilderDir(plan: NetworkPlan): string {
  return join(plan.repoRoot, 'network', 'builders', 'ccaas');
}

function edit(templateFile: string, values: readonly (readonly [string, unknown])[]): string {
  const doc = parseDocument(readFileSync(templateFile, 'utf8'));
  for (const [path, value] of values) doc.setIn(path.split('.'), value);
  return doc.toString();
}

/**
 * core.yaml for one peer: the release's sampleconfig/core.yaml with the node's identity, addresses,
 * TLS files, data folder and the chaincode-as-a-service builder set from the plan.
 */
export function writePeerConfig(plan: NetworkPlan, peer: PeerNode): string {
  const tls = nodeTls(peer);
  const msp = identityFiles(nodeIdentityDir(peer));
  const data = join(peer.dir, 'data');
  mkdirSync(data, { recursive: true });
  const endpoint = `${peer.host}:${peer.port}`;
  const text = edit(join(plan.fabricConfigDir, 'core.yaml'), [
    ['peer.id', peer.id],
    ['peer.networkId', plan.description.name],
    ['peer.listenAddress', endpoint],
    ['peer.address', endpoint],
    ['peer.chaincodeListenAddress', `${peer.host}:${peer.chaincodePort}`],
    ['peer.chaincodeAddress', `${peer.host}:${peer.chaincodePort}`],
    ['peer.gossip.bootstrap', endpoint],
    ['peer.gossip.endpoint', endpoint],
    ['peer.gossip.externalEndpoint', endpoint],
    ['peer.gossip.useLeaderElection', true],
    ['peer.gossip.orgLeader', false],
    // Loopback-scale gossip timers: peers of other orgs are found in seconds, not after a 25 s reconnect.
    ['peer.gossip.aliveTimeInterval', '2s'],
    ['peer.gossip.aliveExpirationTimeout', '10s'],
    ['peer.gossip.reconnectInterval', '2s'],
    ['peer.gossip.membershipTrackerInterval', '1s'],
    ['peer.tls.enabled', true],
    ['peer.tls.cert.file', tls.cert],
    ['peer.tls.key.file', tls.key],
    ['peer.tls.rootcert.file', tls.ca],
    ['peer.fileSystemPath', data],
    ['peer.mspConfigPath', msp.mspDir],
    ['peer.localMspId', peer.mspId],
    ['peer.gateway.enabled', true],
    // Fabric v3 looks for a Docker daemon unless the endpoint is empty; chaincode runs as a service here.
    ['vm.endpoint', ''],
    [
      'chaincode.externalBuilders',
      [{ name: 'ccaas', path: ccaasBuilderDir(plan), propagateEnvironment: ['PATH', 'HOME'] }],
    ],
    // shim 2.5.x chaincode servers do not answer peer keepalive pings: keep them off.
    ['chaincode.keepalive', 0],
    ['ledger.state.stateDatabase', 'goleveldb'],
    ['ledger.snapshots.rootDir', join(data, 'snapshots')],
    ['operations.listenAddress', `${peer.host}:${peer.opsPort}`],
    ['operations.tls.enabled', true],
    ['operations.tls.cert.file', tls.cert],
    ['operations.tls.key.file', tls.key],
    ['operations.tls.clientAuthRequired', false],
    ['operations.tls.clientRootCAs.files', [orgTlsCaCert(plan, peer)]],
    ['metrics.provider', 'prometheus'],
  ]);
  mkdirSync(peer.dir, { recursive: true });
  writeFileSync(join(peer.dir, 'core.yaml'), text);
  return peer.dir;
}

/** The root of the TLS CA of a peer's org: client certificates of its operations endpoint come from it. */
function orgTlsCaCert(plan: NetworkPlan, peer: PeerNode): string {
  const org = plan.orgs.find((o) => o.name === peer.org);
  if (!org) throw new ThreadsealError('INTERNAL', `peer ${peer.id} has no org`);
  return org.tlsCaCert;
}

/** orderer.yaml for one orderer: channel participation only (no system channel), TLS on every listener. */
export function writeOrdererConfig(plan: NetworkPlan, orderer: OrdererNode): string {
  const tls = nodeTls(orderer);
  const msp = identityFiles(nodeIdentityDir(orderer));
  const data = join(orderer.dir, 'data');
  mkdirSync(data, { recursive: true });
  const text = edit(join(plan.fabricConfigDir, 'orderer.yaml'), [
    ['General.ListenAddress', orderer.host],
    ['General.ListenPort', orderer.port],
    ['General.TLS.Enabled', true],
    ['General.TLS.PrivateKey', tls.key],
    ['General.TLS.Certificate', tls.cert],
    ['General.TLS.RootCAs', [tls.ca]],
    ['General.Cluster.ClientCertificate', tls.cert],
    ['General.Cluster.ClientPrivateKey', tls.key],
    ['General.BootstrapMethod', 'none'],
    ['General.LocalMSPDir', msp.mspDir],
    ['General.LocalMSPID', plan.ordererOrg.mspId],
    ['FileLedger.Location', join(data, 'ledger')],
    ['Consensus.WALDir', join(data, 'etcdraft', 'wal')],
    ['Consensus.SnapDir', join(data, 'etcdraft', 'snapshot')],
    ['Operations.ListenAddress', `${orderer.host}:${orderer.opsPort}`],
    ['Operations.TLS.Enabled', true],
    ['Operations.TLS.Certificate', tls.cert],
    ['Operations.TLS.PrivateKey', tls.key],
    ['Operations.TLS.ClientAuthRequired', false],
    ['Operations.TLS.ClientRootCAs', [plan.ordererOrg.tlsCaCert]],
    ['Metrics.Provider', 'prometheus'],
    ['Admin.ListenAddress', `${orderer.host}:${orderer.adminPort}`],
    ['Admin.TLS.Enabled', true],
    ['Admin.TLS.Certificate', tls.cert],
    ['Admin.TLS.PrivateKey', tls.key],
    ['Admin.TLS.ClientAuthRequired', true],
    ['Admin.TLS.ClientRootCAs', [plan.ordererOrg.tlsCaCert]],
    ['ChannelParticipation.Enabled', true],
  ]);
  mkdirSync(orderer.dir, { recursive: true });
  writeFileSync(join(orderer.dir, 'orderer.yaml'), text);
  return orderer.dir;
}

function signature(rule: string): { Type: 'Signature'; Rule: string } {
  return { Type: 'Signature', Rule: rule };
}

function implicit(rule: string): { Type: 'ImplicitMeta'; Rule: string } {
  return { Type: 'ImplicitMeta', Rule: rule };
}

function orgSection(org: OrgLayout, extra: Record<string, unknown>): Record<string, unknown> {
  const m = org.mspId;
  return {
    Name: m,
    ID: m,
    MSPDir: org.mspDir,
    Policies: {
      Readers: signature(`OR('${m}.admin', '${m}.peer', '${m}.client', '${m}.orderer')`),
      Writers: signature(`OR('${m}.admin', '${m}.client', '${m}.orderer')`),
      Admins: signature(`OR('${m}.admin')`),
      Endorsement: signature(`OR('${m}.peer')`),
    },
    ...extra,
  };
}

/**
 * Orderer and application capabilities exactly as the installed release's sampleconfig declares them, so
 * they match the binaries; the channel capability comes from the description.
 */
function releaseCapabilities(plan: NetworkPlan): { Orderer: unknown; Application: unknown } {
  const sample = parse(readFileSync(join(plan.fabricConfigDir, 'configtx.yaml'), 'utf8')) as {
    Capabilities: { Orderer: unknown; Application: unknown };
  };
  return sample.Capabilities;
}

/** configtx.yaml for the application channel, generated from the description (Raft, channel participation). */
export function writeConfigtx(plan: NetworkPlan): string {
  const { channel } = plan.description;
  const caps = releaseCapabilities(plan);
  const ordererOrg = orgSection(plan.ordererOrg, {
    OrdererEndpoints: plan.orderers.map((o) => `${o.host}:${o.port}`),
  });
  const peerOrgs = plan.orgs.map((org) =>
    orgSection(org, {
      AnchorPeers: plan.peers.filter((p) => p.org === org.name).map((p) => ({ Host: p.host, Port: p.port })),
    }),
  );
  const tick = parseDurationMs(channel.raft.tickInterval);
  const doc = {
    Organizations: [ordererOrg, ...peerOrgs],
    Profiles: {
      ThreadChannel: {
        Policies: {
          Readers: implicit('ANY Readers'),
          Writers: implicit('ANY Writers'),
          Admins: implicit('MAJORITY Admins'),
        },
        // Not the sample's V3_0: on a Raft channel that capability makes the peer gateway send every
        // transaction to all orderers (decision 0005).
        Capabilities: { [channel.capability]: true },
        Orderer: {
          OrdererType: 'etcdraft',
          BatchTimeout: channel.batchTimeout,
          BatchSize: {
            MaxMessageCount: channel.maxMessageCount,
            AbsoluteMaxBytes: '10 MB',
            PreferredMaxBytes: '2 MB',
          },
          EtcdRaft: {
            Consenters: plan.orderers.map((o) => {
              const tls = nodeTls(o);
              return { Host: o.host, Port: o.port, ClientTLSCert: tls.cert, ServerTLSCert: tls.cert };
            }),
            Options: {
              TickInterval: `${tick}ms`,
              ElectionTick: channel.raft.electionTicks,
              HeartbeatTick: channel.raft.heartbeatTicks,
              MaxInflightBlocks: 5,
              SnapshotIntervalSize: '64 KB',
            },
          },
          Organizations: [ordererOrg],
          Policies: {
            Readers: implicit('ANY Readers'),
            Writers: implicit('ANY Writers'),
            Admins: implicit('MAJORITY Admins'),
            BlockValidation: implicit('ANY Writers'),
          },
          Capabilities: caps.Orderer,
        },
        Application: {
          Organizations: peerOrgs,
          Policies: {
            Readers: implicit('ANY Readers'),
            Writers: implicit('ANY Writers'),
            Admins: implicit('MAJORITY Admins'),
            LifecycleEndorsement: implicit('MAJORITY Endorsement'),
            Endorsement: implicit('MAJORITY Endorsement'),
          },
          Capabilities: caps.Application,
        },
      },
    },
  };
  mkdirSync(plan.channelDir, { recursive: true });
  // No YAML anchors: every org section is written out in full where it is used.
  writeFileSync(join(plan.channelDir, 'configtx.yaml'), stringify(doc, { aliasDuplicateObjects: false }));
  return plan.channelDir;
}
