/**
 * Signer paths that chain to the trusted root but must not sign a DSI, and expected-signer
 * pinning. Certificates: test-pki/policy/ (generate-policy.sh, issued under the Test Root CA).
 */
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { open } from '../container/open';
import { verify, type VerifyOptions } from '../container/verify';
import type { DsiErrorCode } from '../errors';
import {
  expectCode,
  pem,
  protectBytes,
  recipientA,
  testBytes,
  testSigner,
  trustedRoots,
} from '../testing/fixtures';

const PLAIN = testBytes(300, 3);

async function sealedBy(signer: string, chain: readonly string[] = [], mspId?: string): Promise<Buffer> {
  const { bytes } = await protectBytes({
    signer: testSigner(
      `policy/${signer}`,
      chain.map((c) => `policy/${c}`),
    ),
    files: [{ name: 'part.gcode', source: PLAIN }],
    ...(mspId === undefined ? {} : { mspId }),
  });
  return bytes;
}

/** Opens and drains `bytes`, counting plaintext released even if a later step fails. */
async function openWith(
  bytes: Buffer,
  extra: Partial<VerifyOptions> = {},
): Promise<{ released: number; plain?: Buffer; error?: unknown }> {
  let released = 0;
  try {
    const opened = await open(bytes, recipientA(), { trustedRoots: trustedRoots(), ...extra });
    const parts: Buffer[] = [];
    try {
      for (const f of opened.files)
        for await (const p of f.stream()) {
          released += (p as Buffer).length;
          parts.push(p as Buffer);
        }
    } finally {
      await opened.close();
    }
    return { released, plain: Buffer.concat(parts) };
  } catch (error) {
    return { released, error };
  }
}

async function expectRefused(
  bytes: Buffer,
  code: DsiErrorCode,
  message: string,
  extra: Partial<VerifyOptions> = {},
): Promise<void> {
  const r = await openWith(bytes, extra);
  expect(r.released, 'plaintext released').to.equal(0);
  expect(expectCode(r.error, code).message).to.equal(`${code}: ${message}`);
  const v = await verify(bytes, { trustedRoots: trustedRoots(), ...extra }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expectCode(v, code, 'verify');
}

describe('DSI signer path policy', function () {
  this.timeout(20_000);

  it('opens a DSI whose signer is inside the name constraints of its CA (control)', async () => {
    const r = await openWith(await sealedBy('nc-inside-signer', ['nc-ca']));
    expect(r.error).to.equal(undefined);
    expect(r.plain?.equals(PLAIN)).to.equal(true);
  });

  it('refuses a path longer than a CA pathLenConstraint allows with PATH_LENGTH_EXCEEDED', async () => {
    await expectRefused(
      await sealedBy('deep-signer', ['sub-ca', 'pathlen0-ca']),
      'PATH_LENGTH_EXCEEDED',
      'CA certificate "O=ThreadSeal Test, CN=Pathlen 0 CA" allows 0 CA certificate(s) below it; the signer path has 1',
    );
  });

  it('refuses a signer outside its CA name constraints with NAME_CONSTRAINT_VIOLATION', async () => {
    await expectRefused(
      await sealedBy('nc-outside-signer', ['nc-ca']),
      'NAME_CONSTRAINT_VIOLATION',
      'signer path of "O=ThreadSeal Test, OU=org1, CN=ip-owner@org1" is invalid: Failed to meet "permitted sub-trees" name constraint',
    );
  });

  it('refuses a CA certificate as signer with SIGNER_NOT_A_LEAF', async () => {
    await expectRefused(
      await sealedBy('ca-signer'),
      'SIGNER_NOT_A_LEAF',
      'signer certificate "O=ThreadSeal Test, OU=client, CN=ca-as-leaf@org1" is a CA certificate (basicConstraints cA=true), not an end entity',
    );
  });

  it('refuses a TLS-only signer (serverAuth, clientAuth) with SIGNER_KEY_USAGE', async () => {
    await expectRefused(
      await sealedBy('tls-signer'),
      'SIGNER_KEY_USAGE',
      'signer certificate "O=ThreadSeal Test, OU=peer, CN=peer0.org1" is a TLS certificate (extendedKeyUsage 1.3.6.1.5.5.7.3.1, 1.3.6.1.5.5.7.3.2)',
    );
  });

  it('refuses a signer without the digitalSignature key usage with SIGNER_KEY_USAGE', async () => {
    await expectRefused(
      await sealedBy('no-sign-signer'),
      'SIGNER_KEY_USAGE',
      'signer certificate "O=ThreadSeal Test, OU=client, CN=key-agreement@org1" does not allow digitalSignature',
    );
  });

  it('refuses a signer with an unknown critical extension with UNKNOWN_CRITICAL_EXTENSION', async () => {
    await expectRefused(
      await sealedBy('critical-signer'),
      'UNKNOWN_CRITICAL_EXTENSION',
      'certificate "O=ThreadSeal Test, OU=client, CN=critical@org1" has critical extension 1.3.6.1.4.1.55555.1, which is not processed',
    );
  });
});

describe('DSI expected-signer pinning', function () {
  this.timeout(20_000);
  const signer = new X509Certificate(pem('signer.cert.pem'));
  const other = new X509Certificate(pem('other-signer.cert.pem'));
  const hex = (f: string): string => f.replace(/:/g, '').toLowerCase();

  it('opens a DSI from the pinned signer (fingerprint in either form, MSP id, subject)', async () => {
    const { bytes } = await protectBytes({ files: [{ name: 'part.gcode', source: PLAIN }], mspId: 'OemMSP' });
    for (const expectedSigner of [
      { fingerprint256: signer.fingerprint256 },
      { fingerprint256: hex(signer.fingerprint256), mspId: 'OemMSP', subject: signer.subject },
    ]) {
      const r = await openWith(bytes, { expectedSigner });
      expect(r.error).to.equal(undefined);
      expect(r.plain?.equals(PLAIN)).to.equal(true);
    }
  });

  it('refuses a trusted signer other than the pinned one with UNEXPECTED_SIGNER', async () => {
    const { bytes } = await protectBytes({ files: [{ name: 'part.gcode', source: PLAIN }], mspId: 'OemMSP' });
    await expectRefused(
      bytes,
      'UNEXPECTED_SIGNER',
      `signer "O=ThreadSeal Test, OU=client, CN=ip-owner@org1" has certificate fingerprint ${hex(signer.fingerprint256)}, expected ${hex(other.fingerprint256)}`,
      { expectedSigner: { fingerprint256: other.fingerprint256 } },
    );
    await expectRefused(
      bytes,
      'UNEXPECTED_SIGNER',
      'signer "O=ThreadSeal Test, OU=client, CN=ip-owner@org1" signed for MSP OemMSP, expected CmMSP',
      { expectedSigner: { mspId: 'CmMSP' } },
    );
    await expectRefused(
      bytes,
      'UNEXPECTED_SIGNER',
      'signer "O=ThreadSeal Test, OU=client, CN=ip-owner@org1" is not the expected "O=ThreadSeal Test, OU=client, CN=someone-else@org1"',
      { expectedSigner: { subject: other.subject } },
    );
  });

  it('rejects an empty pin with INVALID_ARGUMENT', async () => {
    const { bytes } = await protectBytes({ files: [{ name: 'part.gcode', source: PLAIN }] });
    await expectRefused(bytes, 'INVALID_ARGUMENT', 'expectedSigner names no fingerprint, MSP id or subject', {
      expectedSigner: {},
    });
  });
});
