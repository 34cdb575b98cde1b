import type { DialectInterpreter, InterpreterContext, ObservedValue } from '../dialect.js';
import { formatNumber } from '../verdict/parameter-recorder.js';
import { reject } from '../verdict/verdict.js';
import { Block, BlockReader, L } from './block-reader.js';
import { ControlFlow, type LineRunner, type OWordHead } from './control-flow.js';
import { ExpressionReader, type Value } from './expression.js';
import { CH, END, isLetter, LineCursor } from './line-cursor.js';
import { ParameterStore } from './parameter-store.js';

const O_KEYWORDS = new Set([
  'sub',
  'endsub',
  'call',
  'return',
  'if',
  'elseif',
  'else',
  'endif',
  'while',
  'endwhile',
  'do',
  'repeat',
  'endrepeat',
  'break',
  'continue',
]);

/** LinuxCNC refuses longer lines (LINELEN). */
export const RS274_MAX_LINE = 255;
const MM_PER_INCH = 25.4;

/** Modal group of each G code ×10 LinuxCNC 2.9 knows (-1: unknown), for conflicts and meaning. */
const G_GROUP = new Int8Array(1000).fill(-1);
function group(n: number, codes: readonly number[]): void {
  for (const c of codes) G_GROUP[Math.round(c * 10)] = n;
}
group(0, [4, 10, 28, 28.1, 30, 30.1, 52, 53, 92, 92.1, 92.2, 92.3]);
group(
  1,
  [
    0, 1, 2, 3, 5, 5.1, 5.2, 5.3, 33, 33.1, 38.2, 38.3, 38.4, 38.5, 73, 74, 76, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 89,
  ],
);
group(2, [17, 18, 19, 17.1, 18.1, 19.1]);
group(3, [90, 91]);
group(4, [90.1, 91.1]);
group(5, [93, 94, 95]);
group(6, [20, 21]);
group(7, [40, 41, 42, 41.1, 42.1]);
group(8, [43, 43.1, 43.2, 49]);
group(10, [98, 99]);
group(12, [54, 55, 56, 57, 58, 59, 59.1, 59.2, 59.3]);
group(13, [61, 61.1, 64]);
group(14, [96, 97]);
group(15, [7, 8]);
const GROUPS = 16;

/** G codes refused: the value they run at is not the F/S the program states. */
const G_REFUSED = new Map<number, string>([
  [330, 'G33 spindle-synchronized motion: the feed is pitch × rpm, not F'],
  [331, 'G33.1 rigid tapping: the feed is pitch × rpm, not F'],
  [740, 'G74 tapping: the feed follows the spindle, not F'],
  [760, 'G76 threading: the feed is pitch × rpm, not F'],
  [840, 'G84 tapping: the feed follows the spindle, not F'],
  [700, 'G70 lathe finishing cycle runs an o-word profile'],
  [710, 'G71 lathe roughing cycle runs an o-word profile'],
  [720, 'G72 lathe roughing cycle runs an o-word profile'],
]);

/** Motion codes that feed (×10). */
const FEED_MOTION = new Uint8Array(1000);
for (const c of [10, 20, 30, 50, 51, 52, 382, 383, 384, 385, 730, 810, 820, 830, 850, 860, 870, 880, 890])
  FEED_MOTION[c] = 1;

/** M codes and their groups (4 stop, 6 tool, 7 spindle, 8 coolant, 9 overrides, 5 I/O); -1 unknown. */
const M_GROUP = new Int8Array(200).fill(-1);
for (const [code, grp] of [
  [0, 4],
  [1, 4],
  [2, 4],
  [30, 4],
  [60, 4],
  [6, 6],
  [61, 6],
  [3, 7],
  [4, 7],
  [5, 7],
  [19, 7],
  [7, 8],
  [8, 8],
  [9, 8],
  [48, 9],
  [49, 9],
  [50, 9],
  [51, 9],
  [52, 9],
  [53, 9],
  [70, 11],
  [71, 11],
  [72, 11],
  [73, 11],
  [62, 5],
  [63, 5],
  [64, 5],
  [65, 5],
  [66, 5],
  [67, 5],
  [68, 5],
] as const)
  M_GROUP[code] = grp;
