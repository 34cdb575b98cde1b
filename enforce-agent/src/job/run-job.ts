import { open, type OpenedDsi } from '@threadseal/dsi-container';
import { signStartBuildWith } from '@threadseal/ledger-client';
import { isThreadsealError, LedgerError, type ErrorCode } from '@threadseal/ledger-model';
import { monitorJob } from '../monitor/runtime-monitor.js';
import type { JobContext, JobLogEntry, JobReport, JobRequest, JobStep } from './job-types.js';
import { preflight, JobRefusal } from './preflight.js';
import type { JournaledCompletion } from './job-journal.js';
import { startDecryptedProgramCheck } from './program-check.js';
import { completeOnce } from './reconcile.js';

/** Closes a DSI opened ahead of its release once the job goes no further (nothing of it was decrypted). */
function discard(opening: Promise<OpenedDsi>): void {
  void opening.then(
    (opened) => opened.close(),
    () => undefined,
  );
}

const defaultLog = (entry: JobLogEntry): void => {
  process.stderr.write(`${JSON.stringify(entry)}\n`);
};

const codeOf = (err: unknown): ErrorCode => (isThreadsealError(err) ? err.code : 'INTERNAL');
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A refusal the job reports; anything else (the ledger unreachable, a bug) propagates. */
const isRefusal = (err: unknown): boolean =>
  err instanceof JobRefusal ||
  (err instanceof LedgerError && err.code !== 'CONNECTION_FAILED') ||
  (isThreadsealError(err) && err.name === 'DsiError');

/**
 * Runs one job at the machine, failing closed at every step (docs/enforce-agent.md): the checks before a unit
 * is asked for ({@link preflight}); StartBuild signed by the machine's key with the parameters of the program's
 * signed declaration, waited for until it commits VALID; the key release for that build; the program decrypted
 * in memory and verified again before a byte is sent; the job streamed to the controller and watched against
 * the envelope; CompleteBuild with the part id and the telemetry digest, or AbortBuild with the reason. Every
 * decision is a structured log line; the ledger records every state change.
 */
