import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  assertJobId,
  ControllerError,
  type Controller,
  type Job,
  type JobOutcome,
  type MachineFacts,
  type RunOptions,
  type StopReport,
  type TelemetrySample,
} from '../controller.js';
import { TelemetryStream } from '../telemetry-stream.js';
import { BridgeClient, type BridgeEvent } from './bridge-client.js';
import { millIni, TOOL_TABLE, type MachineIdentity } from './ini.js';
import { namespaceCommand } from './namespace.js';

/** The unprivileged user LinuxCNC runs as (`rtapi_app` refuses root); scripts/bootstrap.mjs creates it. */
export const CONTROLLER_USER = 'threadseal-cnc';

/** Where the host side of each instance lives: a tmpfs, so even its configuration never reaches a disk. */
const HOST_ROOT = '/dev/shm';
const HOST_PREFIX = 'threadseal-linuxcnc-';
const BRIDGE_SOURCE = join(__dirname, '..', '..', '..', 'python', 'threadseal_linuxcnc_bridge.py');

/** Options of {@link LinuxCncController.start}. */
export interface LinuxCncOptions {
  /** The identity configured into the controller (and reported back by it through `identify()`). */
  readonly identity: MachineIdentity;
  /** The unprivileged user to run LinuxCNC as; default {@link CONTROLLER_USER}. */
  readonly user?: string;
  /** How long LinuxCNC may take to get ready; default 60 s. */
  readonly startTimeoutMs?: number;
  /** Receives LinuxCNC's own output, line by line (it is kept in memory otherwise: the last 200 lines). */
  readonly onLog?: (line: string) => void;
}

/** Whether LinuxCNC can be run here, and if not, why (tests skip with this reason). */
export function linuxCncAvailability(user = CONTROLLER_USER): { ok: true } | { ok: false; reason: string } {
  if (!existsSync('/usr/bin/linuxcnc'))
    return { ok: false, reason: 'LinuxCNC is not installed (Debian linuxcnc-uspace)' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'making namespaces for LinuxCNC needs root' };
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip'))
    return { ok: false, reason: 'no ip (Debian iproute2) to bring up loopback in its network namespace' };
  if (spawnSync('id', ['-u', user]).status !== 0)
    return { ok: false, reason: `no user ${user} to run LinuxCNC as (scripts/bootstrap.mjs creates it)` };
  if (spawnSync('/usr/bin/python3', ['-c', 'import linuxcnc']).status !== 0)
    return { ok: false, reason: "/usr/bin/python3 has no 'linuxcnc' module" };
  return { ok: true };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes what an earlier agent that was killed left on the host side: host dirs whose instance is gone
 * (its owner pid dead), killing an instance whose agent died (its `unshare` orphaned to init). Returns the
 * dirs removed.
 */
export function cleanUpStaleInstances(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(HOST_ROOT)) {
    if (!name.startsWith(HOST_PREFIX)) continue;
    const dir = join(HOST_ROOT, name);
    let pid = 0;
    try {
      pid = Number(readFileSync(join(dir, 'unshare.pid'), 'utf8'));
    } catch {
      // No pid yet: another agent may be staging it right now; only an old one is abandoned.
      if (Date.now() - statSync(dir).mtimeMs < 5 * 60_000) continue;
    }
    if (pid > 0 && processAlive(pid)) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? '0');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid !== 1 || !cmdline.includes(dir)) continue; // a live agent's instance
      process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** The bridge's own timing of one hand-over. */
export interface HandOver {
  readonly bytes: number;
  /** From the request's line to the last program byte written into the tmpfs file, ms. */
  readonly receiveMs: number;
  /** From there to LinuxCNC having opened the file and taken AUTO_RUN, ms. */
  readonly startMs: number;
}

interface ActiveJob {
  readonly id: string;
  readonly stream: TelemetryStream;
  readonly resolveDone: (outcome: JobOutcome) => void;
  stopReason: string | undefined;
  lastLine: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * A real LinuxCNC 2.9 simulated mill, run headless by this agent in private namespaces as an unprivileged
 * user, spoken to through the threadseal bridge (docs/controllers.md). The program reaches LinuxCNC as raw bytes
 * over a Unix socket and lives, while its job runs, in a mode-0400 file on the namespace's private tmpfs.
 */
export class LinuxCncController implements Controller {
  readonly #child: ChildProcess;
  readonly #hostDir: string;
  readonly #user: string;
  readonly #log: string[];
  #bridge: BridgeClient | undefined;
  #job: ActiveJob | undefined;
  #closing: Promise<void> | undefined;
  #lastHandOver: HandOver | undefined;
  #exited: Promise<void>;
  readonly #nsPid: number;

