/**
 * `npm run bench -- agent`: what the machine agent spends on a job, as a list of measurements:
 * - job request → first program byte at the controller for a 10 MB program (p50/p99) on a real network this
 *   bench starts (port base BENCH_BASE_PORT, default 30100), with the owner's key-release service and a real
 *   LinuxCNC, each step's share measured, against the StartBuild submit→commit of the same jobs; the agent's
 *   peak RSS (it runs in its own process) against its idle RSS;
 * - G-code verification of a ≥ 100 MB RS274/NGC program on one core, streamed in constant memory, against
 *   LinuxCNC's own interpreter `rs274` on the same file as the baseline.
 * `--only job` or `--only gcode` runs one of them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protectToFile, registrationOf, softwareSigner } from '@threadseal/dsi-container';
import { linuxCncAvailability, LinuxCncController, type JobStep } from '@threadseal/enforce-agent';
import { declareProgram, verifyProgram } from '@threadseal/gcode';
import { type RunningKeyRelease } from '@threadseal/key-release';
import { CausalGroup } from '@threadseal/ledger-client';
import type { ParameterBound, ProductionTerms } from '@threadseal/ledger-model';
import { FabricNetwork, repoRoot } from '@threadseal/network';
import { grant } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import type { AgentMachineSettings, JobTimeline } from './agent-machine';
import { percentile, printResults, progress, result, type BenchResult } from './report';
import { startOemKeyRelease } from '../fixtures/key-release';

const MB = 1e6;
const PROGRAM_MB = Number(process.env['BENCH_GCODE_MB'] ?? 110);
const RS274 = '/usr/bin/rs274';
const ENVELOPE: readonly ParameterBound[] = [
  { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 24000 },
  { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 10000 },
];

/** One measurement of the agent area; each returns its result lines. */
interface Measurement {
  readonly name: string;
  run(scratch: string): Promise<BenchResult[]>;
}

/** CPU seconds (user + system) of this process's waited-for children, from /proc/self/stat. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime), counted from field 3 here; clock ticks of 1/100 s.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * CPU seconds (user + system) of this process's main thread alone, from /proc/self/task/<pid>/stat: the one
 * core the verifier runs on, without V8's concurrent GC threads (which `process.cpuUsage()` adds in).
 */
function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) (utime, stime), counted from field 3 here; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A realistic milling program: pocketing passes of G1 moves with F and S changes and comments. */
async function writeProgram(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  out.write(
    '%\n(threadseal benchmark program: pocket passes)\nG21 G90 G94 G97 G17\nT1 M6\nS8000 M3\nG0 X0 Y0 Z5\n',
  );
  let written = 0;
  let pass = 0;
  while (written < bytes) {
    const lines: string[] = [
      `(pass ${pass} depth ${(pass % 50) * 0.05})`,
      `G1 Z-${((pass % 50) * 0.05).toFixed(3)} F300`,
    ];
    const feed = 800 + ((pass * 37) % 1200);
    const rpm = 6000 + ((pass * 113) % 6000);
    lines.push(`S${rpm} F${feed}`);
    for (let i = 0; i < 2000; i++) {
      const x = ((i * 7919 + pass * 31) % 100000) / 1000;
      const y = ((i * 104729 + pass * 17) % 80000) / 1000;
      lines.push(
        i % 97 === 0
          ? `G1 X${x.toFixed(3)} Y${y.toFixed(3)} F${feed + (i % 5) * 10} ; corner`
          : `X${x.toFixed(3)} Y${y.toFixed(3)}`,
      );
    }
    lines.push('G0 Z5');
    const chunk = `${lines.join('\n')}\n`;
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
    pass++;
  }
  out.end('M5\nM2\n%\n');
  await once(out, 'finish');
  return statSync(file).size;
}

