import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { expect } from 'chai';
import { isLowSDer, normaliseDer, parseDerSignature, rawToLowSDer } from './ecdsa';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

describe('ECDSA P-256 low-S normalisation', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = Buffer.from('manifest');

  it('normalises 200 signatures to low S that still verify', () => {
    let sawHigh = false;
    for (let i = 0; i < 200; i++) {
      const der = sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' });
      sawHigh ||= !isLowSDer(der);
      const low = normaliseDer(der);
      expect(isLowSDer(low)).to.equal(true);
      expect(verify('sha256', msg, { key: publicKey, dsaEncoding: 'der' }, low)).to.equal(true);
    }
    expect(sawHigh, 'OpenSSL produces high-S signatures about half the time').to.equal(true);
  });

  it('converts a PKCS#11 raw r‖s signature to low-S DER', () => {
    const raw = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const der = rawToLowSDer(raw);
    const sig = parseDerSignature(der);
    expect(sig && sig.s <= N / 2n).to.equal(true);
    expect(verify('sha256', msg, { key: publicKey, dsaEncoding: 'der' }, der)).to.equal(true);
  });

  it('rejects non-minimal DER', () => {
    const der = normaliseDer(sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }));
    const padded = Buffer.concat([
      Buffer.of(0x30, (der[1] ?? 0) + 1, 0x02, (der[3] ?? 0) + 1, 0x00),
      der.subarray(4),
    ]);
    expect(parseDerSignature(padded)).to.equal(undefined);
  });
});
