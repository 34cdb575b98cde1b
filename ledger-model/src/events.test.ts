import { expect } from 'chai';
import { EVENT, parseLedgerEvent } from './events.js';

describe('ledger events', () => {
  it('decode a known event into its typed payload', () => {
    const bytes = new TextEncoder().encode('{"dsiId":"d","ownerMsp":"OemMSP","reason":"recall"}');
    const event = parseLedgerEvent(EVENT.dsiRevoked, bytes);
    expect(event).to.deep.equal({
      name: 'DsiRevoked',
      payload: { dsiId: 'd', ownerMsp: 'OemMSP', reason: 'recall' },
    });
  });

  it('skip unknown events', () => {
    expect(parseLedgerEvent('SomethingNew', new Uint8Array())).to.equal(undefined);
  });
});
