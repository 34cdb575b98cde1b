import { reject } from '../verdict/verdict.js';
import { CH, END, isDigit, isLetter, type LineCursor } from './line-cursor.js';
import type { ParameterStore } from './parameter-store.js';

/** A value the verifier cannot know before the program runs, with the reason why. */
export class Undetermined {
  constructor(readonly reason: string) {}
}

/** What an RS274/NGC value evaluates to. */
export type Value = number | Undetermined;

/** LinuxCNC's tolerance for EQ, NE, LE and GE (interp_internal.hh TOLERANCE_EQUAL). */
const TOLERANCE_EQUAL = 1e-6;
/** Highest numbered parameter (RS274NGC_MAX_PARAMETERS - 1). */
export const MAX_PARAMETER = 5601;

const OP = {
  rbracket: 0,
  and: 1,
  or: 2,
  xor: 3,
  eq: 4,
  ne: 5,
  gt: 6,
  ge: 7,
  lt: 8,
  le: 9,
  plus: 10,
  minus: 11,
  times: 12,
  divide: 13,
  mod: 14,
  power: 15,
} as const;
type Op = (typeof OP)[keyof typeof OP];

/** LinuxCNC's six precedence levels (interp_read.cc precedence()). */
function precedence(op: Op): number {
  if (op === OP.rbracket) return 1;
  if (op <= OP.xor) return 2;
  if (op <= OP.le) return 3;
  if (op <= OP.minus) return 4;
  if (op <= OP.mod) return 5;
  return 6;
}

const POW10 = new Float64Array([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
]);
const POW10_COUNT = POW10.length;
/** 2^53: integers below it are exact doubles. */
const EXACT_MANTISSA = 9007199254740992;

/**
 * Evaluates RS274/NGC values exactly as LinuxCNC's interpreter reads them (read_real_value and below):
 * numbers, `#` parameters, `[...]` expressions with its operators and precedence, and its unary functions.
 * A value that depends on the controller's state is an {@link Undetermined}; an operation the interpreter
 * would refuse (division by zero, SQRT of a negative…) rejects the line.
 */
export class ExpressionReader {
  constructor(
    private readonly cursor: LineCursor,
    private readonly parameters: ParameterStore,
  ) {}

