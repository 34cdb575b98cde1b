import { Undetermined, type Value } from './expression.js';

/**
 * The parameters a program has set. Anything it has not set (numbered parameters, globals left by an earlier
 * program, the interpreter's read-only `#<_…>` state) is the controller's and reads as {@link Undetermined}.
 * LinuxCNC applies the settings of a line after the whole line has been read, so `set` queues and
 * `commit` applies.
 */
export class ParameterStore {
  readonly #numbered = new Map<number, Value>();
  readonly #named = new Map<string, Value>();
  readonly #pending: { index: number | string; value: Value }[] = [];

  numbered(index: number): Value {
    return this.#numbered.get(index) ?? new Undetermined(`#${index} is not set by the program`);
  }

  named(name: string): Value {
    return this.#named.get(name) ?? new Undetermined(`#<${name}> is not set by the program`);
  }

  /** EXISTS[#<name>]: 1 for a parameter the program set; otherwise it depends on the controller. */
  exists(name: string): Value {
    return this.#named.has(name) ? 1 : new Undetermined(`EXISTS[#<${name}>] depends on the controller`);
  }

  /** Queues a setting of the current line. */
  set(index: number | string, value: Value): void {
    this.#pending.push({ index, value });
  }

  /** Whether the current line has queued settings. */
  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Applies the current line's settings in order. */
  commit(): void {
    for (const { index, value } of this.#pending) {
      if (typeof index === 'number') this.#numbered.set(index, value);
      else this.#named.set(index, value);
    }
    this.#pending.length = 0;
  }

  /** Drops the current line's settings. */
  discard(): void {
    this.#pending.length = 0;
  }
}