  private constructor(child: ChildProcess, hostDir: string, user: string, log: string[], nsPid: number) {
    this.#child = child;
    this.#hostDir = hostDir;
    this.#user = user;
    this.#log = log;
    this.#nsPid = nsPid;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else
        child.once('exit', () => {
          resolve();
        });
    });
  }

  /** The host pid of PID 1 of the instance's namespaces (tests look inside with it). */
  get namespacePid(): number {
    return this.#nsPid;
  }

  /** The pid of the `unshare` process the agent started. */
  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The bridge's socket on the host (in a root-only dir; the bridge accepts one connection, the agent's). */
  get bridgeSocket(): string {
    return join(this.#hostDir, 'run', 'bridge.sock');
  }

  /** How the last program was handed over, as the bridge timed it (for benchmarks). */
  get lastHandOver(): HandOver | undefined {
    return this.#lastHandOver;
  }

  /** The last lines LinuxCNC printed. */
  get log(): readonly string[] {
    return this.#log;
  }

  /**
   * Starts LinuxCNC in new namespaces and resolves once the bridge is connected and the machine is on.
   * @throws ControllerError CONTROLLER_UNAVAILABLE when LinuxCNC is missing, exits or does not get ready.
   * @throws ThreadsealError INVALID_ARGUMENT when the identity would not fit the INI.
   */
  static async start(options: LinuxCncOptions): Promise<LinuxCncController> {
    const user = options.user ?? CONTROLLER_USER;
    const available = linuxCncAvailability(user);
    if (!available.ok) throw new ControllerError('CONTROLLER_UNAVAILABLE', available.reason);
    const ini = millIni(options.identity);
    cleanUpStaleInstances();
    const hostDir = mkdtempSync(join(HOST_ROOT, HOST_PREFIX));
    const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
    try {
      chmodSync(hostDir, 0o700);
      mkdirSync(join(hostDir, 'stage'), { mode: 0o700 });
      mkdirSync(join(hostDir, 'run'), { mode: 0o700 });
      chownSync(join(hostDir, 'run'), uid, gid);
      writeFileSync(join(hostDir, 'stage', 'threadseal.ini'), ini, { mode: 0o600 });
      writeFileSync(join(hostDir, 'stage', 'sim.tbl'), TOOL_TABLE, { mode: 0o600 });
      writeFileSync(join(hostDir, 'stage', 'sim.var'), '', { mode: 0o600 });
      copyFileSync(BRIDGE_SOURCE, join(hostDir, 'stage', 'threadseal_linuxcnc_bridge.py'));
    } catch (err) {
      rmSync(hostDir, { recursive: true, force: true });
      throw new ControllerError(
        'CONTROLLER_UNAVAILABLE',
        `cannot stage the LinuxCNC configuration: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const [cmd, ...args] = namespaceCommand(hostDir, user);
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) writeFileSync(join(hostDir, 'unshare.pid'), String(child.pid));
    const killGroup = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
    };
    // Backstop for an agent that exits without close(): the group dies with it (pdeathsig covers SIGKILL).
    process.once('exit', killGroup);
    const log: string[] = [];
    let onReady: ((socketPath: string) => void) | undefined;
    const lineReader = (stream: NodeJS.ReadableStream): void => {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          log.push(line);
          if (log.length > 200) log.shift();
          options.onLog?.(line);
          if (line.startsWith('THREADSEAL-BRIDGE-READY ')) onReady?.(join(hostDir, 'run', 'bridge.sock'));
        }
      });
    };
    lineReader(child.stdout as NodeJS.ReadableStream);
    lineReader(child.stderr as NodeJS.ReadableStream);
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      const socketPath = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new ControllerError(
              'CONTROLLER_UNAVAILABLE',
              `LinuxCNC was not ready within ${timeoutMs} ms: ${log.slice(-5).join(' | ')}`,
            ),
          );
        }, timeoutMs);
        onReady = (path) => {
          clearTimeout(timer);
          resolve(path);
        };
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(
            new ControllerError(
              'CONTROLLER_UNAVAILABLE',
              `LinuxCNC exited (${signal ?? String(code)}) before it was ready: ${log.slice(-5).join(' | ')}`,
            ),
          );
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(
            new ControllerError('CONTROLLER_UNAVAILABLE', `cannot start LinuxCNC: ${err.message}`, {
              cause: err,
            }),
          );
        });
      });
      const nsPid = Number(
        readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0],
      );
      const controller = new LinuxCncController(child, hostDir, user, log, nsPid);
      controller.#bridge = await BridgeClient.connect(
        socketPath,
        (e) => {
          controller.#onEvent(e);
        },
        (err) => {
          controller.#onBridgeClosed(err);
        },
      );
      child.once('exit', () => {
        process.off('exit', killGroup);
      });
      return controller;
    } catch (err) {
      killGroup();
      rmSync(hostDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** @inheritdoc */
  async identify(): Promise<MachineFacts> {
    const r = await this.#connected().request('identify');
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    return {
      make: str(r.make),
      model: str(r.model),
      serial: str(r.serial),
      firmware: str(r.firmware),
      certifications: Array.isArray(r.certifications) ? r.certifications.map(String) : [],
      controller: 'linuxcnc',
    };
  }

  /** @inheritdoc */
  async run(program: Buffer, options: RunOptions): Promise<Job> {
    assertJobId(options.jobId);
    if (this.#job !== undefined)
      throw new ControllerError('CONTROLLER_BUSY', `job ${this.#job.id} is still running on this LinuxCNC`);
    const bridge = this.#connected();
    const stream = new TelemetryStream();
    let resolveDone!: (o: JobOutcome) => void;
    const done = new Promise<JobOutcome>((resolve) => (resolveDone = resolve));
    const job: ActiveJob = { id: options.jobId, stream, resolveDone, stopReason: undefined, lastLine: 0 };
    this.#job = job;
    try {
      // The bytes themselves, straight after the request's line: the bridge writes them into the job's tmpfs
      // file as they arrive (no base64 string, no JSON of the program).
      const r = await bridge.requestWithPayload('run', { jobId: options.jobId }, program);
      this.#lastHandOver = { bytes: num(r.bytes), receiveMs: num(r.receiveMs), startMs: num(r.startMs) };
    } catch (err) {
      this.#job = undefined;
      throw err;
    }
    return {
      id: options.jobId,
      telemetry: stream,
      done,
      stop: (reason) => this.#stop(job, reason),
    };
  }

  async #stop(job: ActiveJob, reason: string): Promise<StopReport> {
    if (this.#job !== job) throw new ControllerError('CONTROLLER_FAILED', `job ${job.id} is not running`);
    job.stopReason = reason;
    const requestedAt = Date.now();
    const t0 = performance.now();
    const r = await this.#connected().request('stop', {});
    const latencyMs = performance.now() - t0;
    return { reason, requestedAt, confirmedAt: requestedAt + latencyMs, latencyMs, line: num(r.line) };
  }

  /**
   * What an operator at the machine's panel can do, done as an operator would: by a separate process in the
   * controller's namespaces (its own `linuxcnc.command()`), not through the agent's bridge. For tests and
   * benchmarks that play the operator who turns a knob.
   */
  async operatorSets(knob: 'feedOverride' | 'spindleOverride', percent: number): Promise<void> {
    const call = knob === 'feedOverride' ? 'feedrate' : 'spindleoverride';
    const child = spawn(
      'nsenter',
      [
        `--target=${this.#nsPid}`,
        '--mount',
        '--ipc',
        '--net',
        '--pid',
        '--',
        'setpriv',
        `--reuid=${this.#user}`,
        `--regid=${this.#user}`,
        '--init-groups',
        '--',
        '/usr/bin/python3',
        '-c',
        `import linuxcnc, sys\nlinuxcnc.command().${call}(float(sys.argv[1]))`,
        String(percent / 100),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      child.once('close', resolve);
    });
    if (code !== 0) throw new ControllerError('CONTROLLER_FAILED', `operator command failed: ${stderr}`);
  }

  /** @inheritdoc */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const bridge = this.#bridge;
    const job = this.#job;
    if (job !== undefined && bridge !== undefined)
      await this.#stop(job, 'controller closed').catch(() => undefined);
    if (bridge !== undefined) {
      const graceful = bridge.request('shutdown').catch(() => undefined);
      const timeout = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
      await Promise.race([graceful.then(() => this.#exited), timeout]);
      bridge.close();
    }
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined)
      try {
        process.kill(-this.#child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    await this.#exited;
    // PID 1 of the namespace dies with unshare (pdeathsig); the kernel then kills the rest of the namespace.
    const deadline = Date.now() + 10_000;
    while (processAlive(this.#nsPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    rmSync(this.#hostDir, { recursive: true, force: true });
  }

  #connected(): BridgeClient {
    if (this.#bridge === undefined || this.#closing !== undefined)
      throw new ControllerError('CONTROLLER_FAILED', 'this LinuxCNC controller is closed');
    return this.#bridge;
  }

  #onEvent(e: BridgeEvent): void {
    const job = this.#job;
    if (job === undefined) return;
    if (e.event === 'telemetry') {
      const sample: TelemetrySample = {
        at: num(e.at),
        line: num(e.line),
        spindleRpm: num(e.spindleRpm),
        feedRateMmMin: num(e.feedRateMmMin),
        feedOverridePct: num(e.feedOverridePct),
        spindleOverridePct: num(e.spindleOverridePct),
      };
      if (sample.line > job.lastLine) job.lastLine = sample.line;
      job.stream.push(sample);
    } else if (e.event === 'done') {
      this.#job = undefined;
      job.stream.end();
      const bridgeOutcome = typeof e.outcome === 'string' ? e.outcome : 'failed';
      const status =
        bridgeOutcome === 'completed' ? 'completed' : bridgeOutcome === 'stopped' ? 'stopped' : 'failed';
      const error = typeof e.error === 'string' ? e.error : undefined;
      const reason = status === 'stopped' ? job.stopReason : error;
      job.resolveDone({
        status,
        lastLine: Math.max(job.lastLine, num(e.lastLine)),
        ...(reason === undefined ? {} : { reason }),
      });
    }
  }

  #onBridgeClosed(err: Error): void {
    const job = this.#job;
    if (job === undefined) return;
    this.#job = undefined;
    job.stream.end();
    job.resolveDone({ status: 'failed', lastLine: job.lastLine, reason: err.message });
  }
}
