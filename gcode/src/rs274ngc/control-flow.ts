import { GcodeRejection, reject } from '../verdict/verdict.js';
import { Undetermined, type Value } from './expression.js';
import type { ParameterStore } from './parameter-store.js';

/** The head of an o-word line: `o100 while [...]` → label `100`, keyword `while`, arguments after `rest`. */
export interface OWordHead {
  readonly label: string;
  readonly keyword: string;
  readonly rest: number;
}

/** What the control flow needs from the line interpreter. */
export interface LineRunner {
  /** Runs a line without o-word; false once the program has ended. */
  plain(bytes: Uint8Array, start: number, end: number, line: number): boolean;
  /** The o-word head of a line, or undefined for a plain line. */
  head(bytes: Uint8Array, start: number, end: number): OWordHead | undefined;
  /** The bracketed arguments after an o-word head, evaluated now. */
  args(bytes: Uint8Array, from: number, end: number): Value[];
  readonly parameters: ParameterStore;
  /** A subroutine call begins (a new level for M70–M73). */
  enterCall(): void;
  /** A subroutine call returns (M73 restores here). */
  leaveCall(): void;
}

interface StoredLine {
  readonly bytes: Buffer;
  readonly line: number;
  readonly head: OWordHead | undefined;
}

type Signal =
  | { readonly kind: 'normal' }
  | { readonly kind: 'end' }
  | { readonly kind: 'break' | 'continue'; readonly label: string; readonly line: number }
  | { readonly kind: 'return'; readonly value: Value | undefined };

const NORMAL: Signal = { kind: 'normal' };
const END: Signal = { kind: 'end' };

/** Bytes of subroutine bodies and open control structures kept at once. */
export const MAX_RECORDED_BYTES = 16 * 1024 * 1024;
/** Lines run inside loops and calls before the program is taken not to end. */
export const MAX_EXECUTED_LINES = 20_000_000;
/** LinuxCNC's call depth is limited; so is ours. */
const MAX_CALL_DEPTH = 64;

const OPENERS: Readonly<Record<string, string>> = {
  if: 'endif',
  while: 'endwhile',
  do: 'while',
  repeat: 'endrepeat',
};

/**
 * LinuxCNC's o-word control flow, evaluated: subroutines defined in the program (`sub`/`endsub`,
 * `call [args]`, `return [v]`, #1–#30 and named locals per call, `#<_value>`), `if`/`elseif`/`else`/`endif`,
 * `while`/`endwhile`, `do`/`while`, `repeat`/`endrepeat`, `break`, `continue`. A structure is recorded
 * until its end, then run; a condition or count that is undetermined rejects the program, and so does a call
 * of a subroutine the program has not defined (LinuxCNC would load it from its subroutine path).
 */
export class ControlFlow {
  readonly #runner: LineRunner;
  readonly #subs = new Map<string, StoredLine[]>();
  #recording: StoredLine[] | undefined;
  #recordingLabel = '';
  #recordingEnd = '';
  #recordingSub = false;
  #recordedBytes = 0;
  #executed = 0;
  #depth = 0;

  readonly #maxExecuted: number;

  constructor(runner: LineRunner, maxExecutedLines = MAX_EXECUTED_LINES) {
    this.#runner = runner;
    this.#maxExecuted = maxExecutedLines;
  }

