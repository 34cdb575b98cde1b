/**
 * `npm run bench -- caliper`: Hyperledger Caliper 0.6 (fabric-gateway binding, installed into
 * `.bench/caliper/`) against two networks brought up one after the other on the same ports (38100+,
 * state .threadseal/bench-caliper): channel capability V3_0 ("before": the peer gateway sends every
 * transaction to all three Raft orderers) and V2_0 ("after"). Rounds on each:
 * - fixed-load (saturation) one-key writes (system:PutNote) and part registrations (build:Start + Complete);
 * - fixed-rate one-key writes at 25 and 50 TPS (submit→commit latency);
 * - fixed-rate licence-check evaluates (evaluate build:Start), in a second Caliper launch so that the
 *   write launch's CPU and blocks are the writes' alone.
 * Per network also: block bytes per VALID transaction, DUPLICATE_TXID and repeated transaction ids counted
 * from the blocks of the write rounds, and peer/orderer CPU per VALID transaction (/proc/<pid>/stat).
 * Percentiles come from the times the workload modules record. Baseline = the V3_0 figure, value = V2_0.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  blockCensus,
  openLedgerConnection,
  type BlockCensus,
  type LedgerConnection,
} from '@threadseal/ledger-client';
import { FabricNetwork, repoRoot, type ChannelCapability } from '@threadseal/network';
import { m400Terms, SCENARIO_PARAMETERS, type MachineKey } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { setUpLicensedFleet } from './licensed-fleet';
import { cpuByKind, cpuDelta, machineCpu } from './process-cpu';
import { printResults, progress, result, type BenchResult } from './report';
import { caliperBenchConfig, caliperNetworkConfig, type RoundSpec } from './caliper/caliper-config';
import { ensureCaliper, type CaliperInstall } from './caliper/install';
import { launchCaliper, stopCaliper } from './caliper/launch';
import { checkRound, readRecords, roundFigures, type RoundFigures } from './caliper/round-figures';
import type { BenchMachine, CaliperSetup } from './caliper/workload';

const SECONDS = Number(process.env['BENCH_ROUND_SECONDS'] ?? 20);
const WORKERS = Number(process.env['BENCH_CALIPER_WORKERS'] ?? 2);
/** Transactions in flight in the saturation rounds (all workers together). */
const LOAD = Number(process.env['BENCH_CALIPER_LOAD'] ?? 16);
const CHECK_TPS = Number(process.env['BENCH_CHECK_TPS'] ?? 25);
const MAX_FAILURE_RATE = Number(process.env['BENCH_MAX_FAILURE_RATE'] ?? 0.01);
const BASE_PORT = Number(process.env['BENCH_BASE_PORT'] ?? 38100);
/** Units allocated to each machine of the fleet: more than one machine can build in a saturation round. */
const UNITS_PER_MACHINE = 200;
const ORG = 'manufacturer';
const IDENTITIES = { writer: 'admin', operator: 'operator' } as const;

const root = repoRoot();
const benchDir = join(root, '.bench');
const modules = join(__dirname, 'caliper');

const writeRounds: readonly RoundSpec[] = [
  {
    label: 'put-note-saturation',
    seconds: SECONDS,
    rate: { type: 'fixed-load', load: LOAD },
    module: join(modules, 'put-note-workload.js'),
  },
  {
    label: 'part-registration-saturation',
    seconds: SECONDS,
    rate: { type: 'fixed-load', load: LOAD },
    module: join(modules, 'part-registration-workload.js'),
  },
  {
    label: 'put-note-25tps',
    seconds: SECONDS,
    rate: { type: 'fixed-rate', tps: 25 },
    module: join(modules, 'put-note-workload.js'),
  },
  {
    label: 'put-note-50tps',
    seconds: SECONDS,
    rate: { type: 'fixed-rate', tps: 50 },
    module: join(modules, 'put-note-workload.js'),
  },
];
const readRounds: readonly RoundSpec[] = [
  {
    label: `license-check-${CHECK_TPS}tps`,
    seconds: SECONDS,
    rate: { type: 'fixed-rate', tps: CHECK_TPS },
    module: join(modules, 'license-check-workload.js'),
  },
];

