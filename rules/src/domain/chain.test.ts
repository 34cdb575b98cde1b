import { LedgerError, type Dsi, type License, type LicenseRevocation } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { assertChainUsable, type ChainNode } from './chain.js';
import { txTime } from './time.js';

const DSI: Dsi = {
  dsiId: 'D1',
  ownerMsp: 'OemMSP',
  partNumber: 'P',
  revision: 'A',
  title: 't',
  fileDigests: [],
  ownerCertFingerprint: '',
  status: 'active',
  supersedes: null,
  supersededBy: null,
  revokedReason: null,
  registeredAt: '',
  updatedAt: '',
};
const license = (
  licenseId: string,
  parentId: string | null,
  grantorMsp: string,
  holderMsp: string,
  validUntil = '2027-01-01T00:00:00.000Z',
): License => ({
  licenseId,
  dsiId: 'D1',
  parentId,
  ancestry: parentId === null ? [] : [parentId],
  grantorMsp,
  holderMsp,
  grant: {
    quantity: 1,
    mode: 'manufacturing',
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil,
    maySublicense: true,
    scrapAllowance: 0,
  },
  terms: null,
  termsHash: '',
  confidential: null,
  issuedAt: '',
  issuedTxId: '',
});
const open = (licenseId: string): LicenseRevocation => ({
  licenseId,
  revoked: false,
  revokedAt: null,
  revokedBy: null,
  reason: null,
});
const node = (l: License, revocation: LicenseRevocation = open(l.licenseId)): ChainNode => ({
  license: l,
  revocation,
  terms: null,
});
const ROOT = license('L1', null, 'OemMSP', 'ManufacturerMSP');
const CHILD = license('L2', 'L1', 'ManufacturerMSP', 'SubcontractorMSP', '2026-06-01T00:00:00.000Z');
const NOW = txTime('2026-03-01T00:00:00.000Z');

describe('license chain check', () => {
  it('accepts a linked, unrevoked chain inside every validity window', () => {
    expect(() => {
      assertChainUsable(DSI, [node(ROOT), node(CHILD)], NOW);
    }).not.to.throw();
  });

  it('finds a revoked ancestor without any cascading write', () => {
    const revoked: LicenseRevocation = {
      licenseId: 'L1',
      revoked: true,
      revokedAt: '2026-02-01T00:00:00.000Z',
      revokedBy: 'OemMSP',
      reason: 'audit',
    };
    expect(() => {
      assertChainUsable(DSI, [node(ROOT, revoked), node(CHILD)], NOW);
    }).to.throw(
      LedgerError,
      'LICENSE_REVOKED: license L1 (ancestor of L2) was revoked by OemMSP at 2026-02-01T00:00:00.000Z: audit',
    );
  });

  it('treats validUntil as exclusive and validFrom as inclusive', () => {
    expect(() => {
      assertChainUsable(DSI, [node(ROOT), node(CHILD)], txTime('2026-06-01T00:00:00.000Z'));
    }).to.throw(
      LedgerError,
      'LICENSE_EXPIRED: license L2 expired at 2026-06-01T00:00:00.000Z, now is 2026-06-01T00:00:00.000Z',
    );
    expect(() => {
      assertChainUsable(DSI, [node(ROOT)], txTime('2026-01-01T00:00:00.000Z'));
    }).not.to.throw();
    expect(() => {
      assertChainUsable(DSI, [node(ROOT)], txTime('2025-12-31T23:59:59.999Z'));
    }).to.throw(
      LedgerError,
      'LICENSE_NOT_YET_VALID: license L1 is valid from 2026-01-01T00:00:00.000Z, now is 2025-12-31T23:59:59.999Z',
    );
  });

  it('refuses a chain whose links do not match (corrupt state)', () => {
    expect(() => {
      assertChainUsable(DSI, [node(CHILD)], NOW);
    }).to.throw(LedgerError, 'CORRUPT_STATE: license L2 does not link to DSI D1');
    expect(() => {
      assertChainUsable(DSI, [node(ROOT), node({ ...CHILD, grantorMsp: 'OemMSP' })], NOW);
    }).to.throw(LedgerError, 'CORRUPT_STATE: license L2 does not link to L1');
  });

  it('refuses any chain of a revoked DSI but not of a superseded one', () => {
    expect(() => {
      assertChainUsable({ ...DSI, status: 'revoked', revokedReason: 'recall' }, [node(ROOT)], NOW);
    }).to.throw(LedgerError, 'DSI_NOT_ACTIVE: DSI D1 was revoked: recall');
    expect(() => {
      assertChainUsable({ ...DSI, status: 'superseded' }, [node(ROOT)], NOW);
    }).not.to.throw();
  });
});
