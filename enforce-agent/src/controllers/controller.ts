import { ThreadsealError, type ControllerErrorCode } from '@threadseal/ledger-model';

/**
 * The port between the enforce agent and a machine controller (docs/controllers.md). The agent hands the
 * plaintext program over in memory only; every implementation says where it goes from there.
 */

/** What a machine says it is, read from the controller itself (never from the agent's own settings). */
export interface MachineFacts {
  readonly make: string;
  readonly model: string;
  readonly serial: string;
  /** The controller's firmware or software and version as it reports them, e.g. `LinuxCNC 2.9.0…`. */
  readonly firmware: string;
  readonly certifications: readonly string[];
  /** Which adapter spoke to it (`linuxcnc`, `marlin`). */
  readonly controller: string;
}

/**
 * One telemetry reading while a job runs. Units are in the names; a field a machine kind does not have is
 * absent (a mill has no nozzle, a printer no spindle).
 */
export interface TelemetrySample {
  /** When the controller was read, milliseconds since the epoch. */
  readonly at: number;
  /** The program line the machine is executing now (LinuxCNC `motion_line`, not what the interpreter read ahead). */
  readonly line: number;
  /** Actual spindle speed, rpm. */
  readonly spindleRpm?: number;
  /** Actual tool-path feed, mm/min (LinuxCNC `current_vel` × 60). */
  readonly feedRateMmMin?: number;
  /** Feed override, percent (100 = as programmed). */
  readonly feedOverridePct: number;
  /** Spindle override (LinuxCNC) or flow override (Marlin `M221`), percent. */
  readonly spindleOverridePct?: number;
  /** Nozzle (hotend) temperature, °C, and its target. */
  readonly nozzleC?: number;
  readonly nozzleTargetC?: number;
  /** Bed temperature, °C, and its target. */
  readonly bedC?: number;
  readonly bedTargetC?: number;
}

/** How a job ended. `lastLine` is the highest line the machine was seen executing. */
export interface JobOutcome {
  readonly status: 'completed' | 'stopped' | 'failed';
  readonly lastLine: number;
  /** Why it stopped or failed (the stop reason, the controller's error). */
  readonly reason?: string;
}

/** The controller's confirmation that a job stopped. */
export interface StopReport {
  readonly reason: string;
  /** When stop() was called and when the controller confirmed from its own status, ms since the epoch. */
  readonly requestedAt: number;
  readonly confirmedAt: number;
  /** confirmedAt − requestedAt as measured by the agent's monotonic clock, ms. */
  readonly latencyMs: number;
  /** The line executing when it stopped. */
  readonly line: number;
}

/** Options of {@link Controller.run}. */
export interface RunOptions {
  /** The job's id (letters and digits): names the job's program at the controller. */
  readonly jobId: string;
}

/** A running job. Its telemetry ends when the job does. */
export interface Job {
  readonly id: string;
  /** Samples in the order the controller produced them, at 10 Hz or more; one consumer. */
  readonly telemetry: AsyncIterable<TelemetrySample>;
  /**
   * Stops the job now and resolves once the controller's own status confirms it (motion stopped, spindle or
   * heaters off).
   * @throws ControllerError CONTROLLER_FAILED when the controller does not confirm.
   */
  stop(reason: string): Promise<StopReport>;
  /** Settles when the job has ended, never rejects: a controller that dies ends it as `failed`. */
  readonly done: Promise<JobOutcome>;
}

/** A machine controller: one job at a time. */
export interface Controller {
  /**
   * Asks the controller what machine it is.
   * @throws ControllerError CONTROLLER_FAILED when it does not answer.
   */
  identify(): Promise<MachineFacts>;
  /**
   * Starts a program. `program` is the plaintext: the adapter keeps it in memory or on a tmpfs only the
   * controller can read, and removes it when the job ends.
   * @throws ControllerError CONTROLLER_BUSY while another job runs, CONTROLLER_FAILED when refused.
   */
  run(program: Buffer, options: RunOptions): Promise<Job>;
  /** Stops any job, the controller and every process it started. Idempotent. */
  close(): Promise<void>;
}

/**
 * A job id names the job's program at the controller: 1 to 64 letters or digits.
 * @throws ThreadsealError INVALID_ARGUMENT
 */
export function assertJobId(jobId: string): void {
  if (!/^[A-Za-z0-9]{1,64}$/.test(jobId))
    throw new ThreadsealError(
      'INVALID_ARGUMENT',
      `job id ${JSON.stringify(jobId)} must be 1 to 64 letters or digits`,
    );
}

/** An error of a controller adapter. */
export class ControllerError extends ThreadsealError<ControllerErrorCode> {
  override readonly name = 'ControllerError';
}
