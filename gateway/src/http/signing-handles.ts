import { randomBytes } from 'node:crypto';
import { ThreadsealError, type JsonTransactionName } from '@threadseal/ledger-model';

/** Where a non-custodial transaction is: which bytes the caller must sign next. */
export type SigningStage = 'evaluate' | 'endorse' | 'submit' | 'commit';

/** A non-custodial transaction between two requests: only bytes, bound to the caller who prepared it. */
export interface PendingTransaction {
  readonly callerFingerprint: string;
  readonly transaction: JsonTransactionName;
  readonly transactionId: string;
  readonly stage: SigningStage;
  /** The message to be signed at this stage. */
  readonly bytes: Uint8Array;
  /** The endorsed result, kept from the endorse step for the commit step's answer. */
  readonly result?: unknown;
  readonly expiresAt: number;
}

/**
 * The non-custodial transactions in progress, by an unguessable handle: bounded in number and time. The
 * client only ever sends signatures; the bytes they sign stay here, so a handle cannot be used to send other
 * bytes, nor by another caller.
 */
export class SigningHandles {
  readonly #pending = new Map<string, PendingTransaction>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { max: number; ttlMs: number; now?: () => number }) {
    this.#max = options.max;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** Stores a new pending transaction; its handle. @throws ThreadsealError OVERLOADED when full. */
  open(entry: Omit<PendingTransaction, 'expiresAt'>): string {
    this.#evict();
    if (this.#pending.size >= this.#max)
      throw new ThreadsealError('OVERLOADED', `${this.#max} non-custodial transactions are in progress`);
    const handle = randomBytes(18).toString('base64url');
    this.#pending.set(handle, { ...entry, expiresAt: this.#now() + this.#ttlMs });
    return handle;
  }

  /**
   * The pending transaction of `handle` at `stage`, taken out (each stage runs once).
   * @throws ThreadsealError NOT_FOUND for an unknown, expired or other caller's handle; INVALID_ARGUMENT at the wrong stage.
   */
  take(handle: string, callerFingerprint: string, stage: SigningStage): PendingTransaction {
    this.#evict();
    const entry = this.#pending.get(handle);
    // Another caller's handle reads as unknown: it says nothing about what others are doing.
    if (!entry || entry.callerFingerprint !== callerFingerprint)
      throw new ThreadsealError('NOT_FOUND', 'no transaction in progress under this handle');
    if (entry.stage !== stage)
      throw new ThreadsealError(
        'INVALID_ARGUMENT',
        `the transaction is waiting for its ${entry.stage} signature, not ${stage}`,
      );
    this.#pending.delete(handle);
    return entry;
  }

  /** Puts a transaction back under its handle at its next stage. */
  advance(handle: string, entry: Omit<PendingTransaction, 'expiresAt'>): void {
    this.#pending.set(handle, { ...entry, expiresAt: this.#now() + this.#ttlMs });
  }

  #evict(): void {
    const now = this.#now();
    for (const [handle, entry] of this.#pending) if (entry.expiresAt <= now) this.#pending.delete(handle);
  }
}
