import type { ParameterBound } from '@threadseal/ledger-model';
import { envelopeViolations } from '@threadseal/rules';
import type { Job, JobOutcome, StopReport, TelemetrySample } from '../controllers/controller.js';
import { TelemetryChain } from './telemetry-chain.js';

type NumericField = {
  [K in keyof TelemetrySample]-?: NonNullable<TelemetrySample[K]> extends number ? K : never;
}[keyof TelemetrySample];

/**
 * Which telemetry field measures which envelope parameter. Envelope parameters not named here (a material, a
 * layer height) cannot be watched while the job runs: the agent checks them before it asks for a unit.
 */
export const TELEMETRY_PARAMETERS: Readonly<Record<string, NumericField>> = {
  spindleSpeed: 'spindleRpm',
  feedRate: 'feedRateMmMin',
  feedOverride: 'feedOverridePct',
  spindleOverride: 'spindleOverridePct',
  nozzleTemperature: 'nozzleC',
  bedTemperature: 'bedC',
};

/** The first reading outside the envelope. */
export interface Excursion {
  readonly parameter: string;
  /** The bound, as the envelope check words it (`in [0, 120] %`). */
  readonly expected: string;
  readonly found: number;
  /** The line executing when it was read. */
  readonly line: number;
  /** When the controller was read, ms since the epoch. */
  readonly at: number;
}

/** What the monitor saw of one job. */
export interface MonitorReport {
  readonly outcome: JobOutcome;
  readonly excursion?: Excursion;
  readonly stop?: StopReport;
  /** From the controller reading that showed the excursion to the controller's confirmed stop, ms. */
  readonly excursionToStopMs?: number;
  /** The telemetry chain's final digest (hex) and how many samples it covers. */
  readonly telemetryDigest: string;
  readonly samples: number;
}

/** Options of {@link monitorJob}. */
export interface MonitorOptions {
  /** Telemetry field per envelope parameter; default {@link TELEMETRY_PARAMETERS}. */
  readonly parameters?: Readonly<Record<string, NumericField>>;
  /**
   * How long a reading below a range's minimum may last before it counts, ms (default 1500): a spindle
   * spinning up or a heater warming passes through low values; a value above a maximum counts at once, and
   * a value of 0 (spindle off, heater off) is never below a minimum.
   */
  readonly lowSettleMs?: number;
  /** Sees every sample after it is chained. */
  readonly onSample?: (sample: TelemetrySample) => void;
}

/**
 * Watches a running job against the licence's envelope: chains every sample, and on the first excursion
 * stops the job (waiting for the controller's confirmation) and reports it. Resolves when the job has ended.
 */
export async function monitorJob(
  job: Job,
  envelope: readonly ParameterBound[],
  options: MonitorOptions = {},
): Promise<MonitorReport> {
  const fields = options.parameters ?? TELEMETRY_PARAMETERS;
  const watched = envelope.filter((b) => Object.prototype.hasOwnProperty.call(fields, b.name));
  const lowSettleMs = options.lowSettleMs ?? 1500;
  const chain = new TelemetryChain(job.id);
  const lowSince = new Map<string, number>();
  let excursion: Excursion | undefined;
  let stopping: Promise<StopReport | undefined> | undefined;
  for await (const sample of job.telemetry) {
    chain.append(sample);
    options.onSample?.(sample);
    if (excursion !== undefined) continue;
    const values: Record<string, number> = {};
    for (const bound of watched) {
      const field = fields[bound.name];
      const value = field === undefined ? undefined : sample[field];
      if (typeof value === 'number') values[bound.name] = value;
    }
    const violations = envelopeViolations(
      watched.filter((b) => b.name in values),
      values,
    );
    for (const name of [...lowSince.keys()])
      if (!violations.some((v) => v.parameter === name)) lowSince.delete(name);
    for (const v of violations) {
      const found = values[v.parameter] ?? 0;
      const bound = watched.find((b) => b.name === v.parameter);
      if (bound?.kind === 'range' && found < bound.min) {
        if (found === 0) continue;
        const since = lowSince.get(v.parameter) ?? sample.at;
        lowSince.set(v.parameter, since);
        if (sample.at - since < lowSettleMs) continue;
      }
      excursion = { parameter: v.parameter, expected: v.expected, found, line: sample.line, at: sample.at };
      const reason = `${v.parameter} ${String(found)} outside ${v.expected} at line ${String(sample.line)}`;
      // A stop the controller cannot confirm still ends the job as the controller reports it.
      stopping = job.stop(reason).then(
        (report) => report,
        () => undefined,
      );
      break;
    }
  }
  const stop = await stopping;
  const outcome = await job.done;
  return {
    outcome,
    ...(excursion === undefined ? {} : { excursion }),
    ...(stop === undefined
      ? {}
      : { stop, excursionToStopMs: stop.confirmedAt - (excursion?.at ?? stop.requestedAt) }),
    telemetryDigest: chain.digest,
    samples: chain.length,
  };
}
