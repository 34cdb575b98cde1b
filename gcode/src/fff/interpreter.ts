import type { DialectInterpreter, InterpreterContext } from '../dialect.js';
import { reject } from '../verdict/verdict.js';

const SEMICOLON = 0x3b;

/** Commands whose arguments are free text (the rest of the line is not parsed). */
const TEXT_ARGUMENT = new Set(['M117', 'M118', 'M1002']);

/**
 * Commands that set no constrained value (motion set-up, homing, levelling, positioning modes, waits,
 * progress, acceleration limits, and the Bambu Lab vendor codes seen in its slicer's output: AMS change
 * M620/M621, conditional blocks M622/M623 whose contents are checked as if they run, calibration, LEDs,
 * camera, buzzer, layer notices).
 */
const HARMLESS = new Set([
  'G4',
  'G17',
  'G18',
  'G19',
  'G21',
  'G28',
  'G29',
  'G29.1',
  'G29.2',
  'G29.4',
  'G90',
  'G91',
  'G92',
  'G392',
  'M17',
  'M18',
  'M84',
  'M82',
  'M83',
  'M105',
  'M107',
  'M114',
  'M115',
  'M117',
  'M118',
  'M155',
  'M201',
  'M203',
  'M204',
  'M205',
  'M211',
  'M300',
  'M400',
  'M412',
  'M73',
  'M73.2',
  'M900',
  'M620',
  'M620.3',
  'M621',
  'M622',
  'M622.1',
  'M623',
  'M630',
  'M960',
  'M970.2',
  'M970.3',
  'M971',
  'M974',
  'M975',
  'M981',
  'M982.2',
  'M991',
  'M1002',
  'M1003',
  'M1006',
  'M9833.2',
  'G39',
  'G39.3',
  'G39.4',
  'G2814',
  'M201.2',
  'M500',
  'M620.1',
  'M983',
  'M984',
  'M1007',
]);

const MOVES = new Set(['G0', 'G1', 'G2', 'G3', 'G380']);

/**
 * The arguments each value-bearing command may have; any other is refused, because firmware reads some of
 * them as a hidden value (Marlin's `M104 I<preset>` takes the temperature from a material preset).
 */
const ALLOWED_ARGUMENTS: Readonly<Record<string, string>> = {
  G0: 'XYZEFIJKRP',
  G1: 'XYZEFIJKRP',
  G2: 'XYZEFIJKRP',
  G3: 'XYZEFIJKRP',
  G380: 'XYZFS',
  M104: 'SRTH',
  M109: 'SRTH',
  M140: 'SR',
  M190: 'SR',
  M106: 'PS',
  M220: 'S',
  M221: 'ST',
};
const MOVE_AXES = ['X', 'Y', 'Z', 'E', 'I', 'J', 'R'];

/**
 * FFF firmware G-code (Marlin, Klipper's G-code layer, Bambu Lab): `;` comments, one command per line with
 * letter-value arguments. Constrained values: M104/M109 (nozzle), M140/M190 (bed), M106 (fan), M220 (feed
 * override), M221 (flow), F on moves (mm/min). Unknown commands — Klipper macros and extended commands
 * included — are rejected: the verifier cannot see what they do.
 */
export class FffInterpreter implements DialectInterpreter {
  readonly #ctx: InterpreterContext;
  #feedSet = false;

  constructor(ctx: InterpreterContext) {
    this.#ctx = ctx;
  }

