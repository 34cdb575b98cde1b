import {
  CausalGroup,
  loadConnectionProfile,
  loadMspCredentials,
  openLedgerClient,
  userMspDir,
  threadsealLedger,
  type RetryPolicy,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import type { DsiSigner } from '../unit-test-pki';

/** How sessions open their clients: the retry policy and the causal group they share. */
export interface LedgerSessionOptions {
  /** Every client retries with this policy (default: the client's own). */
  readonly retry?: RetryPolicy;
  /** The group whose newest commit every client waits for; by default one group for these sessions. */
  readonly causal?: CausalGroup;
}

/** Typed ledger clients opened as users of one network (its connection profile), closed together. */
export class LedgerSessions {
  readonly #profileFile: string;
  readonly #retry: RetryPolicy | undefined;
  readonly #causal: CausalGroup;
  readonly #opened: ThreadsealLedger[] = [];

  /** Sessions over `profileFile`. */
  public constructor(profileFile: string, options: LedgerSessionOptions = {}) {
    this.#profileFile = profileFile;
    this.#retry = options.retry;
    this.#causal = options.causal ?? new CausalGroup();
  }

  /** Opens a client as `user` of `org` (names of the network description, e.g. `manufacturer`, `operator`). */
  public as(org: string, user: string): ThreadsealLedger {
    const ledger = threadsealLedger(
      openLedgerClient(
        this.#profileFile,
        { org, user },
        { causal: this.#causal, ...(this.#retry ? { retry: this.#retry } : {}) },
      ),
    );
    this.#opened.push(ledger);
    return ledger;
  }

  /** The enrolled certificate and key of `user` of `org`, to sign DSI manifests as that identity. */
  public dsiSigner(org: string, user: string): DsiSigner {
    const connection = loadConnectionProfile(this.#profileFile).orgs[org];
    if (!connection) throw new Error(`the connection profile has no org ${org}`);
    const credentials = loadMspCredentials(userMspDir(connection, user), connection.mspId);
    return {
      certificatePem: Buffer.from(credentials.identity.credentials).toString('utf8'),
      privateKeyPem: credentials.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  /** Closes every client opened so far. */
  public closeAll(): void {
    for (const ledger of this.#opened.splice(0)) ledger.close();
  }
}