  /** read_real_value. */
  value(): Value {
    const cur = this.cursor;
    const c = cur.peek();
    // Plain numbers first: the common case, and always finite below 16 digits.
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e) {
      const n = this.number();
      if (!Number.isFinite(n)) reject('INVALID_VALUE', 'calculation resulted in infinity');
      return n;
    }
    if (c === END) cur.fail('a value is missing');
    let v: Value;
    if (c === CH.lbracket) v = this.expression();
    else if (c === CH.hash) v = this.parameter();
    else if ((c === CH.plus || c === CH.minus) && !startsNumber(cur.peekSecond())) {
      cur.skip();
      v = this.value();
      if (c === CH.minus && typeof v === 'number') v = -v;
    } else if (isLetter(c)) v = this.unary();
    else v = this.number();
    if (typeof v === 'number' && !Number.isFinite(v))
      reject('INVALID_VALUE', `calculation resulted in ${Number.isNaN(v) ? 'not a number' : 'infinity'}`);
    return v;
  }

  /** read_real_number: `[+-]?[0-9.]+` with one dot at most and at least one digit (spaces ignored). */
  number(): number {
    const from = this.#scanNumber();
    return this.#numberValue(from);
  }

  /**
   * Reads a number as {@link number} does, rejecting what it rejects (a bad format, a value that is not
   * finite), without computing a value nobody reads (an axis word's).
   */
  skipNumber(): void {
    const from = this.#scanNumber();
    // Below 2^53 the value is finite whatever its fraction; only a longer number needs computing.
    if (this.#mantissa < EXACT_MANTISSA) return;
    if (!Number.isFinite(this.#numberValue(from)))
      reject('INVALID_VALUE', 'calculation resulted in infinity');
  }

  #mantissa = 0;
  #fraction = 0;
  #negative = false;

  /** Moves the cursor over a number and keeps its digits as an integer and the count after the dot. */
  #scanNumber(): number {
    const cur = this.cursor;
    const b = cur.bytes;
    const end = cur.end;
    let p = cur.pos;
    // Hot path (two numbers a line in a typical program): byte compares only, no calls.
    let c = 0;
    while (p < end && ((c = b[p] as number) === 0x20 || c === 0x09)) p++;
    const from = p;
    let negative = false;
    if (p < end && (c === 0x2b || c === 0x2d)) {
      negative = c === 0x2d;
      p++;
    }
    // The integer digits, then the fraction's: one byte compare per digit. Spaces inside are skipped.
    let mantissa = 0;
    let digits = 0;
    for (; p < end; p++) {
      c = b[p] as number;
      const d = c - 0x30;
      if (d >>> 0 <= 9) {
        mantissa = mantissa * 10 + d;
        digits++;
      } else if (c !== 0x20 && c !== 0x09) break;
    }
    let fraction = 0;
    let dots = 0;
    if (p < end && c === 0x2e) {
      dots = 1;
      for (p++; p < end; p++) {
        c = b[p] as number;
        const d = c - 0x30;
        if (d >>> 0 <= 9) {
          mantissa = mantissa * 10 + d;
          fraction++;
        } else if (c === 0x2e) dots++;
        else if (c !== 0x20 && c !== 0x09) break;
      }
      digits += fraction;
    }
    cur.pos = p;
    if (digits === 0 || dots > 1) {
      const at = p < end ? (b[p] as number) : END;
      if (p === from) cur.fail(`bad character '${String.fromCharCode(at)}' where a value should be`);
      cur.fail(`bad number format '${cur.text(from, p).trim()}'`);
    }
    this.#mantissa = mantissa;
    this.#fraction = fraction;
    this.#negative = negative;
    return from;
  }

  /** The value of the number just scanned, which began at `from`. */
  #numberValue(from: number): number {
    // Every step was exact while the mantissa stays below 2^53 (it only grows), and 10^fraction is exact
    // below 10^16: one IEEE division then rounds as strtod does (Clinger's fast path).
    const v =
      this.#mantissa < EXACT_MANTISSA && this.#fraction < POW10_COUNT
        ? this.#mantissa / (POW10[this.#fraction] as number)
        : Number(this.cursor.text(from, this.cursor.pos).replace(/[ \t+-]/g, ''));
    return this.#negative ? -v : v;
  }

  /** read_parameter: `#n`, `##n`, `#[expr]`, `#<name>`. */
  parameter(): Value {
    const cur = this.cursor;
    cur.expect(CH.hash, '#');
    if (cur.peek() === CH.lt) {
      const name = this.name();
      return this.parameters.named(name);
    }
    const index = this.index();
    return typeof index === 'number' ? this.parameters.numbered(index) : index;
  }

  /** The index of a numbered parameter (read_integer_value), checked against the interpreter's range. */
  index(): Value {
    const v = this.value();
    if (typeof v !== 'number') return v;
    const rounded = Math.round(v);
    if (Math.abs(v - rounded) > 0.0001) this.cursor.fail(`parameter number ${v} is not an integer`);
    if (rounded < 1 || rounded > MAX_PARAMETER) this.cursor.fail(`parameter number ${rounded} out of range`);
    return rounded;
  }

  /** `<name>` of a named parameter, lower-cased and without spaces. */
  name(): string {
    const cur = this.cursor;
    cur.expect(CH.lt, '<');
    const chars: number[] = [];
    for (;;) {
      const c = cur.peek();
      if (c === END) cur.fail('named parameter without closing >');
      cur.pos++;
      if (c === CH.gt) break;
      if (c < 0x21 || c > 0x7e) cur.fail('bad character in a parameter name');
      chars.push(c);
    }
    if (chars.length === 0) cur.fail('empty parameter name');
    return String.fromCharCode(...chars);
  }

  /** read_real_expression: LinuxCNC's stack algorithm, same-precedence operations left to right. */
  expression(): Value {
    const cur = this.cursor;
    cur.expect(CH.lbracket, '[');
    const values: Value[] = [this.value()];
    const ops: Op[] = [this.operation()];
    let i = 1;
    while (ops[0] !== OP.rbracket) {
      values[i] = this.value();
      ops[i] = this.operation();
      if (precedence(ops[i] as Op) > precedence(ops[i - 1] as Op)) {
        i++;
        continue;
      }
      for (;;) {
        values[i - 1] = binary(values[i - 1] as Value, ops[i - 1] as Op, values[i] as Value);
        ops[i - 1] = ops[i] as Op;
        if (i > 1 && precedence(ops[i - 1] as Op) <= precedence(ops[i - 2] as Op)) i--;
        else break;
      }
    }
    return values[0] as Value;
  }

  /** read_operation: the operator after a value. */
  operation(): Op {
    const cur = this.cursor;
    const c = cur.peek();
    cur.pos++;
    switch (c) {
      case CH.rbracket:
        return OP.rbracket;
      case CH.plus:
        return OP.plus;
      case CH.minus:
        return OP.minus;
      case CH.slash:
        return OP.divide;
      case CH.star:
        if (cur.peek() === CH.star) {
          cur.pos++;
          return OP.power;
        }
        return OP.times;
      case END:
        return cur.fail('unclosed expression');
      default:
        break;
    }
    if (!isLetter(c)) return cur.fail(`unknown operation '${String.fromCharCode(c)}'`);
    const word = String.fromCharCode(c) + this.#letters(2);
    const three: Record<string, Op> = { mod: OP.mod, and: OP.and, xor: OP.xor };
    const two: Record<string, Op> = {
      or: OP.or,
      eq: OP.eq,
      ne: OP.ne,
      gt: OP.gt,
      ge: OP.ge,
      lt: OP.lt,
      le: OP.le,
    };
    const op3 = three[word];
    if (op3 !== undefined) {
      this.#consumeLetters(2);
      return op3;
    }
    const op2 = two[word.slice(0, 2)];
    if (op2 !== undefined) {
      this.#consumeLetters(1);
      return op2;
    }
    return cur.fail(`unknown operation '${word}'`);
  }

  /** Up to `n` following significant letters, not consumed. */
  #letters(n: number): string {
    const cur = this.cursor;
    const saved = cur.pos;
    let out = '';
    for (let k = 0; k < n; k++) {
      const c = cur.peek();
      if (!isLetter(c)) break;
      out += String.fromCharCode(c);
      cur.pos++;
    }
    cur.pos = saved;
    return out;
  }

  #consumeLetters(n: number): void {
    for (let k = 0; k < n; k++) this.cursor.skip();
  }

  /** read_unary: a named function of a bracketed expression; ATAN takes two, EXISTS a named parameter. */
  unary(): Value {
    const cur = this.cursor;
    let name = '';
    while (isLetter(cur.peek())) {
      name += String.fromCharCode(cur.peek());
      cur.pos++;
      if (name.length > 6) break;
    }
    if (name === 'exists') {
      cur.expect(CH.lbracket, '[');
      cur.expect(CH.hash, '#');
      const param = this.name();
      cur.expect(CH.rbracket, ']');
      return this.parameters.exists(param);
    }
    if (!UNARY.has(name)) return cur.fail(`unknown function '${name}'`);
    if (cur.peek() !== CH.lbracket) return cur.fail(`${name} needs a bracketed argument`);
    const arg = this.expression();
    if (name === 'atan') {
      cur.expect(CH.slash, '/ in atan[…]/[…]');
      if (cur.peek() !== CH.lbracket) return cur.fail('atan needs a bracketed second argument');
      const x = this.expression();
      if (typeof arg !== 'number') return arg;
      if (typeof x !== 'number') return x;
      return (Math.atan2(arg, x) * 180) / Math.PI;
    }
    return typeof arg === 'number' ? unaryOf(name, arg) : arg;
  }
}

