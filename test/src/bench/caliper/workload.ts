/**
 * What the Caliper workers and the orchestrator share: the setup data handed to every worker through a
 * JSON file, the per-transaction records each worker writes when its round ends, and a base class for the
 * workload modules. Caliper itself is not a dependency of this package (it lives in `.bench/caliper/`), so
 * the few parts of its worker interface we use are declared here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParameterValue } from '@threadseal/ledger-model';

/** A machine of the bench run: id and its StartBuild signing key (a test key, git-ignored run folder). */
export interface BenchMachine {
  readonly id: string;
  readonly privateKeyPem: string;
}

/** Written once by the orchestrator after the typed-client setup; read by every worker of every round. */
export interface CaliperSetup {
  readonly chaincode: string;
  /** Unique per run: keeps note keys and part ids fresh. */
  readonly run: string;
  readonly licenseId: string;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Machines for part registration; worker w uses those whose index ≡ w (mod workers). */
  readonly fleet: readonly BenchMachine[];
  /** The machine whose request the licence-check evaluate signs (nothing is consumed). */
  readonly checkMachine: BenchMachine;
  /** Caliper identity names (aliases in the network config). */
  readonly identities: { readonly writer: string; readonly operator: string };
  /** `operatorFingerprint` of the operator identity's certificate: what every StartBuild request names. */
  readonly operator: string;
}

/** The `workload.arguments` of every round. */
export interface RoundArguments {
  readonly setupFile: string;
  readonly recordsDir: string;
  readonly label: string;
}

/** One request as the workload measured it: wall-clock start (ms since epoch) and duration (ms). */
export interface TxRecord {
  readonly kind: 'note' | 'start' | 'complete' | 'check';
  readonly startedAt: number;
  readonly ms: number;
  readonly ok: boolean;
}

export function recordsFile(recordsDir: string, label: string, workerIndex: number): string {
  return join(recordsDir, `${label}-w${workerIndex}.json`);
}

/** The request object Caliper's fabric connector takes (`sendRequests`). */
export interface CaliperRequest {
  readonly contractId: string;
  readonly contractFunction: string;
  readonly contractArguments: readonly string[];
  readonly invokerIdentity: string;
  readonly readOnly: boolean;
}

/** The part of Caliper's TxStatus we read. */
export interface CaliperTxStatus {
  GetStatus(): string;
  GetResult(): unknown;
}

/** The part of Caliper's connector (the "SUT adapter") we use. */
export interface CaliperConnector {
  sendRequests(request: CaliperRequest): Promise<CaliperTxStatus>;
}

interface RoundState {
  readonly workerIndex: number;
  readonly totalWorkers: number;
  readonly args: RoundArguments;
  readonly setup: CaliperSetup;
  readonly connector: CaliperConnector;
}

/**
 * Caliper's workload module contract (`initializeWorkloadModule`, `submitTransaction`,
 * `cleanupWorkloadModule`), recording every request's time and outcome itself: Caliper reports only
 * min/avg/max latency, and its `launch` exits 0 even when every transaction fails.
 */
export abstract class RecordingWorkload {
  #round: RoundState | undefined;
  readonly #records: TxRecord[] = [];

  protected get round(): RoundState {
    if (!this.#round) throw new Error('workload module used before initializeWorkloadModule');
    return this.#round;
  }

  initializeWorkloadModule(
    workerIndex: number,
    totalWorkers: number,
    _roundIndex: number,
    roundArguments: RoundArguments,
    connector: CaliperConnector,
  ): Promise<void> {
    const setup = JSON.parse(readFileSync(roundArguments.setupFile, 'utf8')) as CaliperSetup;
    this.#round = { workerIndex, totalWorkers, args: roundArguments, setup, connector };
    this.prepare();
    return Promise.resolve();
  }

  /** Per-round preparation once the setup is loaded. */
  protected prepare(): void {
    // nothing by default
  }

  abstract submitTransaction(): Promise<void>;

  cleanupWorkloadModule(): Promise<void> {
    const { args, workerIndex } = this.round;
    mkdirSync(args.recordsDir, { recursive: true });
    writeFileSync(recordsFile(args.recordsDir, args.label, workerIndex), JSON.stringify(this.#records));
    return Promise.resolve();
  }

  /** Sends one request through Caliper's connector and records it; resolves to the status when it succeeded. */
  protected async send(
    kind: TxRecord['kind'],
    contractFunction: string,
    args: readonly string[],
    options: { identity: string; readOnly: boolean },
  ): Promise<CaliperTxStatus | undefined> {
    const { setup, connector } = this.round;
    const startedAt = Date.now();
    const t = process.hrtime.bigint();
    const status = await connector.sendRequests({
      contractId: setup.chaincode,
      contractFunction,
      contractArguments: args,
      invokerIdentity: options.identity,
      readOnly: options.readOnly,
    });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const ok = status.GetStatus() === 'success';
    this.#records.push({ kind, startedAt, ms, ok });
    return ok ? status : undefined;
  }
}
