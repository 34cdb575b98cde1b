import { expect } from 'chai';
import { QUERY_TRANSACTIONS, type JsonTransactionName } from './transaction-io.js';
import { TX, type TransactionName } from './transactions.js';

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time: the catalogue names exactly the JSON transactions of TX.
const catalogueMatchesTx: Equal<Exclude<TransactionName, `system:${string}`>, JsonTransactionName> = true;

describe('transaction catalogue', () => {
  it('names exactly the JSON-argument transactions of TX', () => {
    expect(catalogueMatchesTx).to.equal(true);
  });

  it('marks exactly the Get transactions as queries', () => {
    const all = Object.entries(TX)
      .filter(([contract]) => contract !== 'system')
      .flatMap(([, names]) => Object.values(names) as JsonTransactionName[]);
    expect([...QUERY_TRANSACTIONS].sort()).to.deep.equal(all.filter((name) => name.includes(':Get')).sort());
  });
});
