import {
  DEFAULT_DEADLINES,
  DEFAULT_RETRY,
  LedgerClient,
  LedgerConnection,
  OfflineSigningSession,
  threadsealLedger,
  type CausalGroup,
  type GrpcClient,
  type LedgerDeadlines,
  type RetryPolicy,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import {
  confidentialTransport,
  ThreadsealError,
  type AllocateInput,
  type EvaluateTransactionName,
  type IssueLicenseInput,
  type LedgerEvent,
  type SplitLicenseInput,
  type StartBuildInput,
  type SubmitTransactionName,
  type TransactionInput,
  type TransactionOutput,
} from '@threadseal/ledger-model';
import type { Caller } from '../auth/caller';
import type { CustodialKeys } from './custodial-keys';
import type {
  CallOptions,
  CommittedResult,
  GatewayLedger,
  PrepareHints,
  SigningStep,
} from './gateway-ledger';

/** What the Fabric ledger of a gateway is made of. */
export interface FabricGatewayLedgerOptions {
  /** The one gRPC client to the org's peer, shared by every request; the creator closes it. */
  readonly client: GrpcClient;
  readonly mspId: string;
  readonly channel: string;
  readonly chaincode: string;
  readonly custodial: CustodialKeys;
  /** Fingerprint of the custodial identity that reads the chaincode events the dashboard shows. */
  readonly eventsIdentity?: string;
  readonly deadlines?: Partial<LedgerDeadlines>;
  readonly retry?: RetryPolicy;
  readonly causal?: CausalGroup;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const json = (bytes: Uint8Array): unknown =>
  bytes.length === 0 ? null : (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown);

/**
 * The gateway's ledger on Fabric: every call made as the request's caller over the one shared gRPC client.
 * Custodial callers' calls are signed with the key the gateway holds for them; anyone else signs each step
 * themselves (offline signing), so the gateway never holds their key.
 */
export class FabricGatewayLedger implements GatewayLedger {
  readonly #options: FabricGatewayLedgerOptions;
  /** One reused connection per custodial identity, by certificate fingerprint. */
  readonly #kept = new Map<string, ThreadsealLedger>();
  /** Blocks the org's peer is known to hold (its height); every connection of the gateway goes to it. */
  #peerHeight = 0n;
  /** The height query in flight, shared by the requests waiting for a block. */
  #heightQuery: Promise<bigint> | undefined;

  constructor(options: FabricGatewayLedgerOptions) {
    this.#options = options;
  }

  #identity(caller: Caller) {
    return { mspId: this.#options.mspId, credentials: Buffer.from(caller.certificatePem, 'utf8') };
  }

  /**
   * The custodial caller's ledger: one connection per custodial identity, kept and reused for every request
   * (also those that name an `afterBlock`: the wait is done here, over the same connection).
   */
  #custodial(caller: Caller): ThreadsealLedger {
    const held = this.#options.custodial.identityFor(caller.fingerprint);
    if (!held) {
      throw new ThreadsealError(
        'FORBIDDEN',
        `${caller.name} keeps its own key: sign this transaction through /v1/transactions/prepare`,
      );
    }
    let ledger = this.#kept.get(caller.fingerprint);
    if (!ledger) {
      ledger = this.#ledger(caller, held.signer);
      this.#kept.set(caller.fingerprint, ledger);
    }
    return ledger;
  }

  /**
   * Waits, at most `catchUpMs`, until the org's peer holds block `afterBlock` (read your writes across orgs),
   * asking it for its height over `ledger`'s connection; then goes ahead (the read or endorsement may then
   * see older state, as without the header). Every connection of the gateway goes to the same peer, so the
   * height learnt by one request is known to all: a request naming a block the peer is known to hold sends
   * nothing, and requests waiting at the same time share one height query.
   */
  async #reach(ledger: ThreadsealLedger, afterBlock: bigint | undefined): Promise<void> {
    if (afterBlock === undefined || this.#peerHeight > afterBlock) return;
    const deadline = Date.now() + (this.#options.deadlines?.catchUpMs ?? DEFAULT_DEADLINES.catchUpMs);
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      this.#heightQuery ??= ledger.client.connection.peerHeight().finally(() => {
        this.#heightQuery = undefined;
      });
      this.#heard(await this.#heightQuery);
      if (this.#peerHeight > afterBlock || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Records that the peer holds `height` blocks (0 … height − 1); lower heights leave it unchanged. */
  #heard(height: bigint): void {
    if (height > this.#peerHeight) this.#peerHeight = height;
  }

  #ledger(
    caller: Caller,
    signer: Parameters<typeof LedgerConnection.connect>[0]['signer'],
  ): ThreadsealLedger {
    const { client, channel, chaincode, deadlines } = this.#options;
    const connection = LedgerConnection.connect({
      client,
      identity: this.#identity(caller),
      signer,
      channel,
      chaincode,
      ...(deadlines ? { deadlines } : {}),
    });
    return threadsealLedger(new LedgerClient(connection, this.#options.retry ?? DEFAULT_RETRY));
  }

  async submit<N extends SubmitTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
    options: CallOptions = {},
  ): Promise<CommittedResult<TransactionOutput<N>>> {
    const ledger = this.#custodial(caller);
    await this.#reach(ledger, options.afterBlock);
    const committed = await this.#send(ledger, name, input);
    // The peer reported the commit, so it holds that block.
    this.#heard(committed.blockNumber + 1n);
    this.#options.causal?.observeCommit(committed.blockNumber);
    return {
      value: committed.value as TransactionOutput<N>,
      transactionId: committed.transactionId,
      blockNumber: committed.blockNumber.toString(),
      attempts: committed.attempts,
    };
  }

  /** One place decides each transaction's transport: confidential terms and build requests go transient. */
  async #send(
    ledger: ThreadsealLedger,
    name: SubmitTransactionName,
    input: unknown,
  ): Promise<{ value: unknown; transactionId: string; blockNumber: bigint; attempts: number }> {
    switch (name) {
      case 'license:Issue':
        return ledger.licenses.issue(input as IssueLicenseInput);
      case 'license:Split': {
        const split = input as SplitLicenseInput;
        const parent = await ledger.licenses.get(split.parentId);
        return ledger.licenses.split(split, { parent: parent.license });
      }
      case 'license:Allocate': {
        const allocate = input as AllocateInput;
        const license = await ledger.licenses.get(allocate.licenseId);
        return ledger.licenses.allocate(allocate, { license: license.license });
      }
      case 'build:Start': {
        const start = input as StartBuildInput;
        const license = await ledger.licenses.get(start.request.licenseId);
        return ledger.builds.start(start, { license: license.license });
      }
      default:
        return ledger.client.submit(name, input as never);
    }
  }

  async evaluate<N extends EvaluateTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
    options: CallOptions = {},
  ): Promise<TransactionOutput<N>> {
    const ledger = this.#custodial(caller);
    await this.#reach(ledger, options.afterBlock);
    return ledger.client.evaluate(name, input);
  }

  #offline(caller: Caller): OfflineSigningSession {
    const { client, channel, chaincode, deadlines } = this.#options;
    return OfflineSigningSession.connect({
      client,
      identity: this.#identity(caller),
      channel,
      chaincode,
      ...(deadlines ? { deadlines } : {}),
    });
  }

  prepare(
    caller: Caller,
    name: SubmitTransactionName | EvaluateTransactionName,
    input: unknown,
    hints: PrepareHints,
  ): SigningStep & { readonly transactionId: string } {
    const license = { confidential: hints.licenseConfidential === true };
    let argument: unknown = input;
    let transient: Readonly<Record<string, string>> = {};
    switch (name) {
      case 'license:Issue':
        ({ argument, transient } = confidentialTransport({ name, input: input as IssueLicenseInput }));
        break;
      case 'license:Split':
        ({ argument, transient } = confidentialTransport({
          name,
          input: input as SplitLicenseInput,
          parent: license,
        }));
        break;
      case 'license:Allocate':
        ({ argument, transient } = confidentialTransport({
          name,
          input: input as AllocateInput,
          license,
        }));
        break;
      case 'build:Start':
        ({ argument, transient } = confidentialTransport({
          name,
          input: input as StartBuildInput,
          license,
        }));
        break;
      default:
        break;
    }
    const session = this.#offline(caller);
    try {
      const entries = Object.entries(transient);
      const proposal = session.prepare(name, [JSON.stringify(argument)], {
        ...(entries.length > 0
          ? { transient: Object.fromEntries(entries.map(([k, v]) => [k, Buffer.from(v, 'utf8')])) }
          : {}),
      });
      return {
        bytes: b64(proposal.bytes),
        digest: b64(proposal.digest),
        transactionId: proposal.transactionId,
      };
    } finally {
      session.close();
    }
  }

  async evaluateSigned(caller: Caller, proposal: Uint8Array, signature: Uint8Array): Promise<unknown> {
    const session = this.#offline(caller);
    try {
      return json(await session.evaluate(proposal, signature));
    } finally {
      session.close();
    }
  }

  async endorse(
    caller: Caller,
    proposal: Uint8Array,
    signature: Uint8Array,
  ): Promise<SigningStep & { readonly transactionId: string; readonly result: unknown }> {
    const session = this.#offline(caller);
    try {
      const transaction = await session.endorse(proposal, signature);
      return {
        bytes: b64(transaction.bytes),
        digest: b64(transaction.digest),
        transactionId: transaction.transactionId,
        result: json(transaction.result),
      };
    } finally {
      session.close();
    }
  }

  async submitSigned(caller: Caller, transaction: Uint8Array, signature: Uint8Array): Promise<SigningStep> {
    const session = this.#offline(caller);
    try {
      const commit = await session.submit(transaction, signature);
      return { bytes: b64(commit.bytes), digest: b64(commit.digest) };
    } finally {
      session.close();
    }
  }

  async commitStatus(
    caller: Caller,
    commit: Uint8Array,
    signature: Uint8Array,
  ): Promise<{ readonly transactionId: string; readonly blockNumber: string }> {
    const session = this.#offline(caller);
    try {
      const committed = await session.commitStatus(commit, signature);
      this.#heard(committed.blockNumber + 1n);
      this.#options.causal?.observeCommit(committed.blockNumber);
      return { transactionId: committed.transactionId, blockNumber: committed.blockNumber.toString() };
    } finally {
      session.close();
    }
  }

  ready(): Promise<boolean> {
    return new Promise((resolve) => {
      this.#options.client.waitForReady(Date.now() + 2_000, (err) => {
        resolve(!err);
      });
    });
  }

  watchEvents(listener: (event: LedgerEvent, blockNumber: string) => void): () => void {
    const fingerprint = this.#options.eventsIdentity;
    const held = fingerprint === undefined ? undefined : this.#options.custodial.identityFor(fingerprint);
    if (!held) return () => undefined;
    const state = { stopped: false };
    let close: (() => void) | undefined;
    const ledger = this.#ledger(
      {
        mspId: this.#options.mspId,
        name: held.name,
        role: null,
        qualifications: [],
        certificatePem: held.certificatePem,
        fingerprint: fingerprint ?? '',
      },
      held.signer,
    );
    const run = async (): Promise<void> => {
      while (!state.stopped) {
        try {
          const stream = await ledger.client.connection.ledgerEvents();
          close = () => {
            stream.close();
          };
          for await (const e of stream) listener(e.event, e.blockNumber.toString());
        } catch {
          // The stream broke (peer restart, deadline): reopen it after a pause unless stopped.
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    };
    void run();
    return () => {
      state.stopped = true;
      close?.();
      ledger.close();
    };
  }

  close(): void {
    // The gRPC client belongs to whoever created it; per-request connections are closed as they finish.
    for (const ledger of this.#kept.values()) ledger.close();
    this.#kept.clear();
  }
}
