/** A program's process declaration travels in the signed manifest, checked at protect and at read. */
import { expect } from 'chai';
import type { ProcessDeclaration } from '@threadseal/ledger-model';
import { verify } from './verify';
import { expectCode, protectBytes, testBytes, trustedRoots } from '../testing/fixtures';

const DECLARED: ProcessDeclaration = {
  dialect: 'rs274ngc',
  parameters: { spindleSpeed: { min: '8000', max: '12000' }, feedRate: { min: '150.5', max: '600' } },
};

async function refusal(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (err) {
    return err;
  }
  throw new Error('expected a refusal');
}

describe('process declarations in the manifest', () => {
  it('are signed with the manifest and read back exactly; files without one have none', async () => {
    const { bytes } = await protectBytes({
      files: [
        { name: 'part.ngc', source: testBytes(100, 1), process: DECLARED },
        { name: 'part.step', source: testBytes(50, 2) },
      ],
    });
    const verified = await verify(bytes, { trustedRoots: trustedRoots() });
    expect(verified.manifest.files[0]?.process).to.deep.equal(DECLARED);
    expect(verified.manifest.files[1]).to.not.have.property('process');
  });

  it('refuses at protect a declaration that is not canonical, not ordered or not of the documented shape', async () => {
    const bad: unknown[] = [
      { dialect: 'rs274ngc', parameters: { spindleSpeed: { min: '12000', max: '8000' } } },
      { dialect: 'rs274ngc', parameters: { spindleSpeed: { min: '8000.0', max: '9000' } } },
      { dialect: 'rs274ngc', parameters: { spindleSpeed: { min: 8000, max: 9000 } } },
      { dialect: 'rs274ngc', parameters: { 'spindle speed': { min: '1', max: '2' } } },
      { dialect: 'RS274', parameters: {} },
      { dialect: 'rs274ngc', parameters: {}, extra: true },
      { dialect: 'rs274ngc', parameters: { feedRate: { min: 'NaN', max: '2' } } },
    ];
    for (const process of bad) {
      const err = await refusal(
        protectBytes({
          files: [{ name: 'part.ngc', source: testBytes(10, 1), process: process as ProcessDeclaration }],
        }),
      );
      expectCode(err, 'INVALID_ARGUMENT', JSON.stringify(process));
    }
  });
});
