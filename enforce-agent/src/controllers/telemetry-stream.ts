import type { TelemetrySample } from './controller.js';

/**
 * A push-to-pull queue of telemetry samples for one consumer: the adapter pushes as the controller
 * reports, the agent iterates; `end()` finishes the iteration once what was queued is read.
 */
export class TelemetryStream implements AsyncIterable<TelemetrySample> {
  readonly #queue: TelemetrySample[] = [];
  #waiting: ((r: IteratorResult<TelemetrySample>) => void) | undefined;
  #ended = false;
  #iterated = false;

  push(sample: TelemetrySample): void {
    if (this.#ended) return;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting({ value: sample, done: false });
    } else {
      this.#queue.push(sample);
    }
  }

  end(): void {
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<TelemetrySample> {
    if (this.#iterated) throw new TypeError('telemetry has one consumer');
    this.#iterated = true;
    return {
      next: () => {
        const sample = this.#queue.shift();
        if (sample !== undefined) return Promise.resolve({ value: sample, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiting = resolve));
      },
      return: () => {
        this.#queue.length = 0;
        this.#ended = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