const M_REFUSED = new Map<number, string>([
  [98, 'M98 subprogram calls are not evaluated'],
  [99, 'M99 subprogram returns are not evaluated'],
]);

const AXES_MASK = ['x', 'y', 'z', 'a', 'b', 'c', 'u', 'v', 'w', 'i', 'j', 'k', '@', '^'].reduce(
  (m, c) => m | (1 << L(c)),
  0,
);
const F = L('f');
const S = L('s');
const D = L('d');
const E = L('e');
const VALUE_LETTERS = (1 << F) | (1 << S) | (1 << D) | (1 << L('g')) | (1 << L('m'));

/** What a line's G codes do, as bits. */
const GF = { g96: 1, g97: 2, g93: 4, g94: 8, g95: 16, g20: 32, g21: 64, claimsAxes: 128 } as const;
const G_FLAG = new Uint8Array(1000);
G_FLAG[960] = GF.g96;
G_FLAG[970] = GF.g97;
G_FLAG[930] = GF.g93;
G_FLAG[940] = GF.g94;
G_FLAG[950] = GF.g95;
G_FLAG[200] = GF.g20;
G_FLAG[210] = GF.g21;
for (const c of [100, 280, 300, 520, 920]) G_FLAG[c] = GF.claimsAxes;
/** What a line's M codes do, as bits. */
const MF = {
  m3: 1,
  m4: 2,
  end: 4,
  analog: 8,
  save: 16,
  invalidate: 32,
  restore: 64,
  autoRestore: 128,
} as const;
const M_FLAG = new Uint8Array(200);
M_FLAG[3] = MF.m3;
M_FLAG[4] = MF.m4;
M_FLAG[2] = MF.end;
M_FLAG[30] = MF.end;
M_FLAG[66] = MF.analog;
M_FLAG[67] = MF.analog;
M_FLAG[68] = MF.analog;
M_FLAG[70] = MF.save;
M_FLAG[71] = MF.invalidate;
M_FLAG[72] = MF.restore;
M_FLAG[73] = MF.autoRestore;
const MF_STATE = MF.save | MF.invalidate | MF.restore | MF.autoRestore;

/** The modal state M70/M73 save and M72 (or a return after M73) restores, as far as values depend on it. */
interface SavedState {
  readonly units: Units | undefined;
  readonly feedMode: FeedMode | undefined;
  readonly spindleMode: SpindleMode | undefined;
  readonly feed: number | undefined;
  readonly speed: number | undefined;
}

type Units = 'mm' | 'inch';
type FeedMode = 'minute' | 'revolution' | 'inverse-time';
type SpindleMode = 'rpm' | 'css';

/**
 * RS274/NGC as LinuxCNC 2.9 runs it, with the modal state that decides each constrained value: units
 * (G20/G21), feed mode (G93/G94/G95), spindle mode (G96 with its D limit / G97), F, S. A line is read
 * whole, then executed in LinuxCNC's order: spindle mode, feed mode, F, S, M codes, units, motion, end.
 * State the program has not set is unknown, never assumed (a preamble sets what the machine's start-up
 * code sets).
 */
