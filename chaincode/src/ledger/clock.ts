import { LedgerError } from '@threadseal/ledger-model';
import type { ChaincodeStub } from 'fabric-shim-api';
import { txTime, type TxTime } from '@threadseal/rules';

/** The largest accepted distance between a proposal's timestamp and the endorsing peer's clock. */
export const MAX_PROPOSAL_SKEW_MS = 5 * 60 * 1000;

/** The transaction time: the proposal timestamp chosen by the client, identical on every endorser. */
export function transactionTime(stub: ChaincodeStub): TxTime {
  return txTime(stub.getDateTimestamp().toISOString());
}

/**
 * The transaction time, refused when far from the peer's own clock. Used where validity windows or
 * request freshness depend on it, so a client cannot back-date a proposal into an expired license.
 * @throws LedgerError CLOCK_SKEW.
 */
export function checkedTransactionTime(stub: ChaincodeStub, peerNow: () => number): TxTime {
  const now = transactionTime(stub);
  const skew = Math.abs(peerNow() - now.ms);
  if (skew > MAX_PROPOSAL_SKEW_MS) {
    throw new LedgerError(
      'CLOCK_SKEW',
      `proposal timestamp ${now.iso} is ${Math.round(skew / 1000)} s from the peer clock (limit ${MAX_PROPOSAL_SKEW_MS / 1000} s)`,
    );
  }
  return now;
}

/**
 * The peer's wall clock. This is the one non-deterministic read of the chaincode: it only decides whether
 * to endorse at all (endorsers whose clocks disagree simply refuse) and never reaches the written state.
 */
// eslint-disable-next-line no-restricted-properties -- the one allowed wall-clock read, see above.
export const peerClock = (): number => Date.now();
