import type { ContainerSource, MessageSigner, RecipientKey } from '@threadseal/dsi-container';
import type { ThreadsealLedger } from '@threadseal/ledger-client';
import type { ErrorCode, ParameterValue } from '@threadseal/ledger-model';
import type { Controller } from '../controllers/controller.js';
import type { Excursion } from '../monitor/runtime-monitor.js';
import type { JobJournal } from './job-journal.js';

/** The machine as its agent holds it: its id, its two keys (PKCS#11 in production), its controller. */
export interface MachineAgent {
  readonly machineId: string;
  /** Signs StartBuild requests (the key registered as `publicKeyPem`). */
  readonly signer: MessageSigner;
  /** Opens the keys released to this machine's builds (the key registered as `recipientPublicKeyPem`). */
  readonly decryptionKey: RecipientKey;
  readonly controller: Controller;
  /** The G-code dialect the controller runs. */
  readonly dialect: 'rs274ngc' | 'fff' | 'sinumerik';
  /** Lines the controller runs before every program (e.g. LinuxCNC's startup code), for the verifier. */
  readonly preamble?: string;
}

/** One job: make one part from one program of a DSI under one license. */
export interface JobRequest {
  readonly container: ContainerSource;
  readonly licenseId: string;
  /** The program's name in the DSI's manifest. */
  readonly program: string;
  readonly partId: string;
  /**
   * Envelope values no program states, as the machine is set up for this job (e.g. `material`). Values of the
   * G-code vocabulary come from the program's signed declaration, never from here.
   */
  readonly setup?: Readonly<Record<string, ParameterValue>>;
}

/** Where the agent reaches the ledger: as the operator logged in at the machine, through its org's peer. */
export interface JobContext {
  readonly machine: MachineAgent;
  readonly operator: ThreadsealLedger;
  /** Roots the DSI's signer chain must reach (the IP owner's CA). */
  readonly trustedRoots: readonly (string | Buffer)[];
  /** How long to wait for the key release after StartBuild committed; default 30 s. */
  readonly releaseTimeoutMs?: number;
  /** One structured line per decision; by default JSON lines on stderr. */
  readonly log?: (entry: JobLogEntry) => void;
  /** Sees each step as it starts (a progress display). */
  readonly onProgress?: (progress: JobProgress) => void;
  /** Where jobs that may have consumed a unit are remembered across a crash (see {@link reconcileJobs}). */
  readonly journal?: JobJournal;
  /**
   * Cancels the job (the agent is shutting down): before StartBuild it is refused, nothing consumed; after it,
   * the program is not sent, or the running job is stopped, and the build recorded as aborted (`JOB_CANCELLED`).
   */
  readonly signal?: AbortSignal;
}

/** The steps of a job, in order. */
export type JobStep =
  'dsi' | 'license' | 'machine' | 'operator' | 'program' | 'start' | 'release' | 'decrypt' | 'run' | 'finish';

export interface JobProgress {
  readonly step: JobStep;
  /** While running: the line executing and the program's line count. */
  readonly line?: number;
  readonly lines?: number;
}

/** One structured log line; never any key or program content. */
export interface JobLogEntry {
  readonly at: string;
  readonly agent: 'enforce-agent';
  readonly machineId: string;
  readonly step: JobStep;
  readonly outcome: 'ok' | 'refused' | 'failed';
  readonly buildId?: string;
  readonly code?: ErrorCode;
  readonly detail?: string;
}

/** How a job ended. */
export type JobReport =
  /** Refused before StartBuild: no unit consumed, nothing sent to the controller. */
  | { readonly outcome: 'refused'; readonly step: JobStep; readonly code: ErrorCode; readonly reason: string }
  /** The part was made: CompleteBuild committed with the part id and the telemetry digest. */
  | {
      readonly outcome: 'completed';
      readonly buildId: string;
      readonly partId: string;
      readonly telemetryDigest: string;
      readonly samples: number;
      /** From the job request to the first program byte handed to the controller, ms. */
      readonly requestToFirstByteMs: number;
    }
  /** The unit was consumed but no part made: AbortBuild committed with the reason. */
  | {
      readonly outcome: 'aborted';
      readonly buildId: string;
      readonly step: JobStep;
      readonly code: ErrorCode;
      readonly reason: string;
      readonly excursion?: Excursion;
      readonly telemetryDigest?: string;
    };
