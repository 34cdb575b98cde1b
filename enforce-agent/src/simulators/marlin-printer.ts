import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { ControllerError } from '../controllers/controller.js';

const RELAY = join(__dirname, '..', '..', 'python', 'threadseal_pty_relay.py');

/** What the simulated printer says it is (M115); it never claims to be a real printer. */
export interface PrinterSimulatorOptions {
  readonly model?: string;
  readonly serial?: string;
  readonly make?: string;
  readonly certifications?: readonly string[];
  /** Milliseconds one move takes (default 10): the simulator acknowledges a move when it is "done". */
  readonly moveMs?: number;
  /** Heater model tick, ms (default 50), and the fraction of the gap to the target closed per tick. */
  readonly tickMs?: number;
  readonly heatRate?: number;
}

const AMBIENT_C = 25;

/**
 * A Marlin-speaking FFF printer simulator of threadseal's own, on a pseudo-terminal (made by a tiny python3
 * `pty` relay, python/threadseal_pty_relay.py). It speaks the host protocol Marlin 2 speaks — `N` line
 * numbers and `*` checksums checked, `ok` per command, `Error:`/`Resend:` on a bad line, `M105` reports
 * `T:… /… B:… /…`, `M104/M109/M140/M190` heaters that approach their targets, `M220`/`M221` overrides
 * echoed as `FR:`/`Flow:`, `M112` halts — and says in `M115` that it is a simulator. It can inject checksum
 * errors and heater runaways on demand.
 */
