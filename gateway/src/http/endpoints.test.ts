import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { httpsAgent, httpsJson } from '@threadseal/test-support';
import { DTO_EXAMPLES, DTO_SCHEMAS } from '@threadseal/rules';
import { tlsCaller } from '../auth/tls-caller';
import { permissionOf, type Permission } from '../auth/permissions';
import { listenMutualTls } from '../server';
import { FakeLedger } from '../testing/fake-ledger';
import { hasOpenssl, OpensslCa, type TestCredential } from '../testing/openssl-pki';
import { createApp, type GatewayApp } from './app';
import { INPUT_RULES } from './transactions';
import type { Route } from './routes';

/** Each submit route's transaction, from its operation (the route table is the source of both). */
const SUBMITS: Readonly<Record<string, keyof typeof INPUT_RULES>> = {
  registerDsi: 'dsi:Register',
  revokeDsi: 'dsi:Revoke',
  issueLicense: 'license:Issue',
  splitLicense: 'license:Split',
  allocateLicense: 'license:Allocate',
  revokeLicense: 'license:Revoke',
  registerMachine: 'machine:Register',
  startBuild: 'build:Start',
  completeBuild: 'build:Complete',
};

const ROLE_OF: Readonly<Record<string, string>> = {
  'ip-admin': 'ipAdmin',
  'license-admin': 'licenseAdmin',
  'machine-admin': 'machineAdmin',
};

/** A test user allowed by `permission`, and one refused by it. */
function usersFor(permission: Permission): { allowed: string; refused: string } {
  if (typeof permission === 'string') return { allowed: 'operator', refused: 'noRole' };
  return { allowed: ROLE_OF[permission[0] ?? ''] ?? 'operator', refused: 'operator' };
}

describe('every endpoint of the gateway: success, wrong role, malformed input (fake ledger)', function () {
  this.timeout(60_000);
  const cleanups: (() => void | Promise<void>)[] = [];
  const users: Record<string, TestCredential> = {};
  let ca: OpensslCa;
  let ledger: FakeLedger;
  let gateway: GatewayApp;
  let url: string;
  const agents: ReturnType<typeof httpsAgent>[] = [];
  const as = (user: string) => {
    const credential = users[user] as TestCredential;
    const agent = httpsAgent({ cert: credential.certPem, key: credential.keyPem, ca: ca.certPem });
    agents.push(agent);
    return (method: string, path: string, body?: unknown) => httpsJson(agent, url, method, path, body);
  };

  before(async function () {
    if (!hasOpenssl()) {
      console.log('    skipped: the openssl command line is not installed');
      this.skip();
    }
    ca = new OpensslCa('org-ca');
    cleanups.push(() => {
      ca.dispose();
    });
    users['ipAdmin'] = ca.client('ip', { role: 'ip-admin' });
    users['licenseAdmin'] = ca.client('lic', { role: 'license-admin' });
    users['machineAdmin'] = ca.client('mach', { role: 'machine-admin' });
    users['operator'] = ca.client('op', { role: 'am-operator' });
    users['noRole'] = ca.client('nobody', {});
    const serverTls = ca.server();
    ledger = new FakeLedger();
    const org = { name: 'oem', mspId: 'OemMSP', caCertificatePem: ca.certPem };
    gateway = createApp({ org, ledger, authenticate: tlsCaller(org), log: () => undefined });
    cleanups.push(() => {
      gateway.close();
    });
    const server: Server = await listenMutualTls(gateway, {
      cert: serverTls.certPem,
      key: serverTls.keyPem,
      clientCa: ca.certPem,
      host: '127.0.0.1',
      port: 0,
    });
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    for (const a of agents) a.destroy();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  beforeEach(function () {
    ledger.calls.length = 0;
  });

  const submitRoutes = (): Route[] => gateway.routes.filter((r) => SUBMITS[r.operationId] !== undefined);

  it('covers every submit route of the table', function () {
    expect(
      submitRoutes()
        .map((r) => r.operationId)
        .sort(),
    ).to.deep.equal(Object.keys(SUBMITS).sort());
  });

  it('sends each submit for a caller with the right role, with the example input decoded', async function () {
    for (const route of submitRoutes()) {
      const name = SUBMITS[route.operationId] as keyof typeof INPUT_RULES;
      const who = usersFor(permissionOf(name)).allowed;
      const example = DTO_EXAMPLES[INPUT_RULES[name].schema as keyof typeof DTO_EXAMPLES];
      ledger.calls.length = 0;
      const res = await as(who)('POST', route.path, example);
      expect(res.status, `${route.operationId}: ${res.text}`).to.equal(200);
      expect(
        ledger.calls.map((c) => c.name),
        route.operationId,
      ).to.deep.equal([name]);
    }
  });

  it('refuses each submit for a caller without its role, and malformed input, with nothing sent', async function () {
    for (const route of submitRoutes()) {
      const name = SUBMITS[route.operationId] as keyof typeof INPUT_RULES;
      const { allowed: who, refused: wrong } = usersFor(permissionOf(name));
      const example = DTO_EXAMPLES[INPUT_RULES[name].schema as keyof typeof DTO_EXAMPLES];
      const refused = await as(wrong)('POST', route.path, example);
      expect(refused.status, `${route.operationId}: ${refused.text}`).to.equal(403);
      expect((refused.body as { code: string }).code).to.equal('FORBIDDEN');
      const required = (DTO_SCHEMAS[INPUT_RULES[name].schema].required as readonly string[])[0] ?? '';
      const malformed = await as(who)('POST', route.path, { ...(example as object), [required]: 12345 });
      expect(malformed.status, `${route.operationId}: ${malformed.text}`).to.equal(400);
      expect((malformed.body as { message: string }).message).to.include(required);
    }
    expect(ledger.calls).to.deep.equal([]);
  });

  it('reads each GET endpoint as any enrolled identity and refuses a malformed path parameter', async function () {
    const reads = gateway.routes.filter((r) => r.method === 'get' && r.handle && r.params);
    expect(reads.length).to.be.greaterThan(6);
    for (const route of reads) {
      const [param, schema] = Object.entries(route.params ?? {})[0] ?? ['', {}];
      const valid = String(schema['pattern']).includes('0-9a-f]{64}') ? 'a'.repeat(64) : 'ID-1';
      ledger.reads.set('trace:GetPart', { partId: 'ID-1', buildId: 'b', dsiId: 'a'.repeat(64) });
      const ok = await as('noRole')('GET', route.path.replace(`:${param}`, valid));
      expect(ok.status, `${route.operationId}: ${ok.text}`).to.equal(200);
      const bad = await as('noRole')('GET', route.path.replace(`:${param}`, encodeURIComponent('../x y')));
      expect(bad.status, `${route.operationId}: ${bad.text}`).to.equal(400);
    }
  });
});
