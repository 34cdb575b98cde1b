/** Runs `caliper launch manager` as a child process group that can always be stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { CaliperInstall } from './install';

let running: ChildProcess | undefined;

/** Stops the Caliper manager and its workers if one is running (for signal handlers and failures). */
export function stopCaliper(): void {
  const pid = running?.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * `caliper launch manager` with the given configuration files, output to `logFile`. Resolves when it
 * exits 0; its exit status says nothing about the rounds' transactions — the caller checks those.
 */
export function launchCaliper(
  caliper: CaliperInstall,
  options: {
    workspace: string;
    networkConfig: string;
    benchConfig: string;
    logFile: string;
    timeoutMs: number;
  },
): Promise<void> {
  const out = openSync(options.logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      caliper.cli,
      'launch',
      'manager',
      '--caliper-workspace',
      options.workspace,
      '--caliper-networkconfig',
      options.networkConfig,
      '--caliper-benchconfig',
      options.benchConfig,
      '--caliper-flow-only-test',
      '--caliper-report-path',
      `${options.benchConfig}.report.html`,
    ],
    { cwd: caliper.dir, detached: true, stdio: ['ignore', out, out] },
  );
  running = child;
  const tail = (): string => readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n');
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stopCaliper();
      reject(
        new Error(`caliper launch did not finish within ${options.timeoutMs / 1000} s; log tail:\n${tail()}`),
      );
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      closeSync(out);
      running = undefined;
      if (code !== 0) {
        reject(
          new Error(
            `caliper launch exited with ${code ?? signal}; log (${options.logFile}) tail:\n${tail()}`,
          ),
        );
        return;
      }
      const failed = failedRounds(readFileSync(options.logFile, 'utf8'));
      if (failed === undefined) resolve();
      else reject(new Error(`caliper: ${failed} (log: ${options.logFile})`));
    });
  });
}

/**
 * What went wrong according to Caliper's own log, or undefined when every round ran to its end. Caliper
 * exits 0 even when a round was aborted (an error thrown in a workload module ends that worker's round).
 */
export function failedRounds(log: string): string | undefined {
  const text = log.replace(/\u001b\[[0-9;]*m/g, '');
  const summary = /Total rounds: (\d+)\. Successful rounds: (\d+)\. Failed rounds: (\d+)\./.exec(text);
  if (!summary) return 'no "Benchmark finished" summary in the log';
  const failures = text.split('\n').filter((l) => /Failed round \d+|Unexpected error in worker/.test(l));
  if (summary[3] === '0' && failures.length === 0) return undefined;
  return `${summary[3] ?? '?'} of ${summary[1] ?? '?'} rounds failed:\n${failures.join('\n')}`;
}
