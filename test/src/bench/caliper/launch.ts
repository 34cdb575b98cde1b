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
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `caliper launch exited with ${code ?? signal}; log (${options.logFile}) tail:\n${tail()}`,
          ),
        );
    });
  });
}
