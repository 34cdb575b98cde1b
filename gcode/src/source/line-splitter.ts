import { reject } from '../verdict/verdict.js';

const LF = 0x0a;
const CR = 0x0d;

/** Receives one line: `bytes[start, end)` without its terminator, valid only during the call. */
export type LineSink = (bytes: Uint8Array, start: number, end: number, line: number) => void;

/**
 * Splits a byte stream into lines in constant memory: `\n` ends a line, one `\r` before it is dropped, a line
 * split across chunks is reassembled in a buffer of at most `maxLineBytes`.
 */
export class LineSplitter {
  readonly #max: number;
  #carry: Buffer;
  #carryLength = 0;
  #line = 0;
  #bytes = 0;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
    // A Buffer like the chunks, so the readers see one array type.
    this.#carry = Buffer.alloc(Math.min(maxLineBytes + 2, 1024));
  }

  /** Lines delivered so far. */
  get lines(): number {
    return this.#line;
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Feeds one chunk; calls `sink` for every line it completes.
   * @throws GcodeRejection LINE_TOO_LONG naming the line, before buffering more than the limit.
   */
  write(chunk: Uint8Array, sink: LineSink): void {
    this.#bytes += chunk.length;
    let start = 0;
    if (this.#carryLength > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.#append(chunk, 0, chunk.length);
        return;
      }
      this.#append(chunk, 0, nl);
      this.#emit(this.#carry, 0, this.#carryLength, sink);
      this.#carryLength = 0;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) break;
      if (nl - start > this.#max + 1) this.#tooLong();
      this.#emit(chunk, start, nl, sink);
      start = nl + 1;
    }
    if (start < chunk.length) this.#append(chunk, start, chunk.length);
  }

  /** Delivers a last line without terminator, if any. */
  end(sink: LineSink): void {
    if (this.#carryLength > 0) {
      this.#emit(this.#carry, 0, this.#carryLength, sink);
      this.#carryLength = 0;
    }
  }

  #emit(bytes: Uint8Array, start: number, end: number, sink: LineSink): void {
    this.#line++;
    const stop = end > start && bytes[end - 1] === CR ? end - 1 : end;
    if (stop - start > this.#max) this.#tooLong(0);
    sink(bytes, start, stop, this.#line);
  }

  #append(chunk: Uint8Array, from: number, to: number): void {
    const needed = this.#carryLength + (to - from);
    if (needed > this.#max + 1) this.#tooLong();
    if (needed > this.#carry.length) {
      const grown = Buffer.alloc(Math.min(Math.max(needed, this.#carry.length * 2), this.#max + 2));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(chunk.subarray(from, to), this.#carryLength);
    this.#carryLength = needed;
  }

  #tooLong(offset = 1): never {
    this.#line += offset;
    reject('LINE_TOO_LONG', `line longer than ${this.#max} bytes`);
  }
}
