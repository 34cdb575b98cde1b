import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, verify, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isThreadsealError } from '@threadseal/ledger-model';
import { gatewayConfig } from '../config';
import { hasOpenssl, OpensslCa, type TestCredential } from '../testing/openssl-pki';
import { CustodialKeys, type CustodialPkcs11 } from './custodial-keys';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '4711-custodial';

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isThreadsealError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('custodial keys in a PKCS#11 token (SoftHSM2)', function () {
  this.timeout(60_000);
  let dir = '';
  let ca: OpensslCa | undefined;
  let mes: TestCredential;
  let other: TestCredential;
  const previousConf = process.env['SOFTHSM2_CONF'];
  const opened: CustodialKeys[] = [];

  const entry = (
    overrides: Partial<CustodialPkcs11['pkcs11']> = {},
    certFile = 'mes.pem',
  ): CustodialPkcs11 => ({
    name: 'mes',
    certFile: join(dir, certFile),
    pkcs11: {
      library: LIBRARY,
      token: 'gateway-test',
      pinEnv: 'TEST_GATEWAY_PIN',
      keyId: 'mes',
      ...overrides,
    },
  });

  before(function () {
    if (!existsSync(LIBRARY) || !hasOpenssl()) {
      console.log(`      (skipped: ${LIBRARY} or openssl is absent — apt-get install softhsm2 openssl)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'gateway-softhsm-'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env['SOFTHSM2_CONF'] = conf;
    ca = new OpensslCa('oem-ca');
    mes = ca.client('mes', { role: 'machine-admin' });
    other = ca.client('plm', { role: 'ip-admin' });
    writeFileSync(join(dir, 'mes.pem'), mes.certPem);
    writeFileSync(join(dir, 'plm.pem'), other.certPem);
    // The key goes into the token (CKA_LABEL "mes", CKA_ID the bytes of "mes"); the copy on disk is removed.
    const keyFile = join(dir, 'mes.key');
    writeFileSync(keyFile, createPrivateKey(mes.keyPem).export({ type: 'pkcs8', format: 'pem' }));
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'gateway-test', '--so-pin', '5678', '--pin', PIN],
      {
        stdio: 'ignore',
      },
    );
    execFileSync(
      'softhsm2-util',
      [
        '--import',
        keyFile,
        '--token',
        'gateway-test',
        '--label',
        'mes',
        '--id',
        Buffer.from('mes').toString('hex'),
        '--pin',
        PIN,
      ],
      { stdio: 'ignore' },
    );
    rmSync(keyFile);
  });

  after(function () {
    for (const keys of opened) keys.close();
    ca?.dispose();
    if (previousConf === undefined) delete process.env['SOFTHSM2_CONF'];
    else process.env['SOFTHSM2_CONF'] = previousConf;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs Fabric digests and DSI manifests inside the token, verifiable with the identity’s certificate', async function () {
    const keys = await CustodialKeys.fromConfig([entry()], 'OemMSP', { TEST_GATEWAY_PIN: PIN });
    opened.push(keys);
    const fingerprint = createHash('sha256').update(new X509Certificate(mes.certPem).raw).digest('hex');
    const identity = keys.identityFor(fingerprint);
    expect(identity?.name).to.equal('mes');
    expect(identity?.keyStore).to.equal('pkcs11');
    const publicKey = new X509Certificate(mes.certPem).publicKey;
    const message = randomBytes(100);
    const fabric = await identity?.signer(createHash('sha256').update(message).digest());
    expect(verify('sha256', message, publicKey, Buffer.from(fabric ?? []))).to.equal(true);
    const dsi = await identity?.dsiSigner?.sign(message);
    expect(verify('sha256', message, publicKey, Buffer.from(dsi ?? []))).to.equal(true);
    expect(keys.names).to.deep.equal(['mes']);
    keys.close();
    opened.length = 0;
  });

  it('refuses to start without the PIN variable, naming the variable, and holds no key then', async function () {
    expect(await refusal(CustodialKeys.fromConfig([entry()], 'OemMSP', {}))).to.deep.equal({
      code: 'USAGE',
      message:
        'USAGE: custodial identity mes: the PIN of token gateway-test is expected in the environment variable TEST_GATEWAY_PIN, which is not set',
    });
  });

  it('refuses a wrong PIN with CONNECTION_FAILED and never shows a PIN in the message', async function () {
    const wrong = await refusal(
      CustodialKeys.fromConfig([entry()], 'OemMSP', { TEST_GATEWAY_PIN: '0000-wrong' }),
    );
    expect(wrong.code).to.equal('CONNECTION_FAILED');
    expect(wrong.message).to.match(
      /^CONNECTION_FAILED: custodial identity mes: the key mes of token gateway-test cannot be used/,
    );
    expect(wrong.message).to.match(/\(CKR_PIN_INCORRECT\)$/);
    expect(wrong.message).not.to.include('0000-wrong');
    expect(wrong.message).not.to.include(PIN);
  });

  it('refuses a token key that is not the key of the configured certificate', async function () {
    const mismatch = await refusal(
      CustodialKeys.fromConfig([entry({}, 'plm.pem')], 'OemMSP', { TEST_GATEWAY_PIN: PIN }),
    );
    expect(mismatch.code).to.equal('CONNECTION_FAILED');
    expect(mismatch.message).to.match(
      /the key mes of token gateway-test cannot be used \(CONNECTION_FAILED: the token key with CKA_ID mes is not the key of .*plm\.pem\)$/,
    );
    const wrongId = await refusal(
      CustodialKeys.fromConfig([entry({ keyId: 'nothing-here' })], 'OemMSP', { TEST_GATEWAY_PIN: PIN }),
    );
    expect(wrongId.code).to.equal('CONNECTION_FAILED');
  });

  it('takes no PIN in the configuration file: only the name of its environment variable', function () {
    const base = { org: 'oem', profileFile: 'p.json', serverCertFile: 'c.pem', serverKeyFile: 'k.pem' };
    const withPin = { ...entry(), pkcs11: { ...entry().pkcs11, pin: PIN } };
    expect(() => gatewayConfig({ ...base, custodial: [withPin] })).to.throw(
      /custodial\[0\]\.pkcs11\.pin: a PIN is never written here; name its environment variable in pinEnv/,
    );
    const missing = {
      name: 'mes',
      certFile: 'x.pem',
      pkcs11: { library: LIBRARY },
    } as unknown as CustodialPkcs11;
    expect(() => gatewayConfig({ ...base, custodial: [missing] })).to.throw(
      /custodial\[0\]\.pkcs11\.token is required; custodial\[0\]\.pkcs11\.pinEnv is required; custodial\[0\]\.pkcs11\.keyId is required/,
    );
    expect(gatewayConfig({ ...base, custodial: [entry()] }).custodial).to.have.length(1);
  });
});
