import type { ParameterBound } from '@threadseal/ledger-model';
import { envelopeViolations } from '@threadseal/rules';
import { reject, type ParameterSummary } from './verdict.js';
import { VOCABULARY, type VocabularyName } from './vocabulary.js';

interface MutableSummary {
  min: number;
  max: number;
  count: number;
  firstLine: number;
}

/** Values already found inside the envelope, per name, remembered up to this many (the check is pure). */
const ACCEPTED_CACHE_LIMIT = 4096;

/**
 * Collects every constrained value a dialect interpreter extracts, checks each against the envelope entry of
 * the same name with the chaincode's own rule (`envelopeViolations`), and keeps min/max/count per name.
 */
export class ParameterRecorder {
  readonly #bounds = new Map<string, readonly ParameterBound[]>();
  readonly #summaries = new Map<VocabularyName, MutableSummary>();
  readonly #accepted = new Map<VocabularyName, Set<number>>();
  /** The line being interpreted; set by the verifier before each line. */
  line = 0;

  constructor(envelope: readonly ParameterBound[]) {
    for (const bound of envelope) this.#bounds.set(bound.name, [bound]);
  }

  /**
   * Records one value the program sets; zero means off and is not recorded.
   * @throws GcodeRejection OUT_OF_ENVELOPE when the envelope's entry of that name refuses it,
   *   INVALID_VALUE when it is not a finite number.
   */
  record(name: VocabularyName, value: number): void {
    if (!Number.isFinite(value)) reject('INVALID_VALUE', `${name} would be ${value}`);
    if (value < 0) reject('INVALID_VALUE', `${name} would be negative (${formatNumber(value)})`);
    // Zero is "off" (spindle stopped, heater off, fan off, no feed): not an operating point.
    if (value === 0) return;
    const summary = this.#summaries.get(name);
    if (summary === undefined) {
      this.#summaries.set(name, { min: value, max: value, count: 1, firstLine: this.line });
    } else {
      summary.count++;
      if (value < summary.min) summary.min = value;
      if (value > summary.max) summary.max = value;
    }
    this.#check(name, value);
  }

  #check(name: VocabularyName, value: number): void {
    const bounds = this.#bounds.get(name);
    if (bounds === undefined) return;
    let accepted = this.#accepted.get(name);
    if (accepted?.has(value)) return;
    const [violation] = envelopeViolations(bounds, { [name]: value });
    if (violation !== undefined) {
      reject(
        'OUT_OF_ENVELOPE',
        `${name} ${formatNumber(value)} ${VOCABULARY[name].unit} is outside the envelope (${name} ${violation.expected})`,
      );
    }
    if (accepted === undefined) this.#accepted.set(name, (accepted = new Set()));
    if (accepted.size < ACCEPTED_CACHE_LIMIT) accepted.add(value);
  }

  /** Whether the envelope names `name`. */
  constrains(name: string): boolean {
    return this.#bounds.has(name);
  }

  /** The envelope's entry of `name`, if any. */
  bound(name: string): ParameterBound | undefined {
    return this.#bounds.get(name)?.[0];
  }

  /** A frozen copy of the summaries, in vocabulary order. */
  summaries(): Readonly<Record<string, ParameterSummary>> {
    const out: Record<string, ParameterSummary> = {};
    for (const name of Object.keys(VOCABULARY) as VocabularyName[]) {
      const s = this.#summaries.get(name);
      if (s !== undefined) out[name] = Object.freeze({ ...s });
    }
    return Object.freeze(out);
  }
}

/** A number as a reason shows it: at most 6 decimals, no trailing zeros. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
}
