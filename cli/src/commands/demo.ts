import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { identityFiles } from '@threadseal/network';
import { ThreadsealError } from '@threadseal/ledger-model';
import { blockCensus, openLedgerConnection, runSmoke } from '@threadseal/ledger-client';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { startDevelopmentKeyRelease } from '@threadseal/key-release';
import {
  closeScenarioUsers,
  demoDsiStore,
  openReleased,
  openScenarioUsers,
  protectDemoTdp,
  runAerospaceScenario,
  waitForRelease,
} from '@threadseal/scenario/run';
import type { CliCommand } from '../command';
import { networkOptionSpec, networkOptionUsage, openNetwork } from '../network-options';
import { declaredPrograms, DemoMachines, machinesUnavailable } from './demo-machines';
import { formatTree } from './format-tree';
import { describeEndpoints } from './network';
import { startDemoGateways } from './demo-gateways';

const demo: CliCommand = {
  path: ['demo'],
  summary: 'bring the reference network up, deploy the chaincode and run the end-to-end flow',
  usage: `usage: threadseal demo [options]\n${networkOptionUsage}`,
  async run(args) {
    const { values } = parseArgs({ args: [...args], options: networkOptionSpec, strict: true });
    const network = openNetwork(values);
    const out = (line: string): boolean => process.stdout.write(`${line}\n`);
    out('== network');
    const outdated = network.outdatedState();
    if (outdated !== undefined) {
      out(`${outdated}: the demo resets its own network`);
      await network.reset();
    }
    const up = await network.up();
    out(up.alreadyRunning ? 'already up and healthy' : `up in ${(up.totalMs / 1000).toFixed(1)} s`);
    const auditor = openLedgerConnection(network.connectionFile, { org: 'oem', user: 'ip-admin' });
    const heightBefore = await auditor.peerHeight().finally(() => {
      auditor.close();
    });
    out(
      '\n== gateway smoke: a transaction endorsed by two orgs, committed VALID, read back by the other org',
    );
    const report = await runSmoke(
      network.connectionFile,
      { org: 'oem', user: 'ip-admin' },
      { org: 'manufacturer', user: 'operator' },
    );
    out(
      `tx ${report.transactionId} VALID in block ${report.blockNumber}, endorsed by ${report.endorserMspIds.join(' + ')}`,
    );
    out(`read back by ${report.readBackBy}: "${report.value}"`);
    out(
      `chaincode sees ${report.readBackBy} as ${report.identity.mspId} with CA attributes ${JSON.stringify(report.identity.attributes)}`,
    );

    out(
      "\n== key release: the OEM's key-release service starts, its unwrap key in a PKCS#11 token (SoftHSM2, development)",
    );
    const oemOrg = network.plan.orgs.find((o) => o.name === 'oem');
    if (!oemOrg) throw new ThreadsealError('INVALID_ARGUMENT', 'the network has no oem org');
    mkdirSync(demoDsiStore(network), { recursive: true, mode: 0o700 });
    const keyRelease = await startDevelopmentKeyRelease({
      profileFile: network.connectionFile,
      org: 'oem',
      user: 'key-release',
      storeDir: demoDsiStore(network),
      workDir: demoDsiStore(network),
      trustedRoots: [readFileSync(oemOrg.caCert, 'utf8')],
      log: () => undefined,
    });
    const users = openScenarioUsers(network.connectionFile);
    let demoDsiId = '';
    try {
      out(
        '\n== protect: the OEM seals the TDP into a DSI signed with its Fabric CA identity, for its key-release service only',
      );
      const unavailable = machinesUnavailable();
      const dsi = await protectDemoTdp(
        network,
        randomBytes(3).toString('hex'),
        [keyRelease.recipientPublicKey],
        declaredPrograms(),
      );
      out(`  ${dsi.fileDigests.map((f) => f.path).join(', ')} (from ${dsi.source} and the part's programs)`);
      out(`  → ${dsi.file}`);
      out(`  DSI id (digest of the signed manifest): ${dsi.dsiId}`);
      demoDsiId = dsi.dsiId;
      out("  each program carries the OEM's signed process declaration (what its own G-code verifier found)");

      out(
        '\n== the white paper example: OEM 20 → contract manufacturer 12 (3 machines × 4) + subcontractor 8 (2 machines × 4)',
      );
      const started = Date.now();
      let scenario;
      if (unavailable === undefined) {
        out(
          '  every machine is a real LinuxCNC 2.9 (simulated mill, own namespaces) and every build goes through its agent:',
        );
        out(
          '  verify DSI, licence chain, machine and operator → check the signed program declaration → StartBuild VALID →',
        );
        out(
          '  key released for that build → decrypt and re-verify in memory → run and watch → CompleteBuild (machine keys in software: development mode)',
        );
        const machines = new DemoMachines(users, dsi.file, readFileSync(oemOrg.caCert, 'utf8'), (line) =>
          out(line),
        );
        try {
          scenario = await runAerospaceScenario(
            users,
            (line) => out(`  ${line}`),
            dsi.register,
            machines.hooks(),
          );
        } finally {
          await machines.close();
        }
        if (machines.refusals.length === 0)
          throw new ThreadsealError('INTERNAL', 'the refused program was not refused');
      } else {
        out(`  (LinuxCNC cannot run here: ${unavailable}; the builds go through the typed client instead)`);
        let mismatched = 0;
        scenario = await runAerospaceScenario(users, (line) => out(`  ${line}`), dsi.register, {
          onBuildStarted: async ({ buildId, machine, operator }) => {
            const result = await openReleased(dsi, machine, await waitForRelease(operator, buildId));
            if (!result.allMatch) mismatched++;
          },
        });
        if (mismatched > 0)
          throw new ThreadsealError(
            'CORRUPT_STATE',
            'a machine could not open the DSI with the keys released to it',
          );
      }
      out(`  the sub-license was endorsed by ${scenario.subLicenseEndorsers.join(' + ')}`);
      for (const o of scenario.overAllocation)
        out(`  a fifth build on ${o.machineId} was refused (exhausted allocation): ${o.message}`);
      out(`  ${scenario.partsBuilt} parts built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const released = keyRelease.decisions.filter((d) => d.outcome === 'released').length;
      out(
        `  the OEM's key-release service released the keys of ${released} builds, each sealed to its own machine for that build only`,
      );
      if (released !== scenario.partsBuilt)
        throw new ThreadsealError('CORRUPT_STATE', `${released} releases for ${scenario.partsBuilt} parts`);
      out(`\n== the OEM's tree of DSI ${scenario.dsiId}`);
      out(formatTree(scenario.tree));
      await reportBlocks(network.connectionFile, heightBefore, out);
    } finally {
      closeScenarioUsers(users);
      await keyRelease.stop();
    }
    out(`\n== where things are\n${describeEndpoints(network)}`);
    out('\n== REST gateways (mutual TLS: present an enrolled identity of the org, e.g. curl --cert/--key)');
    for (const gateway of await startDemoGateways(network)) {
      out(
        `  ${gateway.org.padEnd(14)} ${gateway.url}  (OpenAPI ${gateway.url}/openapi.json, log ${gateway.log})`,
      );
      out(`  ${''.padEnd(14)} dashboard ${gateway.url}/dashboard?dsiId=${demoDsiId}`);
    }
    const engineer = identityFiles(network.userDir('oem', 'engineer'));
    out(
      `  e.g. curl --cacert ${network.plan.orgs.find((o) => o.name === 'oem')?.tlsCaCert ?? ''} --cert ${engineer.cert} --key ${engineer.key} <oem url>/v1/whoami`,
    );
    out('  stop them with: kill $(cat ' + join(network.plan.stateDir, 'gateways', '*.pid') + ')');
    out('\nthe network keeps running: `npx threadseal network status | logs | down | reset`');
    return 0;
  },
};

