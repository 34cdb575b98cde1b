import '../testing/quiet-logs.js';
import { QUERY_TRANSACTIONS, TX, type JsonTransactionName } from '@threadseal/ledger-model';
import { expect } from 'chai';
import 'reflect-metadata';
import { contracts } from '../index.js';

interface TransactionMetadata {
  readonly name: string;
  readonly tag: readonly string[];
}

describe('served contracts match the model package', () => {
  const served = new Map<string, readonly TransactionMetadata[]>();
  for (const ContractClass of contracts as (new () => { getName(): string })[]) {
    const instance = new ContractClass();
    served.set(
      instance.getName(),
      (Reflect.getMetadata('fabric:transactions', Object.getPrototypeOf(instance) as object) ??
        []) as TransactionMetadata[],
    );
  }

  it('serves every transaction of TX, and nothing else, under its contract name', () => {
    const modelled = Object.values(TX)
      .flatMap((names) => Object.values(names) as string[])
      .sort();
    const actual = [...served.entries()]
      .flatMap(([contract, txs]) => txs.map((tx) => `${contract}:${tx.name}`))
      .sort();
    expect(actual).to.deep.equal(modelled);
  });

  it('declares exactly the model’s queries as evaluate-only', () => {
    const evaluated = [...served.entries()]
      .filter(([contract]) => contract !== 'system')
      .flatMap(([contract, txs]) =>
        txs
          .filter((tx) => tx.tag.includes('EVALUATE'))
          .map((tx) => `${contract}:${tx.name}` as JsonTransactionName),
      );
    expect(evaluated.sort()).to.deep.equal([...QUERY_TRANSACTIONS].sort());
  });
});