export class Rs274Interpreter implements DialectInterpreter, LineRunner {
  readonly #params = new ParameterStore();
  readonly #oCursor = new LineCursor();
  readonly #oExpr = new ExpressionReader(this.#oCursor, this.#params);
  readonly #flow: ControlFlow;
  // Only F, S and D are read as values (and G, M): an axis word's number is checked, not computed.
  readonly #reader = new BlockReader(this.#params, VALUE_LETTERS);
  readonly #block = new Block();
  readonly #ctx: InterpreterContext;
  #line = 0;
  #units: Units | undefined;
  #feedMode: FeedMode | undefined;
  #spindleMode: SpindleMode | undefined;
  #cssLimit = 0;
  /** Physical feed: mm/min (G94) or mm/rev (G95); undefined until the program sets it. */
  #feed: number | undefined;
  /** S as written: rpm (G97) or surface speed (G96); undefined until set. */
  #speed: number | undefined;
  #motion: number | undefined;
  #percentOpen = false;
  /** Modal state saved per call level (index 0: the main program). */
  readonly #saved: (SavedState | undefined)[] = [undefined];
  readonly #autoRestore: boolean[] = [false];
  /** M2, M30 or the closing % was read. */
  #ended = false;
  #lastPerRev = NaN;
  /** The motion code written on the current line, -1 for none. */
  #lineMotion = -1;
  readonly #groupStamp = new Int32Array(GROUPS);
  readonly #groupCode = new Int32Array(GROUPS);
  #stamp = 0;

  constructor(ctx: InterpreterContext) {
    this.#ctx = ctx;
    this.#flow = new ControlFlow(this, ctx.maxExecutedLines);
  }

  line(bytes: Uint8Array, start: number, end: number, lineNumber: number): boolean {
    if (end - start > RS274_MAX_LINE)
      reject('LINE_TOO_LONG', `line longer than LinuxCNC's ${RS274_MAX_LINE} characters`);
    return this.#flow.line(bytes, start, end, lineNumber);
  }

  get parameters(): ParameterStore {
    return this.#params;
  }

