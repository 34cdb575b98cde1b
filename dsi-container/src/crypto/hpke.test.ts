import { createPrivateKey, diffieHellman, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { AEAD, keySchedule, openBase, sealBase } from './hpke';
import { decodePoint } from './p256';

/** RFC 9180 Appendix A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base, sequence 0. */
const A31 = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  skEm: '4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb',
  pkEm: '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4',
  skRm: 'f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2',
  pkRm: '04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0',
  sharedSecret: 'c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8',
  key: '868c066ef58aae6dc589b6cfdd18f97e',
  baseNonce: '4e0bc5018beba4bf004cca59',
  aad: '436f756e742d30',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  ct: '5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434',
};

function privateFromHex(d: string, point: string): KeyObject {
  const p = Buffer.from(point, 'hex');
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(d, 'hex').toString('base64url'),
      x: p.subarray(1, 33).toString('base64url'),
      y: p.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

describe('HPKE (RFC 9180) base mode with DHKEM(P-256, HKDF-SHA256)', () => {
  const hex = (h: string): Buffer => Buffer.from(h, 'hex');
  const skE = privateFromHex(A31.skEm, A31.pkEm);
  const skR = privateFromHex(A31.skRm, A31.pkRm);
  const pkR = decodePoint(hex(A31.pkRm)) as KeyObject;

  it('derives the key and base nonce of RFC 9180 A.3.1', () => {
    const ks = keySchedule(AEAD.aes128gcm, hex(A31.sharedSecret), hex(A31.info));
    expect(ks.key.toString('hex')).to.equal(A31.key);
    expect(ks.baseNonce.toString('hex')).to.equal(A31.baseNonce);
  });

  it('seals to the ciphertext of RFC 9180 A.3.1 with its ephemeral key', () => {
    const sealed = sealBase(AEAD.aes128gcm, pkR, hex(A31.info), hex(A31.aad), hex(A31.pt), skE);
    expect(sealed.enc.toString('hex')).to.equal(A31.pkEm);
    expect(sealed.ciphertext.toString('hex')).to.equal(A31.ct);
  });

  it('opens the RFC 9180 A.3.1 ciphertext using only an ECDH callback', async () => {
    const pt = await openBase(
      AEAD.aes128gcm,
      (peer) => Promise.resolve(diffieHellman({ privateKey: skR, publicKey: peer })),
      pkR,
      hex(A31.pkEm),
      hex(A31.info),
      hex(A31.aad),
      hex(A31.ct),
    );
    expect(pt?.toString('hex')).to.equal(A31.pt);
  });

  it('round-trips with AES-256-GCM and fails closed on a different info', async () => {
    const sealed = sealBase(AEAD.aes256gcm, pkR, Buffer.from('a'), Buffer.alloc(0), Buffer.from('keys'));
    const ecdh = (peer: KeyObject): Promise<Buffer> =>
      Promise.resolve(diffieHellman({ privateKey: skR, publicKey: peer }));
    expect(
      (
        await openBase(
          AEAD.aes256gcm,
          ecdh,
          pkR,
          sealed.enc,
          Buffer.from('a'),
          Buffer.alloc(0),
          sealed.ciphertext,
        )
      )?.toString(),
    ).to.equal('keys');
    expect(
      await openBase(
        AEAD.aes256gcm,
        ecdh,
        pkR,
        sealed.enc,
        Buffer.from('b'),
        Buffer.alloc(0),
        sealed.ciphertext,
      ),
    ).to.equal(undefined);
  });

  it('rejects an encapsulated key that is not a point on P-256', async () => {
    const bad = Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)]);
    const ecdh = (): Promise<Buffer> => Promise.reject(new Error('must not be called'));
    expect(
      await openBase(AEAD.aes256gcm, ecdh, pkR, bad, Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(48)),
    ).to.equal(undefined);
  });
});