/** Everything measured on one network. */
interface NetworkFigures {
  readonly capability: ChannelCapability;
  readonly rounds: ReadonlyMap<string, RoundFigures>;
  readonly census: BlockCensus;
  readonly cpuSeconds: Readonly<Record<string, number>>;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** The description to bring up: the reference profile, with `channel.capability` changed for V3_0. */
function profileFor(capability: ChannelCapability, runDir: string): string {
  const reference = join(root, 'network', 'profiles', 'reference.yaml');
  if (capability === 'V2_0') return reference;
  const text = readFileSync(reference, 'utf8');
  const changed = text.replace(/^  capability: V2_0$/m, `  capability: ${capability}`);
  if (changed === text) throw new Error(`bench caliper: no "capability: V2_0" line in ${reference}`);
  const file = join(runDir, `reference-${capability}.yaml`);
  writeFileSync(file, changed);
  return file;
}

/** The licensed machine fleet (`setUpLicensedFleet`, as the ledger bench) in the form Caliper's workers read. */
async function setUp(network: FabricNetwork, sessions: LedgerSessions): Promise<CaliperSetup> {
  // Enough idle machines that a worker never waits for one: the load per worker plus slack.
  const fleetSize = WORKERS * (Math.ceil(LOAD / WORKERS) + 2);
  progress(`setup: DSI, licences, ${fleetSize + 1} machines and their allocations`);
  const { run, licenseId, measurementMachine, fleet } = await setUpLicensedFleet(sessions, {
    tag: 'caliper',
    fleetSize,
    unitsPerMachine: UNITS_PER_MACHINE,
    measurementUnits: 10,
    terms: m400Terms(),
  });
  const asBench = (m: MachineKey): BenchMachine => ({
    id: m.machineId,
    privateKeyPem: m.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
  return {
    chaincode: network.plan.description.chaincode.name,
    run,
    licenseId,
    parameters: { ...SCENARIO_PARAMETERS },
    fleet: fleet.map(asBench),
    checkMachine: asBench(measurementMachine),
    identities: IDENTITIES,
    operator: sessions.as('manufacturer', IDENTITIES.operator).client.operator,
  };
}

async function benchNetwork(capability: ChannelCapability, caliper: CaliperInstall): Promise<NetworkFigures> {
  const runDir = join(benchDir, 'caliper-run', capability);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(join(runDir, 'records'), { recursive: true });
  const network = FabricNetwork.open({
    profile: profileFor(capability, runDir),
    stateDir: join(root, '.threadseal', 'bench-caliper'),
    basePort: BASE_PORT,
    log: (l) => {
      progress(l);
    },
  });
  if (network.plan.description.channel.capability !== capability) {
    throw new Error(
      `bench caliper: profile has ${network.plan.description.channel.capability}, not ${capability}`,
    );
  }
  const sessions = new LedgerSessions(network.connectionFile);
  let census: LedgerConnection | undefined;
  try {
    progress(`── network with channel capability ${capability} (load ${load()})`);
    await network.reset();
    await network.up();
    const setup = await setUp(network, sessions);
    const setupFile = join(runDir, 'setup.json');
    writeFileSync(setupFile, JSON.stringify(setup), { mode: 0o600 });
    const networkConfig = join(runDir, 'network.json');
    writeFileSync(
      networkConfig,
      JSON.stringify(caliperNetworkConfig(network, ORG, Object.values(IDENTITIES)), null, 2),
    );
    const recordsDir = join(runDir, 'records');
    const args = (label: string): { setupFile: string; recordsDir: string; label: string } => ({
      setupFile,
      recordsDir,
      label,
    });
    const launch = async (name: string, rounds: readonly RoundSpec[]): Promise<void> => {
      const benchConfig = join(runDir, `${name}.json`);
      writeFileSync(benchConfig, JSON.stringify(caliperBenchConfig(name, WORKERS, rounds, args), null, 2));
      progress(`caliper: ${rounds.map((r) => r.label).join(', ')} (${SECONDS} s each, load ${load()})`);
      await launchCaliper(caliper, {
        workspace: runDir,
        networkConfig,
        benchConfig,
        logFile: join(runDir, `${name}.log`),
        timeoutMs: (rounds.length * (SECONDS + 30) + 60) * 1000,
      });
    };

    census = openLedgerConnection(network.connectionFile, { org: ORG, user: 'admin' });
    const fromBlock = await census.peerHeight();
    const cpuBefore = cpuByKind(network);
    const machineBefore = machineCpu();
    await launch('writes', writeRounds);
    const cpuAfter = cpuByKind(network);
    const machineAfter = machineCpu();
    const toBlock = await census.peerHeight();
    progress(`CPU during the write rounds: ${cpuDelta(cpuBefore, cpuAfter)}`);
    // How much of the machine the network had: the rest went to Caliper and to whatever else runs here.
    const networkCpu = Object.entries(cpuAfter)
      .filter(([k]) => k !== 'client')
      .reduce((n, [k, v]) => n + v - (cpuBefore[k] ?? 0), 0);
    const busy = machineAfter.busy - machineBefore.busy;
    progress(
      `machine CPU during the write rounds: ${busy.toFixed(1)} s busy of ${(machineAfter.total - machineBefore.total).toFixed(1)} s; ` +
        `network ${networkCpu.toFixed(1)} s, everything else (Caliper's workers, other work) ${(busy - networkCpu).toFixed(1)} s`,
    );
    await launch('reads', readRounds);

    const rounds = new Map<string, RoundFigures>();
    for (const r of [...writeRounds, ...readRounds]) {
      const f = roundFigures(r.label, readRecords(recordsDir, r.label));
      progress(
        `${capability} ${r.label}: ${f.successes} ok, ${f.failures} failed, ${f.tps.toFixed(1)} tx/s, ` +
          `p50 ${f.p50.toFixed(0)} ms, p95 ${f.p95.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms`,
      );
      rounds.set(r.label, f);
    }
    try {
      for (const f of rounds.values()) checkRound(f, MAX_FAILURE_RATE);
    } catch (err) {
      throw new Error(`${(err as Error).message} (Caliper's logs: ${runDir}/*.log)`);
    }

    const connection = census;
    const blocks = await blockCensus((n) => connection.block(n), fromBlock, toBlock);
    progress(
      `${capability} blocks ${fromBlock}..${toBlock - 1n}: ${blocks.transactions} transactions, ` +
        `${JSON.stringify(blocks.byValidationCode)}, ${Object.keys(blocks.repeatedTransactionIds).length} repeated ids, ${blocks.bytes} bytes`,
    );
    const committed = writeRounds.reduce((n, r) => n + (rounds.get(r.label)?.successes ?? 0), 0);
    const valid = blocks.byValidationCode['VALID'] ?? 0;
    // Every submit Caliper reported successful was committed VALID (fabric-gateway checks the status).
    if (valid < committed) {
      throw new Error(
        `bench caliper: ${committed} successful submits but only ${valid} VALID transactions in the blocks`,
      );
    }
    const cpuSeconds = Object.fromEntries(
      Object.keys(cpuAfter).map((k) => [k, (cpuAfter[k] ?? 0) - (cpuBefore[k] ?? 0)]),
    );
    return { capability, rounds, census: blocks, cpuSeconds };
  } finally {
    stopCaliper();
    census?.close();
    sessions.closeAll();
    await network.reset();
  }
}

function compare(after: NetworkFigures, before: NetworkFigures): BenchResult[] {
  const out: BenchResult[] = [];
  const round = (f: NetworkFigures, label: string): RoundFigures => {
    const r = f.rounds.get(label);
    if (!r) throw new Error(`no figures for round ${label}`);
    return r;
  };
  const both = (metric: string, unit: string, pick: (f: NetworkFigures) => number): void => {
    out.push(result(`caliper_${metric}`, pick(after), unit, pick(before)));
  };
  const latencies = (label: string, metric: string): void => {
    for (const p of ['p50', 'p95', 'p99'] as const) both(`${metric}_${p}`, 'ms', (f) => round(f, label)[p]);
  };
  both('put_note_saturation_tx_per_s', 'tx/s', (f) => round(f, 'put-note-saturation').tps);
  latencies('put-note-saturation', 'put_note_saturation');
  both('part_registration_saturation_tx_per_s', 'tx/s', (f) => round(f, 'part-registration-saturation').tps);
  both('part_registration_saturation_parts_per_s', 'parts/s', (f) => {
    const r = round(f, 'part-registration-saturation');
    return (r.byKind['complete'] ?? 0) / r.seconds;
  });
  latencies('part-registration-saturation', 'part_registration_saturation');
  // Fixed-rate rounds: the rate reached is printed too — a starved client sends less than asked.
  both('put_note_25tps_achieved_tx_per_s', 'tx/s', (f) => round(f, 'put-note-25tps').tps);
  latencies('put-note-25tps', 'put_note_25tps_commit');
  both('put_note_50tps_achieved_tx_per_s', 'tx/s', (f) => round(f, 'put-note-50tps').tps);
  latencies('put-note-50tps', 'put_note_50tps_commit');
  both(
    `license_check_${CHECK_TPS}tps_achieved_tx_per_s`,
    'tx/s',
    (f) => round(f, `license-check-${CHECK_TPS}tps`).tps,
  );
  latencies(`license-check-${CHECK_TPS}tps`, `license_check_${CHECK_TPS}tps`);
  const valid = (f: NetworkFigures): number => f.census.byValidationCode['VALID'] ?? 0;
  both('block_bytes_per_valid_tx', 'bytes', (f) => f.census.bytes / valid(f));
  both('transactions_in_blocks_per_valid_tx', 'ratio', (f) => f.census.transactions / valid(f));
  both('duplicate_txid', 'tx', (f) => f.census.byValidationCode['DUPLICATE_TXID'] ?? 0);
  both(
    'duplicate_txid_per_valid_tx',
    'ratio',
    (f) => (f.census.byValidationCode['DUPLICATE_TXID'] ?? 0) / valid(f),
  );
  both('repeated_tx_ids', 'ids', (f) => Object.keys(f.census.repeatedTransactionIds).length);
  both('peer_cpu_ms_per_valid_tx', 'ms', (f) => ((f.cpuSeconds['peer'] ?? 0) * 1000) / valid(f));
  both('orderer_cpu_ms_per_valid_tx', 'ms', (f) => ((f.cpuSeconds['orderer'] ?? 0) * 1000) / valid(f));
  both('chaincode_cpu_ms_per_valid_tx', 'ms', (f) => ((f.cpuSeconds['chaincode'] ?? 0) * 1000) / valid(f));
  return out;
}

async function main(): Promise<void> {
  progress(`uptime load average at start: ${load()} (2 cores; other work may share the machine)`);
  const caliper = ensureCaliper(join(benchDir, 'caliper'), progress);
  process.once('SIGINT', () => {
    stopCaliper();
    const state = join(root, '.threadseal', 'bench-caliper');
    const reset = existsSync(state)
      ? FabricNetwork.open({ stateDir: state, basePort: BASE_PORT }).reset()
      : Promise.resolve();
    void reset.finally(() => process.exit(130));
  });
  const before = await benchNetwork('V3_0', caliper);
  const after = await benchNetwork('V2_0', caliper);
  progress(`uptime load average at end: ${load()}`);
  printResults(compare(after, before));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench caliper: ${(err as Error).message}\n`);
  process.exit(1);
});
