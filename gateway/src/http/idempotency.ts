import { createHash } from 'node:crypto';
import { ThreadsealError } from '@threadseal/ledger-model';

/** A response kept for replay. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

interface Entry {
  readonly requestHash: string;
  readonly response: Promise<StoredResponse>;
  readonly expiresAt: number;
}

const KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Idempotency keys of submits (`Idempotency-Key` header), per caller: the first request with a key runs,
 * any later one with the same key and the same body gets the first one's response (also while it is still
 * running), one with the same key and another body is refused. Failed requests with a 5xx are forgotten so
 * they can be retried. Bounded in entries and time; an in-process store (one gateway instance).
 */
export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; ttlMs: number; now?: () => number }) {
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `run` once per (caller, key): the stored response for a repeat, `replayed` saying which it was.
   * @throws ThreadsealError INVALID_ARGUMENT for a malformed key; ALREADY_EXISTS when the key was used
   * for a different request.
   */
  async once(
    caller: string,
    key: string,
    request: unknown,
    run: () => Promise<StoredResponse>,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    if (!KEY.test(key))
      throw new ThreadsealError(
        'INVALID_ARGUMENT',
        'Idempotency-Key: expected 1..128 characters [A-Za-z0-9._:-]',
      );
    const now = this.#now();
    this.#evict(now);
    const id = `${caller}\u0000${key}`;
    const requestHash = createHash('sha256')
      .update(JSON.stringify(request === undefined ? null : request))
      .digest('hex');
    const existing = this.#entries.get(id);
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new ThreadsealError(
          'ALREADY_EXISTS',
          `Idempotency-Key ${key} was used for a different request`,
        );
      }
      return { response: await existing.response, replayed: true };
    }
    const response = run().then((r) => {
      if (r.status >= 500) this.#entries.delete(id);
      return r;
    });
    this.#entries.set(id, { requestHash, response, expiresAt: now + this.#ttlMs });
    response.catch(() => this.#entries.delete(id));
    return { response: await response, replayed: false };
  }

  #evict(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(id);
    }
  }
}
