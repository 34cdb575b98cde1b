import { reject } from '../verdict/verdict.js';
import { ExpressionReader, Undetermined } from './expression.js';
import { CH, END, LineCursor } from './line-cursor.js';
import type { ParameterStore } from './parameter-store.js';

/** Word index of a lower-case letter (0..25), `@` (26, polar distance) or `^` (27, polar angle). */
export const L = (letter: string): number =>
  letter === '@' ? 26 : letter === '^' ? 27 : letter.charCodeAt(0) - CH.a;
const WORDS = 28;

/** The words LinuxCNC 2.9 reads, as a letter bit mask; `o` (control flow) and `n` are handled apart. */
const WORD_LETTERS = 'abcdefghijklmpqrstuvwxyz'.split('').reduce((mask, c) => mask | (1 << L(c)), 0);

/** Comments LinuxCNC executes that write files on the controller. */
const FILE_COMMENTS = ['logopen', 'logappend', 'probeopen'];

/** Most G or M words LinuxCNC reads on one line is well below this. */
const MAX_CODES = 32;

/** One line's words after reading: values of letters, G codes ×10, M codes, a `%` marker. */
export class Block {
  readonly has = new Uint8Array(WORDS);
  readonly values = new Float64Array(WORDS);
  readonly undetermined: (Undetermined | undefined)[] = new Array<Undetermined | undefined>(WORDS).fill(
    undefined,
  );
  readonly columns = new Int32Array(WORDS);
  /** Bit `l` set for each letter `l` present (G and M excluded). */
  letterMask = 0;
  /** G codes × 10 (G38.2 → 382), in line order: `gCodes[0, gCount)`. */
  readonly gCodes = new Int32Array(MAX_CODES);
  readonly gColumns = new Int32Array(MAX_CODES);
  gCount = 0;
  readonly mCodes = new Int32Array(MAX_CODES);
  readonly mColumns = new Int32Array(MAX_CODES);
  mCount = 0;
  percent = false;
  words = 0;
  #anyUndetermined = false;

  clear(): void {
    for (let mask = this.letterMask; mask !== 0; mask &= mask - 1)
      this.has[31 - Math.clz32(mask & -mask)] = 0;
    if (this.#anyUndetermined) this.undetermined.fill(undefined);
    this.#anyUndetermined = false;
    this.letterMask = 0;
    this.gCount = 0;
    this.mCount = 0;
    this.percent = false;
    this.words = 0;
  }

  /** Whether letter `l` is on the line. */
  present(l: number): boolean {
    return this.has[l] === 1;
  }

  /** Stores letter `l`'s value. */
  setLetter(l: number, value: number | Undetermined, column: number): void {
    this.has[l] = 1;
    this.letterMask |= 1 << l;
    this.columns[l] = column;
    if (typeof value === 'number') this.values[l] = value;
    else {
      this.undetermined[l] = value;
      this.#anyUndetermined = true;
    }
  }

  addG(code: number, column: number): void {
    if (this.gCount === MAX_CODES) reject('SYNTAX_ERROR', 'too many G words on one line', column);
    this.gCodes[this.gCount] = code;
    this.gColumns[this.gCount++] = column;
  }

  addM(code: number, column: number): void {
    if (this.mCount === MAX_CODES) reject('SYNTAX_ERROR', 'too many M words on one line', column);
    this.mCodes[this.mCount] = code;
    this.mColumns[this.mCount++] = column;
  }
}

/**
 * Reads one RS274/NGC line into a {@link Block}: comments skipped (a file-writing comment rejected),
 * parameter settings queued in the store, every word's value evaluated with the values the parameters had
 * before the line (LinuxCNC's rule).
 */
export class BlockReader {
  readonly #cursor = new LineCursor();
  readonly #expr: ExpressionReader;

  /**
   * @param valueLetters bit `l` for each letter whose value the interpreter reads (G and M are always read);
   *   a plain number of another letter is checked but its value is NaN in the block.
   */
  constructor(
    private readonly parameters: ParameterStore,
    private readonly valueLetters: number,
  ) {
    this.#expr = new ExpressionReader(this.#cursor, parameters);
  }

  read(bytes: Uint8Array, start: number, end: number, block: Block): void {
    const cur = this.#cursor;
    cur.reset(bytes, start, end);
    block.clear();
    let first = true;
    // Character codes as literals in this loop (it runs for every word): a CommonJS module's `CH.x` is a
    // property load each time, not a constant.
    for (;;) {
      const c = cur.peek();
      if (c === END) return;
      if (c >= 0x61 && c <= 0x7a) {
        this.#word(c, block, first);
        first = false;
        continue;
      }
      if (first && c === 0x2f)
        reject(
          'UNSUPPORTED_WORD',
          "block delete '/': whether the line runs is the operator's switch",
          cur.column,
        );
      if (first && c === 0x25) {
        cur.pos++;
        if (cur.peek() !== END) cur.fail("'%' must be alone on its line");
        block.percent = true;
        return;
      }
      if (c === 0x28) this.#comment();
      else if (c === 0x23) this.#setting();
      else if (c === 0x40 || c === 0x5e) this.#polar(c === 0x40 ? 26 : 27, block);
      else if (c === 0x24)
        reject('UNSUPPORTED_WORD', "spindle selection '$' is not verified (spindle 0 only)", cur.column);
      else cur.fail(`bad character ${describe(c)}`);
      first = false;
    }
  }

