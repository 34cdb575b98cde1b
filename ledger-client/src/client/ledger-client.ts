import {
  type EvaluateTransactionName,
  type SubmitTransactionName,
  type TransactionInput,
  type TransactionOutput,
} from '@threadseal/ledger-model';
import type { LedgerConnection } from '../connection/ledger-connection';
import { gatewayErrorOf, toLedgerError, TransactionInvalidError } from '../connection/ledger-errors';

export { toLedgerError } from '../connection/ledger-errors';

/** Validation codes after which the same proposal may succeed when endorsed again on fresh state. */
const RETRYABLE = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

/** How a client retries transactions that lost an MVCC race. */
export interface RetryPolicy {
  /** Total attempts, the first included (1 = never retry). */
  readonly maxAttempts: number;
  /** Base back-off; attempt n waits base × 2^(n−1) plus up to 50 % jitter. */
  readonly backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, backoffMs: 50 };

/** Options of one submit. */
export interface SubmitOptions {
  /** MSP ids that must endorse; by default the gateway derives them from chaincode- and key-level policies. */
  readonly endorsingOrgs?: readonly string[];
  /** Private values sent outside the transaction (confidential license terms). */
  readonly transient?: Readonly<Record<string, string>>;
  readonly retry?: RetryPolicy;
  /**
   * Called with each attempt's transaction id before it is endorsed: a caller that loses the commit status
   * (a crash, a lost connection) can look the transaction up by that id afterwards.
   */
  readonly onTransactionId?: (transactionId: string) => void;
}

/** A committed JSON transaction: its output and where it is on the ledger. */
export interface Committed<T> {
  readonly value: T;
  readonly transactionId: string;
  readonly blockNumber: bigint;
  /** How many times it was endorsed and submitted (> 1 after MVCC retries). */
  readonly attempts: number;
}

/** What the retry classifier knows about a submit besides its error. */
export interface SubmitContext {
  /** The MSP id the submitting connection acts for. */
  readonly ownMspId?: string;
  /** The orgs the submit asked to endorse; absent when the gateway chose them (its own org first). */
  readonly endorsingOrgs?: readonly string[];
}

/**
 * True for the ways a transaction loses a race that endorsing again on fresh state resolves, and only those:
 * - an MVCC or phantom read conflict at commit;
 * - endorsing peers at different heights returning different read sets ("ProposalResponsePayloads do not
 *   match");
 * - a stale-peer refusal: our own org's peer endorsed (it is among the endorsers and not among the refusals)
 *   while other orgs' peers refused, because they have not yet committed the block our peer has.
 *
 * Anything else is deterministic and is not retried — in particular a refusal by every endorser when our own
 * org is not among them (`endorsingOrgs` without `ownMspId`), whatever code the chaincode gave.
 */
export function isTransientConflict(err: unknown, context: SubmitContext = {}): boolean {
  if (err instanceof TransactionInvalidError) return RETRYABLE.has(err.validationCode);
  // The peers' answers are in fabric-gateway's error, which our errors keep as their cause.
  const gateway = gatewayErrorOf(err);
  if (!gateway || gateway.details.length === 0) return false;
  if (gateway.details.every((d) => d.message.includes('ProposalResponsePayloads do not match'))) return true;
  const { ownMspId, endorsingOrgs } = context;
  if (ownMspId === undefined) return false;
  const ownOrgEndorsed = endorsingOrgs === undefined || endorsingOrgs.includes(ownMspId);
  return ownOrgEndorsed && gateway.details.every((d) => d.mspId !== ownMspId);
}

function encodeTransient(transient: Readonly<Record<string, string>>): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(transient).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
}

/**
 * The typed ledger client: one JSON argument in, the decoded JSON result out, business refusals as
 * `LedgerError` (code + message), and only a VALID commit as success. Aggregate clients wrap it.
 */
export class LedgerClient {
  readonly #connection: LedgerConnection;
  readonly #retry: RetryPolicy;

  constructor(connection: LedgerConnection, retry: RetryPolicy = DEFAULT_RETRY) {
    this.#connection = connection;
    this.#retry = retry;
  }

  /** The MSP id this client acts for. */
  get mspId(): string {
    return this.#connection.mspId;
  }

  /** `operatorFingerprint` of the identity this client acts as: what a machine's StartBuild request names. */
  get operator(): string {
    return this.#connection.operator;
  }

  get connection(): LedgerConnection {
    return this.#connection;
  }

  /**
   * Endorses, orders and waits for a VALID commit, retrying MVCC losers per the retry policy.
   * @throws LedgerError when the chaincode refuses; TransactionInvalidError when the commit is not VALID.
   */
  async submit<N extends SubmitTransactionName>(
    name: N,
    input: TransactionInput<N>,
    options: SubmitOptions = {},
  ): Promise<Committed<TransactionOutput<N>>> {
    const retry = options.retry ?? this.#retry;
    const arg = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.#connection.submit(name, [arg], {
          ...(options.endorsingOrgs ? { endorsingOrgs: options.endorsingOrgs } : {}),
          ...(options.transient ? { transient: encodeTransient(options.transient) } : {}),
          ...(options.onTransactionId ? { onTransactionId: options.onTransactionId } : {}),
        });
        return {
          value: JSON.parse(Buffer.from(committed.result).toString('utf8')) as TransactionOutput<N>,
          transactionId: committed.transactionId,
          blockNumber: committed.blockNumber,
          attempts: attempt,
        };
      } catch (err) {
        const context = {
          ownMspId: this.mspId,
          ...(options.endorsingOrgs ? { endorsingOrgs: options.endorsingOrgs } : {}),
        };
        if (!isTransientConflict(err, context) || attempt >= retry.maxAttempts) throw toLedgerError(err);
        const wait = retry.backoffMs * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, wait + Math.random() * wait * 0.5));
      }
    }
  }

  /**
   * Evaluates a read-only transaction on the org's peer; a transaction that changes the ledger does not
   * type-check here, so an evaluated result can never pass for a commit.
   * @throws LedgerError when the chaincode refuses (NOT_FOUND, FORBIDDEN, …).
   */
  async evaluate<N extends EvaluateTransactionName>(
    name: N,
    input: TransactionInput<N>,
  ): Promise<TransactionOutput<N>> {
    try {
      const bytes = await this.#connection.evaluate(name, [JSON.stringify(input)]);
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as TransactionOutput<N>;
    } catch (err) {
      throw toLedgerError(err);
    }
  }

  /** Closes the connection (and the gRPC client when the connection owns it). */
  close(): void {
    this.#connection.close();
  }
}