export async function runJob(ctx: JobContext, request: JobRequest): Promise<JobReport> {
  const requested = performance.now();
  const log = ctx.log ?? defaultLog;
  const machineId = ctx.machine.machineId;
  let step: JobStep = 'dsi';
  let buildId: string | undefined;
  const note = (outcome: JobLogEntry['outcome'], extra: Partial<JobLogEntry> = {}): void => {
    log({
      at: new Date().toISOString(),
      agent: 'enforce-agent',
      machineId,
      step,
      outcome,
      ...(buildId ? { buildId } : {}),
      ...extra,
    });
  };
  // A function, not a narrowed property: the signal may abort across every await below.
  const cancelled = (): boolean => ctx.signal?.aborted === true;
  const enter = (next: JobStep): void => {
    step = next;
    ctx.onProgress?.({ step });
    if (cancelled())
      throw new JobRefusal('JOB_CANCELLED', `the agent is stopping: the job is cancelled before ${next}`);
  };

  // Before StartBuild: a refusal consumes nothing and sends nothing.
  let checked;
  try {
    checked = await preflight(ctx, request, enter);
    note('ok', { detail: `declared ${JSON.stringify(checked.parameters)}` });
    enter('start');
  } catch (err) {
    if (!isRefusal(err)) throw err;
    note('refused', { code: codeOf(err), detail: messageOf(err) });
    return { outcome: 'refused', step, code: codeOf(err), reason: messageOf(err) };
  }

  const signed = await signStartBuildWith(
    // Signed for the operator logged in at the machine; the chaincode refuses it from anyone else.
    {
      licenseId: request.licenseId,
      machineId,
      operator: ctx.operator.client.operator,
      parameters: checked.parameters,
    },
    (message) => ctx.machine.signer.sign(message),
  );
  const journaled = {
    machineId,
    licenseId: request.licenseId,
    partId: request.partId,
    program: request.program,
    nonce: signed.request.nonce,
  };
  // Before the request leaves: after a crash its nonce finds the build, if it committed.
  ctx.journal?.record({ ...journaled, recordedAt: new Date().toISOString() });
  let startBlock: bigint;
  try {
    const leaf = checked.chain[checked.chain.length - 1];
    // Under a confidential license the request travels in the transient map with the leaf's terms.
    const committed = await ctx.operator.builds.start(
      signed,
      leaf ? { license: leaf.license, ...(leaf.terms ? { licenseTerms: leaf.terms } : {}) } : {},
    );
    buildId = committed.value.buildId;
    startBlock = committed.blockNumber;
    ctx.journal?.record({ ...journaled, buildId, recordedAt: new Date().toISOString() });
    note('ok', { detail: `StartBuild VALID in block ${committed.blockNumber}` });
  } catch (err) {
    if (!isRefusal(err)) throw err;
    // Refused by the ledger: nothing was consumed, the nonce is spent or expires.
    ctx.journal?.remove(journaled.nonce);
    note('refused', { code: codeOf(err), detail: messageOf(err) });
    return { outcome: 'refused', step, code: codeOf(err), reason: messageOf(err) };
  }

  // From here a unit is consumed: every failure ends as an AbortBuild with its reason.
  const abort = async (
    err: unknown,
    extra: Partial<Extract<JobReport, { outcome: 'aborted' }>> = {},
  ): Promise<JobReport> => {
    const code = codeOf(err);
    const reason = `${step}: ${messageOf(err)}`;
    note(isRefusal(err) ? 'refused' : 'failed', { code, detail: messageOf(err) });
    await ctx.operator.builds.abort({ buildId: buildId, reason: reason.slice(0, 1024) });
    ctx.journal?.remove(journaled.nonce);
    return { outcome: 'aborted', buildId: buildId, step, code, reason, ...extra };
  };
  let program: Buffer | undefined;
  let completionJournaled = false;
  try {
    enter('release');
    const timeoutMs = ctx.releaseTimeoutMs ?? 30_000;
    // Follows the ledger's events from the build's block: the release is read as soon as it commits.
    const releaseWait = ctx.operator.releases.waitFor(buildId, timeoutMs, {
      afterBlock: startBlock,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    // Meanwhile the container is verified again (signature, every digest) for opening: only unwrapping the
    // keys waits for the release, and nothing is decrypted if none comes.
    const released = releaseWait.then((r) => r ?? Promise.reject(new Error('no key release')));
    const opening = open(request.container, ctx.machine.decryptionKey, {
      trustedRoots: ctx.trustedRoots,
      expectedSigner: { mspId: checked.dsi.ownerMsp },
      release: released,
    });
    // Both are settled below through `releaseWait` and `opening` (or made moot by the wait's outcome).
    released.catch(() => undefined);
    opening.catch(() => undefined);
    const release = await releaseWait.catch((err: unknown) => {
      discard(opening);
      throw err;
    });
    if (cancelled() || !release) discard(opening);
    if (cancelled())
      throw new JobRefusal(
        'JOB_CANCELLED',
        `the agent is stopping: the job is cancelled while waiting for the key release of build ${buildId}`,
      );
    if (!release)
      throw new JobRefusal(
        'KEY_NOT_RELEASED',
        `no key release for build ${buildId} within ${timeoutMs / 1000} s`,
      );
    note('ok');
    enter('decrypt');
    const opened = await opening;
    let verdict;
    try {
      const file = opened.files.find((f) => f.name === request.program);
      if (!file) throw new JobRefusal('INVALID_ARGUMENT', `DSI has no file ${request.program}`);
      // Each decrypted piece is copied into the one buffer the controller will get and verified there, while
      // the container's workers decrypt the next ones: the bytes verified are the bytes sent.
      const check = startDecryptedProgramCheck(
        request.program,
        ctx.machine,
        checked.envelope,
        checked.program.process,
      );
      program = Buffer.alloc(file.size);
      let filled = 0;
      for await (const chunk of file.stream()) {
        const part = chunk as Buffer;
        if (filled + part.length > program.length) {
          part.fill(0);
          throw new JobRefusal('PROGRAM_MISMATCH', `${request.program} is longer than its signed size`);
        }
        part.copy(program, filled);
        part.fill(0);
        check.write(program.subarray(filled, filled + part.length));
        filled += part.length;
      }
      if (filled !== program.length)
        throw new JobRefusal(
          'PROGRAM_MISMATCH',
          `${request.program} has ${filled} bytes, its signed size is ${program.length}`,
        );
      verdict = check.end();
    } finally {
      await opened.close();
    }
    note('ok', { detail: `${verdict.lines} lines verified in memory` });

    enter('run');
    const job = await ctx.machine.controller.run(program, {
      jobId: buildId.replace(/[^A-Za-z0-9]/g, '').slice(0, 32),
    });
    const firstByteMs = performance.now() - requested;
    // The adapter holds its own copy (a private tmpfs file); ours goes now.
    program.fill(0);
    const cancel = (): void => {
      void job.stop('the agent is stopping').catch(() => undefined);
    };
    ctx.signal?.addEventListener('abort', cancel, { once: true });
    // A cancellation that came while the program was being handed over.
    if (cancelled()) cancel();
    let report;
    try {
      report = await monitorJob(job, checked.envelope, {
        onSample: (sample) => ctx.onProgress?.({ step: 'run', line: sample.line, lines: verdict.lines }),
      });
    } finally {
      ctx.signal?.removeEventListener('abort', cancel);
    }
    step = 'finish';
    ctx.onProgress?.({ step });
    if (report.excursion) {
      const e = report.excursion;
      return await abort(
        new JobRefusal(
          'PARAMETER_OUT_OF_ENVELOPE',
          `${e.parameter} ${e.found} outside ${e.expected} at line ${e.line}; stopped`,
        ),
        { excursion: e, telemetryDigest: report.telemetryDigest },
      );
    }
    if (cancelled() && report.outcome.status !== 'completed')
      return await abort(
        new JobRefusal(
          'JOB_CANCELLED',
          `the agent is stopping: the job was stopped at line ${report.outcome.lastLine}`,
        ),
        { telemetryDigest: report.telemetryDigest },
      );
    if (report.outcome.status !== 'completed')
      return await abort(
        new JobRefusal(
          'CONTROLLER_FAILED',
          `the job ended ${report.outcome.status}: ${report.outcome.reason ?? 'no reason given'}`,
        ),
        { telemetryDigest: report.telemetryDigest },
      );
    // The job completed: from here it is never recorded as aborted. The journal says so before the
    // transaction leaves, and knows its id, so a lost commit status is resolved by that id.
    let completion: JournaledCompletion = { partId: request.partId, telemetryDigest: report.telemetryDigest };
    const completing = { ...journaled, buildId, recordedAt: new Date().toISOString() };
    ctx.journal?.record({ ...completing, completion });
    completionJournaled = true;
    try {
      await ctx.operator.builds.complete(
        { buildId, partId: request.partId, processRecordDigest: report.telemetryDigest },
        {
          onTransactionId: (transactionId) => {
            completion = { ...completion, transactionId };
            ctx.journal?.record({ ...completing, completion });
          },
        },
      );
    } catch (err) {
      if (isRefusal(err)) throw err;
      // Commit status unknown: look the transaction up by its id (and complete anew only if it did not commit).
      note('failed', {
        code: codeOf(err),
        detail: `CompleteBuild status lost: ${messageOf(err)}; resolving`,
      });
      await completeOnce(ctx.operator, buildId, completion);
    }
    ctx.journal?.remove(journaled.nonce);
    note('ok', { detail: `part ${request.partId}, telemetry digest ${report.telemetryDigest}` });
    return {
      outcome: 'completed',
      buildId,
      partId: request.partId,
      telemetryDigest: report.telemetryDigest,
      samples: report.samples,
      requestToFirstByteMs: firstByteMs,
    };
  } catch (err) {
    if (isThreadsealError(err) && err.code === 'CONNECTION_FAILED') throw err;
    // A completed job whose CompleteBuild could not be settled now: the journal keeps it, and the next
    // reconcile completes it — it is never recorded as aborted.
    if (completionJournaled && !isRefusal(err)) throw err;
    return await abort(err);
  } finally {
    program?.fill(0);
  }
}
