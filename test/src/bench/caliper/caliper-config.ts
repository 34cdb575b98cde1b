/**
 * Caliper's two configuration files, generated per network: the network configuration (v2 format) points
 * at the org's Fabric common connection profile that `threadseal network up` writes and at the users'
 * certificate and key files — no connection details of our own; the benchmark configuration lists rounds.
 */
import { join } from 'node:path';
import { identityFiles, type FabricNetwork } from '@threadseal/network';
import type { RoundArguments } from './workload';

/** One Caliper round: how the load is controlled and which workload module sends it. */
export interface RoundSpec {
  readonly label: string;
  readonly seconds: number;
  readonly rate:
    | { readonly type: 'fixed-load'; readonly load: number }
    | { readonly type: 'fixed-rate'; readonly tps: number };
  /** Compiled workload module (absolute path). */
  readonly module: string;
}

/** Caliper network configuration v2 for one peer org and some of its users. */
export function caliperNetworkConfig(
  network: FabricNetwork,
  orgName: string,
  users: readonly string[],
): Record<string, unknown> {
  const org = network.plan.orgs.find((o) => o.name === orgName);
  if (!org) throw new Error(`caliper: no org ${orgName} in the network description`);
  const { channel, chaincode } = network.plan.description;
  return {
    name: `threadseal-${network.plan.description.name}`,
    version: '2.0.0',
    caliper: { blockchain: 'fabric' },
    channels: [{ channelName: channel.name, contracts: [{ id: chaincode.name }] }],
    organizations: [
      {
        mspid: org.mspId,
        identities: {
          certificates: users.map((user) => {
            const files = identityFiles(join(org.usersDir, user));
            return {
              name: user,
              clientPrivateKey: { path: files.key },
              clientSignedCert: { path: files.cert },
            };
          }),
        },
        connectionProfile: { path: network.commonConnectionFile(org.name), discover: true },
      },
    ],
  };
}

/** Caliper benchmark configuration: `workers` local worker processes running `rounds` in order. */
export function caliperBenchConfig(
  name: string,
  workers: number,
  rounds: readonly RoundSpec[],
  roundArguments: (label: string) => RoundArguments,
): Record<string, unknown> {
  return {
    test: {
      name,
      workers: { number: workers },
      rounds: rounds.map((r) => ({
        label: r.label,
        txDuration: r.seconds,
        rateControl:
          r.rate.type === 'fixed-load'
            ? // startTps: the rate before the first transaction finishes (uncapped by the load): keep it low.
              { type: 'fixed-load', opts: { transactionLoad: r.rate.load, startTps: workers } }
            : { type: 'fixed-rate', opts: { tps: r.rate.tps } },
        workload: { module: r.module, arguments: roundArguments(r.label) },
      })),
    },
    monitors: { resource: [] },
  };
}
