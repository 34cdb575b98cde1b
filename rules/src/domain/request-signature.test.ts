import { generateKeyPairSync, sign } from 'node:crypto';
import {
  LedgerError,
  START_BUILD_REQUEST_TYPE,
  startBuildSigningBytes,
  type Machine,
  type StartBuildRequest,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import { assertRequestAuthentic } from './request-signature.js';
import { txTime } from './time.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const MACHINE: Machine = {
  machineId: 'm1',
  ownerMsp: 'X',
  make: 'EOS',
  model: 'M290',
  serial: 'S',
  firmware: '1',
  certifications: [],
  publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  recipientPublicKeyPem: '',
  status: 'active',
  registeredAt: '',
  deactivatedAt: null,
  deactivationReason: null,
};
const REQUEST: StartBuildRequest = {
  type: START_BUILD_REQUEST_TYPE,
  licenseId: 'L1',
  machineId: 'm1',
  operator: 'ab'.repeat(32),
  nonce: 'nonce-0001',
  issuedAt: '2026-03-01T10:00:00.000Z',
  parameters: { laserPower: 300, material: 'Ti-6Al-4V' },
};
const NOW = txTime('2026-03-01T10:01:00.000Z');
const signed = (request: StartBuildRequest, encoding: 'der' | 'ieee-p1363' = 'der'): string =>
  sign('sha256', startBuildSigningBytes(request), { key: privateKey, dsaEncoding: encoding }).toString(
    'base64',
  );

describe('machine request signature', () => {
  it('signs the canonical JSON: keys sorted, no whitespace', () => {
    expect(Buffer.from(startBuildSigningBytes(REQUEST)).toString('utf8')).to.equal(
      '{"issuedAt":"2026-03-01T10:00:00.000Z","licenseId":"L1","machineId":"m1","nonce":"nonce-0001","operator":"abababababababababababababababababababababababababababababababab","parameters":{"laserPower":300,"material":"Ti-6Al-4V"},"type":"threadseal.start-build.v2"}',
    );
  });

  it('accepts a DER signature by the registered key, whatever the key order the client used', () => {
    const reordered = JSON.parse(
      JSON.stringify({
        parameters: REQUEST.parameters,
        type: REQUEST.type,
        nonce: REQUEST.nonce,
        machineId: 'm1',
        operator: REQUEST.operator,
        licenseId: 'L1',
        issuedAt: REQUEST.issuedAt,
      }),
    ) as StartBuildRequest;
    expect(() => {
      assertRequestAuthentic(MACHINE, reordered, signed(REQUEST), NOW);
    }).not.to.throw();
  });

  it('refuses a raw (P1363) signature, garbage, and a changed field', () => {
    const message =
      'BAD_SIGNATURE: StartBuild request nonce nonce-0001 is not signed by the registered key of machine m1';
    expect(() => {
      assertRequestAuthentic(MACHINE, REQUEST, signed(REQUEST, 'ieee-p1363'), NOW);
    }).to.throw(LedgerError, message);
    expect(() => {
      assertRequestAuthentic(MACHINE, REQUEST, 'AAAA', NOW);
    }).to.throw(LedgerError, message);
    expect(() => {
      assertRequestAuthentic(MACHINE, { ...REQUEST, licenseId: 'L2' }, signed(REQUEST), NOW);
    }).to.throw(LedgerError, message);
  });

  it('refuses a request issued more than 5 minutes from the transaction, either way', () => {
    const late = { ...REQUEST, issuedAt: '2026-03-01T10:06:00.000Z' };
    expect(() => {
      assertRequestAuthentic(MACHINE, late, signed(late), NOW);
    }).not.to.throw();
    const future = { ...REQUEST, issuedAt: '2026-03-01T10:06:00.001Z' };
    expect(() => {
      assertRequestAuthentic(MACHINE, future, signed(future), NOW);
    }).to.throw(
      LedgerError,
      'STALE_REQUEST: StartBuild request nonce nonce-0001 was issued at 2026-03-01T10:06:00.001Z, 300 s from the transaction time 2026-03-01T10:01:00.000Z (limit 300 s)',
    );
  });
});
