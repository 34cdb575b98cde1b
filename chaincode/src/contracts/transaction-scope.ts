import {
  LedgerError,
  TRANSIENT,
  transientTermsField,
  type LedgerEvent,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import type { Context } from 'fabric-contract-api';
import { actorOf } from '../access/access-control.js';
import { type Actor, decodeProductionTerms, parseArgument, termsHash, type TxTime } from '@threadseal/rules';
import { checkedTransactionTime, transactionTime } from '../ledger/clock.js';
import { encode } from '../ledger/codec.js';
import { LedgerRepository, type TermsSource } from '../ledger/repository.js';

/** Everything a transaction needs from its context, built once at its start. */
export interface TransactionScope {
  readonly repository: LedgerRepository;
  readonly actor: Actor;
  readonly txId: string;
  /** The proposal timestamp. */
  readonly now: () => TxTime;
  /** The proposal timestamp, refused when more than 5 minutes from the peer clock. */
  readonly checkedNow: () => TxTime;
  /** Confidential terms the client put in the transient map. */
  readonly transientTerms: TransientTerms;
  /** The JSON value of a transient field, `undefined` when absent. @throws LedgerError INVALID_ARGUMENT when not JSON. */
  readonly transientJson: (field: string) => unknown;
  /** Emits the transaction's single chaincode event. */
  readonly emit: (event: LedgerEvent) => void;
}

/** Opens the scope of one transaction. */
export function openScope(ctx: Context, peerNow: () => number): TransactionScope {
  const stub = ctx.stub;
  return {
    repository: new LedgerRepository(stub),
    actor: actorOf(ctx.clientIdentity),
    txId: stub.getTxID(),
    now: () => transactionTime(stub),
    checkedNow: () => checkedTransactionTime(stub, peerNow),
    transientTerms: new TransientTerms(stub.getTransient()),
    transientJson: (field) => {
      const bytes = stub.getTransient().get(field);
      return bytes === undefined || bytes.length === 0
        ? undefined
        : parseArgument(Buffer.from(bytes).toString('utf8'), `transient field ${field}`);
    },
    emit: (event) => {
      stub.setEvent(event.name, encode(event.payload));
    },
  };
}

/**
 * Confidential production terms passed in the transient map, so they never reach the block. Every endorser
 * reads them identically (no private reads during endorsement, hence identical read sets), and terms of an
 * existing license are accepted only when their hash matches the one on the channel.
 */
export class TransientTerms implements TermsSource {
  readonly #transient: Map<string, Uint8Array>;

  public constructor(transient: Map<string, Uint8Array>) {
    this.#transient = transient;
  }

  #decode(field: string): ProductionTerms | null {
    const bytes = this.#transient.get(field);
    if (bytes === undefined || bytes.length === 0) return null;
    return decodeProductionTerms(
      parseArgument(Buffer.from(bytes).toString('utf8'), `transient field ${field}`),
      `transient.${field}`,
    );
  }

  /** The terms of the license being created (`terms`), or `null`. */
  public newTerms(): ProductionTerms | null {
    return this.#decode(TRANSIENT.terms);
  }

  /** @throws LedgerError INVALID_ARGUMENT when supplied terms do not match the channel's hash. */
  public termsOf(licenseId: string, expectedHash: string): ProductionTerms | null {
    const field = transientTermsField(licenseId);
    const terms = this.#decode(field);
    if (terms === null) return null;
    const actual = termsHash(terms);
    if (actual !== expectedHash)
      throw new LedgerError(
        'INVALID_ARGUMENT',
        `transient ${field} hashes to ${actual}, license ${licenseId} commits to ${expectedHash}`,
      );
    return terms;
  }
}
