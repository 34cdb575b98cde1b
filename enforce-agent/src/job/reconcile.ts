import type { ThreadsealLedger } from '@threadseal/ledger-client';
import { LedgerError } from '@threadseal/ledger-model';
import { REQUEST_FRESHNESS_MS } from '@threadseal/rules';
import type { JobJournal, Reconciled } from './job-journal.js';

const isNotFound = (err: unknown): boolean => err instanceof LedgerError && err.code === 'NOT_FOUND';

/**
 * After a restart: settles every journal entry of `machineId` against the ledger. A build still running was
 * interrupted with the agent (its controller dies with it), so it is recorded as aborted — its outcome is
 * unknown and its unit stays consumed, never reused. Run it before taking the next job.
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
    if (build.status === 'running') {
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
