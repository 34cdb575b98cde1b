import { LedgerClient, threadsealLedger, type RetryPolicy, type ThreadsealLedger } from '@threadseal/gateway';

/** Typed ledger clients opened as users of one network (its connection profile), closed together. */
export class LedgerSessions {
  readonly #profileFile: string;
  readonly #retry: RetryPolicy | undefined;
  readonly #opened: ThreadsealLedger[] = [];

  /** Sessions over `profileFile`; every client retries with `retry` (default: the client's own policy). */
  public constructor(profileFile: string, retry?: RetryPolicy) {
    this.#profileFile = profileFile;
    this.#retry = retry;
  }

  /** Opens a client as `user` of `org` (names of the network description, e.g. `manufacturer`, `operator`). */
  public as(org: string, user: string): ThreadsealLedger {
    const ledger = threadsealLedger(LedgerClient.open(this.#profileFile, { org, user }, this.#retry));
    this.#opened.push(ledger);
    return ledger;
  }

  /** Closes every client opened so far. */
  public closeAll(): void {
    for (const ledger of this.#opened.splice(0)) ledger.close();
  }
}