const gcodeVerification: Measurement = {
  name: 'gcode verification (rs274ngc)',
  async run(scratch) {
    const file = join(scratch, 'bench.ngc');
    const size = await writeProgram(file, PROGRAM_MB * MB);
    progress(`program of ${(size / MB).toFixed(1)} MB written`);
    const rates: number[] = [];
    const cpuRates: number[] = [];
    const mainRates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const cpu = process.cpuUsage();
      const main = mainThreadCpuSeconds();
      const t = process.hrtime.bigint();
      const verdict = await verifyProgram(createReadStream(file, { highWaterMark: 1 << 20 }), {
        dialect: 'rs274ngc',
        envelope: ENVELOPE,
      });
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      if (!verdict.accepted)
        throw new Error(`benchmark program rejected: line ${verdict.line}: ${verdict.reason}`);
      rates.push(size / MB / s);
      const used = process.cpuUsage(cpu);
      cpuRates.push(size / MB / ((used.user + used.system) / 1e6));
      mainRates.push(size / MB / (mainThreadCpuSeconds() - main));
      progress(`verify run ${i + 1}: ${(size / MB / s).toFixed(1)} MB/s (${verdict.lines} lines)`);
    }
    rates.sort((a, b) => a - b);
    cpuRates.sort((a, b) => a - b);
    mainRates.sort((a, b) => a - b);
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    let baseline = 0;
    let cpuBaseline = 0;
    const childrenBefore = childrenCpuSeconds();
    const t = process.hrtime.bigint();
    const r = spawnSync(RS274, ['-g', file], { stdio: ['ignore', 'ignore', 'ignore'], timeout: 600_000 });
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (r.status === 0) {
      baseline = size / MB / s;
      cpuBaseline = size / MB / (childrenCpuSeconds() - childrenBefore);
    }
    progress(
      r.status === 0
        ? `rs274: ${baseline.toFixed(1)} MB/s`
        : `rs274 unavailable or failed (status ${String(r.status)}): baseline 0`,
    );
    return [
      result('gcode_verify_rs274ngc_throughput', rates[1] ?? 0, 'MB/s', baseline),
      // Per CPU-second of one core (this process; rs274's from the kernel's children times): the figure a
      // loaded, shared machine distorts least.
      result('gcode_verify_rs274ngc_cpu_throughput', cpuRates[1] ?? 0, 'MB/cpu-s', cpuBaseline),
      // The same per CPU-second of the main thread alone (the process figure adds V8's GC helper threads).
      result('gcode_verify_rs274ngc_main_thread_throughput', mainRates[1] ?? 0, 'MB/cpu-s', cpuBaseline),
      // Baseline: the program's size; a ratio far below 1 shows memory does not grow with the program.
      result('gcode_verify_peak_rss', peakRssMiB, 'MiB', size / 2 ** 20),
    ];
  },
};

const JOB_PROGRAM_MB = Number(process.env['BENCH_AGENT_PROGRAM_MB'] ?? 10);
const JOBS = Number(process.env['BENCH_AGENT_JOBS'] ?? 20);
const BASE_PORT = Number(process.env['BENCH_BASE_PORT'] ?? 30100);
const JOB_TERMS = (identity: { make: string; model: string }): ProductionTerms => ({
  machines: { makes: [identity.make], models: [identity.model], serials: [], requiredCertifications: [] },
  envelope: [...ENVELOPE, { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 }],
  operators: { roles: ['am-operator'], qualifications: [] },
  workstations: [],
});
const STEPS: readonly JobStep[] = [
  'dsi',
  'license',
  'machine',
  'operator',
  'program',
  'start',
  'release',
  'decrypt',
  'run',
];

/** Runs the agent process and collects its job timelines and memory line. */
function runAgentProcess(
  settingsFile: string,
): Promise<{ jobs: JobTimeline[]; idleRssMiB: number; peakRssMiB: number }> {
  const script = join(__dirname, 'agent-machine.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, settingsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) {
        jobs.push(JSON.parse(l) as JobTimeline & { idleRssMiB?: number; peakRssMiB?: number });
        const last = jobs[jobs.length - 1];
        if (last && 'job' in last)
          progress(
            `job ${String((last as { job: number }).job + 1)}: first byte at ${last.firstByteMs?.toFixed(0) ?? '?'} ms, ${last.outcome.slice(0, 60)}`,
          );
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const jobs: (JobTimeline & { idleRssMiB?: number; peakRssMiB?: number })[] = [];
    child.once('error', reject);
    child.once('exit', (code) => {
      const memory = jobs.find((j) => j.peakRssMiB !== undefined);
      if (code !== 0 || !memory) {
        reject(new Error(`the agent process exited ${String(code)}: ${err.trim().slice(-2000)}`));
        return;
      }
      resolve({
        jobs: jobs.filter((j) => j.peakRssMiB === undefined),
        idleRssMiB: memory.idleRssMiB ?? 0,
        peakRssMiB: memory.peakRssMiB ?? 0,
      });
    });
  });
}

