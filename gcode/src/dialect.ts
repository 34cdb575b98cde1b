import type { ParameterRecorder } from './verdict/parameter-recorder.js';

/** The dialects the verifier reads. */
export const DIALECTS = ['rs274ngc', 'fff', 'sinumerik'] as const;

/** One of {@link DIALECTS}. */
export type Dialect = (typeof DIALECTS)[number];

/**
 * A value as the controller's interpreter would print it (for the differential test against `rs274` and for
 * audit logs): the raw word value with the modes it was read in.
 */
export interface ObservedValue {
  readonly line: number;
  /** `F` (feed) or `S` (spindle). */
  readonly word: 'F' | 'S';
  /** The value as written (after evaluation), in the program's units. */
  readonly value: number;
  readonly units: 'mm' | 'inch' | 'unknown';
  /** Feed: `minute`, `revolution`, `inverse-time`; spindle: `rpm` or `css` (surface speed). */
  readonly mode: 'minute' | 'revolution' | 'inverse-time' | 'rpm' | 'css' | 'unknown';
}

/** Receives every {@link ObservedValue}. */
export type Observer = (value: ObservedValue) => void;

/** A dialect's interpreter with its modal state; one per program. */
export interface DialectInterpreter {
  /** Interprets one line (`bytes[start, end)`); resolves to false once the program has ended. */
  line(bytes: Uint8Array, start: number, end: number, lineNumber: number): boolean;
  /** Checks what the end of the input implies. */
  finish(): void;
}

/** What every interpreter is built from. */
export interface InterpreterContext {
  readonly recorder: ParameterRecorder;
  readonly observe: Observer | undefined;
  /** RS274/NGC: lines run inside loops and calls before the program is taken not to end. */
  readonly maxExecutedLines: number | undefined;
}
