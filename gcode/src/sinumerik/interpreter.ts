import type { DialectInterpreter, InterpreterContext, ObservedValue } from '../dialect.js';
import { formatNumber } from '../verdict/parameter-recorder.js';
import { reject } from '../verdict/verdict.js';

const MM_PER_INCH = 25.4;

/** G codes this verifier knows; others (frames, cycles, G25/G26 limits, threading…) are refused. */
const G_KNOWN = new Set([
  0, 1, 2, 3, 4, 9, 17, 18, 19, 40, 41, 42, 53, 54, 55, 56, 57, 60, 64, 70, 71, 90, 91, 93, 94, 95, 96, 97,
  500, 700, 710,
]);
const G_MOTION = new Set([0, 1, 2, 3]);
const M_KNOWN = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 30]);
const AXES = new Set(['X', 'Y', 'Z', 'A', 'B', 'C', 'U', 'V', 'W', 'I', 'J', 'K', 'CR']);
const HARMLESS_VALUES = new Set(['T', 'D']);

type Value = number | { readonly undetermined: string };

interface Word {
  readonly address: string;
  readonly extension: string;
  readonly value: Value;
  readonly column: number;
}

/**
 * SINUMERIK basics: `;` comments, `N` blocks, G0–G3, G17–G19, G40–G42, G54–G57/G500, G90/G91, G93–G97,
 * G70/G71/G700/G710, M codes of program flow, spindle and coolant, `S`/`S1=` speeds, `F`, `LIMS=`, and
 * R-parameters assigned from numbers or simple arithmetic (`+ - * /`, parentheses). Everything else —
 * control structures, subprogram calls, cycles, frames, system variables, functions — is refused.
 */
export class SinumerikInterpreter implements DialectInterpreter {
  readonly #ctx: InterpreterContext;
  readonly #r = new Map<number, Value>();
  #line = 0;
  /** `basic`: G70/G71 leave F in the machine's basic system (machine data), which the verifier cannot see. */
  #units: 'mm' | 'inch' | 'basic' | undefined;
  #feedMode: 'minute' | 'revolution' | 'inverse-time' | undefined;
  #spindleMode: 'rpm' | 'css' | undefined;
  #lims = 0;
  #feed: number | undefined;
  #speed: number | undefined;
  #motion: number | undefined;

  constructor(ctx: InterpreterContext) {
    this.#ctx = ctx;
  }