function startsNumber(c: number): boolean {
  return isDigit(c) || c === CH.dot;
}

const UNARY = new Set([
  'abs',
  'acos',
  'asin',
  'atan',
  'cos',
  'exp',
  'fix',
  'fup',
  'round',
  'ln',
  'sin',
  'sqrt',
  'tan',
]);

/** execute_unary. */
function unaryOf(name: string, v: number): number {
  switch (name) {
    case 'abs':
      return Math.abs(v);
    case 'acos':
      if (v < -1 || v > 1) reject('INVALID_VALUE', `argument to ACOS out of range: ${v}`);
      return (Math.acos(v) * 180) / Math.PI;
    case 'asin':
      if (v < -1 || v > 1) reject('INVALID_VALUE', `argument to ASIN out of range: ${v}`);
      return (Math.asin(v) * 180) / Math.PI;
    case 'cos':
      return Math.cos((v * Math.PI) / 180);
    case 'exp':
      return Math.exp(v);
    case 'fix':
      return Math.floor(v);
    case 'fup':
      return Math.ceil(v);
    case 'round':
      // (double)(int)(x ± 0.5): C truncation toward zero after the half-offset.
      return Math.trunc(v + (v < 0 ? -0.5 : 0.5));
    case 'ln':
      if (v <= 0) reject('INVALID_VALUE', `zero or negative argument to LN: ${v}`);
      return Math.log(v);
    case 'sin':
      return Math.sin((v * Math.PI) / 180);
    case 'sqrt':
      if (v < 0) reject('INVALID_VALUE', `negative argument to SQRT: ${v}`);
      return Math.sqrt(v);
    default:
      return Math.tan((v * Math.PI) / 180);
  }
}

