import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { verify } from '@threadseal/dsi-container';
import type { LedgerConnection } from '@threadseal/ledger-client';
import { closeConnections, connectAs } from '../fixtures/ledger';
import {
  orgEnrollmentCaPem,
  restAs,
  startOrgGateway,
  stopGateways,
  type GatewayProcess,
} from '../fixtures/gateways';
import { testNetwork } from '../fixtures/network-fixture';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const PIN_ENV = 'THREADSEAL_TEST_GATEWAY_HSM_PIN';

describe('the gateway signs as a custodial identity whose key is in a PKCS#11 token (SoftHSM2)', function () {
  const run = randomBytes(3).toString('hex');
  const plm = `plm-hsm-${run}`;
  const pin = randomBytes(8).toString('hex');
  let dir = '';
  let certPem = '';
  let oem: GatewayProcess;
  let audit: LedgerConnection;
  const previous = { conf: process.env['SOFTHSM2_CONF'], pin: process.env[PIN_ENV] };

  before(async function () {
    if (!existsSync(LIBRARY)) {
      console.log(`    skipped: ${LIBRARY} is absent (apt-get install softhsm2)`);
      this.skip();
    }
    const files = await testNetwork().registerUser('oem', plm, { role: 'ip-admin' });
    certPem = readFileSync(files.cert, 'utf8');
    dir = mkdtempSync(join(tmpdir(), 'threadseal-gateway-hsm-'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    // The gateway process inherits these: the token's location and the PIN, never on its command line.
    process.env['SOFTHSM2_CONF'] = conf;
    process.env[PIN_ENV] = pin;
    const label = `oem-gw-${run}`;
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', label, '--so-pin', '5678', '--pin', pin],
      {
        stdio: 'ignore',
      },
    );
    const p8 = join(dir, 'plm.p8');
    writeFileSync(p8, createPrivateKey(readFileSync(files.key)).export({ type: 'pkcs8', format: 'pem' }));
    execFileSync(
      'softhsm2-util',
      [
        '--import',
        p8,
        '--token',
        label,
        '--label',
        plm,
        '--id',
        Buffer.from(plm).toString('hex'),
        '--pin',
        pin,
      ],
      { stdio: 'ignore' },
    );
    rmSync(p8);
    // The gateway is given no path to a key file (only the certificate and the token): it can only sign in
    // the token. The caller keeps its key file for its own side of mutual TLS.
    oem = await startOrgGateway('oem', `hsm-${run}`, [], undefined, undefined, testNetwork(), undefined, {
      custodial: [
        {
          name: plm,
          certFile: files.cert,
          pkcs11: { library: LIBRARY, token: label, pinEnv: PIN_ENV, keyId: plm },
        },
      ],
    });
    audit = connectAs({ org: 'oem', user: 'ip-admin' });
  });

  after(async function () {
    await stopGateways();
    closeConnections();
    if (previous.conf === undefined) delete process.env['SOFTHSM2_CONF'];
    else process.env['SOFTHSM2_CONF'] = previous.conf;
    if (previous.pin === undefined) Reflect.deleteProperty(process.env, PIN_ENV);
    else process.env[PIN_ENV] = previous.pin;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('seals an upload into a DSI signed in the token and commits its registration VALID, signed in the token', async function () {
    expect(oem.child.spawnargs.join(' ')).not.to.include(pin);
    const call = restAs(oem, 'oem', plm);
    const who = await call('GET', '/v1/whoami');
    expect(who.body).to.include({ name: plm, role: 'ip-admin', custodial: true });
    const machine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const heightBefore = await audit.peerHeight();
    const res = await call('POST', '/v1/dsis/protect', {
      title: `HSM bracket ${run}`,
      partNumber: `HSM-${run}`,
      revision: 'A',
      files: [{ name: 'part.gcode', content: Buffer.from('G1 X1 Y2\n').toString('base64') }],
      recipients: [machine.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    });
    expect(res.status, res.text).to.equal(200);
    const body = res.body as { container: string; value: { dsiId: string }; blockNumber: string };
    expect(BigInt(body.blockNumber) >= heightBefore, body.blockNumber).to.equal(true);
    // The manifest was signed in the token: it verifies against the OEM's CA, pinned to the PLM's certificate.
    const verified = await verify(new Uint8Array(Buffer.from(body.container, 'base64')), {
      trustedRoots: [orgEnrollmentCaPem('oem')],
      expectedSigner: {
        fingerprint256: createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex'),
      },
    });
    expect(verified.dsiId).to.equal(body.value.dsiId);
    // Read back as the custodial identity: in this gateway only it has a key the gateway signs with.
    const read = await call('GET', `/v1/dsis/${body.value.dsiId}`, undefined, {
      'x-threadseal-after-block': body.blockNumber,
    });
    expect(read.status, read.text).to.equal(200);
  });
});
