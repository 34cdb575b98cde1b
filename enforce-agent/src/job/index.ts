export { runJob } from './run-job.js';
export { JobJournal, type JournalEntry, type Reconciled } from './job-journal.js';
export { reconcileJobs } from './reconcile.js';
export { preflight, JobRefusal, type Preflight } from './preflight.js';
export type {
  JobContext,
  JobLogEntry,
  JobProgress,
  JobReport,
  JobRequest,
  JobStep,
  MachineAgent,
} from './job-types.js';
