/** Random access over a container: a file path, bytes in memory, or a stream spooled to a private temp file. */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { acquire } from '../engine/buffers';

/** Where a container is read from: a file path, bytes, or a stream of bytes. */
export type ContainerSource = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Positional reads over a container of known size. */
export interface RandomAccess {
  readonly size: number;
  /** The descriptor, when the container is a file: worker threads may read it directly. */
  readonly fd?: number;
  /** Reads up to `length` bytes at `position` (shorter only at end of input). */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

class FileAccess implements RandomAccess {
  readonly #fh: FileHandle;
  readonly #cleanup: (() => Promise<void>) | undefined;
  readonly size: number;

  constructor(fh: FileHandle, size: number, cleanup?: () => Promise<void>) {
    this.#fh = fh;
    this.size = size;
    this.#cleanup = cleanup;
  }

  get fd(): number {
    return this.#fh.fd;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buf = acquire(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.#fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }

  async close(): Promise<void> {
    await this.#fh.close();
    await this.#cleanup?.();
  }
}

class MemoryAccess implements RandomAccess {
  readonly #bytes: Buffer;
  readonly size: number;
  constructor(bytes: Uint8Array) {
    // A private copy: the caller may change its buffer after `open` resolved, and what is later
    // decrypted must be exactly what was verified.
    this.#bytes = Buffer.from(bytes);
    this.size = bytes.byteLength;
  }
  read(position: number, length: number): Promise<Buffer> {
    // Copy, so a consumer (or a worker transfer) never aliases or detaches the private copy.
    const part = this.#bytes.subarray(position, position + length);
    const copy = acquire(part.length);
    part.copy(copy);
    return Promise.resolve(copy);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Opens `source` for positional reads; streams are first spooled (ciphertext only) to `tmpDir`. */
export async function openSource(source: ContainerSource, tmpDir?: string): Promise<RandomAccess> {
  if (typeof source === 'string') {
    const fh = await open(source, 'r');
    try {
      const { size } = await fh.stat();
      return new FileAccess(fh, size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }
  if (source instanceof Uint8Array) return new MemoryAccess(source);
  const dir = await mkdtemp(path.join(tmpDir ?? tmpdir(), 'dsi-spool-'));
  const file = path.join(dir, 'container.dsi');
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(source, createWriteStream(file, { mode: 0o600 }));
    const fh = await open(file, 'r');
    const { size } = await fh.stat();
    return new FileAccess(fh, size, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}
