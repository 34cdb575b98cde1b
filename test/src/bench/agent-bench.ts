/**
 * `npm run bench -- agent`: what the machine agent spends on a job, as a list of measurements (job-latency
 * figures join it later). Today: G-code verification of a ≥ 100 MB RS274/NGC program on one core, streamed
 * in constant memory, against LinuxCNC's own interpreter `rs274` on the same file as the baseline.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyProgram } from '@threadseal/gcode';
import type { ParameterBound } from '@threadseal/ledger-model';
import { printResults, progress, result, type BenchResult } from './report';

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
    for (let i = 0; i < 3; i++) {
      const cpu = process.cpuUsage();
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
      progress(`verify run ${i + 1}: ${(size / MB / s).toFixed(1)} MB/s (${verdict.lines} lines)`);
    }
    rates.sort((a, b) => a - b);
    cpuRates.sort((a, b) => a - b);
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
      // Baseline: the program's size; a ratio far below 1 shows memory does not grow with the program.
      result('gcode_verify_peak_rss', peakRssMiB, 'MiB', size / 2 ** 20),
    ];
  },
};

const MEASUREMENTS: readonly Measurement[] = [gcodeVerification];

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'threadseal-agent-bench-'));
  const results: BenchResult[] = [];
  try {
    for (const m of MEASUREMENTS) {
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
