import { expect } from 'chai';
import type { ParameterBound } from '@threadseal/ledger-model';
import type { Job, JobOutcome, StopReport, TelemetrySample } from '../controllers/controller.js';
import { TelemetryStream } from '../controllers/telemetry-stream.js';
import { monitorJob } from './runtime-monitor.js';
import { TelemetryChain, telemetryDigest } from './telemetry-chain.js';

const ENVELOPE: ParameterBound[] = [
  { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
  { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 2000, max: 3000 },
  { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
];

/** A job fed from a fixed list of samples; stop() ends it the way a controller would. */
class ScriptedJob implements Job {
  readonly id = 'job42';
  readonly telemetry = new TelemetryStream();
  readonly stops: string[] = [];
  readonly done: Promise<JobOutcome>;
  #resolve!: (o: JobOutcome) => void;
  #samples: TelemetrySample[];

  constructor(samples: TelemetrySample[]) {
    this.#samples = samples;
    this.done = new Promise((r) => (this.#resolve = r));
  }

  start(): void {
    for (const s of this.#samples) this.telemetry.push(s);
    // The monitor reads what was pushed before this runs; a job it did not stop then completes.
    setImmediate(() => {
      if (this.stops.length > 0) return;
      this.telemetry.end();
      this.#resolve({ status: 'completed', lastLine: this.#samples.at(-1)?.line ?? 0 });
    });
  }

  stop(reason: string): Promise<StopReport> {
    this.stops.push(reason);
    this.telemetry.end();
    this.#resolve({ status: 'stopped', lastLine: 0, reason });
    return Promise.resolve({ reason, requestedAt: 1000, confirmedAt: 1040, latencyMs: 40, line: 7 });
  }
}

const sample = (at: number, line: number, spindleRpm: number, feedOverridePct = 100): TelemetrySample => ({
  at,
  line,
  spindleRpm,
  feedRateMmMin: 600,
  feedOverridePct,
  spindleOverridePct: 100,
});

async function monitored(samples: TelemetrySample[]) {
  const job = new ScriptedJob(samples);
  const report = monitorJob(job, ENVELOPE, { lowSettleMs: 500 });
  job.start();
  return { job, report: await report };
}

describe('monitorJob', () => {
  it('stops the job on the first reading above a maximum and reports parameter, bound, value, line and time', async () => {
    const { job, report } = await monitored([
      sample(0, 1, 2500),
      sample(100, 2, 2500, 100),
      sample(200, 3, 2500, 150),
      sample(300, 4, 3500, 150),
    ]);
    expect(job.stops).to.deep.equal(['feedOverride 150 outside in [50, 120] % at line 3']);
    expect(report.excursion).to.deep.equal({
      parameter: 'feedOverride',
      expected: 'in [50, 120] %',
      found: 150,
      line: 3,
      at: 200,
    });
    expect(report.outcome.status).to.equal('stopped');
    expect(report.excursionToStopMs).to.equal(840);
  });

  it('does not count a spindle at 0 or spinning up (below the minimum for less than the settle time)', async () => {
    const { job, report } = await monitored([
      sample(0, 1, 0),
      sample(100, 2, 900),
      sample(400, 2, 1900),
      sample(550, 3, 2400),
      sample(700, 4, 2400),
    ]);
    expect(job.stops).to.deep.equal([]);
    expect(report.excursion).to.equal(undefined);
    expect(report.outcome.status).to.equal('completed');
    expect(report.samples).to.equal(5);
  });

  it('counts a spindle held below the minimum past the settle time', async () => {
    const { job, report } = await monitored([sample(0, 1, 1500), sample(300, 2, 1500), sample(600, 3, 1500)]);
    expect(job.stops).to.deep.equal(['spindleSpeed 1500 outside in [2000, 3000] rpm at line 3']);
    expect(report.excursion?.at).to.equal(600);
  });

  it('ignores envelope parameters no telemetry measures (the material is checked before the job)', async () => {
    const { report } = await monitored([sample(0, 1, 2500)]);
    expect(report.excursion).to.equal(undefined);
  });

  it('chains every sample, including those after the excursion, into the digest anyone can recompute', async () => {
    const samples = [sample(0, 1, 2500), sample(100, 2, 2500)];
    const { report } = await monitored(samples);
    expect(report.telemetryDigest).to.equal(telemetryDigest('job42', samples));
    expect(report.telemetryDigest).to.match(/^[0-9a-f]{64}$/);
    const tampered = [samples[0] ?? sample(0, 0, 0), { ...sample(100, 2, 2500), feedOverridePct: 101 }];
    expect(telemetryDigest('job42', tampered)).to.not.equal(report.telemetryDigest);
    expect(telemetryDigest('job43', samples)).to.not.equal(report.telemetryDigest);
  });
});

describe('TelemetryChain', () => {
  it('is SHA-256(tag ‖ 0 ‖ jobId), then SHA-256(head ‖ canonical JSON of the sample) (a vector computed apart)', () => {
    const chain = new TelemetryChain('j');
    expect(chain.digest).to.equal('4a812d61bcc39ace305c58388e0eeb3a8f2a61470bfeb644b98de508f57533d2');
    chain.append({ line: 2, feedOverridePct: 100, at: 1 });
    expect(chain.digest).to.equal('001f9a07afe9d34f919a3f92560eeab4d927b6b60828c9ac135b85e2aa535b4d');
    expect(chain.length).to.equal(1);
  });
});