  line(bytes: Uint8Array, start: number, end: number): boolean {
    let stop = end;
    for (let p = start; p < end; p++) {
      const c = bytes[p] as number;
      if (c === SEMICOLON) {
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
      .trim();
    if (text.length === 0) return true;
    this.#command(text);
    return true;
  }

  finish(): void {
    // Nothing pending: every value was checked where it was set.
  }

  #command(text: string): void {
    const head = /^([A-Za-z])(\d+(?:\.\d+)?)(?=$|[\s])|^([A-Za-z])(\d+(?:\.\d+)?)(?=[A-Za-z])/.exec(text);
    if (head === null) {
      if (/^[A-Za-z_][A-Za-z0-9_]*/.test(text))
        reject(
          'UNSUPPORTED_WORD',
          `${text.split(/\s/)[0] ?? text}: extended commands and macros are not evaluated`,
          1,
        );
      reject('SYNTAX_ERROR', `not a G-code command: ${text.slice(0, 40)}`, 1);
    }
    const letter = (head[1] ?? head[3] ?? '').toUpperCase();
    const code = `${letter}${String(Number(head[2] ?? head[4]))}`;
    const rest = text.slice(head[0].length);
    if (letter === 'N')
      reject('UNSUPPORTED_WORD', 'N line numbers and checksums are host protocol, not program text', 1);
    if (letter === 'T') return;
    if (TEXT_ARGUMENT.has(code)) return;
    const args = parseArguments(rest, head[0].length);
    const allowed = ALLOWED_ARGUMENTS[code];
    if (allowed !== undefined) {
      for (const letter of args.keys())
        if (!allowed.includes(letter))
          reject('UNSUPPORTED_WORD', `${code} ${letter} is not verified (it may set a value)`);
    }
    if (MOVES.has(code)) {
      this.#move(code, args);
      return;
    }
    switch (code) {
      case 'M104':
      case 'M109':
        // Bambu's H is undocumented: counted as a possible target so that either reading is checked.
        for (const w of ['S', 'R', 'H']) this.#value(args, w, 'nozzleTemperature', code);
        return;
      case 'M140':
      case 'M190':
        for (const w of ['S', 'R']) this.#value(args, w, 'bedTemperature', code);
        return;
      case 'M106': {
        const s = args.get('S');
        const raw = s === undefined ? 255 : this.#number(s, code, 'S');
        if (raw > 255) reject('INVALID_VALUE', `${code} S${raw} above 255`);
        this.#ctx.recorder.record('fanSpeed', (raw * 100) / 255);
        return;
      }
      case 'M220':
        this.#value(args, 'S', 'feedOverride', code);
        return;
      case 'M221':
        this.#value(args, 'S', 'flowRate', code);
        return;
      case 'G20':
        return reject('UNSUPPORTED_WORD', 'G20 inch mode is optional and firmware-dependent');
      default:
        if (!HARMLESS.has(code))
          reject('UNSUPPORTED_WORD', `${code} is not a command this verifier knows`, 1);
    }
  }

  #move(code: string, args: Map<string, string | undefined>): void {
    const f = args.get('F');
    if (args.has('F')) {
      const feed = this.#number(f, code, 'F');
      if (feed > 0) this.#feedSet = true;
      this.#ctx.recorder.record('feedRate', feed);
    }
    if (!this.#feedSet && MOVE_AXES.some((a) => args.has(a)))
      reject('UNDETERMINABLE_VALUE', `${code} moves at a feed the program has not set`);
  }

  #value(
    args: Map<string, string | undefined>,
    word: string,
    name: 'nozzleTemperature' | 'bedTemperature' | 'feedOverride' | 'flowRate',
    code: string,
  ): void {
    if (!args.has(word)) return;
    this.#ctx.recorder.record(name, this.#number(args.get(word), code, word));
  }

  #number(text: string | undefined, code: string, word: string): number {
    if (text === undefined || !/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(text))
      reject('SYNTAX_ERROR', `${code} ${word} needs a plain number, got ${JSON.stringify(text ?? '')}`);
    return Number(text);
  }
}

/** `X1.5 Y-2 E` → letter → value text (undefined for a bare flag); a repeated letter is refused. */
function parseArguments(rest: string, offset: number): Map<string, string | undefined> {
  const args = new Map<string, string | undefined>();
  const re = /\s*([A-Za-z])([^\sA-Za-z]*)/y;
  let at = 0;
  for (;;) {
    while (at < rest.length && (rest[at] === ' ' || rest[at] === '\t')) at++;
    if (at >= rest.length) break;
    re.lastIndex = at;
    const m = re.exec(rest);
    if (m === null)
      reject('SYNTAX_ERROR', `bad argument ${JSON.stringify(rest.slice(at, at + 20))}`, offset + at + 1);
    const letter = (m[1] ?? '').toUpperCase();
    if (args.has(letter)) reject('SYNTAX_ERROR', `multiple ${letter} arguments on one line`, offset + at + 1);
    // Firmwares parse values with strtod: `S2e2` is 200 to them, S2 E2 to a word splitter; refuse both.
    if (m[2] !== '' && /^[eE]/.test(rest.slice(re.lastIndex)))
      reject(
        'SYNTAX_ERROR',
        `exponent notation after ${letter}${m[2] ?? ''} is read differently by firmwares`,
        offset + at + 1,
      );
    args.set(letter, m[2] === '' ? undefined : m[2]);
    at = re.lastIndex;
  }
  return args;
}
