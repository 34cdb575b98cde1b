import { expect } from 'chai';
import {
  TRANSACTIONS,
  TX,
  transactionSpec,
  type EvaluateTransactionName,
  type JsonTransactionName,
  type SubmitTransactionName,
  type TransactionInput,
  type TransactionName,
  type TransactionOutput,
} from './transactions.js';

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time: the JSON transactions are exactly those outside the system contract, split by kind.
const jsonAreNonSystem: Equal<Exclude<TransactionName, `system:${string}`>, JsonTransactionName> = true;
const kindsPartition: Equal<SubmitTransactionName | EvaluateTransactionName, JsonTransactionName> = true;
const outputByName: Equal<TransactionOutput<'build:Start'>, TransactionOutput<'build:Get'>> = true;
const inputByName: Equal<TransactionInput<'trace:GetPart'>, { readonly partId: string }> = true;

// @ts-expect-error build:Start consumes a unit: it can only be submitted, never evaluated.
const startIsNoQuery: EvaluateTransactionName = 'build:Start';
// @ts-expect-error license:Get only reads: submitting it would order a transaction that changes nothing.
const getIsNoMutation: SubmitTransactionName = 'license:Get';
// @ts-expect-error a name outside the catalogue.
const unknownName: TransactionName = 'build:Restart';

describe('transaction catalogue', () => {
  it('names exactly the JSON-argument transactions of TX', () => {
    expect([jsonAreNonSystem, kindsPartition, outputByName, inputByName]).to.deep.equal([
      true,
      true,
      true,
      true,
    ]);
    expect([startIsNoQuery, getIsNoMutation, unknownName]).to.have.length(3);
    const fromTx = Object.values(TX).flatMap((names) => Object.values(names) as string[]);
    expect(fromTx.sort()).to.deep.equal(Object.keys(TRANSACTIONS).sort());
    expect([TX.build.start, TX.system.whoAmI, TX.trace.getDsiTree]).to.deep.equal([
      'build:Start',
      'system:WhoAmI',
      'trace:GetDsiTree',
    ]);
  });

  it('marks exactly the Get transactions as queries', () => {
    const json = Object.entries(TRANSACTIONS).filter(([, spec]) => spec.argument === 'json');
    const evaluated = json.filter(([, spec]) => spec.kind === 'evaluate').map(([name]) => name);
    expect(evaluated.sort()).to.deep.equal(
      json
        .map(([name]) => name)
        .filter((name) => name.includes(':Get'))
        .sort(),
    );
  });

  it('lists the transient fields of the transactions that carry confidential data, and none elsewhere', () => {
    const withTransient = Object.fromEntries(
      Object.entries(TRANSACTIONS)
        .filter(([, spec]) => spec.transient.length > 0)
        .map(([name, spec]) => [name, spec.transient]),
    );
    expect(withTransient).to.deep.equal({
      'license:Issue': ['terms'],
      'license:Split': ['terms', 'terms.<parentId>'],
      'license:Allocate': ['terms.<licenseId>'],
      'build:Start': ['startBuild', 'terms.<licenseId>'],
    });
  });

  it('looks a transaction up by name, refusing names outside the catalogue', () => {
    expect(transactionSpec('build:Start').kind).to.equal('submit');
    expect(() => transactionSpec('build:Restart')).to.throw(
      TypeError,
      'build:Restart is not a threadseal transaction',
    );
  });
});
