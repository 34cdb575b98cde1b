import type { ThreadsealLedger } from '@threadseal/ledger-client';
import { isThreadsealError, LedgerError } from '@threadseal/ledger-model';
import { REQUEST_FRESHNESS_MS } from '@threadseal/rules';
import type { JobJournal, JournaledCompletion, Reconciled } from './job-journal.js';

const isNotFound = (err: unknown): boolean => err instanceof LedgerError && err.code === 'NOT_FOUND';

/**
 * Records the CompleteBuild of a job that completed, once: first the journaled transaction, looked up by its
 * id (it may have committed after the agent lost its status), then — if it did not commit VALID and the
 * build is still running — a new CompleteBuild with the same part id and telemetry digest.
 * @throws LedgerError when the ledger refuses the new CompleteBuild (the build ended otherwise meanwhile).
 */
export async function completeOnce(
  operator: ThreadsealLedger,
  buildId: string,
  completion: JournaledCompletion,
): Promise<'committed-before' | 'committed-now'> {
  if (completion.transactionId !== undefined) {
    const record = await transactionRecordOf(operator, completion.transactionId);
    if (record === 'VALID') return 'committed-before';
  }
  const completed = async (): Promise<boolean> => {
    const build = await operator.builds.get(buildId);
    return build.status === 'completed' && build.partId === completion.partId;
  };
  if (await completed()) return 'committed-before';
  try {
    await operator.builds.complete({
      buildId,
      partId: completion.partId,
      processRecordDigest: completion.telemetryDigest,
    });
  } catch (err) {
    // The first one was still on its way and committed first: this one lost to it.
    if (await completed()) return 'committed-before';
    throw err;
  }
  return 'committed-now';
}

/** The validation code of a transaction on this peer's ledger, or `absent` when it has no such transaction. */
async function transactionRecordOf(operator: ThreadsealLedger, transactionId: string): Promise<string> {
  try {
    return (await operator.client.connection.transactionRecord(transactionId)).validationCode;
  } catch (err) {
    // qscc answers an unknown id with an error of its own, not a chaincode code.
    if (isThreadsealError(err) && err.code === 'LEDGER_UNAVAILABLE') return 'absent';
    throw err;
  }
}

/**
 * After a restart: settles every journal entry of `machineId` against the ledger. A build still running whose
 * job had completed (its CompleteBuild journaled) is completed ({@link completeOnce}); any other build still
 * running was interrupted with the agent (its controller dies with it), so it is recorded as aborted — its
 * outcome is unknown and its unit stays consumed, never reused. Run it before taking the next job.
 */
export async function reconcileJobs(
  operator: ThreadsealLedger,
  journal: JobJournal,
  machineId: string,
  now: () => number = Date.now,
): Promise<Reconciled[]> {
  const results: Reconciled[] = [];
  for (const entry of journal.entries().filter((e) => e.machineId === machineId)) {
    let build;
    try {
      build = entry.buildId
        ? await operator.builds.get(entry.buildId)
        : await operator.builds.byNonce(machineId, entry.nonce);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const expired = now() - Date.parse(entry.recordedAt) > REQUEST_FRESHNESS_MS;
      if (expired) journal.remove(entry.nonce);
      results.push({ nonce: entry.nonce, outcome: expired ? 'never-started' : 'unresolved' });
      continue;
    }
    if (build.status === 'running' && entry.completion !== undefined) {
      // The job completed at the machine; only its CompleteBuild's commit was lost (or never sent).
      await completeOnce(operator, build.buildId, entry.completion);
      journal.remove(entry.nonce);
      results.push({ nonce: entry.nonce, buildId: build.buildId, outcome: 'completed' });
    } else if (build.status === 'running') {
      await operator.builds.abort({
        buildId: build.buildId,
        reason: `agent restarted: the job for part ${entry.partId} was interrupted and its outcome is unknown; the unit stays consumed`,
      });
      journal.remove(entry.nonce);
      results.push({ nonce: entry.nonce, buildId: build.buildId, outcome: 'aborted' });
    } else {
      journal.remove(entry.nonce);
      results.push({ nonce: entry.nonce, buildId: build.buildId, outcome: 'finished' });
    }
  }
  return results;
}
