/**
 * The machine-side agent of threadseal: the job pipeline (`runJob`), its journal, the queue of the long-running
 * mode (`serveQueue`), and the controller layer (docs/controllers.md) — the
 * {@link Controller} port, a real LinuxCNC adapter, a Marlin serial adapter and the runtime monitor.
 */
export {
  ControllerError,
  type Controller,
  type Job,
  type JobOutcome,
  type MachineFacts,
  type RunOptions,
  type StopReport,
  type TelemetrySample,
} from './controllers/controller.js';
export {
  CONTROLLER_USER,
  LinuxCncController,
  cleanUpStaleInstances,
  linuxCncAvailability,
  type HandOver,
  type LinuxCncOptions,
} from './controllers/linuxcnc/linuxcnc-controller.js';
export { millIni, type MachineIdentity } from './controllers/linuxcnc/ini.js';
export {
  TELEMETRY_PARAMETERS,
  monitorJob,
  type Excursion,
  type MonitorOptions,
  type MonitorReport,
} from './monitor/runtime-monitor.js';
export { TelemetryChain, telemetryDigest } from './monitor/telemetry-chain.js';
export {
  MarlinController,
  numberedLine,
  programCommands,
  type MarlinOptions,
} from './controllers/marlin/marlin-controller.js';
export { MarlinPrinterSimulator, type PrinterSimulatorOptions } from './simulators/marlin-printer.js';
export {
  JobJournal,
  JobRefusal,
  reconcileJobs,
  type JournalEntry,
  type Reconciled,
  preflight,
  runJob,
  type JobContext,
  type JobLogEntry,
  type JobProgress,
  type JobReport,
  type JobRequest,
  type JobStep,
  type MachineAgent,
  type Preflight,
} from './job/index.js';
export {
  parseQueuedJob,
  serveQueue,
  type QueuedJob,
  type QueueFailure,
  type QueueResult,
  type ServeQueueOptions,
} from './queue/job-queue.js';