export class MarlinPrinterSimulator {
  readonly #relay: ChildProcessWithoutNullStreams;
  readonly #options: Required<Omit<PrinterSimulatorOptions, 'certifications'>> & {
    certifications: readonly string[];
  };
  readonly path: string;
  #buffer = '';
  #lastLine = 0;
  #corruptNext = 0;
  #halted = false;
  #nozzle = AMBIENT_C;
  #nozzleTarget = 0;
  #bed = AMBIENT_C;
  #bedTarget = 0;
  #runawayC: number | undefined;
  #feedPct = 100;
  #flowPct = 100;
  #queue: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;
  /** Every command line the printer accepted, in order (what a real printer would have executed). */
  readonly accepted: string[] = [];
  /** How many lines it asked to be resent. */
  resends = 0;

  private constructor(relay: ChildProcessWithoutNullStreams, path: string, options: PrinterSimulatorOptions) {
    this.#relay = relay;
    this.path = path;
    this.#options = {
      model: options.model ?? 'threadseal FFF simulator',
      serial: options.serial ?? 'SIM-0001',
      make: options.make ?? 'threadseal',
      certifications: options.certifications ?? [],
      moveMs: options.moveMs ?? 10,
      tickMs: options.tickMs ?? 50,
      heatRate: options.heatRate ?? 0.25,
    };
    relay.stdout.setEncoding('latin1');
    relay.stdout.on('data', (chunk: string) => {
      this.#receive(chunk);
    });
    this.#timer = setInterval(() => {
      this.#tick();
    }, this.#options.tickMs);
    this.#write('start\necho:threadseal printer simulator ready\n');
  }

  /**
   * Starts the simulator and resolves once its terminal exists.
   * @throws ControllerError CONTROLLER_UNAVAILABLE when no pseudo-terminal can be made (no /usr/bin/python3).
   */
  static start(options: PrinterSimulatorOptions = {}): Promise<MarlinPrinterSimulator> {
    return new Promise((resolve, reject) => {
      const relay = spawn('/usr/bin/python3', [RELAY], { stdio: ['pipe', 'pipe', 'pipe'] });
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        const nl = head.indexOf('\n');
        if (nl < 0) return;
        relay.stdout.off('data', onData);
        const first = head.slice(0, nl);
        if (!first.startsWith('PTY /')) {
          relay.kill('SIGKILL');
          reject(new ControllerError('CONTROLLER_UNAVAILABLE', `pty relay said ${JSON.stringify(first)}`));
          return;
        }
        const sim = new MarlinPrinterSimulator(relay, first.slice(4), options);
        if (head.length > nl + 1) sim.#receive(head.slice(nl + 1));
        resolve(sim);
      };
      relay.stdout.on('data', onData);
      relay.once('error', (err) => {
        reject(
          new ControllerError('CONTROLLER_UNAVAILABLE', `cannot make a pty: ${err.message}`, { cause: err }),
        );
      });
      relay.once('exit', (code) => {
        reject(new ControllerError('CONTROLLER_UNAVAILABLE', `the pty relay exited (${String(code)})`));
      });
    });
  }

  /** The next `count` lines that arrive are treated as garbled on the wire (their checksum fails). */
  corruptNextLines(count: number): void {
    this.#corruptNext += count;
  }

  /** The nozzle heater runs away to `celsius` whatever its target (a failed thermistor or stuck SSR). */
  runaway(celsius: number): void {
    this.#runawayC = celsius;
  }

  /** What an operator at the printer's LCD does: turns the feed rate knob (M220 reports it afterwards). */
  operatorSetsFeed(percent: number): void {
    this.#feedPct = percent;
  }

  /** Whether M112 halted it. */
  get halted(): boolean {
    return this.#halted;
  }

  get temperatures(): { nozzle: number; nozzleTarget: number; bed: number; bedTarget: number } {
    return {
      nozzle: this.#nozzle,
      nozzleTarget: this.#nozzleTarget,
      bed: this.#bed,
      bedTarget: this.#bedTarget,
    };
  }

  /** Stops the simulator and its terminal. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#relay.exitCode !== null || this.#relay.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      this.#relay.once('exit', () => {
        resolve();
      }),
    );
    this.#relay.stdin.end();
    this.#relay.kill('SIGTERM');
    await exited;
  }

  #write(text: string): void {
    if (this.#relay.stdin.writable) this.#relay.stdin.write(text, 'latin1');
  }

  #tick(): void {
    const k = this.#options.heatRate;
    const nozzleGoal = this.#runawayC ?? (this.#nozzleTarget > 0 ? this.#nozzleTarget : AMBIENT_C);
    this.#nozzle += (nozzleGoal - this.#nozzle) * (this.#runawayC === undefined ? k : 0.9);
    const bedGoal = this.#bedTarget > 0 ? this.#bedTarget : AMBIENT_C;
    this.#bed += (bedGoal - this.#bed) * k;
  }

  #report(): string {
    const f = (n: number): string => n.toFixed(2);
    return `T:${f(this.#nozzle)} /${f(this.#nozzleTarget)} B:${f(this.#bed)} /${f(this.#bedTarget)} @:0 B@:0`;
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let nl: number;
    while ((nl = this.#buffer.search(/[\r\n]/)) >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === '') continue;
      // M112 is acted on as it arrives (Marlin's emergency parser), not queued behind moves.
      if (/(^|\s)M112(\s|\*|$)/.test(line.replace(/^N\d+\s+/, ''))) {
        this.#halt();
        continue;
      }
      this.#queue = this.#queue.then(() => this.#line(line));
    }
  }

  #halt(): void {
    this.#halted = true;
    this.#nozzleTarget = 0;
    this.#bedTarget = 0;
    this.#runawayC = undefined;
    this.#write('Error:Printer halted. kill() called!\n');
  }

  async #line(raw: string): Promise<void> {
    if (this.#halted) return; // a killed Marlin answers nothing until reset
    let line = raw;
    const numbered = /^N(\d+)\s*(.*)$/.exec(line);
    if (numbered !== null) {
      const n = Number(numbered[1]);
      const star = line.lastIndexOf('*');
      if (star < 0) {
        this.#resend('No Checksum with line number');
        return;
      }
      let sum = 0;
      for (let i = 0; i < star; i++) sum ^= line.charCodeAt(i);
      const garbled = this.#corruptNext > 0;
      if (garbled) this.#corruptNext--;
      if (garbled || sum !== Number(line.slice(star + 1))) {
        this.#resend('checksum mismatch');
        return;
      }
      const body = line.slice(0, star).replace(/^N\d+\s*/, '');
      if (/^M110\b/.test(body)) {
        this.#lastLine = Number(/N(\d+)/.exec(body)?.[1] ?? n);
        this.#write('ok\n');
        return;
      }
      if (n !== this.#lastLine + 1) {
        this.#resend('Line Number is not Last Line Number+1');
        return;
      }
      this.#lastLine = n;
      line = body;
    }
    await this.#command(line.replace(/;.*$/, '').trim());
  }

  #resend(why: string): void {
    this.resends++;
    this.#write(`Error:${why}, Last Line: ${this.#lastLine}\nResend: ${this.#lastLine + 1}\nok\n`);
  }

  async #command(cmd: string): Promise<void> {
    this.accepted.push(cmd);
    const word = /^([GMT]\d+)/.exec(cmd.toUpperCase())?.[1] ?? '';
    const param = (letter: string): number | undefined => {
      const m = new RegExp(`${letter}(-?[\\d.]+)`, 'i').exec(cmd.slice(word.length));
      return m === null ? undefined : Number(m[1]);
    };
    const o = this.#options;
    switch (word) {
      case 'M115':
        this.#write(
          `FIRMWARE_NAME:threadseal-printer-simulator 0.1 (a simulator, not a printer; Marlin host protocol) ` +
            `SOURCE_CODE_URL:threadseal/enforce-agent PROTOCOL_VERSION:1.0 MACHINE_TYPE:${o.model} ` +
            `MACHINE_MAKE:${o.make} EXTRUDER_COUNT:1 UUID:${o.serial} CERTIFICATIONS:${o.certifications.join(',')}\n` +
            'Cap:AUTOREPORT_TEMP:1\nCap:EMERGENCY_PARSER:1\nok\n',
        );
        return;
      case 'M105':
        this.#write(`ok ${this.#report()}\n`);
        return;
      case 'M104':
      case 'M109':
        this.#nozzleTarget = param('S') ?? 0;
        if (word === 'M109') await this.#waitFor(() => Math.abs(this.#nozzle - this.#nozzleTarget) < 1);
        break;
      case 'M140':
      case 'M190':
        this.#bedTarget = param('S') ?? 0;
        if (word === 'M190') await this.#waitFor(() => Math.abs(this.#bed - this.#bedTarget) < 1);
        break;
      case 'M220': {
        const s = param('S');
        if (s === undefined) this.#write(`FR:${this.#feedPct}%\n`);
        else this.#feedPct = s;
        break;
      }
      case 'M221': {
        const s = param('S');
        if (s === undefined) this.#write(`echo:E0 Flow: ${this.#flowPct}%\n`);
        else this.#flowPct = s;
        break;
      }
      case 'G0':
      case 'G1':
      case 'G2':
      case 'G3':
      case 'G28':
        await new Promise((r) => setTimeout(r, o.moveMs));
        break;
      default:
        break;
    }
    if (!this.#halted) this.#write('ok\n');
  }

  /** M109/M190: Marlin reports temperatures about once a second while it waits; this one every tick. */
  async #waitFor(reached: () => boolean): Promise<void> {
    while (!reached() && !this.#halted) {
      this.#write(` ${this.#report()} W:?\n`);
      await new Promise((r) => setTimeout(r, this.#options.tickMs));
    }
  }
}