  /** Reads one line of the stream; false once the program has ended. */
  line(bytes: Uint8Array, start: number, end: number, line: number): boolean {
    if (this.#recording !== undefined) return this.#record(bytes, start, end, line);
    let p = start;
    while (p < end && (bytes[p] === 0x20 || bytes[p] === 0x09)) p++;
    // Only a line whose first character is `o` can be an o-word line: the common case goes straight on.
    if (p === end || (bytes[p] !== 0x6f && bytes[p] !== 0x4f))
      return this.#runner.plain(bytes, start, end, line);
    const head = this.#runner.head(bytes, start, end);
    if (head === undefined) return this.#runner.plain(bytes, start, end, line);
    if (head.keyword === 'sub') {
      if (this.#subs.has(head.label)) reject('SYNTAX_ERROR', `subroutine o${head.label} defined twice`);
      this.#startRecording(head.label, 'endsub', true);
      return true;
    }
    const closer = OPENERS[head.keyword];
    if (closer !== undefined) {
      this.#startRecording(head.label, closer, false);
      return this.#record(bytes, start, end, line);
    }
    if (head.keyword === 'call') return this.#call(this.#stored(bytes, start, end, line, head)) !== END;
    return reject('SYNTAX_ERROR', `o${head.label} ${head.keyword} outside the structure it belongs to`);
  }

  /** Rejects a program that ends inside a subroutine definition or an open structure. */
  finish(): void {
    if (this.#recording !== undefined)
      reject(
        'SYNTAX_ERROR',
        `o${this.#recordingLabel} is not closed by o${this.#recordingLabel} ${this.#recordingEnd}`,
      );
  }

  #startRecording(label: string, end: string, sub: boolean): void {
    this.#recording = [];
    this.#recordingLabel = label;
    this.#recordingEnd = end;
    this.#recordingSub = sub;
  }

  #record(bytes: Uint8Array, start: number, end: number, line: number): boolean {
    const recording = this.#recording as StoredLine[];
    this.#recordedBytes += end - start;
    if (this.#recordedBytes > MAX_RECORDED_BYTES)
      reject(
        'UNSUPPORTED_WORD',
        `subroutines and open control structures exceed ${MAX_RECORDED_BYTES} bytes`,
      );
    const head = this.#runner.head(bytes, start, end);
    if (this.#recordingSub && head?.keyword === 'sub')
      reject('SYNTAX_ERROR', 'a subroutine defined inside a subroutine');
    const stored = this.#stored(bytes, start, end, line, head);
    recording.push(stored);
    const closes =
      head !== undefined &&
      head.label === this.#recordingLabel &&
      head.keyword === this.#recordingEnd &&
      recording.length > 1;
    const subCloses = this.#recordingSub && head?.label === this.#recordingLabel && head.keyword === 'endsub';
    if (!closes && !subCloses) return true;
    this.#recording = undefined;
    if (this.#recordingSub) {
      this.#subs.set(this.#recordingLabel, recording);
      return true;
    }
    this.#recordedBytes -= recording.reduce((n, l) => n + l.bytes.length, 0);
    const signal = this.#run(recording, 0, recording.length);
    return this.#topLevel(signal);
  }

  #topLevel(signal: Signal): boolean {
    if (signal.kind === 'break' || signal.kind === 'continue')
      reject('SYNTAX_ERROR', `o${signal.label} ${signal.kind} outside its loop`);
    if (signal.kind === 'return') reject('SYNTAX_ERROR', 'return outside a subroutine');
    return signal !== END;
  }

  #stored(
    bytes: Uint8Array,
    start: number,
    end: number,
    line: number,
    head: OWordHead | undefined,
  ): StoredLine {
    const copy = Buffer.from(bytes.subarray(start, end));
    const rebased = head === undefined ? undefined : { ...head, rest: head.rest - start };
    return { bytes: copy, line, head: rebased };
  }

  #plain(l: StoredLine): boolean {
    return this.#at(l, () => this.#runner.plain(l.bytes, 0, l.bytes.length, l.line));
  }

