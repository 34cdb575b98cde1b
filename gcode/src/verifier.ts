import { ThreadsealError, type ParameterBound } from '@threadseal/ledger-model';
import {
  DIALECTS,
  type Dialect,
  type DialectInterpreter,
  type InterpreterContext,
  type Observer,
} from './dialect.js';
import { FffInterpreter } from './fff/interpreter.js';
import { Rs274Interpreter } from './rs274ngc/interpreter.js';
import { SinumerikInterpreter } from './sinumerik/interpreter.js';
import { LineSplitter, type LineSink } from './source/line-splitter.js';
import { ParameterRecorder } from './verdict/parameter-recorder.js';
import { GcodeRejection, type ProgramVerdict, type RejectedProgram } from './verdict/verdict.js';
import { isVocabularyName, VOCABULARY } from './verdict/vocabulary.js';

/** The longest line the streaming reader buffers, whatever the dialect (memory stays constant). */
export const MAX_LINE_BYTES = 64 * 1024;

/** How to verify a program. */
export interface VerifyOptions {
  readonly dialect: Dialect;
  /** The licence's parameter envelope (`ProductionTerms.envelope`). */
  readonly envelope: readonly ParameterBound[];
  /**
   * Lines the machine runs before the program (its start-up code, e.g. LinuxCNC's RS274NGC_STARTUP_CODE
   * `G21 G94 G97`): modal state they set is known; without it, units and modes are unknown until the
   * program sets them. A rejection inside the preamble is reported at line 0.
   */
  readonly preamble?: string;
  /** Receives every F and S value as the controller's interpreter would print it. */
  readonly observe?: Observer;
  /**
   * RS274/NGC: how many lines loops and subroutine calls may run before the program is rejected as not
   * ending (default 20,000,000).
   */
  readonly maxExecutedLines?: number;
}

/** The synchronous core: feed it chunks or lines as they stream, then ask for the verdict. */
export interface ProgramVerifier {
  /** Feeds a chunk of the program; returns the rejection as soon as there is one. */
  write(chunk: Uint8Array): RejectedProgram | undefined;
  /** Feeds one whole line (without its terminator). */
  line(text: string): RejectedProgram | undefined;
  /** Ends the input and returns the verdict; later calls return the same verdict. */
  end(): ProgramVerdict;
  /** The rejection, once there is one. */
  readonly rejection: RejectedProgram | undefined;
}

/**
 * Creates a streaming verifier for one program.
 * @throws ThreadsealError INVALID_ARGUMENT for an unknown dialect or an envelope entry of the vocabulary
 *   whose unit is not the vocabulary's.
 */
export function createVerifier(options: VerifyOptions): ProgramVerifier {
  if (!(DIALECTS as readonly string[]).includes(options.dialect))
    throw new ThreadsealError(
      'INVALID_ARGUMENT',
      `dialect must be one of ${DIALECTS.join(', ')}, got ${JSON.stringify(options.dialect)}`,
    );
  for (const bound of options.envelope) {
    if (!isVocabularyName(bound.name)) continue;
    const units: readonly string[] = VOCABULARY[bound.name].units;
    if (!units.includes(bound.unit))
      throw new ThreadsealError(
        'INVALID_ARGUMENT',
        `envelope ${bound.name} is in ${JSON.stringify(bound.unit)}; the verifier measures it in ${VOCABULARY[bound.name].unit}`,
      );
  }
  return new StreamingVerifier(options);
}

class StreamingVerifier implements ProgramVerifier {
  readonly #recorder: ParameterRecorder;
  readonly #interpreter: DialectInterpreter;
  readonly #splitter = new LineSplitter(MAX_LINE_BYTES);
  readonly #sink: LineSink;
  #rejection: RejectedProgram | undefined;
  #ended = false;
  #verdict: ProgramVerdict | undefined;
  #lastLine = 0;

  constructor(options: VerifyOptions) {
    this.#recorder = new ParameterRecorder(options.envelope);
    const ctx: InterpreterContext = {
      recorder: this.#recorder,
      observe: options.observe,
      maxExecutedLines: options.maxExecutedLines,
    };
    this.#interpreter =
      options.dialect === 'rs274ngc'
        ? new Rs274Interpreter(ctx)
        : options.dialect === 'fff'
          ? new FffInterpreter(ctx)
          : new SinumerikInterpreter(ctx);
    this.#sink = (bytes, start, end, line) => {
      if (this.#ended) return;
      this.#recorder.line = line;
      this.#lastLine = line;
      if (!this.#interpreter.line(bytes, start, end, line)) this.#ended = true;
    };
    if (options.preamble !== undefined) this.#preamble(options.preamble);
  }

  get rejection(): RejectedProgram | undefined {
    return this.#rejection;
  }

  #preamble(text: string): void {
    const bytes = Buffer.from(text, 'latin1');
    const pre = new LineSplitter(MAX_LINE_BYTES);
    this.#guard(0, () => {
      const sink: LineSink = (b, s, e) => {
        this.#recorder.line = 0;
        this.#interpreter.line(b, s, e, 0);
      };
      pre.write(bytes, sink);
      pre.end(sink);
    });
  }

  write(chunk: Uint8Array): RejectedProgram | undefined {
    if (this.#rejection !== undefined || this.#verdict !== undefined) return this.#rejection;
    this.#guard(undefined, () => {
      this.#splitter.write(chunk, this.#sink);
    });
    return this.#rejection;
  }

  line(text: string): RejectedProgram | undefined {
    return this.write(Buffer.from(`${text}\n`, 'latin1'));
  }

  end(): ProgramVerdict {
    if (this.#verdict !== undefined) return this.#verdict;
    if (this.#rejection === undefined) {
      this.#guard(undefined, () => {
        this.#splitter.end(this.#sink);
        this.#interpreter.finish();
      });
    }
    this.#verdict = this.#rejection ?? {
      accepted: true,
      parameters: this.#recorder.summaries(),
      lines: this.#lastLine,
      bytes: this.#splitter.bytes,
    };
    return this.#verdict;
  }

  #guard(line: number | undefined, run: () => void): void {
    try {
      run();
    } catch (err) {
      if (!(err instanceof GcodeRejection)) throw err;
      const at = line ?? err.line ?? this.#splitter.lines;
      this.#rejection = Object.freeze({
        accepted: false,
        line: at,
        ...(err.column === undefined ? {} : { column: err.column }),
        code: err.code,
        reason: err.reason,
      });
    }
  }
}

/** A program as bytes, or a stream of chunks. */
export type ProgramSource = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Verifies a whole program against an envelope in constant memory; stops reading at the first rejection.
 * @throws ThreadsealError INVALID_ARGUMENT as {@link createVerifier} does; errors of the source propagate.
 */
export async function verifyProgram(source: ProgramSource, options: VerifyOptions): Promise<ProgramVerdict> {
  const verifier = createVerifier(options);
  if (source instanceof Uint8Array) {
    verifier.write(source);
    return verifier.end();
  }
  for await (const chunk of source) {
    if (verifier.write(chunk) !== undefined) break;
  }
  return verifier.end();
}
