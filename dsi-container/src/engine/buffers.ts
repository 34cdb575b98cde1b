/**
 * A small free-list of large buffers. Segment buffers travel to worker threads and back
 * (transferred, not copied) and are reused, so steady-state streaming allocates almost nothing
 * and peak memory stays at the pipeline depth times the segment size.
 */
const free: ArrayBuffer[] = [];
const MAX_FREE = 8;

/** A buffer of exactly `size` bytes, backed by a whole (transferable) ArrayBuffer. */
export function acquire(size: number): Buffer {
  const i = free.findIndex((ab) => ab.byteLength >= size && ab.byteLength <= 2 * size + 4096);
  const ab = i >= 0 ? (free.splice(i, 1)[0] as ArrayBuffer) : Buffer.allocUnsafeSlow(size).buffer;
  return Buffer.from(ab, 0, size);
}

/** Returns a buffer obtained from {@link acquire} (or transferred back from a worker) for reuse. */
export function release(buf: Buffer | Uint8Array): void {
  const ab = buf.buffer as ArrayBuffer;
  if (ab.byteLength >= 64 * 1024 && free.length < MAX_FREE && !free.includes(ab)) free.push(ab);
}

/** Zeroes a buffer that held plaintext, then returns it for reuse like {@link release}. */
export function releasePlaintext(buf: Buffer | Uint8Array): void {
  buf.fill(0);
  release(buf);
}
