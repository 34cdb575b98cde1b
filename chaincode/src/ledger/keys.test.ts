import { expect } from 'chai';
import { UnitTestLedger, UnitTestStub } from '@threadseal/test-support/chaincode';
import { printableKey } from './codec.js';
import { termsCollection } from './collections.js';
import { peersOf, policyOrgs } from './endorsement.js';
import { LedgerKeys, TREE_KIND } from './keys.js';

describe('ledger keys, endorsement policies and collections', () => {
  const keys = new LedgerKeys(
    new UnitTestStub(new UnitTestLedger(), { txId: 't', timestamp: new Date(0), mspId: 'X' }),
  );

  it('builds composite keys with one object type per record kind', () => {
    expect(printableKey(keys.allocation('L1', 'm1'))).to.equal('allocation~L1~m1');
    expect(printableKey(keys.nonce('m1', 'n1'))).to.equal('nonce~m1~n1');
    expect(printableKey(keys.treeEntry('D1', TREE_KIND.build, ['tx1']))).to.equal('tree~D1~build~tx1');
    expect(keys.treePrefix('D1', TREE_KIND.part)).to.deep.equal({
      objectType: 'tree',
      attributes: ['D1', 'part'],
    });
  });

  it('requires one peer of each distinct org', () => {
    expect(policyOrgs(peersOf('SubcontractorMSP', 'ManufacturerMSP'))).to.deep.equal([
      'ManufacturerMSP',
      'SubcontractorMSP',
    ]);
    expect(policyOrgs(peersOf('ManufacturerMSP', 'ManufacturerMSP'))).to.deep.equal(['ManufacturerMSP']);
  });

  it('names one collection per unordered pair of orgs', () => {
    expect(termsCollection('OemMSP', 'ManufacturerMSP')).to.equal('terms-ManufacturerMSP-OemMSP');
    expect(termsCollection('ManufacturerMSP', 'OemMSP')).to.equal('terms-ManufacturerMSP-OemMSP');
    expect(termsCollection('ManufacturerMSP', 'ManufacturerMSP')).to.equal('terms-ManufacturerMSP');
  });
});

describe('chaincode/collections.json', () => {
  it('defines the terms collection of every set of one, two or three channel orgs, members only', async () => {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const config = JSON.parse(
      await fs.readFile(path.join(__dirname, '..', '..', 'collections.json'), 'utf8'),
    ) as { name: string; policy: string; memberOnlyRead: boolean; memberOnlyWrite: boolean }[];
    const orgs = ['OemMSP', 'ManufacturerMSP', 'SubcontractorMSP'];
    const expected = new Set([
      ...orgs.flatMap((a) => orgs.map((b) => termsCollection(a, b))),
      termsCollection(...orgs),
    ]);
    expect(new Set(config.map((collection) => collection.name))).to.deep.equal(expected);
    for (const collection of config)
      expect(collection).to.include({ memberOnlyRead: true, memberOnlyWrite: true });
  });
});
