import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { isThreadsealError } from '@threadseal/ledger-model';
import type { Caller } from './caller';
import { bearerOf, CallerTokens } from './caller-tokens';

const caller = (name: string, fingerprint: string, role: string | null = 'license-admin'): Caller => ({
  mspId: 'OemMSP',
  name,
  role,
  qualifications: [],
  certificatePem: '',
  fingerprint,
});

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isThreadsealError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('CallerTokens (bearer tokens bound to a certificate)', function () {
  const key = randomBytes(32);
  const mes = caller('mes', 'a'.repeat(64));
  const plm = caller('plm', 'b'.repeat(64), 'ip-admin');
  let clock = 1_800_000_000_000;
  const tokens = new CallerTokens({ mspId: 'OemMSP', key, ttlSeconds: 120, now: () => clock });

  it('issues a token naming the caller’s certificate, MSP and role, accepted with that certificate', function () {
    const issued = tokens.issue(mes);
    expect(issued.tokenType).to.equal('Bearer');
    expect(issued.expiresIn).to.equal(120);
    expect(issued.expiresAt).to.equal(new Date(clock + 120_000).toISOString());
    const claims = tokens.verify(issued.token, mes);
    expect(claims).to.include({ iss: 'OemMSP', sub: 'mes', cnf: mes.fingerprint, role: 'license-admin' });
    expect(claims.exp - claims.iat).to.equal(120);
  });

  it('refuses a token once it expired', function () {
    const issued = tokens.issue(mes);
    clock += 120_000;
    try {
      expect(refusal(() => tokens.verify(issued.token, mes))).to.deep.equal({
        code: 'UNAUTHENTICATED',
        message: `UNAUTHENTICATED: bearer token refused: it expired at ${issued.expiresAt}`,
      });
    } finally {
      clock -= 120_000;
    }
  });

  it('refuses a token whose claims were altered (a role raised), or whose signature was', function () {
    const { token } = tokens.issue(mes);
    const [prefix, payload, mac] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const raised = Buffer.from(JSON.stringify({ ...claims, role: 'ip-admin' })).toString('base64url');
    const flipped = `${mac.slice(0, -2)}${mac.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const forged of [`${prefix}.${raised}.${mac}`, `${prefix}.${payload}.${flipped}`]) {
      expect(refusal(() => tokens.verify(forged, mes))).to.deep.equal({
        code: 'UNAUTHENTICATED',
        message:
          'UNAUTHENTICATED: bearer token refused: its signature does not verify (altered, or issued by another gateway)',
      });
    }
  });

  it('refuses a token of another org’s gateway: 401 with another key, 403 even with the same key', function () {
    const otherKey = new CallerTokens({ mspId: 'ManufacturerMSP' }).issue(mes).token;
    expect(refusal(() => tokens.verify(otherKey, mes)).code).to.equal('UNAUTHENTICATED');
    const sameKey = new CallerTokens({ mspId: 'ManufacturerMSP', key, now: () => clock }).issue(mes).token;
    expect(refusal(() => tokens.verify(sameKey, mes))).to.deep.equal({
      code: 'FORBIDDEN',
      message: 'FORBIDDEN: bearer token of ManufacturerMSP refused: this gateway serves OemMSP',
    });
  });

  it('refuses a token presented with another certificate than the one it was issued to', function () {
    const { token } = tokens.issue(mes);
    expect(refusal(() => tokens.verify(token, plm))).to.deep.equal({
      code: 'UNAUTHENTICATED',
      message:
        'UNAUTHENTICATED: bearer token refused: it is bound to another certificate than the one this connection presented',
    });
  });

  it('refuses what is not a token, and another Authorization scheme', function () {
    for (const junk of [
      '',
      'ts1.',
      'ts1.abc.def',
      `ts2.${'A'.repeat(20)}.${'A'.repeat(43)}`,
      'x'.repeat(5000),
    ])
      expect(refusal(() => tokens.verify(junk, mes)).code, junk.slice(0, 20)).to.equal('UNAUTHENTICATED');
    expect(bearerOf(undefined)).to.equal(undefined);
    expect(bearerOf('Bearer abc')).to.equal('abc');
    expect(refusal(() => bearerOf('Basic bWVzOnB3')).code).to.equal('UNAUTHENTICATED');
  });

  it('refuses a key shorter than 32 bytes and a lifetime over an hour', function () {
    expect(refusal(() => new CallerTokens({ mspId: 'OemMSP', key: randomBytes(16) })).code).to.equal('USAGE');
    expect(refusal(() => new CallerTokens({ mspId: 'OemMSP', ttlSeconds: 7200 })).code).to.equal('USAGE');
  });
});