/** execute_binary1 and execute_binary2; an undetermined operand makes the result undetermined. */
function binary(left: Value, op: Op, right: Value): Value {
  if (typeof left !== 'number') return left;
  if (typeof right !== 'number') return right;
  switch (op) {
    case OP.divide:
      if (right === 0) reject('INVALID_VALUE', 'attempt to divide by zero');
      return left / right;
    case OP.mod: {
      const m = left % right;
      return m < 0 ? m + Math.abs(right) : m;
    }
    case OP.power:
      if (left < 0 && Math.floor(right) !== right)
        reject('INVALID_VALUE', 'attempt to raise a negative number to a non-integer power');
      return Math.pow(left, right);
    case OP.times:
      return left * right;
    case OP.and:
      return left === 0 || right === 0 ? 0 : 1;
    case OP.xor:
      return (left === 0) !== (right === 0) ? 1 : 0;
    case OP.or:
      return left !== 0 || right !== 0 ? 1 : 0;
    case OP.minus:
      return left - right;
    case OP.plus:
      return left + right;
    case OP.lt:
      return left < right ? 1 : 0;
    case OP.gt:
      return left > right ? 1 : 0;
    case OP.eq:
      return Math.abs(left - right) < TOLERANCE_EQUAL ? 1 : 0;
    case OP.ne:
      return Math.abs(left - right) >= TOLERANCE_EQUAL ? 1 : 0;
    case OP.le:
      return Math.abs(left - right) < TOLERANCE_EQUAL || left <= right ? 1 : 0;
    case OP.ge:
      return Math.abs(left - right) < TOLERANCE_EQUAL || left >= right ? 1 : 0;
    default:
      return reject('SYNTAX_ERROR', 'unexpected ]');
  }
}
