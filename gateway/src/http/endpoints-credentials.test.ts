import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DTO_EXAMPLES } from '@threadseal/rules';
import { httpsAgent, httpsJson, type JsonResponse } from '@threadseal/test-support';
import { CallerTokens } from '../auth/caller-tokens';
import { RevocationList } from '../auth/revocation-list';
import { tlsCaller } from '../auth/tls-caller';
import { listenMutualTls } from '../server';
import { FakeLedger } from '../testing/fake-ledger';
import { hasOpenssl, OpensslCa, type TestCredential } from '../testing/openssl-pki';
import { createApp, type GatewayApp } from './app';
import type { Route } from './routes';

/** A request to `route` that a caller with the right role would get answered: ids in the path, example bodies. */
function requestOf(route: Route): { method: string; path: string; body?: unknown } {
  let path = route.path;
  for (const [param, schema] of Object.entries(route.params ?? {})) {
    const hex = String(schema['pattern']).includes('0-9a-f]{64}');
    path = path.replace(`:${param}`, hex ? 'a'.repeat(64) : 'ID-1');
  }
  path = path.replace(/:[A-Za-z]+/g, 'ID-1');
  if (route.method === 'get') return { method: 'GET', path };
  const ref = route.requestBody?.['$ref'];
  const schema = typeof ref === 'string' ? ref.split('/').pop() : undefined;
  const example = schema !== undefined ? DTO_EXAMPLES[schema as keyof typeof DTO_EXAMPLES] : undefined;
  return { method: 'POST', path, body: example ?? {} };
}

describe('every authenticated endpoint refuses another org’s, an expired and a revoked credential, nothing sent (fake ledger)', function () {
  this.timeout(120_000);
  const cleanups: (() => void | Promise<void>)[] = [];
  const agents: ReturnType<typeof httpsAgent>[] = [];
  const users: Record<string, TestCredential> = {};
  const key = randomBytes(32);
  let ca: OpensslCa;
  let otherCa: OpensslCa;
  let ledger: FakeLedger;
  let gateway: GatewayApp;
  let url: string;
  let clock = Date.now();
  let revocations = RevocationList.empty();

  /** A kept-alive client presenting `credential` to the gateway at `at`. */
  const as = (credential: TestCredential, at = () => url) => {
    const agent = httpsAgent({ cert: credential.certPem, key: credential.keyPem, ca: ca.certPem });
    agents.push(agent);
    return (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      httpsJson(agent, at(), method, path, body, headers);
  };

  async function serve(mspId: string, certificateCa: OpensslCa): Promise<{ app: GatewayApp; url: string }> {
    const org = { name: mspId, mspId, caCertificatePem: certificateCa.certPem };
    const app = createApp({
      org,
      ledger,
      authenticate: tlsCaller(org, { revocations: () => revocations }),
      tokens: new CallerTokens({ mspId, key, ttlSeconds: 60, now: () => clock }),
      limits: { callerRatePerSecond: 0 },
      log: () => undefined,
    });
    const tls = certificateCa.server();
    const server: Server = await listenMutualTls(app, {
      cert: tls.certPem,
      key: tls.keyPem,
      clientCa: certificateCa.certPem,
      host: '127.0.0.1',
      port: 0,
    });
    cleanups.push(async () => {
      app.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    return { app, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  before(async function () {
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
    users['revoked'] = ca.client('mes', { role: 'ip-admin' });
    users['expired'] = ca.client('old', { role: 'ip-admin' }, { expired: true });
    users['otherOrg'] = otherCa.client('foreign', { role: 'ip-admin' });
    ledger = new FakeLedger();
    ({ app: gateway, url } = await serve('OemMSP', ca));
  });
  after(async function () {
    for (const a of agents) a.destroy();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  beforeEach(function () {
    ledger.calls.length = 0;
    clock = Date.now();
    revocations = RevocationList.empty();
  });

  const authenticated = (): Route[] => gateway.routes.filter((r) => r.authenticated);

  const expectRefused = (res: JsonResponse, status: number, message: RegExp, route: Route) => {
    expect(res.status, `${route.operationId}: ${res.text}`).to.equal(status);
    const body = res.body as { code: string; message: string };
    expect(body.code, route.operationId).to.equal(status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    expect(body.message, route.operationId).to.match(message);
  };

  it('covers every authenticated route of the table, submits and reads', function () {
    const names = authenticated().map((r) => r.operationId);
    expect(names.length).to.be.greaterThan(25);
    for (const operation of ['registerDsi', 'issueLicense', 'startBuild', 'getLicense', 'streamEvents'])
      expect(names).to.include(operation);
  });

  it('refuses another org’s certificate and an expired one at the handshake, for every endpoint', async function () {
    for (const route of authenticated()) {
      const { method, path, body } = requestOf(route);
      for (const who of ['otherOrg', 'expired']) {
        const refused = await as(users[who] as TestCredential)(method, path, body).then(
          (res) => res,
          (err: unknown) => err,
        );
        expect(refused, `${route.operationId} as ${who}`).to.be.instanceOf(Error);
      }
    }
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a revoked certificate on a connection opened before the revocation, for every endpoint', async function () {
    const mes = as(users['revoked'] as TestCredential);
    expect((await mes('GET', '/v1/whoami')).status).to.equal(200);
    ca.revoke(users['revoked'] as TestCredential);
    revocations = RevocationList.parse(ca.crl(), ca.certPem);
    for (const route of authenticated()) {
      const { method, path, body } = requestOf(route);
      expectRefused(
        await mes(method, path, body),
        401,
        /^UNAUTHENTICATED: client certificate [0-9A-F]+ is revoked$/,
        route,
      );
    }
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses an expired bearer token and another org’s, for every endpoint', async function () {
    const plm = as(users['ipAdmin'] as TestCredential);
    const issued = await plm('POST', '/v1/tokens', {});
    expect(issued.status, issued.text).to.equal(201);
    const token = (issued.body as { token: string }).token;
    const other = await serve('ManufacturerMSP', ca);
    const foreignIssued = await as(users['ipAdmin'] as TestCredential, () => other.url)(
      'POST',
      '/v1/tokens',
      {},
    );
    expect(foreignIssued.status, foreignIssued.text).to.equal(201);
    const foreign = (foreignIssued.body as { token: string }).token;
    clock += 61_000;
    for (const route of authenticated()) {
      const { method, path, body } = requestOf(route);
      expectRefused(
        await plm(method, path, body, { authorization: `Bearer ${token}` }),
        401,
        /^UNAUTHENTICATED: bearer token refused: it expired at /,
        route,
      );
      clock -= 61_000;
      expectRefused(
        await plm(method, path, body, { authorization: `Bearer ${foreign}` }),
        403,
        /bearer token of ManufacturerMSP refused: this gateway serves OemMSP/,
        route,
      );
      clock += 61_000;
    }
    expect(ledger.calls).to.deep.equal([]);
  });
});