const jobLatency: Measurement = {
  name: `job request -> first program byte at the controller (${JOB_PROGRAM_MB} MB program, real network)`,
  async run(scratch) {
    const available = linuxCncAvailability();
    if (!available.ok) {
      progress(`skipped: no LinuxCNC controller (${available.reason})`);
      return [];
    }
    progress('controller: LinuxCNC (linuxcnc-uspace, its own namespaces, the program on its private tmpfs)');
    const network = FabricNetwork.open({
      stateDir: join(repoRoot(), '.threadseal', 'bench-agent'),
      basePort: BASE_PORT,
      log: (l) => {
        progress(l);
      },
    });
    const causal = new CausalGroup();
    const sessions = new LedgerSessions(network.connectionFile, { causal });
    let keyRelease: RunningKeyRelease | undefined;
    const onSignal = (): void => {
      void network.down().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await network.reset();
      await network.up();
      const started = await startOemKeyRelease(network, scratch, { causal });
      keyRelease = started.keyRelease;
      const { trustedRoot } = started;
      const store = join(scratch, 'store');
      const file = join(scratch, 'job.ngc');
      const size = await writeProgram(file, JOB_PROGRAM_MB * MB);
      const source = readFileSync(file);
      const declared = declareProgram(source, 'rs274ngc');
      if ('rejected' in declared) throw new Error(`benchmark program rejected: ${declared.rejected.reason}`);
      const signer = sessions.dsiSigner('oem', 'ip-admin');
      const staging = join(store, 'staging');
      const sealed = await protectToFile(
        {
          files: [{ name: 'job.ngc', source, process: declared.declaration }],
          signer: softwareSigner(signer.certificatePem, signer.privateKeyPem),
          recipients: [keyRelease.recipientPublicKey],
          title: 'Agent benchmark pocket',
          partNumber: 'BENCH-AGENT',
          revision: 'A',
          mspId: 'OemMSP',
        },
        staging,
      );
      const container = join(store, `${sealed.dsiId}.dsi`);
      renameSync(staging, container);
      progress(`sealed a ${(size / MB).toFixed(1)} MB program into ${container}`);
      const identity = { make: 'Haas', model: 'VF-2SS', serial: 'HAAS-BENCH-1', certifications: [] };
      const probe = await LinuxCncController.start({ identity });
      const facts = await probe.identify();
      await probe.close();
      const licenseId = 'L-BENCH-AGENT';
      const machineId = 'haas-bench-1';
      const oem = sessions.as('oem', 'ip-admin');
      await oem.dsi.register(await registrationOf(container));
      await oem.licenses.issue({
        licenseId,
        dsiId: sealed.dsiId,
        holderMsp: 'ManufacturerMSP',
        grant: grant(JOBS, { maySublicense: false }),
        confidential: false,
        terms: JOB_TERMS(identity),
      });
      const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const decryption = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = (k: typeof signing.publicKey): string =>
        k.export({ type: 'spki', format: 'pem' }).toString();
      await sessions.as('manufacturer', 'machine-admin').machines.register({
        machineId,
        make: facts.make,
        model: facts.model,
        serial: facts.serial,
        firmware: facts.firmware,
        certifications: [...facts.certifications],
        publicKeyPem: pem(signing.publicKey),
        recipientPublicKeyPem: pem(decryption.publicKey),
      });
      await sessions
        .as('manufacturer', 'license-admin')
        .licenses.allocate({ licenseId, machineId, quantity: JOBS, scrapAllowance: 0 });
      const settings: AgentMachineSettings = {
        profileFile: network.connectionFile,
        machineId,
        signingKeyPem: signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        decryptionKeyPem: decryption.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        identity,
        container,
        licenseId,
        program: 'job.ngc',
        trustedRoot,
        jobs: JOBS,
      };
      const settingsFile = join(scratch, 'agent.json');
      writeFileSync(settingsFile, JSON.stringify(settings), { mode: 0o600 });
      const agent = await runAgentProcess(settingsFile);
      const measured = agent.jobs.filter((j) => j.firstByteMs !== undefined);
      if (measured.length === 0)
        throw new Error(`no job reached the controller: ${agent.jobs[0]?.outcome ?? 'no job'}`);
      const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
      const firstByte = sorted(measured.map((j) => j.firstByteMs ?? 0));
      const stepMs = (j: JobTimeline, step: JobStep): number => {
        const i = STEPS.indexOf(step);
        const from = j.steps[step] ?? 0;
        const next = STEPS[i + 1];
        const to = next === undefined ? (j.firstByteMs ?? from) : (j.steps[next] ?? from);
        return to - from;
      };
      const commit = sorted(measured.map((j) => stepMs(j, 'start')));
      const p50 = percentile(firstByte, 50);
      const shares: BenchResult[] = [];
      for (const step of STEPS) {
        const ms = percentile(sorted(measured.map((j) => stepMs(j, step))), 50);
        progress(`  ${step.padEnd(9)} p50 ${ms.toFixed(1)} ms (${((ms / p50) * 100).toFixed(1)} %)`);
        // Baseline: the whole way in (p50), so the ratio is the step's share of it.
        shares.push(result(`agent_job_step_${step}_p50`, ms, 'ms', p50));
      }
      // The run step as the bridge splits it (the rest of it is the socket and the agent's side).
      const handOvers = measured.flatMap((j) => (j.handOver ? [j.handOver] : []));
      const receive = percentile(sorted(handOvers.map((h) => h.receiveMs)), 50);
      const start = percentile(sorted(handOvers.map((h) => h.startMs)), 50);
      progress(
        `    bridge: bytes into the tmpfs file p50 ${receive.toFixed(1)} ms, LinuxCNC open + run p50 ${start.toFixed(1)} ms`,
      );
      if (handOvers.length > 0)
        shares.push(
          result('agent_job_run_bridge_receive_p50', receive, 'ms', p50),
          result('agent_job_run_linuxcnc_start_p50', start, 'ms', p50),
        );
      progress(
        `${measured.length} of ${agent.jobs.length} jobs reached the controller; agent RSS idle ${agent.idleRssMiB.toFixed(0)} MiB, peak ${agent.peakRssMiB.toFixed(0)} MiB`,
      );
      return [
        // Baseline: StartBuild sign + submit → committed VALID of the same jobs.
        result('agent_job_first_byte_p50', p50, 'ms', percentile(commit, 50)),
        result('agent_job_first_byte_p99', percentile(firstByte, 99), 'ms', percentile(commit, 99)),
        ...shares,
        // Baseline: the same agent process idle (connected, controller up) before its first job.
        result('agent_peak_rss', agent.peakRssMiB, 'MiB', agent.idleRssMiB),
      ];
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await keyRelease?.stop().catch((err: unknown) => {
        progress(`key release: ${err instanceof Error ? err.message : String(err)}`);
      });
      sessions.closeAll();
      await network.down();
    }
  },
};

const MEASUREMENTS: readonly Measurement[] = [gcodeVerification, jobLatency];

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'threadseal-agent-bench-'));
  const results: BenchResult[] = [];
  try {
    const only = process.argv.indexOf('--only');
    const wanted = only >= 0 ? process.argv[only + 1] : undefined;
    for (const m of MEASUREMENTS) {
      if (wanted !== undefined && !m.name.startsWith(wanted === 'job' ? 'job' : 'gcode')) continue;
      progress(m.name);
      results.push(...(await m.run(scratch)));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  printResults(results);
}

main().catch((err: unknown) => {
  process.stderr.write(`agent bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
