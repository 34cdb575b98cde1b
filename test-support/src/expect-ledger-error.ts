import { LedgerError, type LedgerErrorCode } from '@threadseal/ledger-model';
import { expect } from 'chai';

/** Asserts that `action` fails with a LedgerError of `code` whose message is exactly `<code>: <detail>`. */
export async function expectLedgerError(
  action: Promise<unknown> | (() => unknown),
  code: LedgerErrorCode,
  detail: string | RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).to.be.instanceOf(LedgerError);
  const error = caught as LedgerError;
  expect(error.code).to.equal(code);
  if (typeof detail === 'string') expect(error.message).to.equal(`${code}: ${detail}`);
  else expect(error.message).to.match(new RegExp(`^${code}: ${detail.source}`));
}
