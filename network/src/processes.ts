import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { NetworkError } from './errors';

/** A long-running node process the network tool started (CA, orderer, peer or chaincode server). */
export interface ProcessRecord {
  readonly name: string;
  readonly kind: 'ca' | 'orderer' | 'peer' | 'chaincode';
  readonly pid: number;
  readonly logFile: string;
  readonly startedAt: string;
}

/** Environment marker put on every process we start, so `down` finds them even without the pid file. */
export const STATE_DIR_MARKER = 'THREADSEAL_NETWORK_STATE_DIR';

const pidsFile = (stateDir: string): string => join(stateDir, 'pids.json');

/** The processes recorded for a state directory. */
export function readProcesses(stateDir: string): ProcessRecord[] {
  const file = pidsFile(stateDir);
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord[];
}

function writeProcesses(stateDir: string, records: readonly ProcessRecord[]): void {
  writeFileSync(pidsFile(stateDir), JSON.stringify(records, null, 2) + '\n');
}

/** True when a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

export interface StartOptions {
  readonly name: string;
  readonly kind: ProcessRecord['kind'];
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly logsDir: string;
  readonly stateDir: string;
}

/**
 * Starts a detached process in its own process group, its output appended to `<logsDir>/<name>.log`,
 * and records its pid before returning, so a crash of the caller never loses track of it.
 */
export function startProcess(options: StartOptions): ProcessRecord {
  mkdirSync(options.logsDir, { recursive: true });
  const logFile = join(options.logsDir, `${options.name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? '/tmp',
        ...options.env,
        [STATE_DIR_MARKER]: options.stateDir,
      },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) {
      throw new NetworkError('COMMAND_FAILED', `could not start ${options.name} (${options.command})`);
    }
    child.unref();
    const record: ProcessRecord = {
      name: options.name,
      kind: options.kind,
      pid: child.pid,
      logFile,
      startedAt: new Date().toISOString(),
    };
    const records = readProcesses(options.stateDir).filter((r) => r.name !== options.name);
    writeProcesses(options.stateDir, [...records, record]);
    return record;
  } finally {
    closeSync(fd);
  }
}

/** Pids of live processes carrying our state-directory marker (catches anything the pid file lost). */
export function findMarkedProcesses(stateDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(`${STATE_DIR_MARKER}=${stateDir}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found.filter((pid) => pid !== process.pid && isAlive(pid));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Stops the named recorded processes (all when `names` is omitted): SIGTERM to each process group,
 * SIGKILL for whatever is left after `graceMs`. Resolves once none of them is alive.
 */
export async function stopProcesses(
  stateDir: string,
  names?: readonly string[],
  graceMs = 8000,
): Promise<number> {
  const records = readProcesses(stateDir);
  const targets = records.filter((r) => !names || names.includes(r.name));
  const pids = new Set(targets.map((r) => r.pid));
  if (!names) for (const pid of findMarkedProcesses(stateDir)) pids.add(pid);
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while ([...pids].some(isAlive) && Date.now() < deadline) await delay(100);
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
  while ([...pids].some(isAlive)) await delay(50);
  writeProcesses(
    stateDir,
    records.filter((r) => !targets.includes(r)),
  );
  return pids.size;
}

/** The last `n` lines of a log file (for error reports). */
export function tailLog(file: string, n = 15): string {
  if (!existsSync(file)) return '(no log file)';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/** Peak resident set size (VmHWM) of a live process in KiB, or undefined. */
export function peakRssKiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion; throws a NetworkError carrying its output when it fails. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: Readonly<Record<string, string>>; cwd?: string; what: string; input?: string },
): string {
  const r = spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new NetworkError('COMMAND_FAILED', `${options.what}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stderr}\n${r.stdout}`.trim();
    const last = out
      .split('\n')
      .filter((l) => l.trim())
      .slice(-3)
      .join(' | ');
    throw new NetworkError('COMMAND_FAILED', `${options.what} failed: ${last}`, out);
  }
  return r.stdout;
}

/** Runs a command asynchronously (lets independent org steps overlap). */
export function runCommandAsync(
  command: string,
  args: readonly string[],
  options: { env?: Readonly<Record<string, string>>; cwd?: string; what: string },
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      reject(new NetworkError('COMMAND_FAILED', `${options.what}: ${err.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) {
        resolvePromise(stdout);
        return;
      }
      const out = `${stderr}\n${stdout}`.trim();
      const last = out
        .split('\n')
        .filter((l) => l.trim())
        .slice(-3)
        .join(' | ');
      reject(new NetworkError('COMMAND_FAILED', `${options.what} failed: ${last}`, out));
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
