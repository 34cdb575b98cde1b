import { GatewayError } from '@hyperledger/fabric-gateway';
import { LedgerError, ThreadsealError, parseLedgerError } from '@threadseal/ledger-model';

/** The transaction reached the ledger but was marked invalid (MVCC conflict, endorsement policy failure, …). */
export class TransactionInvalidError extends ThreadsealError<'TRANSACTION_INVALID'> {
  override readonly name = 'TransactionInvalidError';
  constructor(
    readonly transactionId: string,
    /** Fabric's TxValidationCode name, e.g. `MVCC_READ_CONFLICT`, `ENDORSEMENT_POLICY_FAILURE`. */
    readonly validationCode: string,
    readonly blockNumber: bigint,
  ) {
    super(
      'TRANSACTION_INVALID',
      `transaction ${transactionId} committed INVALID in block ${blockNumber}: ${validationCode}`,
    );
  }
}

/** What one peer answered when it refused to endorse. */
export interface EndorserRefusal {
  readonly mspId: string;
  readonly address: string;
  readonly message: string;
}

/**
 * Endorsement, submission, the commit status or a query failed without one of the chaincode's codes (a
 * peer or orderer unreachable, a deadline passed, peers disagreeing): `details` says what each endorser
 * answered and `cause` is fabric-gateway's error.
 */
export class LedgerUnavailableError extends ThreadsealError<'LEDGER_UNAVAILABLE'> {
  override readonly name = 'LedgerUnavailableError';
  /** The gRPC status code of the failed call. */
  readonly grpcCode: number;
  readonly details: readonly EndorserRefusal[];

  constructor(cause: GatewayError) {
    const details = cause.details.map((d) => ({ mspId: d.mspId, address: d.address, message: d.message }));
    const text = [cause.message, ...details.map((d) => d.message)].join('; ').replace(/\s+/g, ' ').trim();
    super('LEDGER_UNAVAILABLE', text, { cause });
    this.grpcCode = cause.code;
    this.details = details;
  }
}

/** fabric-gateway's error behind `err`, when there is one (the error itself or its cause). */
export function gatewayErrorOf(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  if (err instanceof Error && err.cause instanceof GatewayError) return err.cause;
  return undefined;
}

/**
 * What `err` becomes when it leaves the ledger client: a threadseal error as it is; a peer's refusal that
 * carries one of the chaincode's codes as a `LedgerError` with that code (chaincode messages reach the
 * client inside the gateway error's details, one per endorsing peer); any other fabric-gateway error as
 * `LedgerUnavailableError`; anything else as `INTERNAL`. The original is always the `cause`.
 */
export function toLedgerError(err: unknown): ThreadsealError {
  if (err instanceof ThreadsealError) return err as ThreadsealError;
  if (err instanceof GatewayError) {
    for (const text of [err.message, ...err.details.map((d) => d.message)]) {
      const parsed = parseLedgerError(text);
      if (parsed) {
        return new LedgerError(parsed.code, parsed.message.slice(parsed.code.length + 2), { cause: err });
      }
    }
    return new LedgerUnavailableError(err);
  }
  return new ThreadsealError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/** Runs one call of the connection so that only threadseal errors leave it. */
export async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toLedgerError(err);
  }
}
