import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isatty, ReadStream, WriteStream } from 'node:tty';
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

/** Options of {@link MarlinController.open}. */
export interface MarlinOptions {
  /** How long one command may wait for its `ok`, ms (default 120 000: an M109 heats for minutes). */
  readonly okTimeoutMs?: number;
  /** How often the adapter asks for temperatures and overrides between program lines, ms (default 100). */
  readonly pollMs?: number;
  /** How often one line may be resent before the job fails (default 10). */
  readonly maxResends?: number;
  /** The serial line's speed for a real USB serial device (set with `stty`; a pty ignores it). */
  readonly baudRate?: 9600 | 19200 | 38400 | 57600 | 115200 | 230400 | 250000;
}

/** `N<n> <cmd>*<checksum>`: the checksum is the XOR of every byte before `*`. */
export function numberedLine(n: number, command: string): string {
  const body = `N${n} ${command}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return `${body}*${sum}`;
}

/** The commands of a G-code program with the 1-based source line each came from (comments and blanks dropped). */
export function programCommands(program: Buffer): { line: number; command: string }[] {
  return program
    .toString('latin1')
    .split(/\r?\n/)
    .map((text, i) => ({ line: i + 1, command: text.replace(/;.*$/, '').trim() }))
    .filter((c) => c.command !== '');
}

interface Waiter {
  readonly resolve: (lines: string[]) => void;
  readonly reject: (err: Error) => void;
  readonly collected: string[];
  resendFrom: number | undefined;
}

/**
 * The Marlin host protocol over a serial line (a USB serial device, or the simulator's pseudo-terminal):
 * every command numbered and checksummed, one in flight, its `ok` awaited, `Resend: N` honoured, `M105`
 * temperature reports and `M220`/`M221` override echoes parsed into telemetry, `M112` to stop.
 */
export class MarlinController implements Controller {
  readonly #in: ReadStream;
  readonly #out: WriteStream;
  readonly #options: Required<Omit<MarlinOptions, 'baudRate'>>;
  #buffer = '';
  #next = 1;
  #waiter: Waiter | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #halted: (() => void) | undefined;
  #job: { id: string; stream: TelemetryStream; stopping: boolean } | undefined;
  #closed = false;
  #state: {
    nozzleC?: number;
    nozzleTargetC?: number;
    bedC?: number;
    bedTargetC?: number;
    feed: number;
    flow: number;
    line: number;
  } = {
    feed: 100,
    flow: 100,
    line: 0,
  };
  /** Lines the printer asked to have resent, over the adapter's life. */
  resends = 0;

  private constructor(path: string, options: MarlinOptions) {
    let rfd: number;
    let wfd: number;
    try {
      rfd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
      wfd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
    } catch (err) {
      throw new ControllerError('CONTROLLER_UNAVAILABLE', `cannot open serial line ${path}: ${String(err)}`, {
        cause: err,
      });
    }
    if (!isatty(rfd)) {
      closeSync(rfd);
      closeSync(wfd);
      throw new ControllerError('CONTROLLER_UNAVAILABLE', `${path} is not a serial line (not a terminal)`);
    }
    this.#in = new ReadStream(rfd);
    this.#in.setRawMode(true); // no echo, no line editing: bytes as the printer sent them
    this.#out = new WriteStream(wfd);
    this.#options = {
      okTimeoutMs: options.okTimeoutMs ?? 120_000,
      pollMs: options.pollMs ?? 100,
      maxResends: options.maxResends ?? 10,
    };
    this.#in.setEncoding('latin1');
    this.#in.on('data', (chunk: string) => {
      this.#receive(chunk);
    });
  }

  /**
   * Opens the printer's serial line and resets its line numbering (`M110 N0`).
   * @throws ControllerError CONTROLLER_UNAVAILABLE when the line cannot be opened or the printer does not answer.
   */
  static async open(path: string, options: MarlinOptions = {}): Promise<MarlinController> {
    if (options.baudRate !== undefined) {
      const stty = spawnSync('stty', ['-F', path, String(options.baudRate)], { encoding: 'utf8' });
      if (stty.status !== 0)
        throw new ControllerError(
          'CONTROLLER_UNAVAILABLE',
          `cannot set ${path} to ${options.baudRate} baud: ${stty.stderr.trim()}`,
        );
    }
    const c = new MarlinController(path, options);
    try {
      await c.#send('M110 N0', 0);
      c.#next = 1;
    } catch (err) {
      await c.close();
      throw new ControllerError(
        'CONTROLLER_UNAVAILABLE',
        `the printer on ${path} does not answer: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    return c;
  }

  /** @inheritdoc */
  async identify(): Promise<MachineFacts> {
    const lines = await this.#command('M115');
    const report = lines.find((l) => l.includes('FIRMWARE_NAME:')) ?? '';
    const keys = [
      'FIRMWARE_NAME',
      'SOURCE_CODE_URL',
      'PROTOCOL_VERSION',
      'MACHINE_TYPE',
      'MACHINE_MAKE',
      'EXTRUDER_COUNT',
      'UUID',
      'CERTIFICATIONS',
    ];
    const field = (key: string): string => {
      const start = report.indexOf(`${key}:`);
      if (start < 0) return '';
      const from = start + key.length + 1;
      const ends = keys.map((k) => report.indexOf(` ${k}:`, from)).filter((i) => i >= 0);
      return report.slice(from, ends.length > 0 ? Math.min(...ends) : undefined).trim();
    };
    return {
      make: field('MACHINE_MAKE'),
      model: field('MACHINE_TYPE'),
      serial: field('UUID'),
      firmware: field('FIRMWARE_NAME'),
      certifications: field('CERTIFICATIONS')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
      controller: 'marlin',
    };
  }

  /** @inheritdoc */
  async run(program: Buffer, options: RunOptions): Promise<Job> {
    assertJobId(options.jobId);
    if (this.#job !== undefined)
      throw new ControllerError('CONTROLLER_BUSY', `job ${this.#job.id} is still running on this printer`);
    const commands = programCommands(program);
    const stream = new TelemetryStream();
    const job = { id: options.jobId, stream, stopping: false };
    this.#job = job;
    this.#state.line = 0;
    try {
      await this.#poll(); // the state the job starts from is its first sample
    } catch (err) {
      this.#job = undefined;
      throw err;
    }
    const done = this.#stream(job, commands);
    return {
      id: options.jobId,
      telemetry: stream,
      done,
      stop: (reason) => this.#stop(job, reason),
    };
  }

  async #stream(
    job: { id: string; stream: TelemetryStream; stopping: boolean },
    commands: { line: number; command: string }[],
  ): Promise<JobOutcome> {
    let outcome: JobOutcome;
    try {
      let polled = performance.now();
      for (const c of commands) {
        if (job.stopping) break;
        await this.#command(c.command);
        this.#state.line = c.line;
        if (performance.now() - polled >= this.#options.pollMs) {
          await this.#poll();
          polled = performance.now();
        }
      }
      if (!job.stopping) await this.#poll();
      outcome = job.stopping
        ? { status: 'stopped', lastLine: this.#state.line, reason: 'stopped' }
        : { status: 'completed', lastLine: this.#state.line };
    } catch (err) {
      outcome = job.stopping
        ? { status: 'stopped', lastLine: this.#state.line }
        : {
            status: 'failed',
            lastLine: this.#state.line,
            reason: err instanceof Error ? err.message : String(err),
          };
    }
    this.#job = undefined;
    job.stream.end();
    return outcome;
  }

  /** Asks for temperatures (M105) and the overrides (M220, M221); the replies become one sample. */
  async #poll(): Promise<void> {
    await this.#command('M105');
    await this.#command('M220');
    await this.#command('M221');
    this.#emit();
  }

  #emit(): void {
    const s = this.#state;
    const sample: TelemetrySample = {
      at: Date.now(),
      line: s.line,
      feedOverridePct: s.feed,
      spindleOverridePct: s.flow,
      ...(s.nozzleC === undefined ? {} : { nozzleC: s.nozzleC }),
      ...(s.nozzleTargetC === undefined ? {} : { nozzleTargetC: s.nozzleTargetC }),
      ...(s.bedC === undefined ? {} : { bedC: s.bedC }),
      ...(s.bedTargetC === undefined ? {} : { bedTargetC: s.bedTargetC }),
    };
    this.#job?.stream.push(sample);
  }

  async #stop(job: { id: string; stopping: boolean }, reason: string): Promise<StopReport> {
    if (this.#job !== job) throw new ControllerError('CONTROLLER_FAILED', `job ${job.id} is not running`);
    job.stopping = true;
    const requestedAt = Date.now();
    const t0 = performance.now();
    const halted = new Promise<void>((resolve) => (this.#halted = resolve));
    // M112 unnumbered and at once, past the line in flight: Marlin's emergency parser acts on it on arrival.
    this.#out.write('M112\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ControllerError('CONTROLLER_FAILED', 'the printer did not confirm M112 within 5 s'));
      }, 5000);
    });
    try {
      await Promise.race([halted, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const latencyMs = performance.now() - t0;
    // The command in flight will never get its ok from a halted printer.
    this.#waiter?.reject(new ControllerError('CONTROLLER_FAILED', 'printer halted'));
    this.#waiter = undefined;
    return { reason, requestedAt, confirmedAt: requestedAt + latencyMs, latencyMs, line: this.#state.line };
  }

  /** Sends one command numbered, one at a time; resolves with the lines before its `ok`. */
  #command(command: string): Promise<string[]> {
    const run = this.#lock.then(() => this.#send(command, this.#next++));
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #send(command: string, n: number): Promise<string[]> {
    if (this.#closed) throw new ControllerError('CONTROLLER_FAILED', 'the serial line is closed');
    const history = new Map<number, string>([[n, command]]);
    const line = n;
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#exchange(numberedLine(line, history.get(line) ?? command));
      if (reply.resendFrom === undefined) return reply.lines;
      this.resends++;
      if (attempt >= this.#options.maxResends)
        throw new ControllerError(
          'CONTROLLER_FAILED',
          `the printer asked for line ${reply.resendFrom} ${attempt + 1} times`,
        );
      if (reply.resendFrom !== line)
        throw new ControllerError(
          'CONTROLLER_FAILED',
          `the printer asked for line ${reply.resendFrom}, the adapter sent ${line}`,
        );
    }
  }

  #exchange(text: string): Promise<{ lines: string[]; resendFrom: number | undefined }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(
          new ControllerError(
            'CONTROLLER_FAILED',
            `no ok within ${this.#options.okTimeoutMs} ms for ${text}`,
          ),
        );
      }, this.#options.okTimeoutMs);
      const waiter: Waiter = {
        collected: [],
        resendFrom: undefined,
        resolve: (lines) => {
          clearTimeout(timer);
          resolve({ lines, resendFrom: waiter.resendFrom });
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiter = waiter;
      this.#out.write(`${text}\n`);
    });
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.search(/[\r\n]/)) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line !== '') this.#line(line);
    }
  }

  #line(line: string): void {
    if (/Printer halted|kill\(\) called/i.test(line)) {
      this.#halted?.();
      this.#halted = undefined;
      return;
    }
    const temps = /T:\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+).*?B:\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/.exec(line);
    if (temps !== null) {
      this.#state.nozzleC = Number(temps[1]);
      this.#state.nozzleTargetC = Number(temps[2]);
      this.#state.bedC = Number(temps[3]);
      this.#state.bedTargetC = Number(temps[4]);
      if (!line.startsWith('ok')) this.#emit(); // reports while M109/M190 wait
    }
    const fr = /FR:\s*(\d+)%/.exec(line);
    if (fr !== null) this.#state.feed = Number(fr[1]);
    const flow = /Flow:\s*(\d+)%/.exec(line);
    if (flow !== null) this.#state.flow = Number(flow[1]);
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const resend = /^(?:Resend|rs):?\s*N?(\d+)/i.exec(line);
    if (resend !== null) {
      waiter.resendFrom = Number(resend[1]);
      return;
    }
    if (line.startsWith('ok')) {
      this.#waiter = undefined;
      waiter.resolve(waiter.collected);
      return;
    }
    waiter.collected.push(line);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiter?.reject(new ControllerError('CONTROLLER_FAILED', 'the serial line was closed'));
    // Each tty stream closes its own fd when destroyed (closing them here too could close a reused fd).
    const closed = (s: ReadStream | WriteStream): Promise<void> =>
      new Promise((resolve) => {
        if (s.destroyed) resolve();
        else
          s.once('close', () => {
            resolve();
          }).destroy();
      });
    await Promise.all([closed(this.#in), closed(this.#out)]);
  }
}