  line(bytes: Uint8Array, start: number, end: number, lineNumber: number): boolean {
    this.#line = lineNumber;
    let stop = end;
    for (let p = start; p < end; p++) {
      const c = bytes[p] as number;
      if (c === 0x3b) {
        stop = p;
        break;
      }
      if (c === 0 || c >= 0x7f || (c < 0x20 && c !== 0x09))
        reject('SYNTAX_ERROR', `bad character 0x${c.toString(16).padStart(2, '0')}`, p - start + 1);
    }
    for (let p = stop; p < end; p++)
      if (bytes[p] === 0) reject('SYNTAX_ERROR', 'NUL byte in a comment', p - start + 1);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, stop - start)
      .toString('latin1')
      .toUpperCase();
    const words = this.#words(text);
    return !this.#execute(words);
  }

  finish(): void {
    // Nothing pending.
  }

  #words(text: string): Word[] {
    const words: Word[] = [];
    const re = /\s*([A-Z]+)(\d*)(=?)/y;
    let at = 0;
    const assigned = new Set<number>();
    const read = new Set<number>();
    for (;;) {
      while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
      if (at >= text.length) break;
      re.lastIndex = at;
      const m = re.exec(text);
      if (m === null) reject('SYNTAX_ERROR', `unexpected ${JSON.stringify(text.slice(at, at + 20))}`, at + 1);
      const address = m[1] ?? '';
      const extension = m[2] ?? '';
      const column = at + 1;
      at = re.lastIndex;
      let source: string;
      if (m[3] === '=') {
        const end = /[\s]|$/.exec(text.slice(at));
        source = text.slice(at, at + (end?.index ?? 0));
      } else {
        if (
          extension !== '' &&
          !['G', 'M', 'N', 'R', 'T', 'D', 'H'].includes(address) &&
          address.length === 1
        ) {
          // S1000 / F200 / X10: the digits are the value.
          source = extension;
          const more = /^[.\d]*/.exec(text.slice(at))?.[0] ?? '';
          source += more;
          at += more.length;
          words.push({ address, extension: '', value: this.#expression(source, read, column), column });
          continue;
        }
        source = /^[+-]?[.\d]*/.exec(text.slice(at))?.[0] ?? '';
      }
      at += source.length;
      if (address === 'N' && m[3] !== '=') {
        if (words.length > 0) reject('SYNTAX_ERROR', 'block number N not at the start of the block', column);
        continue;
      }
      if (address === 'R' && extension !== '' && m[3] === '=') {
        const index = Number(extension);
        const value = this.#expression(source, read, column);
        assigned.add(index);
        words.push({ address: 'R', extension, value, column });
        continue;
      }
      if (!isAddress(address))
        reject(
          'UNSUPPORTED_WORD',
          `${address}${extension}: not evaluated (control flow, cycles, frames, functions, system variables)`,
          column,
        );
      if (m[3] !== '=' && source === '' && extension === '')
        reject('SYNTAX_ERROR', `${address} without a value`, column);
      const value =
        m[3] === '=' || source !== '' ? this.#expression(source, read, column) : Number(extension);
      words.push({ address, extension: m[3] === '=' || source !== '' ? extension : '', value, column });
    }
    for (const index of assigned) {
      if (read.has(index)) reject('UNDETERMINABLE_VALUE', `R${index} is both set and read in one block`);
    }
    return words;
  }

  #expression(source: string, read: Set<number>, column: number): Value {
    if (source === '') reject('SYNTAX_ERROR', 'a value is missing', column);
    const parser = new ArithmeticParser(source, this.#r, read, column);
    return parser.parse();
  }

  #execute(words: Word[]): boolean {
    const recorder = this.#ctx.recorder;
    const g = new Set<number>();
    const m = new Set<number>();
    const byAddress = new Map<string, Word>();
    for (const w of words) {
      if (w.address === 'G') {
        const code = known(w, 'G code');
        if (!G_KNOWN.has(code))
          reject('UNSUPPORTED_WORD', `G${code} is not a G code this verifier knows`, w.column);
        g.add(code);
      } else if (w.address === 'M') {
        if (w.extension !== '') {
          // M1=3: the M function of spindle 1.
          const code = known(w, 'M code');
          if (![3, 4, 5].includes(code))
            reject('UNSUPPORTED_WORD', `M${w.extension}=${code} is not verified`, w.column);
          m.add(code);
          continue;
        }
        const code = known(w, 'M code');
        if (!M_KNOWN.has(code))
          reject('UNSUPPORTED_WORD', `M${code} is not an M code this verifier knows`, w.column);
        m.add(code);
      } else if (w.address === 'R') {
        this.#r.set(Number(w.extension), w.value);
      } else if (w.address === 'S' || w.address === 'F' || w.address === 'LIMS') {
        const key = w.address === 'S' ? `S${w.extension}` : w.address;
        if (byAddress.has(key)) reject('SYNTAX_ERROR', `${key} twice in one block`, w.column);
        byAddress.set(key, w);
      }
    }
    if (g.has(700)) this.#units = 'inch';
    else if (g.has(710)) this.#units = 'mm';
    else if (g.has(70) || g.has(71)) this.#units = 'basic';
    const lims = byAddress.get('LIMS');
    if (lims !== undefined) this.#lims = Math.abs(known(lims, 'LIMS'));
    if (g.has(96)) {
      if (this.#lims <= 0)
        reject(
          'UNDETERMINABLE_VALUE',
          'G96 without LIMS: the rpm grows without bound as the diameter shrinks',
        );
      const bound = recorder.bound('spindleSpeed');
      if (bound?.kind === 'range' && bound.min > 0)
        reject(
          'UNDETERMINABLE_VALUE',
          `G96 constant cutting rate: the rpm falls below ${formatNumber(bound.min)} rpm at large diameters; only LIMS bounds it from above`,
        );
      this.#spindleMode = 'css';
      recorder.record('spindleSpeed', this.#lims);
    } else if (g.has(97)) this.#spindleMode = 'rpm';
    if (this.#spindleMode === 'css' && lims !== undefined && !g.has(96))
      recorder.record('spindleSpeed', this.#lims);
    if (g.has(93)) this.#feedMode = 'inverse-time';
    else if (g.has(94)) this.#feedMode = 'minute';
    else if (g.has(95)) this.#feedMode = 'revolution';
    const f = byAddress.get('F');
    if (f !== undefined) {
      const raw = known(f, 'F');
      if (raw < 0) reject('INVALID_VALUE', `negative feed F${formatNumber(raw)}`, f.column);
      this.#observe('F', raw, this.#feedMode ?? 'unknown');
      if (this.#feedMode === undefined)
        reject('UNDETERMINABLE_VALUE', 'F before the program sets the feed mode (G93/G94/G95)', f.column);
      if (this.#units === undefined || this.#units === 'basic')
        reject(
          'UNDETERMINABLE_VALUE',
          'F before G700/G710: its unit is the basic system in the machine data',
          f.column,
        );
      this.#feed = this.#units === 'inch' ? raw * MM_PER_INCH : raw;
      if (this.#feedMode === 'minute') recorder.record('feedRate', this.#feed);
    }
    for (const [key, w] of byAddress) {
      if (!key.startsWith('S')) continue;
      const raw = known(w, key);
      if (raw < 0) reject('INVALID_VALUE', `negative spindle speed ${key}${formatNumber(raw)}`, w.column);
      this.#observe('S', raw, this.#spindleMode ?? 'unknown');
      if (this.#spindleMode === undefined)
        reject('UNDETERMINABLE_VALUE', `${key} before the program sets the spindle mode (G96/G97)`, w.column);
      this.#speed = raw;
      if (raw > 0) recorder.record('spindleSpeed', this.#spindleMode === 'rpm' ? raw : this.#lims);
    }
    if ((m.has(3) || m.has(4)) && (this.#speed === undefined || this.#spindleMode === undefined))
      reject('UNDETERMINABLE_VALUE', 'the spindle starts at a speed the program has not set');
    for (const code of g) if (G_MOTION.has(code)) this.#motion = code;
    const moves = words.some((w) => AXES.has(w.address));
    if (
      this.#motion !== undefined &&
      this.#motion !== 0 &&
      (moves || [...g].some((c) => G_MOTION.has(c) && c !== 0))
    )
      this.#feedMotion();
    return m.has(2) || m.has(30) || m.has(17);
  }

  #feedMotion(): void {
    const what = `G${this.#motion ?? ''}`;
    if (this.#feedMode === undefined)
      reject('UNDETERMINABLE_VALUE', `${what} before the program sets the feed mode`);
    if (this.#feedMode === 'inverse-time')
      reject('UNDETERMINABLE_VALUE', `${what} in G93 inverse-time mode: the feed depends on the move length`);
    if (this.#feed === undefined) reject('UNDETERMINABLE_VALUE', `${what} at a feed the program has not set`);
    if (this.#feed === 0) reject('INVALID_VALUE', `${what} with zero feed rate`);
    if (this.#feedMode === 'revolution') {
      if (this.#speed === undefined)
        reject('UNDETERMINABLE_VALUE', `${what} in G95 at a spindle speed the program has not set`);
      this.#ctx.recorder.record(
        'feedRate',
        this.#feed * (this.#spindleMode === 'css' ? this.#lims : this.#speed),
      );
    }
  }

  #observe(word: 'F' | 'S', value: number, mode: ObservedValue['mode']): void {
    const units = this.#units === 'mm' || this.#units === 'inch' ? this.#units : 'unknown';
    this.#ctx.observe?.({ line: this.#line, word, value, units, mode });
  }
}

function isAddress(address: string): boolean {
  return ['G', 'M', 'S', 'F', 'LIMS'].includes(address) || AXES.has(address) || HARMLESS_VALUES.has(address);
}

function known(w: Word, what: string): number {
  if (typeof w.value !== 'number')
    reject('UNDETERMINABLE_VALUE', `${what} is not determinable: ${w.value.undetermined}`, w.column);
  return w.value;
}

/** `+ - * /`, parentheses, unary minus, numbers and `R<n>`; anything else is refused. */
class ArithmeticParser {
  #at = 0;
  constructor(
    private readonly source: string,
    private readonly r: ReadonlyMap<number, Value>,
    private readonly read: Set<number>,
    private readonly column: number,
  ) {}

  parse(): Value {
    const v = this.#sum();
    if (this.#at !== this.source.length)
      this.#fail(`unexpected ${JSON.stringify(this.source.slice(this.#at))}`);
    if (typeof v === 'number' && !Number.isFinite(v))
      reject('INVALID_VALUE', `${this.source} is not finite`, this.column);
    return v;
  }

  #sum(): Value {
    let left = this.#product();
    for (;;) {
      const c = this.source[this.#at];
      if (c !== '+' && c !== '-') return left;
      this.#at++;
      const right = this.#product();
      left = combine(left, right, (a, b) => (c === '+' ? a + b : a - b));
    }
  }

  #product(): Value {
    let left = this.#unary();
    for (;;) {
      const c = this.source[this.#at];
      if (c !== '*' && c !== '/') return left;
      this.#at++;
      const right = this.#unary();
      if (c === '/' && right === 0) reject('INVALID_VALUE', 'division by zero', this.column);
      left = combine(left, right, (a, b) => (c === '*' ? a * b : a / b));
    }
  }

  #unary(): Value {
    const c = this.source[this.#at];
    if (c === '-' || c === '+') {
      this.#at++;
      const v = this.#unary();
      return c === '-' && typeof v === 'number' ? -v : v;
    }
    if (c === '(') {
      this.#at++;
      const v = this.#sum();
      if (this.source[this.#at] !== ')') this.#fail('missing )');
      this.#at++;
      return v;
    }
    const rest = this.source.slice(this.#at);
    const num = /^(?:\d+\.?\d*|\.\d+)/.exec(rest);
    if (num !== null) {
      this.#at += num[0].length;
      return Number(num[0]);
    }
    const param = /^R(\d+)/.exec(rest);
    if (param !== null) {
      this.#at += param[0].length;
      const index = Number(param[1]);
      this.read.add(index);
      return this.r.get(index) ?? { undetermined: `R${index} is not set by the program` };
    }
    if (/^[A-Z$]/.test(rest))
      reject(
        'UNSUPPORTED_WORD',
        `${rest.slice(0, 20)}: functions and variables are not evaluated`,
        this.column,
      );
    return this.#fail(`unexpected ${JSON.stringify(rest.slice(0, 20))}`);
  }

  #fail(reason: string): never {
    reject('SYNTAX_ERROR', reason, this.column);
  }
}

function combine(a: Value, b: Value, f: (a: number, b: number) => number): Value {
  if (typeof a !== 'number') return a;
  if (typeof b !== 'number') return b;
  return f(a, b);
}
