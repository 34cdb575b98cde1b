import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkError } from './errors';
import { httpGet, waitFor } from './health';
import { identityFiles } from './identities';
import { peerCli } from './peer-cli';
import { runCommand, runCommandAsync, type ProcessRecord } from './processes';
import { identityDir, type NetworkPlan, type OrdererNode, type PeerNode } from './plan';
import { ThreadsealError } from '@threadseal/ledger-model';

export function genesisBlockFile(plan: NetworkPlan): string {
  return join(plan.channelDir, `${plan.description.channel.name}.block`);
}

/** Creates the channel's genesis block with configtxgen (once). */
export function createGenesisBlock(plan: NetworkPlan): void {
  const block = genesisBlockFile(plan);
  if (existsSync(block)) return;
  runCommand(
    join(plan.binDir, 'configtxgen'),
    [
      '-profile',
      'ThreadChannel',
      '-outputBlock',
      block,
      '-channelID',
      plan.description.channel.name,
      '-configPath',
      plan.channelDir,
    ],
    { what: 'configtxgen genesis block', env: { FABRIC_CFG_PATH: plan.channelDir } },
  );
}

function osnadmin(
  plan: NetworkPlan,
  orderer: OrdererNode,
  args: readonly string[],
  what: string,
): Promise<string> {
  const admin = identityFiles(identityDir(plan.ordererOrg, 'admin'));
  if (!admin.tls)
    throw new NetworkError('IDENTITY_FAILED', 'the ordering org admin has no TLS client certificate');
  return runCommandAsync(
    join(plan.binDir, 'osnadmin'),
    [
      ...args,
      '-o',
      `${orderer.host}:${orderer.adminPort}`,
      '--ca-file',
      plan.ordererOrg.tlsCaCert,
      '--client-cert',
      admin.tls.cert,
      '--client-key',
      admin.tls.key,
    ],
    { what: `${what} (${orderer.id})` },
  );
}

/** Joins every orderer to the channel through the channel participation API (no system channel). */
export async function joinOrderers(plan: NetworkPlan, processes: readonly ProcessRecord[]): Promise<void> {
  const channel = plan.description.channel.name;
  await Promise.all(
    plan.orderers.map(async (o) => {
      // The admin endpoint may open a moment after /healthz answers: its first answer is the readiness signal.
      const proc = processes.find((p) => p.name === o.id);
      const list = await waitFor(() => osnadmin(plan, o, ['channel', 'list'], 'osnadmin channel list'), {
        what: `${o.id} admin endpoint`,
        timeoutMs: 30_000,
        ...(proc ? { process: proc } : {}),
      });
      if (list.includes(`"name": "${channel}"`) || list.includes(`"name":"${channel}"`)) return;
      await osnadmin(
        plan,
        o,
        ['channel', 'join', '--channelID', channel, '--config-block', genesisBlockFile(plan)],
        'osnadmin channel join',
      );
    }),
  );
}

/** Waits until one orderer reports itself Raft leader of the channel (from its Prometheus metrics). */
export async function waitForRaftLeader(
  plan: NetworkPlan,
  processes: readonly ProcessRecord[],
): Promise<string> {
  const channel = plan.description.channel.name;
  // /metrics asks for a client certificate; the ordering org admin's TLS pair is one the orderers trust.
  const admin = identityFiles(identityDir(plan.ordererOrg, 'admin')).tls;
  return waitFor(
    async () => {
      for (const o of plan.orderers) {
        const res = await httpGet(`https://${o.host}:${o.opsPort}/metrics`, plan.ordererOrg.tlsCaCert, admin);
        const leader = res?.body
          .split('\n')
          .some(
            (l) =>
              l.startsWith('consensus_etcdraft_is_leader') &&
              l.includes(`channel="${channel}"`) &&
              / 1$/.test(l),
          );
        if (leader) return o.id;
      }
      return undefined;
    },
    {
      what: `a Raft leader of channel ${channel}`,
      timeoutMs: 30_000,
      ...(processes[0] ? { process: processes[0] } : {}),
    },
  );
}

/** Channel height as seen by a peer, or undefined when it has not joined. */
export async function peerHeight(plan: NetworkPlan, peer: PeerNode): Promise<number | undefined> {
  try {
    const out = await peerCli(
      plan,
      peer,
      ['channel', 'getinfo', '-c', plan.description.channel.name],
      'peer channel getinfo',
    );
    const m = /"height":(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The channels a peer has joined, from `peer channel list`. A peer that has just restarted may answer
 * /healthz before its admin service does, so this waits for an answer rather than reading a failure
 * as "not joined" (which once made a restarted peer try to join a channel it already had).
 */
async function joinedChannels(plan: NetworkPlan, peer: PeerNode, proc?: ProcessRecord): Promise<string[]> {
  const out = await waitFor(() => peerCli(plan, peer, ['channel', 'list'], 'peer channel list'), {
    what: `${peer.id} to list its channels`,
    timeoutMs: 30_000,
    ...(proc ? { process: proc } : {}),
  });
  const marker = out.indexOf('Channels peers has joined:');
  const listed = marker >= 0 ? out.slice(marker).split('\n').slice(1) : out.split('\n');
  return listed.map((l) => l.trim()).filter((l) => /^[a-z][a-z0-9.-]*$/.test(l));
}

/** Joins each peer to the channel (once) and waits until it has the genesis block. */
export async function joinPeers(plan: NetworkPlan, processes: readonly ProcessRecord[]): Promise<void> {
  const channel = plan.description.channel.name;
  await Promise.all(
    plan.peers.map(async (peer) => {
      const proc = processes.find((p) => p.name === peer.id);
      if (!(await joinedChannels(plan, peer, proc)).includes(channel)) {
        await peerCli(plan, peer, ['channel', 'join', '-b', genesisBlockFile(plan)], 'peer channel join');
      }
      await waitFor(async () => ((await peerHeight(plan, peer)) ?? 0) >= 1 || undefined, {
        what: `${peer.id} to receive the channel's blocks`,
        timeoutMs: 30_000,
        ...(proc ? { process: proc } : {}),
      });
    }),
  );
}

/**
 * Waits until every peer's gossip knows every other peer of the channel: before that, the gateway's
 * discovery cannot find endorsers of the other orgs and multi-org endorsement fails.
 */
export async function waitForGossip(plan: NetworkPlan, processes: readonly ProcessRecord[]): Promise<void> {
  const channel = plan.description.channel.name;
  const others = plan.peers.length - 1;
  await Promise.all(
    plan.peers.map((peer) => {
      const org = plan.orgs.find((o) => o.name === peer.org);
      if (!org) throw new ThreadsealError('INTERNAL', `peer ${peer.id} has no org`);
      // /metrics asks for a client certificate: the org admin's TLS pair.
      const admin = identityFiles(identityDir(org, 'admin')).tls;
      const proc = processes.find((p) => p.name === peer.id);
      return waitFor(
        async () => {
          const res = await httpGet(`https://${peer.host}:${peer.opsPort}/metrics`, org.tlsCaCert, admin);
          const line = res?.body
            .split('\n')
            .find(
              (l) =>
                l.startsWith('gossip_membership_total_peers_known') && l.includes(`channel="${channel}"`),
            );
          const known = line ? Number(line.split(' ').pop()) : 0;
          return known >= others ? true : undefined;
        },
        {
          what: `${peer.id} to know the other ${others} peers of ${channel} (gossip)`,
          timeoutMs: 60_000,
          intervalMs: 250,
          ...(proc ? { process: proc } : {}),
        },
      );
    }),
  );
}
