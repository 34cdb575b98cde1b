/**
 * PKCS#11 with SoftHSM2: keys generated in a throw-away token (own SOFTHSM2_CONF under a temp
 * dir) sign and unwrap a DSI, and the private key cannot be exported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Pkcs11Token } from './pkcs11';
import { expectCode, openAndDrain, PKI_DIR, protectBytes, testBytes } from '../testing/fixtures';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '1234';
const LABEL = 'threadseal-test';

describe('PKCS#11 token keys (SoftHSM2)', function () {
  this.timeout(60_000);
  let dir = '';
  let token: Pkcs11Token | undefined;

  before(function () {
    if (!existsSync(LIBRARY)) {
      console.log(`      (skipped: ${LIBRARY} is absent — apt-get install softhsm2)`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'dsi-softhsm-'));
    const conf = path.join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf;
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', LABEL, '--so-pin', '5678', '--pin', PIN],
      { stdio: 'ignore' },
    );
    token = Pkcs11Token.open({ library: LIBRARY, tokenLabel: LABEL, pin: PIN });
    token.generateKeyPair('signer', 'sign');
    token.generateKeyPair('recipient', 'derive');
  });

  after(() => {
    token?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates private keys that are sensitive, not extractable, and whose value cannot be read', () => {
    const t = token as Pkcs11Token;
    expect(t.privateKeyFlags('recipient')).to.deep.equal({ sensitive: true, extractable: false });
    let error: unknown;
    try {
      t.readPrivateKeyValue('recipient');
    } catch (err) {
      error = err;
    }
    const e = expectCode(error, 'TOKEN_ERROR');
    expect(e.message).to.match(/CKR_ATTRIBUTE_SENSITIVE/);
  });

  it('generates keys for one use each: the signing key cannot derive, the recipient key cannot sign', async () => {
    const t = token as Pkcs11Token;
    expect(t.privateKeyUsage('signer')).to.deep.equal({ sign: true, derive: false });
    expect(t.privateKeyUsage('recipient')).to.deep.equal({ sign: false, derive: true });
    // The token itself refuses the other use (CKR_KEY_FUNCTION_NOT_PERMITTED), not only our flags.
    const signed = await t
      .signingKey('recipient')
      .sign(Buffer.from('a StartBuild request'))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(expectCode(signed, 'TOKEN_ERROR').message).to.match(
      /CKR_KEY_FUNCTION_NOT_PERMITTED|CKR_KEY_TYPE_INCONSISTENT/,
    );
    let derived: unknown;
    try {
      await t.recipientKey('signer').deriveSharedSecret(t.keyPair('recipient').publicKey);
    } catch (err) {
      derived = err;
    }
    expect(expectCode(derived, 'TOKEN_ERROR').message).to.match(
      /CKR_KEY_FUNCTION_NOT_PERMITTED|CKR_KEY_TYPE_INCONSISTENT/,
    );
  });

  it('signs a DSI with a token key certified by the test CA and opens it with a token recipient key', async () => {
    const t = token as Pkcs11Token;
    // Certify the token's public key with the test root CA (openssl -force_pubkey, throw-away CSR).
    const pub = path.join(dir, 'signer.pub.pem');
    writeFileSync(pub, t.keyPair('signer').publicKey.export({ type: 'spki', format: 'pem' }));
    const csr = path.join(dir, 'any.csr');
    const csrKey = path.join(dir, 'any.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        csrKey,
        '-subj',
        '/O=ThreadSeal Test/OU=client/CN=hsm-owner@org1',
        '-out',
        csr,
      ],
      { stdio: 'ignore' },
    );
    const cert = path.join(dir, 'signer.cert.pem');
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        path.join(PKI_DIR, 'root-ca.cert.pem'),
        '-CAkey',
        path.join(PKI_DIR, 'root-ca.key.pem'),
        '-CAcreateserial',
        '-CAserial',
        path.join(dir, 'serial'),
        '-force_pubkey',
        pub,
        '-days',
        '30',
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const signer = t.signer('signer', readFileSync(cert));
    const recipient = t.recipientKey('recipient');
    const data = testBytes(1000, 77);
    const { bytes } = await protectBytes({
      files: [{ name: 'hsm.gcode', source: data }],
      signer,
      recipients: [recipient.publicKey],
    });
    const opened = await openAndDrain(bytes, recipient);
    expect(opened.error).to.equal(undefined);
    expect(opened.files.get('hsm.gcode')?.equals(data)).to.equal(true);
  });
});