  #comment(): void {
    const cur = this.#cursor;
    const b = cur.bytes;
    const open = cur.pos;
    let p = open + 1;
    for (; p < cur.end; p++) {
      const c = b[p] as number;
      if (c === CH.rparen) break;
      if (c === CH.lparen) cur.fail('nested comment');
      if (c === 0 || (c < 0x20 && c !== CH.tab)) {
        cur.pos = p;
        cur.fail(`bad character ${describe(c)} in a comment`);
      }
    }
    if (p >= cur.end) cur.fail('unclosed comment');
    const body = cur
      .text(open + 1, Math.min(p, open + 16))
      .replace(/[ \t]/g, '')
      .toLowerCase();
    if (FILE_COMMENTS.some((f) => body.startsWith(f)))
      reject(
        'UNSUPPORTED_WORD',
        `(${body.split(',')[0] ?? body}…) writes a file on the controller`,
        cur.column,
      );
    cur.pos = p + 1;
  }

  #setting(): void {
    const cur = this.#cursor;
    cur.pos++;
    let target: number | string;
    if (cur.peek() === CH.lt) target = this.#expr.name();
    else {
      const index = this.#expr.index();
      if (index instanceof Undetermined)
        reject(
          'UNDETERMINABLE_VALUE',
          `the parameter being set is undetermined: ${index.reason}`,
          cur.column,
        );
      target = index;
    }
    cur.expect(CH.eq, "'=' after the parameter");
    this.parameters.set(target, this.#expr.value());
  }

  /** `@` (polar distance) and `^` (polar angle): LinuxCNC's polar coordinates, axis words here. */
  #polar(l: number, block: Block): void {
    const cur = this.#cursor;
    const column = cur.column;
    cur.pos++;
    const v = this.#expr.value();
    block.words++;
    if (block.has[l] === 1) cur.fail(`multiple ${l === 26 ? '@' : '^'} words on one line`);
    block.setLetter(l, v, column);
  }

  #word(c: number, block: Block, first: boolean): void {
    const cur = this.#cursor;
    const column = cur.column;
    cur.pos++;
    const l = c - CH.a;
    if (c === 0x6f)
      reject('UNSUPPORTED_WORD', 'o-word subroutines, loops and conditionals are not evaluated', column);
    if (c === 0x6e) {
      if (!first) cur.fail('line number N not at the start of the line');
      this.#expr.number();
      return;
    }
    if ((WORD_LETTERS & (1 << l)) === 0) cur.fail(`unknown word ${String.fromCharCode(c - 0x20)}`);
    // A plain number right after the letter is the common case: read it without the general dispatch.
    const b = cur.bytes;
    let p = cur.pos;
    while (p < cur.end && (b[p] === 0x20 || b[p] === 0x09)) p++;
    const d = p < cur.end ? (b[p] as number) : -1;
    let v: number | Undetermined;
    if ((d >= 0x30 && d <= 0x39) || d === 0x2e) {
      cur.pos = p;
      if ((this.valueLetters & (1 << l)) === 0) {
        // A plain number nobody reads (an axis word): its format is checked, its value not computed.
        this.#expr.skipNumber();
        block.words++;
        if (block.has[l] === 1) cur.fail(`multiple ${String.fromCharCode(c - 0x20)} words on one line`);
        block.setLetter(l, NaN, column);
        return;
      }
      v = this.#expr.number();
      if (!Number.isFinite(v)) reject('INVALID_VALUE', 'calculation resulted in infinity', column);
    } else v = this.#expr.value();
    block.words++;
    if (c === 0x67 || c === 0x6d) {
      const letter = c === 0x67 ? 'G' : 'M';
      if (v instanceof Undetermined)
        reject('UNDETERMINABLE_VALUE', `${letter} code from an undetermined value: ${v.reason}`, column);
      if (c === 0x67) {
        const g10 = Math.round(v * 10);
        if (Math.abs(v * 10 - g10) > 0.001 || g10 < 0) cur.fail(`G${v} is not a G code`);
        block.addG(g10, column);
      } else {
        const m = Math.round(v);
        if (Math.abs(v - m) > 0.0001 || m < 0) cur.fail(`M${v} is not an M code`);
        block.addM(m, column);
      }
      return;
    }
    if (block.has[l] === 1) cur.fail(`multiple ${String.fromCharCode(c - 0x20)} words on one line`);
    block.setLetter(l, v, column);
  }
}

function describe(c: number): string {
  return c >= 0x21 && c <= 0x7e ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
}