  #args(l: StoredLine): Value[] {
    const head = l.head as OWordHead;
    return this.#at(l, () => this.#runner.args(l.bytes, head.rest, l.bytes.length));
  }

  /** Runs `f` for a stored line, so that a rejection names that line. */
  #at<T>(l: StoredLine, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof GcodeRejection && err.line === undefined) err.line = l.line;
      throw err;
    }
  }

  #count(l: StoredLine): void {
    if (++this.#executed > this.#maxExecuted)
      this.#at(l, () =>
        reject(
          'UNDETERMINABLE_VALUE',
          `the program does not end within ${this.#maxExecuted} lines run in loops and calls`,
        ),
      );
  }

  /** A condition or count: exactly one bracketed, determined value. */
  #condition(l: StoredLine): number {
    const values = this.#args(l);
    const head = l.head as OWordHead;
    return this.#at(l, () => {
      if (values.length !== 1)
        reject('SYNTAX_ERROR', `o${head.label} ${head.keyword} needs one [expression]`);
      const v = values[0] as Value;
      if (v instanceof Undetermined)
        reject(
          'UNDETERMINABLE_VALUE',
          `the o${head.label} ${head.keyword} condition is not determinable: ${v.reason}`,
        );
      return v;
    });
  }

  #find(
    lines: readonly StoredLine[],
    from: number,
    to: number,
    label: string,
    keywords: readonly string[],
  ): number {
    for (let i = from; i < to; i++) {
      const h = (lines[i] as StoredLine).head;
      if (h !== undefined && h.label === label && keywords.includes(h.keyword)) return i;
    }
    return this.#at(lines[from - 1] as StoredLine, () => reject('SYNTAX_ERROR', `o${label} is not closed`));
  }

  #run(lines: readonly StoredLine[], from: number, to: number): Signal {
    let pc = from;
    while (pc < to) {
      const l = lines[pc] as StoredLine;
      this.#count(l);
      const h = l.head;
      if (h === undefined) {
        if (!this.#plain(l)) return END;
        pc++;
        continue;
      }
      switch (h.keyword) {
        case 'if': {
          const endif = this.#find(lines, pc + 1, to, h.label, ['endif']);
          let branch = pc;
          for (;;) {
            const bh = (lines[branch] as StoredLine).head as OWordHead;
            const next = this.#find(lines, branch + 1, endif + 1, h.label, ['elseif', 'else', 'endif']);
            if (bh.keyword === 'else' || this.#condition(lines[branch] as StoredLine) !== 0) {
              const signal = this.#run(lines, branch + 1, next);
              if (signal !== NORMAL) return signal;
              break;
            }
            if (next === endif) break;
            branch = next;
          }
          pc = endif + 1;
          break;
        }
        case 'while':
        case 'do':
        case 'repeat': {
          const closer = OPENERS[h.keyword] as string;
          const last = this.#find(lines, pc + 1, to, h.label, [closer]);
          let remaining = h.keyword === 'repeat' ? this.#count0(l) : Infinity;
          for (;;) {
            if (h.keyword === 'while' && this.#condition(l) === 0) break;
            if (h.keyword === 'repeat' && remaining-- <= 0) break;
            const signal = this.#run(lines, pc + 1, last);
            if (signal.kind === 'break' && signal.label === h.label) break;
            if (signal !== NORMAL && !(signal.kind === 'continue' && signal.label === h.label)) return signal;
            this.#count(l);
            if (h.keyword === 'do' && this.#condition(lines[last] as StoredLine) === 0) break;
          }
          pc = last + 1;
          break;
        }
        case 'break':
        case 'continue':
          return { kind: h.keyword, label: h.label, line: l.line };
        case 'return':
        case 'endsub': {
          const values = this.#args(l);
          return { kind: 'return', value: values[0] };
        }
        case 'call':
          if (this.#call(l) === END) return END;
          pc++;
          break;
        default:
          return this.#at(l, () =>
            reject('SYNTAX_ERROR', `o${h.label} ${h.keyword} outside the structure it belongs to`),
          );
      }
    }
    return NORMAL;
  }

  #count0(l: StoredLine): number {
    const n = this.#condition(l);
    return this.#at(l, () => (n < 0 ? reject('INVALID_VALUE', `negative repeat count ${n}`) : Math.round(n)));
  }

  #call(l: StoredLine): Signal {
    const head = l.head as OWordHead;
    const body = this.#subs.get(head.label);
    if (body === undefined)
      this.#at(l, () =>
        reject(
          'UNSUPPORTED_WORD',
          `o${head.label} call of a subroutine the program has not defined before (LinuxCNC would load a file)`,
        ),
      );
    if (this.#depth >= MAX_CALL_DEPTH)
      this.#at(l, () => reject('UNSUPPORTED_WORD', `calls nested deeper than ${MAX_CALL_DEPTH}`));
    const args = this.#args(l);
    const params = this.#runner.parameters;
    params.pushFrame(args);
    this.#runner.enterCall();
    this.#depth++;
    let signal: Signal;
    try {
      signal = this.#run(body as StoredLine[], 0, (body as StoredLine[]).length);
    } finally {
      this.#depth--;
      params.popFrame();
    }
    if (signal !== END)
      this.#at(l, () => {
        this.#runner.leaveCall();
      });
    if (signal === END) return END;
    if (signal.kind === 'break' || signal.kind === 'continue')
      this.#at(l, () => reject('SYNTAX_ERROR', `o${signal.label} ${signal.kind} outside its loop`));
    params.setNow(
      '_value',
      signal.kind === 'return' && signal.value !== undefined
        ? signal.value
        : new Undetermined(`o${head.label} returned no value`),
    );
    return NORMAL;
  }
}
