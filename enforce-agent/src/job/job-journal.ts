import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { ThreadsealError } from '@threadseal/ledger-model';

/**
 * What the agent must not forget across a crash: the jobs that may have consumed a unit and not yet recorded
 * their end. `pending` is written before a StartBuild is submitted (its nonce finds the build after a crash);
 * `buildId` is added once it committed VALID; the entry goes when CompleteBuild or AbortBuild committed.
 * The ledger stays the truth: the journal only says which builds to look up, so an old copy restored from a
 * backup regains no unit — the units it lists are consumed on the ledger, and their nonces are used.
 */
export interface JournalEntry {
  readonly machineId: string;
  readonly licenseId: string;
  readonly partId: string;
  readonly program: string;
  readonly nonce: string;
  readonly buildId?: string;
  /**
   * Written before CompleteBuild is submitted (and again with its transaction id once it has one): the job ran
   * to completion, so a build still running after a crash or a lost commit status is completed with these,
   * never recorded as aborted.
   */
  readonly completion?: JournaledCompletion;
  readonly recordedAt: string;
}

/** What a CompleteBuild records, kept until it is known to have committed. */
export interface JournaledCompletion {
  readonly partId: string;
  readonly telemetryDigest: string;
  /** The CompleteBuild transaction's id, once it was made. */
  readonly transactionId?: string;
}

/** The agent's journal in one small file, rewritten atomically (write, fsync, rename) at each change. */
export class JobJournal {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  /** The open entries, oldest first. @throws ThreadsealError CORRUPT_STATE when the file is not a journal. */
  entries(): JournalEntry[] {
    if (!existsSync(this.#file)) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch (err) {
      throw new ThreadsealError('CORRUPT_STATE', `agent journal ${this.#file} is not JSON`, { cause: err });
    }
    if (!Array.isArray(parsed))
      throw new ThreadsealError('CORRUPT_STATE', `agent journal ${this.#file} is not a list`);
    return parsed as JournalEntry[];
  }

  /** Adds or replaces the entry of `nonce`. */
  record(entry: JournalEntry): void {
    this.#write([...this.entries().filter((e) => e.nonce !== entry.nonce), entry]);
  }

  /** Removes the entry of `nonce`. */
  remove(nonce: string): void {
    this.#write(this.entries().filter((e) => e.nonce !== nonce));
  }

  #write(entries: readonly JournalEntry[]): void {
    const temp = `${this.#file}.partial`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(entries));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.#file);
  }
}

/** What reconciling one journal entry found and did. */
export interface Reconciled {
  readonly nonce: string;
  readonly buildId?: string;
  /**
   * `aborted`: the build was still running on the ledger and is now recorded as aborted (its unit stays
   * consumed); `completed`: the job had completed and its CompleteBuild had not committed, now it has (with the
   * journaled part id and telemetry digest); `finished`: it had ended; `never-started`: no build used the nonce and the request has expired;
   * `unresolved`: no build yet, but the request may still commit (looked at again at the next reconcile).
   */
  readonly outcome: 'aborted' | 'completed' | 'finished' | 'never-started' | 'unresolved';
}
