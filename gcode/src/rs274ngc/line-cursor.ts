import { reject } from '../verdict/verdict.js';

/** Character codes the reader compares against. */
export const CH = {
  tab: 0x09,
  space: 0x20,
  hash: 0x23,
  percent: 0x25,
  lparen: 0x28,
  rparen: 0x29,
  star: 0x2a,
  plus: 0x2b,
  minus: 0x2d,
  dot: 0x2e,
  slash: 0x2f,
  zero: 0x30,
  nine: 0x39,
  semicolon: 0x3b,
  lt: 0x3c,
  eq: 0x3d,
  gt: 0x3e,
  lbracket: 0x5b,
  rbracket: 0x5d,
  a: 0x61,
  z: 0x7a,
} as const;

/** End of the line (or a `;` comment, which runs to the end of the line). */
export const END = -1;

/**
 * Reads one RS274/NGC line the way LinuxCNC does after it has normalised it: spaces and tabs outside
 * comments are ignored (also inside numbers and names), letters are lower-cased, `;` ends the line.
 */
export class LineCursor {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  start = 0;

  reset(bytes: Uint8Array, start: number, end: number): void {
    this.bytes = bytes;
    this.pos = start;
    this.start = start;
    this.end = end;
  }

  /** The 1-based column of the cursor. */
  get column(): number {
    return this.pos - this.start + 1;
  }

  /** The next significant character (lower-cased), or {@link END}; does not consume it. */
  peek(): number {
    const b = this.bytes;
    let p = this.pos;
    while (p < this.end) {
      const c = b[p] as number;
      if (c === 0x20 || c === 0x09) {
        p++;
        continue;
      }
      this.pos = p;
      if (c === 0x3b) return END;
      return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    this.pos = p;
    return END;
  }

  /** The significant character after the next one, or {@link END}. */
  peekSecond(): number {
    this.peek();
    const saved = this.pos;
    this.pos++;
    const c = this.peek();
    this.pos = saved;
    return c;
  }

  /** Consumes the next significant character. */
  skip(): void {
    this.peek();
    this.pos++;
  }

  /** Consumes `c` or rejects the line. */
  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  /** Rejects the line as a syntax error at the cursor. */
  fail(reason: string): never {
    reject('SYNTAX_ERROR', reason, this.column);
  }

  /** The raw characters of `[from, to)`, for messages. */
  text(from: number, to: number): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + from, to - from).toString('latin1');
  }
}

/** Whether `c` is an ASCII digit. */
export function isDigit(c: number): boolean {
  return c >= CH.zero && c <= CH.nine;
}

/** Whether `c` is a lower-case ASCII letter. */
export function isLetter(c: number): boolean {
  return c >= CH.a && c <= CH.z;
}
