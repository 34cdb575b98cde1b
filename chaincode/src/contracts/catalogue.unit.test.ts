import '@threadseal/test-support/quiet-logs';
import { TRANSACTIONS, TX } from '@threadseal/ledger-model';
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
    const evaluated = [...served.entries()].flatMap(([contract, txs]) =>
      txs.filter((tx) => tx.tag.includes('EVALUATE')).map((tx) => `${contract}:${tx.name}`),
    );
    const queries = Object.entries(TRANSACTIONS)
      .filter(([, spec]) => spec.kind === 'evaluate')
      .map(([name]) => name);
    expect(evaluated.sort()).to.deep.equal(queries.sort());
  });
});

describe('docs/ledger-model.md "Calling the chaincode"', () => {
  it('documents every JSON transaction of TX, and only those', async () => {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const doc = await fs.readFile(path.join(__dirname, '..', '..', '..', 'docs', 'ledger-model.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## 8. Calling the chaincode'));
    const documented = [...section.matchAll(/^\| `([a-z]+:[A-Za-z]+)` +\|/gm)]
      .map((m) => m[1] ?? '')
      .filter((name) => !name.startsWith('system:'));
    const modelled = Object.entries(TX)
      .filter(([contract]) => contract !== 'system')
      .flatMap(([, names]) => Object.values(names) as string[]);
    expect(documented.sort()).to.deep.equal(modelled.sort());
  });
});
