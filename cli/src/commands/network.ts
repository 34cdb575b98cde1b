import { parseArgs } from 'node:util';
import type { FabricNetwork } from '@threadseal/network';
import { CliError, type CliCommand } from '../command';
import { networkOptionSpec, networkOptionUsage, openNetwork } from '../network-options';

const statusOptions = { ...networkOptionSpec, json: { type: 'boolean' } } as const;
const logsOptions = { ...networkOptionSpec, lines: { type: 'string' } } as const;

function parse(args: readonly string[]) {
  return parseArgs({ args: [...args], options: networkOptionSpec, strict: true });
}

/** Where a running network keeps things, for people who want to look. */
export function describeEndpoints(network: FabricNetwork): string {
  const { plan } = network;
  const lines = [
    `network ${plan.description.name}: channel ${plan.description.channel.name}, chaincode ${plan.description.chaincode.name}`,
    `  state:  ${plan.stateDir}`,
    `  logs:   ${plan.logsDir}`,
    `  client connection profile: ${network.connectionFile}`,
    ...plan.orgs.map(
      (org) => `  Fabric common connection profile of ${org.name}: ${network.commonConnectionFile(org.name)}`,
    ),
  ];
  for (const ca of plan.cas)
    lines.push(
      `  ${ca.id.padEnd(26)} https://${ca.host}:${ca.port}  (operations http://${ca.host}:${ca.opsPort})`,
    );
  for (const o of plan.orderers)
    lines.push(`  ${o.id.padEnd(26)} ${o.host}:${o.port}  (admin ${o.adminPort}, operations ${o.opsPort})`);
  for (const p of plan.peers)
    lines.push(
      `  ${p.id.padEnd(26)} ${p.host}:${p.port}  (operations ${p.opsPort}, chaincode server ${p.ccaasPort})`,
    );
  return lines.join('\n');
}

const up: CliCommand = {
  path: ['network', 'up'],
  summary: 'start CAs, Raft orderers, peers and chaincode; return when all are ready',
  usage: `usage: threadseal network up [options]\n${networkOptionUsage}`,
  async run(args) {
    const { values } = parse(args);
    const network = openNetwork(values);
    const result = await network.up();
    if (result.alreadyRunning) {
      process.stdout.write(
        `network ${network.plan.description.name} is already up and healthy: nothing to do\n`,
      );
      return 0;
    }
    for (const s of result.stages)
      process.stderr.write(`  ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.stage}\n`);
    process.stdout.write(
      `network up in ${(result.totalMs / 1000).toFixed(1)} s (${result.fresh ? 'fresh' : 'existing'} state)\n`,
    );
    process.stdout.write(`${describeEndpoints(network)}\n`);
    return 0;
  },
};

const down: CliCommand = {
  path: ['network', 'down'],
  summary: 'stop every process the network started',
  usage: `usage: threadseal network down [options]\n${networkOptionUsage}`,
  async run(args) {
    const network = openNetwork(parse(args).values);
    const stopped = await network.down();
    process.stdout.write(
      `stopped ${stopped} process(es) of network ${network.plan.description.name} (${network.plan.stateDir})\n`,
    );
    return 0;
  },
};

const reset: CliCommand = {
  path: ['network', 'reset'],
  summary: 'stop the network and delete its generated state',
  usage: `usage: threadseal network reset [options]\n${networkOptionUsage}`,
  async run(args) {
    const network = openNetwork(parse(args).values);
    await network.reset();
    process.stdout.write(
      `network ${network.plan.description.name} reset: ${network.plan.stateDir} removed\n`,
    );
    return 0;
  },
};

const status: CliCommand = {
  path: ['network', 'status'],
  summary: "report each node's process and health",
  usage: `usage: threadseal network status [options] [--json]\n${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: statusOptions, strict: true });
    const network = openNetwork(values);
    const nodes = await network.status();
    if (values.json) {
      process.stdout.write(JSON.stringify(nodes, null, 2) + '\n');
    } else if (nodes.length === 0) {
      process.stdout.write(`network ${network.plan.description.name} is not running\n`);
    } else {
      for (const n of nodes) {
        const mark = n.healthy ? 'ok  ' : n.alive ? 'SICK' : 'DOWN';
        process.stdout.write(`${mark}  ${n.name.padEnd(32)} pid ${String(n.pid).padEnd(8)} ${n.detail}\n`);
      }
    }
    const healthy = nodes.length === network.expectedProcessCount && nodes.every((n) => n.healthy);
    return healthy ? 0 : 1;
  },
};

const logs: CliCommand = {
  path: ['network', 'logs'],
  summary: 'show the last log lines of one node (or all)',
  usage: `usage: threadseal network logs [node] [--lines N] [options]\n${networkOptionUsage}`,
  run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: logsOptions,
      allowPositionals: true,
      strict: true,
    });
    const network = openNetwork(values);
    const lines = values.lines ? Number(values.lines) : 40;
    if (!Number.isInteger(lines) || lines <= 0)
      throw new CliError(`--lines must be a positive integer, got '${values.lines ?? ''}'`, 2);
    process.stdout.write(network.logs(positionals[0], lines) + '\n');
    return Promise.resolve(0);
  },
};

const deploy: CliCommand = {
  path: ['network', 'deploy'],
  summary: 'redeploy the chaincode after a code change (next sequence)',
  usage: `usage: threadseal network deploy [options]\n${networkOptionUsage}`,
  async run(args) {
    const network = openNetwork(parse(args).values);
    const r = await network.deployChaincode();
    process.stdout.write(
      r.committed
        ? `chaincode ${r.label} committed at sequence ${r.sequence}\n`
        : `chaincode ${r.label} already committed at sequence ${r.sequence}; servers restarted: ${r.restartedServers}\n`,
    );
    return 0;
  },
};

export const networkCommands: readonly CliCommand[] = [up, down, reset, status, logs, deploy];