  head(bytes: Uint8Array, start: number, end: number): OWordHead | undefined {
    const cur = this.#oCursor;
    cur.reset(bytes, start, end);
    if (cur.peek() !== 0x6f) return undefined;
    cur.pos++;
    const label = cur.peek() === CH.lt ? `<${this.#oExpr.name()}>` : String(this.#oExpr.number());
    let keyword = '';
    while (isLetter(cur.peek()) && keyword.length < 10) {
      keyword += String.fromCharCode(cur.peek());
      cur.pos++;
    }
    if (!O_KEYWORDS.has(keyword))
      cur.fail(`o${label} ${keyword || '(no keyword)'} is not an o-word LinuxCNC knows`);
    return { label, keyword, rest: cur.pos };
  }

  args(bytes: Uint8Array, from: number, end: number): Value[] {
    const cur = this.#oCursor;
    cur.reset(bytes, from, end);
    const out: Value[] = [];
    for (;;) {
      const c = cur.peek();
      if (c === END) return out;
      if (c === CH.lbracket) out.push(this.#oExpr.expression());
      else if (c === CH.lparen) {
        const close = bytes.indexOf(CH.rparen, cur.pos);
        if (close < 0 || close >= end) cur.fail('unclosed comment');
        cur.pos = close + 1;
      } else cur.fail(`unexpected ${String.fromCharCode(c)} after an o-word`);
    }
  }

  plain(bytes: Uint8Array, start: number, end: number, lineNumber: number): boolean {
    this.#line = lineNumber;
    this.#ctx.recorder.line = lineNumber;
    const block = this.#block;
    try {
      this.#reader.read(bytes, start, end, block);
    } catch (err) {
      this.#params.discard();
      throw err;
    }
    if (block.percent) {
      if (this.#percentOpen) {
        this.#ended = true;
        return false;
      }
      this.#percentOpen = true;
      return true;
    }
    this.#lineMotion = -1;
    const ended = this.#execute(block);
    if (this.#params.hasPending) this.#params.commit();
    if (ended) this.#ended = true;
    return !ended;
  }

  finish(): void {
    this.#flow.finish();
    // LinuxCNC refuses a file that ends without M2/M30 or a closing %.
    if (!this.#ended) reject('SYNTAX_ERROR', 'file ended with no percent sign or program end (M2/M30)');
  }

  #execute(b: Block): boolean {
    if (b.words === 0) return false;
    const g = b.gCount === 0 ? 0 : this.#gCodes(b);
    const m = b.mCount === 0 ? 0 : this.#mCodes(b);
    if (b.present(E) && (m & MF.analog) === 0)
      reject('SYNTAX_ERROR', 'E word with no M66, M67 or M68 to use it', b.columns[E]);
    if ((m & MF_STATE) !== 0) return this.#modalState(b, g, m);
    // 1. spindle mode
    if ((g & GF.g96) !== 0) this.#constantSurfaceSpeed(b);
    else if ((g & GF.g97) !== 0) {
      const before = this.#spindleMode;
      this.#spindleMode = 'rpm';
      // The S left from G96 (a surface speed) now reads as rpm.
      if (before !== 'rpm' && this.#speed !== undefined && this.#speed > 0 && !b.present(S))
        this.#ctx.recorder.record('spindleSpeed', this.#speed);
    }
    // 2. feed mode
    if ((g & GF.g93) !== 0) this.#feedMode = 'inverse-time';
    else if ((g & (GF.g94 | GF.g95)) !== 0) {
      this.#feedMode = (g & GF.g94) !== 0 ? 'minute' : 'revolution';
      this.#feed = 0;
    }
    // 3. F, 4. S
    if (b.present(F)) this.#feedWord(b);
    if (b.present(S)) this.#spindleWord(b);
    // 7. spindle start
    if ((m & (MF.m3 | MF.m4)) !== 0) this.#spindleStart((m & MF.m3) !== 0 ? 3 : 4, b);
    // 12. units
    if ((g & GF.g20) !== 0) this.#units = 'inch';
    else if ((g & GF.g21) !== 0) this.#units = 'mm';
    // motion
    const explicit = this.#lineMotion;
    if (explicit >= 0) this.#motion = explicit;
    const current = explicit >= 0 ? explicit : this.#motion;
    if (
      current !== undefined &&
      FEED_MOTION[current] === 1 &&
      (explicit >= 0 || ((g & GF.claimsAxes) === 0 && (b.letterMask & AXES_MASK) !== 0))
    )
      this.#feedMotion(current);
    return (m & MF.end) !== 0;
  }

  /** Checks the line's G codes (known, not refused, one per modal group) and returns their flags. */
  #gCodes(b: Block): number {
    const stamp = ++this.#stamp;
    let flags = 0;
    this.#lineMotion = -1;
    for (let i = 0; i < b.gCount; i++) {
      const code = b.gCodes[i] as number;
      const column = b.gColumns[i];
      const grp = code < 1000 ? (G_GROUP[code] as number) : -1;
      const refused = G_REFUSED.get(code);
      if (refused !== undefined) reject('UNSUPPORTED_WORD', refused, column);
      if (grp < 0)
        reject('UNSUPPORTED_WORD', `G${formatNumber(code / 10)} is not a G code this verifier knows`, column);
      if (grp !== 0 && this.#groupStamp[grp] === stamp)
        reject(
          'SYNTAX_ERROR',
          `G${formatNumber((this.#groupCode[grp] as number) / 10)} and G${formatNumber(code / 10)} are in one modal group`,
          column,
        );
      this.#groupStamp[grp] = stamp;
      this.#groupCode[grp] = code;
      if (grp === 1) this.#lineMotion = code;
      flags |= G_FLAG[code] as number;
    }
    return flags;
  }

  /** Checks the line's M codes (known, not refused, one per group but M7 with M8) and returns their flags. */
  #mCodes(b: Block): number {
    const stamp = ++this.#stamp;
    let flags = 0;
    for (let i = 0; i < b.mCount; i++) {
      const code = b.mCodes[i] as number;
      const column = b.mColumns[i];
      const refused = M_REFUSED.get(code);
      if (refused !== undefined) reject('UNSUPPORTED_WORD', refused, column);
      if (code >= 100 && code <= 199)
        reject('UNSUPPORTED_WORD', `M${code} runs a user program on the controller`, column);
      const grp = code < 200 ? (M_GROUP[code] as number) : -1;
      if (grp < 0) reject('UNSUPPORTED_WORD', `M${code} is not an M code this verifier knows`, column);
      if (this.#groupStamp[grp] === stamp) {
        const other = this.#groupCode[grp] as number;
        if (!(grp === 8 && other !== 9 && code !== 9))
          reject('SYNTAX_ERROR', `M${other} and M${code} are in one modal group`, column);
      }
      this.#groupStamp[grp] = stamp;
      this.#groupCode[grp] = code;
      flags |= M_FLAG[code] as number;
    }
    return flags;
  }

  /**
   * M70 save, M71 invalidate, M72 restore, M73 save-and-restore-on-return, at the current call level. They
   * must stand without F, S or mode words on their line (the order LinuxCNC applies them in is not
   * verified), and a restore is accepted only when it cannot change how F and S read: the same feed mode and
   * no constant surface speed on either side.
   */
  #modalState(b: Block, g: number, m: number): boolean {
    if (b.present(F) || b.present(S) || g !== 0 || (m & ~MF_STATE) !== 0 || b.gCount > 0)
      reject('UNSUPPORTED_WORD', 'M70–M73 must stand on a line without G codes, F, S or other M codes');
    const level = this.#saved.length - 1;
    if ((m & MF.save) !== 0) this.#saved[level] = this.#snapshot();
    if ((m & MF.invalidate) !== 0) this.#saved[level] = undefined;
    if ((m & MF.autoRestore) !== 0) {
      if (level === 0) reject('UNSUPPORTED_WORD', 'M73 outside a subroutine');
      this.#saved[level] = this.#snapshot();
      this.#autoRestore[level] = true;
    }
    if ((m & MF.restore) !== 0) {
      const saved = this.#saved[level];
      if (saved === undefined) reject('SYNTAX_ERROR', 'M72 without a state saved by M70 at this call level');
      this.#restore(saved);
    }
    return false;
  }

  #snapshot(): SavedState {
    return {
      units: this.#units,
      feedMode: this.#feedMode,
      spindleMode: this.#spindleMode,
      feed: this.#feed,
      speed: this.#speed,
    };
  }

  #restore(saved: SavedState): void {
    if (saved.feedMode !== this.#feedMode)
      reject(
        'UNSUPPORTED_WORD',
        'modal state restore across a change of feed mode (G93/G94/G95) is not verified',
      );
    if (saved.spindleMode === 'css' || this.#spindleMode === 'css')
      reject('UNSUPPORTED_WORD', 'modal state restore with G96 constant surface speed is not verified');
    if (saved.spindleMode !== this.#spindleMode)
      reject('UNSUPPORTED_WORD', 'modal state restore across a change of spindle mode is not verified');
    // Every F and S restored was set, and checked, when it was saved.
    this.#units = saved.units;
    this.#feed = saved.feed;
    this.#speed = saved.speed;
  }

  enterCall(): void {
    this.#saved.push(undefined);
    this.#autoRestore.push(false);
  }

  leaveCall(): void {
    const saved = this.#saved.pop();
    if (this.#autoRestore.pop() === true && saved !== undefined) this.#restore(saved);
  }

  #known(b: Block, l: number, what: string): number {
    const u = b.undetermined[l];
    if (u !== undefined)
      reject('UNDETERMINABLE_VALUE', `${what} is not determinable: ${u.reason}`, b.columns[l]);
    return b.values[l] as number;
  }

  #constantSurfaceSpeed(b: Block): void {
    if (!b.present(D))
      reject(
        'UNDETERMINABLE_VALUE',
        'G96 without a D spindle limit: the rpm grows without bound as the diameter shrinks',
      );
    const limit = Math.abs(this.#known(b, D, 'the G96 D limit'));
    if (limit === 0) reject('UNDETERMINABLE_VALUE', 'G96 with D0 sets no spindle limit', b.columns[D]);
    const bound = this.#ctx.recorder.bound('spindleSpeed');
    if (bound?.kind === 'range' && bound.min > 0)
      reject(
        'UNDETERMINABLE_VALUE',
        `G96 constant surface speed: the rpm falls below ${formatNumber(bound.min)} rpm at large diameters; only D bounds it from above`,
      );
    this.#spindleMode = 'css';
    this.#cssLimit = limit;
    if (this.#speed === undefined || this.#speed > 0 || b.present(S))
      this.#ctx.recorder.record('spindleSpeed', limit);
  }

  #feedWord(b: Block): void {
    const col = b.columns[F];
    const raw = this.#known(b, F, 'the feed F');
    if (raw < 0) reject('INVALID_VALUE', `negative feed F${formatNumber(raw)}`, col);
    this.#observe('F', raw, this.#feedMode ?? 'unknown');
    if (this.#feedMode === 'inverse-time') return;
    if (this.#feedMode === undefined)
      reject('UNDETERMINABLE_VALUE', 'F before the program sets the feed mode (G93/G94/G95)', col);
    if (this.#units === undefined)
      reject('UNDETERMINABLE_VALUE', 'F before the program sets its units (G20/G21)', col);
    this.#feed = this.#units === 'inch' ? raw * MM_PER_INCH : raw;
    if (this.#feedMode === 'minute' && this.#feed > 0) this.#ctx.recorder.record('feedRate', this.#feed);
  }

  #spindleWord(b: Block): void {
    const col = b.columns[S];
    const raw = this.#known(b, S, 'the spindle speed S');
    if (raw < 0) reject('INVALID_VALUE', `negative spindle speed S${formatNumber(raw)}`, col);
    this.#observe('S', raw, this.#spindleMode ?? 'unknown');
    if (this.#spindleMode === undefined)
      reject('UNDETERMINABLE_VALUE', 'S before the program sets the spindle mode (G96/G97)', col);
    this.#speed = raw;
    if (raw > 0)
      this.#ctx.recorder.record('spindleSpeed', this.#spindleMode === 'rpm' ? raw : this.#cssLimit);
  }

  #spindleStart(m: number, b: Block): void {
    if (this.#speed === undefined)
      reject(
        'UNDETERMINABLE_VALUE',
        `M${m} starts the spindle at a speed the program has not set`,
        b.mColumns[b.mCodes.indexOf(m)],
      );
    if (this.#spindleMode === undefined)
      reject('UNDETERMINABLE_VALUE', `M${m} before the program sets the spindle mode (G96/G97)`);
  }

  #feedMotion(code: number): void {
    if (this.#feedMode === 'minute' && this.#feed !== undefined && this.#feed > 0) return;
    const what = `G${formatNumber(code / 10)}`;
    if (this.#feedMode === undefined)
      reject('UNDETERMINABLE_VALUE', `${what} before the program sets the feed mode (G93/G94/G95)`);
    if (this.#feedMode === 'inverse-time')
      reject(
        'UNDETERMINABLE_VALUE',
        `${what} in G93 inverse-time mode: the feed rate depends on the length of the move`,
      );
    if (this.#feed === undefined) reject('UNDETERMINABLE_VALUE', `${what} at a feed the program has not set`);
    if (this.#feed === 0) reject('INVALID_VALUE', `${what} with zero feed rate`);
    if (this.#feedMode === 'revolution') {
      if (this.#speed === undefined)
        reject('UNDETERMINABLE_VALUE', `${what} in G95 at a spindle speed the program has not set`);
      const rpm = this.#spindleMode === 'css' ? this.#cssLimit : this.#speed;
      const perMinute = this.#feed * rpm;
      if (perMinute !== this.#lastPerRev) {
        this.#lastPerRev = perMinute;
        if (perMinute > 0) this.#ctx.recorder.record('feedRate', perMinute);
      }
    }
  }

  #observe(word: 'F' | 'S', value: number, mode: ObservedValue['mode']): void {
    this.#ctx.observe?.({ line: this.#line, word, value, units: this.#units ?? 'unknown', mode });
  }
}