/** Counts the demo's own blocks from the OEM's peer: every transaction VALID and ordered once. */
async function reportBlocks(
  connectionFile: string,
  fromHeight: bigint,
  out: (line: string) => unknown,
): Promise<void> {
  const auditor = openLedgerConnection(connectionFile, { org: 'oem', user: 'ip-admin' });
  try {
    const height = await auditor.peerHeight();
    const census = await blockCensus((n) => auditor.block(n), fromHeight, height);
    const codes = Object.entries(census.byValidationCode)
      .map(([code, count]) => `${count} ${code}`)
      .join(', ');
    const repeated = Object.keys(census.repeatedTransactionIds).length;
    out(
      `\n== the demo's blocks, read back from the OEM's peer: ${census.blocks} blocks, ${census.transactions} transactions (${codes}), ` +
        `${repeated} ordered more than once, ${Math.round(census.bytes / Math.max(census.transactions, 1))} bytes per transaction`,
    );
    if (repeated > 0 || census.invalid.length > 0)
      throw new ThreadsealError(
        'CORRUPT_STATE',
        `the demo's blocks hold ${repeated} repeated and ${census.invalid.length} INVALID transactions`,
      );
  } finally {
    auditor.close();
  }
}

export const demoCommands: readonly CliCommand[] = [demo];
