import type {
  EvaluateTransactionName,
  LedgerEvent,
  SubmitTransactionName,
  TransactionInput,
  TransactionOutput,
} from '@threadseal/ledger-model';
import type { Caller } from '../auth/caller';

/** A committed submit as the gateway reports it. */
export interface CommittedResult<T = unknown> {
  readonly value: T;
  readonly transactionId: string;
  readonly blockNumber: string;
  /** Endorse-and-submit rounds it took (> 1 after MVCC-conflict retries). */
  readonly attempts: number;
}

/** Bytes for the caller to sign, in base64, with what they belong to. */
export interface SigningStep {
  /** base64 of the message, handed back unchanged with the signature. */
  readonly bytes: string;
  /** base64 of the SHA-256 digest to sign (ECDSA P-256, DER, low S). */
  readonly digest: string;
}

/** What one request asks of the ledger besides its transaction. */
export interface CallOptions {
  /**
   * Read-your-writes across orgs: the block of a commit the caller saw (from any org's gateway); the
   * gateway waits (bounded) until its own peer holds it before it endorses or evaluates.
   */
  readonly afterBlock?: bigint;
}

/** Confidentiality the caller states for a non-custodial split, allocation or build start (the gateway cannot read it for them). */
export interface PrepareHints {
  /** True when the licence the transaction spends from (the parent of a split) keeps its terms confidential. */
  readonly licenseConfidential?: boolean;
}

/**
 * What the gateway needs from the ledger, every call as the request's caller: custodial submits and reads
 * (the gateway signs with the caller's service key), the four steps of a non-custodial transaction (the
 * caller signs), readiness, and the chaincode's events. The Fabric implementation is `FabricGatewayLedger`;
 * unit tests pass a fake of this interface.
 */
export interface GatewayLedger {
  /**
   * Submits as the caller with its custodial key; resolves on a VALID commit (MVCC losers retried).
   * @throws ThreadsealError FORBIDDEN when the gateway holds no key of the caller; the ledger's errors.
   */
  submit<N extends SubmitTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
    options?: CallOptions,
  ): Promise<CommittedResult<TransactionOutput<N>>>;
  /** Evaluates as the caller with its custodial key. @throws as {@link GatewayLedger.submit}. */
  evaluate<N extends EvaluateTransactionName>(
    caller: Caller,
    name: N,
    input: TransactionInput<N>,
    options?: CallOptions,
  ): Promise<TransactionOutput<N>>;
  /** The unsigned proposal of a transaction as the caller; nothing is sent. */
  prepare(
    caller: Caller,
    name: SubmitTransactionName | EvaluateTransactionName,
    input: unknown,
    hints: PrepareHints,
  ): SigningStep & { readonly transactionId: string };
  /** Evaluates a signed proposal: the decoded result. */
  evaluateSigned(caller: Caller, proposal: Uint8Array, signature: Uint8Array): Promise<unknown>;
  /** Endorses a signed proposal: the transaction to sign and the endorsed result. */
  endorse(
    caller: Caller,
    proposal: Uint8Array,
    signature: Uint8Array,
  ): Promise<SigningStep & { readonly transactionId: string; readonly result: unknown }>;
  /** Orders a signed transaction: the commit-status request to sign. */
  submitSigned(caller: Caller, transaction: Uint8Array, signature: Uint8Array): Promise<SigningStep>;
  /** Waits for the commit of a signed commit-status request; resolves only when VALID. */
  commitStatus(
    caller: Caller,
    commit: Uint8Array,
    signature: Uint8Array,
  ): Promise<{ readonly transactionId: string; readonly blockNumber: string }>;
  /** True when the org's peer answers (its gRPC channel is ready). */
  ready(): Promise<boolean>;
  /**
   * Calls `listener` with each chaincode event committed from now on, read as the gateway's events identity;
   * returns the function that stops it. Without an events identity, never calls it.
   */
  watchEvents(listener: (event: LedgerEvent, blockNumber: string) => void): () => void;
  close(): void;
}
