import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { ThreadsealError } from '@threadseal/ledger-model';

/** A response kept for replay. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Where and how long idempotency records are kept. */
export interface IdempotencyStoreOptions {
  /**
   * The SQLite file holding the records, so a repeat after a restart still gets the first response; none:
   * an in-memory database (lost with the process).
   */
  readonly file?: string;
  /** Records kept at most; the oldest are dropped first. */
  readonly maxEntries: number;
  /** How long a record answers repeats, from its first request. */
  readonly ttlMs: number;
  readonly now?: () => number;
}

interface Row {
  readonly request_hash: string;
  readonly state: 'running' | 'done';
  readonly status: number | null;
  readonly body: string | null;
}

const KEY = /^[A-Za-z0-9._:-]{1,128}$/;

// `running`: the first request was started and its outcome not yet recorded. A `running` row found when no
// request of this process holds it means a gateway stopped while the request ran: whether it committed is
// unknown, so the key is refused rather than run a second time.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_records (
  id TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'done')),
  status INTEGER,
  body TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_records_by_expiry ON idempotency_records (expires_at);
CREATE INDEX IF NOT EXISTS idempotency_records_by_age ON idempotency_records (created_at);
`;

/**
 * Idempotency keys of submits (`Idempotency-Key` header), per caller: the first request with a key runs,
 * any later one with the same key and the same body gets the first one's response (also while it is still
 * running, and after a restart when the store has a file), one with the same key and another body is
 * refused. Requests that ended with a 5xx are forgotten so they can be retried. Bounded in entries and
 * time. Only the SHA-256 of a request is stored, never the request itself.
 */
export class IdempotencyStore {
  readonly #db: Database.Database;
  /** First requests of this process still running, so a concurrent repeat waits for the same response. */
  readonly #running = new Map<string, { requestHash: string; response: Promise<StoredResponse> }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #closed = false;
  readonly #statements: {
    readonly find: Database.Statement<[string, number], Row>;
    readonly start: Database.Statement<[string, string, number, number]>;
    readonly finish: Database.Statement<[number, string, string]>;
    readonly forget: Database.Statement<[string]>;
    readonly expire: Database.Statement<[number]>;
    readonly count: Database.Statement<[], { n: number }>;
    readonly dropOldest: Database.Statement<[number]>;
  };

  /**
   * Opens (creating when missing) the store's database.
   * @throws ThreadsealError INVALID_ARGUMENT when the file cannot be opened as an idempotency store.
   */
  constructor(options: IdempotencyStoreOptions) {
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    try {
      this.#db = new Database(options.file ?? ':memory:');
      // WAL with synchronous NORMAL: a record survives the process stopping or crashing at any point after
      // it was written; only an operating-system crash can lose the newest ones (decision 0018).
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.exec(SCHEMA);
    } catch (err) {
      throw new ThreadsealError('INVALID_ARGUMENT', 'cannot open the idempotency store', { cause: err });
    }
    const db = this.#db;
    this.#statements = {
      find: db.prepare(
        'SELECT request_hash, state, status, body FROM idempotency_records WHERE id = ? AND expires_at > ?',
      ),
      start: db.prepare(
        `INSERT OR REPLACE INTO idempotency_records (id, request_hash, state, created_at, expires_at)
         VALUES (?, ?, 'running', ?, ?)`,
      ),
      finish: db.prepare("UPDATE idempotency_records SET state = 'done', status = ?, body = ? WHERE id = ?"),
      forget: db.prepare('DELETE FROM idempotency_records WHERE id = ?'),
      expire: db.prepare('DELETE FROM idempotency_records WHERE expires_at <= ?'),
      count: db.prepare('SELECT count(*) AS n FROM idempotency_records'),
      dropOldest: db.prepare(
        `DELETE FROM idempotency_records WHERE id IN
           (SELECT id FROM idempotency_records ORDER BY created_at ASC LIMIT ?)`,
      ),
    };
  }

  /**
   * Runs `run` once per (`scope`, key) — the gateway's scope is the caller and the operation: the stored
   * response for a repeat, `replayed` saying which it was.
   * @throws ThreadsealError INVALID_ARGUMENT for a malformed key; ALREADY_EXISTS when the key was used
   * for a different request, or by a request whose outcome is unknown (the gateway stopped while it ran).
   */
  async once(
    scope: string,
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
    const id = `${scope}\u0000${key}`;
    const requestHash = createHash('sha256')
      .update(JSON.stringify(request === undefined ? null : request))
      .digest('hex');
    const running = this.#running.get(id);
    if (running) {
      this.#sameRequest(key, running.requestHash, requestHash);
      return { response: await running.response, replayed: true };
    }
    const stored = this.#statements.find.get(id, now);
    if (stored) {
      this.#sameRequest(key, stored.request_hash, requestHash);
      if (stored.state === 'running' || stored.status === null || stored.body === null)
        throw new ThreadsealError(
          'ALREADY_EXISTS',
          `Idempotency-Key ${key} was taken by a request whose outcome is unknown (the gateway stopped while it ran): read the ledger, then send with a new key`,
        );
      return {
        response: { status: stored.status, body: JSON.parse(stored.body) as unknown },
        replayed: true,
      };
    }
    this.#makeRoom(now);
    this.#statements.start.run(id, requestHash, now, now + this.#ttlMs);
    const response = (async () => {
      try {
        const r = await run();
        if (this.#closed) return r;
        if (r.status >= 500) this.#statements.forget.run(id);
        else this.#statements.finish.run(r.status, JSON.stringify(r.body ?? null), id);
        return r;
      } catch (err) {
        if (!this.#closed) this.#statements.forget.run(id);
        throw err;
      } finally {
        this.#running.delete(id);
      }
    })();
    this.#running.set(id, { requestHash, response });
    return { response: await response, replayed: false };
  }

  /**
   * Closes the database; later calls fail. A request still running keeps its record `running` (its outcome
   * is not recorded), so a later process refuses its key rather than run it again.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #sameRequest(key: string, first: string, now: string): void {
    if (first !== now)
      throw new ThreadsealError('ALREADY_EXISTS', `Idempotency-Key ${key} was used for a different request`);
  }

  #makeRoom(now: number): void {
    this.#statements.expire.run(now);
    const { n } = this.#statements.count.get() ?? { n: 0 };
    if (n >= this.#maxEntries) this.#statements.dropOldest.run(n - this.#maxEntries + 1);
  }
}
