/**
 * `npm run bench -- ledger`: on its own network (state .threadseal/bench-ledger, ports 37300+):
 * - license-check evaluate latency: the pre-build check an edge agent runs (evaluate build:Start —
 *   the whole chain, machine, operator, signature and envelope checks, nothing committed) and license:Get;
 * - build:Start submit→commit latency at low load (one machine, sequential);
 * - sustained part registration (Start + Complete) with many machines, against a minimal one-key write
 *   (system:PutNote) at the same concurrency in the same run: the ratio is builds' tx/s ÷ notes' tx/s.
 * Baselines: the targets for the latencies (ratio ≤ 1 meets them); the one-key write for throughput.
 */
import { join } from 'node:path';
import { signStartBuild, type ThreadsealLedger } from '@threadseal/ledger-client';
import { FabricNetwork, repoRoot } from '@threadseal/network';
import { m400Terms, SCENARIO_PARAMETERS, sha256 } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { setUpLicensedFleet, setUpSubcontractorLicence } from './licensed-fleet';
import { cpuByKind, cpuDelta } from './process-cpu';
import { percentile, printResults, progress, result, type BenchResult } from './report';

const MACHINES = Number(process.env['BENCH_MACHINES'] ?? 8);
const PARTS_PER_MACHINE = Number(process.env['BENCH_PARTS'] ?? 25);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 200);
const PARAMS = SCENARIO_PARAMETERS;
const terms = m400Terms();

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  const network = FabricNetwork.open({
    stateDir: join(repoRoot(), '.threadseal', 'bench-ledger'),
    basePort: Number(process.env['BENCH_BASE_PORT'] ?? 37300),
    log: (l) => {
      progress(l);
    },
  });
  process.once('SIGINT', () => void network.reset().finally(() => process.exit(130)));
  const sessions = new LedgerSessions(network.connectionFile);
  try {
    await network.reset();
    await network.up();
    const open = (org: string, user: string): ThreadsealLedger => sessions.as(org, user);
    const operator = open('manufacturer', 'operator');
    progress(`setup: DSI, licenses, ${MACHINES} machines`);
    // The first machine serves the latency measurements; the others the throughput run.
    const {
      run,
      licenseId: floor,
      measurementMachine: latencyMachine,
      fleet,
    } = await setUpLicensedFleet(sessions, {
      tag: 'bench',
      fleetSize: MACHINES,
      unitsPerMachine: PARTS_PER_MACHINE,
      measurementUnits: SAMPLES + 10,
      terms,
    });

    progress(`license-check evaluate latency over ${SAMPLES} samples`);
    const checkMs: number[] = [];
    const getMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const signed = signStartBuild(
        {
          operator: operator.client.operator,
          licenseId: floor,
          machineId: latencyMachine.machineId,
          parameters: PARAMS,
        },
        latencyMachine.privateKey,
      );
      checkMs.push(
        await timed(() => operator.client.connection.evaluate('build:Start', [JSON.stringify(signed)])),
      );
      getMs.push(await timed(() => operator.licenses.get(floor)));
    }
    checkMs.sort((a, b) => a - b);
    getMs.sort((a, b) => a - b);
    results.push(result('license_check_evaluate_p50', percentile(checkMs, 50), 'ms', 5));
    results.push(result('license_check_evaluate_p99', percentile(checkMs, 99), 'ms', 20));
    results.push(result('license_get_evaluate_p50', percentile(getMs, 50), 'ms', 5));
    results.push(result('license_get_evaluate_p99', percentile(getMs, 99), 'ms', 20));

    progress(`build:Start submit→commit at low load over ${Math.min(SAMPLES, 100)} builds`);
    const startMs: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, 100); i++) {
      let buildId = '';
      startMs.push(
        await timed(async () => {
          buildId = (
            await operator.builds.startWithMachineKey(
              { licenseId: floor, machineId: latencyMachine.machineId, parameters: PARAMS },
              latencyMachine.privateKey,
            )
          ).value.buildId;
        }),
      );
      await operator.builds.complete({
        buildId,
        partId: `LAT-${run}-${i}`,
        processRecordDigest: sha256(`lat ${i}`),
      });
    }
    startMs.sort((a, b) => a - b);
    results.push(result('start_build_submit_to_commit_p50', percentile(startMs, 50), 'ms', 250));
    results.push(result('start_build_submit_to_commit_p99', percentile(startMs, 99), 'ms', 500));

    // The same under the subcontractor's licence (OEM → CM → SUB): its records are guarded by three orgs, so
    // every build is endorsed by three peers; the shop-floor builds above by two. Baseline: the floor p50.
    const subSamples = Math.min(SAMPLES, 50);
    progress(`build:Start submit→commit under a subcontractor licence over ${subSamples} builds`);
    const sub = await setUpSubcontractorLicence(sessions, run, subSamples + 5);
    const subOperator = open('subcontractor', 'operator');
    const subMs: number[] = [];
    for (let i = 0; i < subSamples; i++) {
      subMs.push(
        await timed(() =>
          subOperator.builds.startWithMachineKey(
            { licenseId: sub.licenseId, machineId: sub.machine.machineId, parameters: PARAMS },
            sub.machine.privateKey,
          ),
        ),
      );
    }
    subMs.sort((a, b) => a - b);
    results.push(
      result(
        'start_build_subcontractor_submit_to_commit_p50',
        percentile(subMs, 50),
        'ms',
        percentile(startMs, 50),
      ),
    );
    results.push(
      result(
        'start_build_subcontractor_submit_to_commit_p99',
        percentile(subMs, 99),
        'ms',
        percentile(startMs, 99),
      ),
    );

    progress(
      `baseline: ${fleet.length} concurrent writers × ${PARTS_PER_MACHINE * 2} one-key writes (system:PutNote)`,
    );
    const notes = open('manufacturer', 'admin');
    const cpuNotes = cpuByKind(network);
    const baselineStart = Date.now();
    await Promise.all(
      fleet.map(async (m) => {
        for (let i = 0; i < PARTS_PER_MACHINE * 2; i++)
          await notes.client.connection.submit('system:PutNote', [`${m.machineId}-${i}`, 'x']);
      }),
    );
    const baselineTps = (fleet.length * PARTS_PER_MACHINE * 2) / ((Date.now() - baselineStart) / 1000);
    const cpuParts = cpuByKind(network);
    progress(`CPU during the one-key writes: ${cpuDelta(cpuNotes, cpuParts)}`);

    progress(`part registration: ${fleet.length} machines × ${PARTS_PER_MACHINE} parts (Start + Complete)`);
    const partsStart = Date.now();
    await Promise.all(
      fleet.map(async (m) => {
        for (let i = 0; i < PARTS_PER_MACHINE; i++) {
          const started = await operator.builds.startWithMachineKey(
            { licenseId: floor, machineId: m.machineId, parameters: PARAMS },
            m.privateKey,
          );
          await operator.builds.complete({
            buildId: started.value.buildId,
            partId: `P-${m.machineId}-${i}`,
            processRecordDigest: sha256(`${m.machineId} ${i}`),
          });
        }
      }),
    );
    const seconds = (Date.now() - partsStart) / 1000;
    progress(`CPU during part registration: ${cpuDelta(cpuParts, cpuByKind(network))}`);
    const partTps = (fleet.length * PARTS_PER_MACHINE * 2) / seconds;
    results.push(result('part_registration_tx_per_s', partTps, 'tx/s', baselineTps));
    results.push(
      result('parts_per_s', (fleet.length * PARTS_PER_MACHINE) / seconds, 'parts/s', baselineTps / 2),
    );
  } finally {
    sessions.closeAll();
    await network.reset();
  }
  printResults(results);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench ledger: ${(err as Error).message}\n`);
  process.exit(1);
});
