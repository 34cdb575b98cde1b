import {
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  existsSync,
  fsyncSync,
  openSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isThreadsealError } from '@threadseal/ledger-model';
import type { JobReport } from '../job/job-types.js';

/** One job as it waits in the queue folder: `<id>.job.json`. */
export interface QueuedJob {
  /** The file's name without `.job.json`. */
  readonly id: string;
  /** The DSI container file. */
  readonly dsi: string;
  /** The program's name in the DSI's manifest. */
  readonly program: string;
  /** The licence whose allocation to this machine the job uses. */
  readonly license: string;
  /** The part id CompleteBuild records. */
  readonly part: string;
  /** The operator (an enrolled user of the machine's org) who runs the job. */
  readonly operator: string;
}

/** What the queue writes next to a job when it is done: `<id>.result.json`. */
export type QueueResult = (JobReport | QueueFailure) & { readonly job: string; readonly finishedAt: string };

/** A job that never reached `runJob` (`invalid`) or ended by an error it could not report (`failed`). */
export interface QueueFailure {
  readonly outcome: 'invalid' | 'failed';
  readonly code: string;
  readonly reason: string;
}

const JOB_FILE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.job\.json$/;
const TAKEN = '.job.taken';

/**
 * Reads a job file's content and names every missing or malformed field at once.
 * @returns the job, or the list of problems
 */
export function parseQueuedJob(id: string, text: string): QueuedJob | { readonly problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problems: [`not JSON: ${err instanceof Error ? err.message : String(err)}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problems: ['the job must be a JSON object'] };
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  const text_ = (key: keyof Omit<QueuedJob, 'id'>): string => {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0) {
      problems.push(`${key} is missing (a non-empty string)`);
      return '';
    }
    return v;
  };
  const job = {
    id,
    dsi: text_('dsi'),
    program: text_('program'),
    license: text_('license'),
    part: text_('part'),
    operator: text_('operator'),
  };
  return problems.length > 0 ? { problems } : job;
}

/** Options of {@link serveQueue}. */
export interface ServeQueueOptions {
  /** The queue folder, watched for `<id>.job.json` files (taken in name order, one at a time). */
  readonly dir: string;
  /** Runs one job; it ends early when `signal` aborts (see {@link JobContext.signal}). */
  readonly run: (job: QueuedJob, signal: AbortSignal) => Promise<JobReport>;
  /** Stops taking jobs; the job running is cancelled through the signal `run` was given. */
  readonly signal: AbortSignal;
  /** How often the folder is looked at when it has no job, ms (default 200). */
  readonly pollMs?: number;
  /** Sees each job taken and each result written. */
  readonly onEvent?: (event: {
    readonly job: string;
    readonly state: 'taken' | 'done';
    readonly outcome?: string;
  }) => void;
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode: 0o640 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * The agent's long-running mode: takes the jobs dropped in a folder one at a time, in name order. A job is
 * claimed by renaming it to `<id>.job.taken` (so it runs at most once, also across a restart) and its result
 * is written next to it as `<id>.result.json` (written whole, then renamed). A job file that does not parse
 * gets an `invalid` result naming every problem, and nothing is submitted. A job found taken but without a
 * result at start was interrupted by a crash: it gets a `failed` result (its build, if any, is settled by
 * `reconcileJobs` from the journal). Resolves once `signal` aborted and the job running has ended.
 */
export async function serveQueue(options: ServeQueueOptions): Promise<void> {
  const { dir, signal } = options;
  const pollMs = options.pollMs ?? 200;
  const resultFile = (id: string): string => join(dir, `${id}.result.json`);
  const finish = (id: string, result: JobReport | QueueFailure): void => {
    const full = { job: id, finishedAt: new Date().toISOString(), ...result };
    writeAtomically(resultFile(id), `${JSON.stringify(full, null, 2)}\n`);
    options.onEvent?.({ job: id, state: 'done', outcome: result.outcome });
  };
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(TAKEN)) continue;
    const id = name.slice(0, -TAKEN.length);
    if (!existsSync(resultFile(id)))
      finish(id, {
        outcome: 'failed',
        code: 'JOB_CANCELLED',
        reason:
          'the agent stopped during this job (crash or kill); its build, if any, was settled from the journal',
      });
  }
  while (!signal.aborted) {
    const next = readdirSync(dir)
      .map((name) => JOB_FILE.exec(name)?.[1])
      .filter((id): id is string => id !== undefined && !existsSync(resultFile(id)))
      .sort()[0];
    if (next === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
      continue;
    }
    const taken = join(dir, `${next}${TAKEN}`);
    try {
      renameSync(join(dir, `${next}.job.json`), taken);
    } catch {
      continue; // removed or taken meanwhile
    }
    options.onEvent?.({ job: next, state: 'taken' });
    const parsed = parseQueuedJob(next, readFileSync(taken, 'utf8'));
    if ('problems' in parsed) {
      finish(next, { outcome: 'invalid', code: 'INVALID_ARGUMENT', reason: parsed.problems.join('; ') });
      continue;
    }
    try {
      finish(next, await options.run(parsed, signal));
    } catch (err) {
      // The ledger unreachable, a controller that cannot start: the job is reported, the queue goes on.
      finish(next, {
        outcome: 'failed',
        code: isThreadsealError(err) ? err.code : 'INTERNAL',
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
