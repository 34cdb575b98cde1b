/** Where JSON lines go: a stream's `write`, e.g. `process.stdout`. */
export interface LineSink {
  write(chunk: string): unknown;
}

/** A writer of JSON lines that batches the frequent ones. */
export interface LineWriter {
  /** Writes `entry` at once (lifecycle events: a reader waits for them). */
  readonly now: (entry: Readonly<Record<string, unknown>>) => void;
  /** Queues `entry`; queued lines go out together within `flushMs`, or when `maxBytes` are queued. */
  readonly later: (entry: Readonly<Record<string, unknown>>) => void;
  /** Writes what is queued. */
  readonly flush: () => void;
  /** Flushes and stops the timer. */
  readonly close: () => void;
}

/**
 * JSON lines to `sink`, request lines batched: a write to a pipe is synchronous in Node on Linux and wakes
 * the reading process once per write, so one line per request costs a system call and a context switch on
 * the request path; a batch costs one per `flushMs`. Lines keep their order (a `now` line flushes the queue
 * first); nothing is dropped — the queue is flushed on close and on process exit.
 */
export function lineWriter(
  sink: LineSink,
  options: { flushMs?: number; maxBytes?: number } = {},
): LineWriter {
  const flushMs = options.flushMs ?? 100;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  let queued: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queued.length === 0) return;
    const text = queued.join('');
    queued = [];
    bytes = 0;
    sink.write(text);
  };
  const onExit = (): void => {
    flush();
  };
  process.once('exit', onExit);
  return {
    now: (entry) => {
      flush();
      sink.write(`${JSON.stringify(entry)}\n`);
    },
    later: (entry) => {
      const line = `${JSON.stringify(entry)}\n`;
      queued.push(line);
      bytes += line.length;
      if (bytes >= maxBytes) flush();
      else timer ??= setTimeout(flush, flushMs).unref();
    },
    flush,
    close: () => {
      flush();
      process.off('exit', onExit);
    },
  };
}
