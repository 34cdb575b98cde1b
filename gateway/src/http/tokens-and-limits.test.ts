import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DTO_EXAMPLES } from '@threadseal/rules';
import { httpsAgent, httpsJson, type JsonResponse } from '@threadseal/test-support';
import { CallerTokens } from '../auth/caller-tokens';
import { watchRevocationList } from '../auth/crl-watch';
import { RevocationList } from '../auth/revocation-list';
import { tlsCaller } from '../auth/tls-caller';
import { listenMutualTls } from '../server';
import { FakeLedger } from '../testing/fake-ledger';
import { hasOpenssl, OpensslCa, type TestCredential } from '../testing/openssl-pki';
import { createApp, type GatewayApp, type GatewayLimits } from './app';

type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<JsonResponse>;

describe('bearer tokens, revocation and per-caller limits over mutual TLS (fake ledger)', function () {
  this.timeout(60_000);
  let ca: OpensslCa;
  let otherCa: OpensslCa;
  const users: Record<string, TestCredential> = {};
  const cleanups: (() => void | Promise<void>)[] = [];
  const agents: ReturnType<typeof httpsAgent>[] = [];
  const key = randomBytes(32);
  let clock = Date.now();
  let revocations = RevocationList.empty();

  /** A gateway of OemMSP on its own port, with its own fake ledger. */
  async function gatewayWith(limits: Partial<GatewayLimits> = {}, mspId = 'OemMSP') {
    const ledger = new FakeLedger();
    const org = { name: 'oem', mspId, caCertificatePem: ca.certPem };
    const gateway: GatewayApp = createApp({
      org,
      ledger,
      authenticate: tlsCaller(org, { revocations: () => revocations }),
      tokens: new CallerTokens({ mspId, key, ttlSeconds: 60, now: () => clock }),
      limits,
      log: () => undefined,
    });
    const tls = ca.server();
    const server: Server = await listenMutualTls(gateway, {
      cert: tls.certPem,
      key: tls.keyPem,
      clientCa: ca.certPem,
      host: '127.0.0.1',
      port: 0,
    });
    cleanups.push(async () => {
      gateway.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const as = (user: string): Call => {
      const credential = users[user] as TestCredential;
      const agent = httpsAgent({ cert: credential.certPem, key: credential.keyPem, ca: ca.certPem });
      agents.push(agent);
      return (method, path, body, headers) => httpsJson(agent, url, method, path, body, headers);
    };
    return { ledger, as, server, tls };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tokenOf = async (call: Call): Promise<string> => {
    const res = await call('POST', '/v1/tokens', {});
    expect(res.status, res.text).to.equal(201);
    return (res.body as { token: string }).token;
  };
  const expectRefused = (res: JsonResponse, status: number, code: string, message: RegExp) => {
    expect(res.status, res.text).to.equal(status);
    const body = res.body as { code: string; message: string };
    expect(body.code).to.equal(code);
    expect(body.message).to.match(message);
  };

  before(function () {
    if (!hasOpenssl()) {
      console.log('    skipped: the openssl command line is not installed (apt-get install openssl)');
      this.skip();
    }
    ca = new OpensslCa('oem-ca');
    otherCa = new OpensslCa('manufacturer-ca');
    cleanups.push(() => {
      ca.dispose();
      otherCa.dispose();
    });
    users['ipAdmin'] = ca.client('plm', { role: 'ip-admin' });
    users['mes'] = ca.client('mes', { role: 'license-admin' });
    users['engineer'] = ca.client('engineer', { role: 'engineer' });
  });

  after(async function () {
    for (const a of agents) a.destroy();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  beforeEach(function () {
    clock = Date.now();
    revocations = RevocationList.empty();
  });

  it('issues a token to a caller authenticated by its certificate and accepts it as Authorization: Bearer', async function () {
    const { ledger, as } = await gatewayWith();
    const plm = as('ipAdmin');
    const res = await plm('POST', '/v1/tokens', {});
    expect(res.status, res.text).to.equal(201);
    const body = res.body as { token: string; tokenType: string; expiresIn: number; expiresAt: string };
    expect(body.tokenType).to.equal('Bearer');
    expect(body.expiresIn).to.equal(60);
    expect(Date.parse(body.expiresAt) - clock).to.be.within(59_000, 60_000);
    const who = await plm('GET', '/v1/whoami', undefined, bearer(body.token));
    expect(who.status).to.equal(200);
    expect(who.body).to.include({ mspId: 'OemMSP', name: 'plm', role: 'ip-admin' });
    const issue = await plm('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput, bearer(body.token));
    expect(issue.status, issue.text).to.equal(200);
    expect(ledger.writes).to.equal(1);
  });

  it('issues no token for a request with a body other than {}, nor with a refused token', async function () {
    const { as } = await gatewayWith();
    const plm = as('ipAdmin');
    for (const body of ['[]', '"text"', '42', '{"ttlSeconds":99999}', 'null', '{']) {
      const res = await plm('POST', '/v1/tokens', body);
      expect(res.status, `${body}: ${res.text}`).to.equal(400);
      expect((res.body as { code: string }).code).to.equal('INVALID_ARGUMENT');
    }
    const token = await tokenOf(plm);
    clock += 61_000;
    const renewed = await plm('POST', '/v1/tokens', {}, bearer(token));
    expectRefused(renewed, 401, 'UNAUTHENTICATED', /expired/);
  });

  it('refuses an expired token with 401, and nothing reaches the ledger', async function () {
    const { ledger, as } = await gatewayWith();
    const plm = as('ipAdmin');
    const token = await tokenOf(plm);
    clock += 61_000;
    const res = await plm('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput, bearer(token));
    expectRefused(res, 401, 'UNAUTHENTICATED', /^UNAUTHENTICATED: bearer token refused: it expired at /);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a tampered token with 401 (a role raised in its claims), nothing sent', async function () {
    const { ledger, as } = await gatewayWith();
    const engineer = as('engineer');
    const [prefix, payload, mac] = (await tokenOf(engineer)).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
    const raised = Buffer.from(JSON.stringify({ ...claims, role: 'ip-admin' })).toString('base64url');
    const res = await engineer(
      'POST',
      '/v1/licenses',
      DTO_EXAMPLES.IssueLicenseInput,
      bearer(`${prefix}.${raised}.${mac}`),
    );
    expectRefused(res, 401, 'UNAUTHENTICATED', /its signature does not verify/);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a token of another org’s gateway with 403, nothing sent', async function () {
    const manufacturer = await gatewayWith({}, 'ManufacturerMSP');
    const foreign = await tokenOf(manufacturer.as('ipAdmin'));
    const { ledger, as } = await gatewayWith();
    const res = await as('ipAdmin')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput, bearer(foreign));
    expectRefused(
      res,
      403,
      'FORBIDDEN',
      /bearer token of ManufacturerMSP refused: this gateway serves OemMSP/,
    );
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a stolen token presented with another enrolled certificate (bound to its own), nothing sent', async function () {
    const { ledger, as } = await gatewayWith();
    const stolen = await tokenOf(as('ipAdmin'));
    const res = await as('engineer')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput, bearer(stolen));
    expectRefused(res, 401, 'UNAUTHENTICATED', /bound to another certificate/);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses the token and the certificate of a revoked identity, also on a connection opened before', async function () {
    const { ledger, as } = await gatewayWith();
    const mes = as('mes');
    const token = await tokenOf(mes);
    expect((await mes('GET', '/v1/licenses/L-1', undefined, bearer(token))).status).to.equal(200);
    ca.revoke(users['mes'] as TestCredential);
    revocations = RevocationList.parse(ca.crl(), ca.certPem);
    ledger.calls.length = 0;
    const withToken = await mes('GET', '/v1/licenses/L-1', undefined, bearer(token));
    expectRefused(
      withToken,
      401,
      'UNAUTHENTICATED',
      /^UNAUTHENTICATED: client certificate [0-9A-F]+ is revoked$/,
    );
    const withCertificate = await mes('GET', '/v1/licenses/L-1');
    expectRefused(withCertificate, 401, 'UNAUTHENTICATED', /is revoked/);
    expect(ledger.calls).to.deep.equal([]);
    // Another identity of the org is not affected.
    expect((await as('ipAdmin')('GET', '/v1/licenses/L-1')).status).to.equal(200);
  });

  it('takes a newer CRL file without a restart: new handshakes and open connections refuse the revoked identity', async function () {
    const { ledger, as, server, tls } = await gatewayWith();
    const victim = ca.client('mes-2', { role: 'license-admin' });
    users['victim'] = victim;
    const dir = mkdtempSync(join(tmpdir(), 'gateway-crl-'));
    const file = join(dir, 'crl.pem');
    writeFileSync(file, ca.crl());
    const events: string[] = [];
    const stop = watchRevocationList(
      file,
      ca.certPem,
      {
        loaded: (list, text) => {
          server.setSecureContext({ cert: tls.certPem, key: tls.keyPem, ca: ca.certPem, crl: text });
          revocations = list;
          events.push(`loaded ${list.size}`);
        },
        refused: () => events.push('refused'),
      },
      50,
    );
    try {
      const open = as('victim');
      expect((await open('GET', '/v1/licenses/L-1')).status).to.equal(200);
      // A file that is not a valid CRL of this CA changes nothing.
      writeFileSync(file, otherCa.crl());
      for (let i = 0; i < 100 && !events.includes('refused'); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(events).to.deep.equal(['refused']);
      expect((await open('GET', '/v1/licenses/L-1')).status).to.equal(200);
      ca.revoke(victim);
      writeFileSync(file, ca.crl());
      for (let i = 0; i < 100 && !revocations.revokes(new X509Certificate(victim.certPem).serialNumber); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(events.at(-1)).to.match(/^loaded [1-9]/);
      ledger.calls.length = 0;
      expectRefused(await open('GET', '/v1/licenses/L-1'), 401, 'UNAUTHENTICATED', /is revoked/);
      const fresh = await as('victim')('GET', '/v1/licenses/L-1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(fresh, 'a new handshake with the revoked certificate').to.be.instanceOf(Error);
      expect(ledger.calls).to.deep.equal([]);
      expect((await as('ipAdmin')('GET', '/v1/licenses/L-1')).status).to.equal(200);
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('believes a revocation list only when the org’s CA signed it', function () {
    const forged = otherCa.crl();
    expect(() => RevocationList.parse(forged, ca.certPem)).to.throw(
      /^INVALID_ARGUMENT: certificate revocation list: its signature does not verify with the key of CN=oem-ca$/,
    );
    expect(() => RevocationList.parse('not a crl', ca.certPem)).to.throw(/expected a PEM "X509 CRL" block/);
    const der = Buffer.from(
      (ca.crl().match(/-----BEGIN X509 CRL-----([^-]+)-----END X509 CRL-----/)?.[1] ?? '').replace(/\s/g, ''),
      'base64',
    );
    der[der.length - 10] = (der[der.length - 10] ?? 0) ^ 0xff; // inside the signature
    expect(() => RevocationList.parse(der, ca.certPem)).to.throw(/INVALID_ARGUMENT/);
  });

  it('answers a caller past its own rate 429 RATE_LIMITED with Retry-After while another caller is served', async function () {
    const { ledger, as } = await gatewayWith({ callerRatePerSecond: 1, callerBurst: 3 });
    const noisy = as('mes');
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await noisy('GET', '/v1/licenses/L-1');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).to.deep.equal([200, 200, 200]);
    expect(statuses.filter((s) => s === 429).length).to.be.at.least(2);
    expect(limited?.headers['retry-after']).to.equal('1');
    expectRefused(
      limited as JsonResponse,
      429,
      'RATE_LIMITED',
      /^RATE_LIMITED: mes exceeds 1 requests a second$/,
    );
    const quiet = await as('ipAdmin')('GET', '/v1/licenses/L-1');
    expect(quiet.status).to.equal(200);
    // Only the admitted requests reached the ledger.
    expect(ledger.calls.length).to.equal(statuses.filter((s) => s === 200).length + 1);
  });

  it('refuses a noisy caller with 429 before it can take the in-flight places of others (no 503 for them)', async function () {
    const { ledger, as } = await gatewayWith({ callerRatePerSecond: 1, callerBurst: 2, maxInFlight: 3 });
    ledger.hold = true;
    const noisy = as('mes');
    const pending = Array.from({ length: 8 }, () => noisy('GET', '/v1/licenses/L-1'));
    // The two admitted requests of the noisy caller are held in the ledger; the rest are refused at once.
    for (let i = 0; i < 100 && ledger.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const quiet = as('ipAdmin')('GET', '/v1/licenses/L-1');
    for (let i = 0; i < 100 && ledger.calls.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    ledger.release();
    const noisyStatuses = (await Promise.all(pending)).map((r) => r.status).sort();
    expect(noisyStatuses).to.deep.equal([200, 200, 429, 429, 429, 429, 429, 429]);
    expect((await quiet).status).to.equal(200);
  });
});
