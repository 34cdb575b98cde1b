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
  readonly #frames: { numbered: Map<number, Value>; named: Map<string, Value> }[] = [];

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

  /** Sets a parameter at once (the interpreter's own `#<_value>` after a call). */
  setNow(index: number | string, value: Value): void {
    if (typeof index === 'number') this.#numbered.set(index, value);
    else this.#named.set(index, value);
  }

  /**
   * Enters a subroutine: #1–#30 and the named locals (names not starting with `_`) of the caller are put
   * aside; the call's arguments become #1, #2, …; the other locals are unset.
   */
  pushFrame(args: readonly Value[]): void {
    const numbered = new Map<number, Value>();
    for (let i = 1; i <= 30; i++) {
      const v = this.#numbered.get(i);
      if (v !== undefined) numbered.set(i, v);
      this.#numbered.delete(i);
    }
    const named = new Map<string, Value>();
    for (const [name, v] of this.#named) {
      if (name.startsWith('_')) continue;
      named.set(name, v);
      this.#named.delete(name);
    }
    args.forEach((v, i) => this.#numbered.set(i + 1, v));
    this.#frames.push({ numbered, named });
  }

  /** Leaves a subroutine: the caller's #1–#30 and named locals come back. */
  popFrame(): void {
    const frame = this.#frames.pop();
    if (frame === undefined) return;
    for (let i = 1; i <= 30; i++) this.#numbered.delete(i);
    for (const name of [...this.#named.keys()]) if (!name.startsWith('_')) this.#named.delete(name);
    for (const [i, v] of frame.numbered) this.#numbered.set(i, v);
    for (const [name, v] of frame.named) this.#named.set(name, v);
  }

  /** Drops the current line's settings. */
  discard(): void {
    this.#pending.length = 0;
  }
}
