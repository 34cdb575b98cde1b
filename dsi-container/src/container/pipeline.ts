/**
 * Bounded-depth ordered pipeline: starts up to `depth` jobs ahead, finishes them in order. On
 * failure it still waits for the jobs already started to settle, so a caller may release what
 * they use (buffers, file descriptors shared with worker threads) as soon as it returns.
 */
export async function pipelined<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  depth: number,
  start: (item: T) => Promise<R>,
  finish: (result: R, item: T) => Promise<void> | void,
): Promise<void> {
  const queue: { item: T; result: Promise<R> }[] = [];
  try {
    for await (const item of items) {
      const result = start(item);
      // Avoid unhandled rejections for jobs that fail while an earlier one is awaited.
      result.catch(() => undefined);
      queue.push({ item, result });
      if (queue.length >= depth) {
        const head = queue.shift() as { item: T; result: Promise<R> };
        await finish(await head.result, head.item);
      }
    }
    while (queue.length > 0) {
      const head = queue.shift() as { item: T; result: Promise<R> };
      await finish(await head.result, head.item);
    }
  } finally {
    await Promise.allSettled(queue.map((q) => q.result));
    queue.length = 0;
  }
}

/** Like {@link pipelined} but yields each finished result in order, for streaming consumers. */
export async function* pipelinedGenerator<T, R>(
  items: Iterable<T>,
  depth: number,
  start: (item: T) => Promise<R>,
): AsyncGenerator<{ item: T; result: R }> {
  const queue: { item: T; result: Promise<R> }[] = [];
  for (const item of items) {
    const result = start(item);
    result.catch(() => undefined);
    queue.push({ item, result });
    if (queue.length >= depth) {
      const head = queue.shift() as { item: T; result: Promise<R> };
      yield { item: head.item, result: await head.result };
    }
  }
  while (queue.length > 0) {
    const head = queue.shift() as { item: T; result: Promise<R> };
    yield { item: head.item, result: await head.result };
  }
}
