import { GatewayError } from '@hyperledger/fabric-gateway';
import {
  LedgerError,
  parseLedgerError,
  type JsonTransactionName,
  type TransactionIo,
} from '@threadseal/ledger-model';
import { LedgerConnection, TransactionInvalidError, type LedgerUser } from '../ledger/ledger-connection';

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
}

/** A committed JSON transaction: its output and where it is on the ledger. */
export interface Committed<T> {
  readonly value: T;
  readonly transactionId: string;
  readonly blockNumber: bigint;
  /** How many times it was endorsed and submitted (> 1 after MVCC retries). */
  readonly attempts: number;
}

/**
 * True for the ways a transaction loses a race that endorsing again on fresh state resolves: an MVCC
 * conflict at commit; endorsing peers at different heights returning different read sets
 * ("ProposalResponsePayloads do not match"); or, given `ownMspId`, only other orgs' peers refusing while
 * our own peer (the one that confirmed our previous commit) accepted: those peers have not yet committed
 * the block we just saw committed, and answer from stale state.
 */
export function isTransientConflict(err: unknown, ownMspId?: string): boolean {
  if (err instanceof TransactionInvalidError) return RETRYABLE.has(err.validationCode);
  if (err instanceof GatewayError && err.details.length > 0) {
    if (err.details.every((d) => d.message.includes('ProposalResponsePayloads do not match'))) return true;
    return ownMspId !== undefined && err.details.every((d) => d.mspId !== ownMspId);
  }
  return false;
}

/**
 * Turns what a peer said into a LedgerError when the chaincode refused with one of our codes.
 * Chaincode messages reach the client inside the gateway error's details, one per endorsing peer.
 */
export function toLedgerError(err: unknown): unknown {
  if (err instanceof GatewayError) {
    const texts = [err.message, ...err.details.map((d) => d.message)];
    for (const text of texts) {
      const parsed = parseLedgerError(text);
      if (parsed) return new LedgerError(parsed.code, parsed.message.slice(parsed.code.length + 2));
    }
  }
  return err;
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

  /** Connects as `user@org` with the profile written by `threadseal network up`. */
  static open(profileFile: string, who: LedgerUser, retry?: RetryPolicy): LedgerClient {
    return new LedgerClient(LedgerConnection.open(profileFile, who), retry);
  }

  /** The MSP id this client acts for. */
  get mspId(): string {
    return this.#connection.org.mspId;
  }

  get connection(): LedgerConnection {
    return this.#connection;
  }

  /**
   * Endorses, orders and waits for a VALID commit, retrying MVCC losers per the retry policy.
   * @throws LedgerError when the chaincode refuses; TransactionInvalidError when the commit is not VALID.
   */
  async submit<N extends JsonTransactionName>(
    name: N,
    input: TransactionIo[N]['input'],
    options: SubmitOptions = {},
  ): Promise<Committed<TransactionIo[N]['output']>> {
    const retry = options.retry ?? this.#retry;
    const arg = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.#connection.submit(name, [arg], {
          ...(options.endorsingOrgs ? { endorsingOrgs: options.endorsingOrgs } : {}),
          ...(options.transient ? { transient: encodeTransient(options.transient) } : {}),
        });
        return {
          value: JSON.parse(Buffer.from(committed.result).toString('utf8')) as TransactionIo[N]['output'],
          transactionId: committed.transactionId,
          blockNumber: committed.blockNumber,
          attempts: attempt,
        };
      } catch (err) {
        if (!isTransientConflict(err, this.mspId) || attempt >= retry.maxAttempts) throw toLedgerError(err);
        const wait = retry.backoffMs * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, wait + Math.random() * wait * 0.5));
      }
    }
  }

  /**
   * Evaluates a read-only transaction on the org's peer.
   * @throws LedgerError when the chaincode refuses (NOT_FOUND, FORBIDDEN, …).
   */
  async evaluate<N extends JsonTransactionName>(
    name: N,
    input: TransactionIo[N]['input'],
  ): Promise<TransactionIo[N]['output']> {
    try {
      const bytes = await this.#connection.evaluate(name, [JSON.stringify(input)]);
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as TransactionIo[N]['output'];
    } catch (err) {
      throw toLedgerError(err);
    }
  }

  close(): void {
    this.#connection.close();
  }
}
