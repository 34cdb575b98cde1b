import { createHash, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { operatorFingerprint } from './build.js';

/** A self-signed P-256 certificate made for this test (no key kept): only its bytes matter here. */
const CERTIFICATE_PEM = `-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUL5QYaWMtiD2djDqvg2FtNbN2JQMwCgYIKoZIzj0EAwIw
LzEPMA0GA1UECwwGY2xpZW50MRwwGgYDVQQDDBNmaW5nZXJwcmludC1maXh0dXJl
MB4XDTI2MTIwMjA0MjgzMFoXDTM2MTEyOTA0MjgzMFowLzEPMA0GA1UECwwGY2xp
ZW50MRwwGgYDVQQDDBNmaW5nZXJwcmludC1maXh0dXJlMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEW6cuI27/EjHzNG9XOqZTpzZ9EDWT6dYgp8Q/YTJb5TffQaVD
kOwaviFHViu2qJBb7k1ntAAJ4ovwy6Uwz+DTQ6NTMFEwHQYDVR0OBBYEFJkfOayN
fBzQfueYM/abobnYiBYvMB8GA1UdIwQYMBaAFJkfOayNfBzQfueYM/abobnYiBYv
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgE8KENkYbyudgiWxA
N/vH968QAtSiPeU7G8l6k4Mro04CIQCRGOVN3rPYVjBH9PAwQSdF34H2DTGk8GnS
BR+ICTdqAA==
-----END CERTIFICATE-----
`;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('operatorFingerprint (the operator a StartBuild request names)', () => {
  it('is the SHA-256 of the certificate DER, whatever the PEM wrapping or line endings', () => {
    const der = new X509Certificate(CERTIFICATE_PEM).raw;
    const expected = sha256(der);
    expect(operatorFingerprint(Buffer.from(CERTIFICATE_PEM, 'utf8'))).to.equal(expected);
    expect(operatorFingerprint(CERTIFICATE_PEM.replace(/\n/g, '\r\n'))).to.equal(expected);
    const oneLine = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(operatorFingerprint(oneLine)).to.equal(expected);
    // It is not the hash of the PEM text, which would differ between two clients holding the same certificate.
    expect(expected).to.not.equal(sha256(Buffer.from(CERTIFICATE_PEM, 'utf8')));
  });

  it('tells two certificates apart, and hashes identity bytes that are no PEM certificate as they are', () => {
    const der = new X509Certificate(CERTIFICATE_PEM).raw;
    const flipped = Buffer.from(der);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    const other = `-----BEGIN CERTIFICATE-----\n${flipped.toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(operatorFingerprint(other)).to.not.equal(operatorFingerprint(CERTIFICATE_PEM));
    const idString = Buffer.from('x509::/OU=client/CN=alice::/CN=ca.OrgMSP', 'utf8');
    expect(operatorFingerprint(idString)).to.equal(sha256(idString));
  });
});
