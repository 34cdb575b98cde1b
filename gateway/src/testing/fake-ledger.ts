import type {
  EvaluateTransactionName,
  LedgerEvent,
  SubmitTransactionName,
  TransactionInput,
  TransactionOutput,
} from '@threadseal/ledger-model';
import type { Caller } from '../auth/caller';
import type { CommittedResult, GatewayLedger, SigningStep } from '../ledger/gateway-ledger';

/** One call the fake received. */
export interface FakeCall {
  readonly method: string;
  readonly caller: string;
  readonly name?: string;
  readonly input?: unknown;
}

/**
 * TEST-ONLY: a {@link GatewayLedger} that records what reaches it and answers from a script, for the unit
 * tests of the HTTP layer. `writes` counts the calls that would change the ledger.
 */
export class FakeLedger implements GatewayLedger {
  readonly calls: FakeCall[] = [];
  /** Answers of evaluate, by transaction name. */
  readonly reads = new Map<string, unknown>();
  /** When set, every submit and evaluate throws it. */
  failure: Error | undefined;
  isReady = true;
  /** When true, each evaluate waits (after it is recorded) until {@link FakeLedger.release}. */
  hold = false;
  readonly #held: (() => void)[] = [];
  #block = 10n;
  #listeners = new Set<(event: LedgerEvent, blockNumber: string) => void>();

  /** Calls that would write to the ledger (submits and signed submits). */
  get writes(): number {
    return this.calls.filter((c) => c.method === 'submit' || c.method === 'submitSigned').length;
  }

  async submit<N extends SubmitTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
  ): Promise<CommittedResult<TransactionOutput<N>>> {
    this.calls.push({ method: 'submit', caller: caller.name, name, input });
    await Promise.resolve();
    if (this.failure !== undefined) throw this.failure;
    this.#block++;
    return {
      value: input as unknown as TransactionOutput<N>,
      transactionId: `tx${this.#block}`,
      blockNumber: this.#block.toString(),
      attempts: 1,
    };
  }

  async evaluate<N extends EvaluateTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
  ): Promise<TransactionOutput<N>> {
    this.calls.push({ method: 'evaluate', caller: caller.name, name, input });
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    await Promise.resolve();
    if (this.failure !== undefined) throw this.failure;
    return (this.reads.get(name) ?? {}) as TransactionOutput<N>;
  }

  prepare(caller: Caller, name: string, input: unknown): SigningStep & { readonly transactionId: string } {
    this.calls.push({ method: 'prepare', caller: caller.name, name, input });
    return {
      bytes: Buffer.from(`proposal ${name}`).toString('base64'),
      digest: Buffer.alloc(32, 1).toString('base64'),
      transactionId: 'tx-offline',
    };
  }

  evaluateSigned(caller: Caller): Promise<unknown> {
    this.calls.push({ method: 'evaluateSigned', caller: caller.name });
    return Promise.resolve({ ok: true });
  }

  endorse(
    caller: Caller,
  ): Promise<SigningStep & { readonly transactionId: string; readonly result: unknown }> {
    this.calls.push({ method: 'endorse', caller: caller.name });
    return Promise.resolve({
      bytes: Buffer.from('transaction').toString('base64'),
      digest: Buffer.alloc(32, 2).toString('base64'),
      transactionId: 'tx-offline',
      result: { endorsed: true },
    });
  }

  submitSigned(caller: Caller): Promise<SigningStep> {
    this.calls.push({ method: 'submitSigned', caller: caller.name });
    return Promise.resolve({
      bytes: Buffer.from('commit').toString('base64'),
      digest: Buffer.alloc(32, 3).toString('base64'),
    });
  }

  commitStatus(caller: Caller): Promise<{ readonly transactionId: string; readonly blockNumber: string }> {
    this.calls.push({ method: 'commitStatus', caller: caller.name });
    return Promise.resolve({ transactionId: 'tx-offline', blockNumber: '42' });
  }

  ready(): Promise<boolean> {
    return Promise.resolve(this.isReady);
  }

  watchEvents(listener: (event: LedgerEvent, blockNumber: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Lets every held evaluate go on, and stops holding. */
  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }

  /** Delivers an event as if the peer had committed it. */
  emit(event: LedgerEvent, blockNumber = '1'): void {
    for (const l of this.#listeners) l(event, blockNumber);
  }

  close(): void {
    this.#listeners.clear();
  }
}
