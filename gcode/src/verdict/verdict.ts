/** Why a program was rejected; a closed set, so a caller can switch over it. */
export const REJECTION_CODES = [
  /** A constrained value depends on something the verifier cannot know before the program runs. */
  'UNDETERMINABLE_VALUE',
  /** A constrained value lies outside the licence's envelope. */
  'OUT_OF_ENVELOPE',
  /** The line is not valid in the dialect (the controller would refuse it too, or read it differently). */
  'SYNTAX_ERROR',
  /** A word or construct the verifier does not evaluate (control flow, macros, vendor codes…). */
  'UNSUPPORTED_WORD',
  /** A constrained value the controller would refuse (negative speed, NaN, infinity…). */
  'INVALID_VALUE',
  /** A line longer than the dialect's (or the verifier's) limit. */
  'LINE_TOO_LONG',
] as const;

/** One of {@link REJECTION_CODES}. */
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** What a program does with one constrained parameter. */
export interface ParameterSummary {
  /** Smallest value the program sets (in the vocabulary's unit). */
  readonly min: number;
  /** Largest value the program sets (in the vocabulary's unit). */
  readonly max: number;
  /** How many times the program sets it. */
  readonly count: number;
  /** The 1-based line where it is first set. */
  readonly firstLine: number;
}

/** The program's every constrained value fits the envelope. */
export interface AcceptedProgram {
  readonly accepted: true;
  /** One entry per vocabulary parameter the program sets, whether or not the envelope names it. */
  readonly parameters: Readonly<Record<string, ParameterSummary>>;
  /** Lines read (up to the program's end, M2/M30/closing `%`, or the end of input). */
  readonly lines: number;
  /** Bytes read. */
  readonly bytes: number;
}

/** The first reason the program cannot be run under the envelope. */
export interface RejectedProgram {
  readonly accepted: false;
  /** The 1-based line of the first problem (0 for a problem in the preamble). */
  readonly line: number;
  /** The 1-based column in the line, where known. */
  readonly column?: number;
  readonly code: RejectionCode;
  /** One sentence naming what was found and what was expected. */
  readonly reason: string;
}

/** The outcome of verifying one program. */
export type ProgramVerdict = AcceptedProgram | RejectedProgram;

/**
 * A rejection raised inside the verifier and turned into a {@link RejectedProgram} at its boundary; it never
 * leaves the package.
 */
export class GcodeRejection extends Error {
  override readonly name = 'GcodeRejection';
  /** The line, when it is not the line being read (a subroutine body run from a call). */
  line: number | undefined;
  constructor(
    readonly code: RejectionCode,
    readonly reason: string,
    readonly column?: number,
  ) {
    super(`${code}: ${reason}`);
  }
}

/** Throws a {@link GcodeRejection}. */
export function reject(code: RejectionCode, reason: string, column?: number): never {
  throw new GcodeRejection(code, reason, column);
}
