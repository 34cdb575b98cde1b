/**
 * `npm run bench -- controller`: on a real LinuxCNC 2.9 sim mill (private namespaces), an operator turns the
 * feed override to 150 % mid-job RUNS times; the runtime monitor sees the excursion and stops the job.
 * Measures excursion reading → confirmed stop (target ≤ 100 ms p50: the baseline, ratio ≤ 1 meets it),
 * stop request → confirmed stop against the bridge's request round trip measured in the same run
 * (identify), the telemetry rate (target ≥ 10 Hz) and the time to a ready controller.
 * Lives here, not in test/, because the tools layer may not import an app (scripts/import-boundaries.mjs).
 */
import { performance } from 'node:perf_hooks';
import { linuxCncAvailability, LinuxCncController } from '../controllers/linuxcnc/linuxcnc-controller.js';
import { monitorJob } from '../monitor/runtime-monitor.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 10);
const ENVELOPE = [{ name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 } as const];
const PROGRAM = Buffer.from('G21 G90\nS2000 M3\nG1 X200 F600\nG1 X0\nM5\nM2\n');

interface Result {
  metric: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
const result = (metric: string, value: number, unit: string, baseline: number): Result => ({
  metric,
  value: round(value),
  unit,
  baseline: round(baseline),
  ratio: baseline === 0 ? 0 : round(value / baseline),
});
const p50 = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(s.length / 2) - 1)] ?? NaN;
};
const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

async function main(): Promise<void> {
  const available = linuxCncAvailability();
  if (!available.ok) {
    process.stderr.write(`bench controller: ${available.reason}\n`);
    process.exit(1);
  }
  const t0 = performance.now();
  const cnc = await LinuxCncController.start({
    identity: { make: 'Haas', model: 'VF-2', serial: 'BENCH-1', certifications: [] },
  });
  const startMs = performance.now() - t0;
  try {
    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await cnc.identify();
      roundTrips.push(performance.now() - t);
    }
    const excursionToStop: number[] = [];
    const stopLatency: number[] = [];
    const rates: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const job = await cnc.run(PROGRAM, { jobId: `bench${run}` });
      let turned = false;
      const ats: number[] = [];
      const report = await monitorJob(job, ENVELOPE, {
        onSample: (s) => {
          ats.push(s.at);
          if (!turned && s.line >= 3) {
            turned = true;
            void cnc.operatorSets('feedOverride', 150);
          }
        },
      });
      if (
        report.outcome.status !== 'stopped' ||
        report.stop === undefined ||
        report.excursionToStopMs === undefined
      )
        throw new Error(`run ${run}: the excursion did not stop the job (${JSON.stringify(report.outcome)})`);
      excursionToStop.push(report.excursionToStopMs);
      stopLatency.push(report.stop.latencyMs);
      const span = ((ats.at(-1) ?? 0) - (ats[0] ?? 0)) / 1000;
      if (span > 0) rates.push((ats.length - 1) / span);
      progress(
        `run ${run}: excursion → stopped ${report.excursionToStopMs.toFixed(1)} ms (stop call ${report.stop.latencyMs.toFixed(1)} ms), ${report.samples} samples`,
      );
    }
    const results = [
      result('controller_excursion_to_stopped_p50', p50(excursionToStop), 'ms', 100),
      result('controller_excursion_to_stopped_max', Math.max(...excursionToStop), 'ms', 100),
      result('controller_stop_request_to_confirmed_p50', p50(stopLatency), 'ms', p50(roundTrips)),
      result('controller_telemetry_rate_p50', p50(rates), 'Hz', 10),
      result('controller_linuxcnc_start_to_ready', startMs / 1000, 's', 60),
    ];
    for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  } finally {
    await cnc.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench controller: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
