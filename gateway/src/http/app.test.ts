import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { httpsAgent, httpsJson, type JsonResponse } from '@threadseal/test-support';
import { operatorFingerprint, ThreadsealError, type ErrorCode } from '@threadseal/ledger-model';
import { DTO_EXAMPLES } from '@threadseal/rules';
import { generateKeyPairSync } from 'node:crypto';
import { inspect, softwareSigner } from '@threadseal/dsi-container';
import { tlsCaller } from '../auth/tls-caller';
import { listenMutualTls } from '../server';
import { FakeLedger } from '../testing/fake-ledger';
import { hasOpenssl, OpensslCa, type TestCredential } from '../testing/openssl-pki';
import { createApp, type GatewayApp, type LogEntry } from './app';

describe('the gateway over mutual TLS (fake ledger)', function () {
  this.timeout(60_000);
  let ca: OpensslCa;
  let otherCa: OpensslCa;
  let ledger: FakeLedger;
  let gateway: GatewayApp;
  let server: Server;
  let url: string;
  const logs: LogEntry[] = [];
  const users: Record<string, TestCredential> = {};
  const agents: ReturnType<typeof httpsAgent>[] = [];

  const as = (user: string) => {
    const credential = users[user];
    if (!credential) throw new Error(`no test user ${user}`);
    const agent = httpsAgent({ cert: credential.certPem, key: credential.keyPem, ca: ca.certPem });
    agents.push(agent);
    return (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      httpsJson(agent, url, method, path, body, headers);
  };

  const expectError = (res: JsonResponse, status: number, code: ErrorCode, message?: RegExp) => {
    expect(res.status, res.text).to.equal(status);
    const body = res.body as { code: string; message: string; requestId: string };
    expect(body.code).to.equal(code);
    expect(body.message.startsWith(`${code}: `), body.message).to.equal(true);
    if (message) expect(body.message).to.match(message);
    expect(body.requestId).to.equal(res.headers['x-request-id']);
  };

  before(async function () {
    if (!hasOpenssl()) {
      console.log('    skipped: the openssl command line is not installed (apt-get install openssl)');
      this.skip();
    }
    ca = new OpensslCa('oem-ca');
    cleanups.push(() => {
      ca.dispose();
    });
    otherCa = new OpensslCa('manufacturer-ca');
    cleanups.push(() => {
      otherCa.dispose();
    });
    users['ipAdmin'] = ca.client('plm', { role: 'ip-admin' });
    users['engineer'] = ca.client('engineer', { role: 'engineer' });
    users['noRole'] = ca.client('nobody', {});
    users['machineAdmin'] = ca.client('mes', { role: 'machine-admin' });
    users['expired'] = ca.client('old-plm', { role: 'ip-admin' }, { expired: true });
    users['otherOrg'] = otherCa.client('plm', { role: 'ip-admin' });
    users['tlsServer'] = ca.client('peer0', { role: 'ip-admin' }, { tlsProfile: true });
    const serverTls = ca.server();
    ledger = new FakeLedger();
    const org = { name: 'oem', mspId: 'OemMSP', caCertificatePem: ca.certPem };
    gateway = createApp({
      org,
      ledger,
      authenticate: tlsCaller(org),
      limits: { maxBodyBytes: 64 * 1024, maxInFlight: 4 },
      dsiSignerFor: (caller) => {
        const ipAdmin = users['ipAdmin'] as TestCredential;
        return caller.name === 'plm' ? softwareSigner(ipAdmin.certPem, ipAdmin.keyPem) : undefined;
      },
      log: (entry) => logs.push(entry),
    });
    cleanups.push(() => {
      gateway.close();
    });
    server = await listenMutualTls(gateway, {
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

  // What before() set up, undone in reverse order even when it failed half-way.
  const cleanups: (() => void | Promise<void>)[] = [];
  after(async function () {
    for (const a of agents) a.destroy();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  beforeEach(function () {
    ledger.calls.length = 0;
    ledger.failure = undefined;
  });

  it('knows the caller from its certificate: MSP, name, Fabric CA role, the operator a machine request names', async function () {
    const res = await as('ipAdmin')('GET', '/v1/whoami');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      mspId: 'OemMSP',
      name: 'plm',
      role: 'ip-admin',
      qualifications: [],
      operator: operatorFingerprint((users['ipAdmin'] as TestCredential).certPem),
      custodial: false,
    });
  });

  it('sends an ip-admin’s licence issue to the ledger as that caller, with the decoded input', async function () {
    const res = await as('ipAdmin')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput);
    expect(res.status, res.text).to.equal(200);
    expect(ledger.calls).to.have.length(1);
    expect(ledger.calls[0]).to.deep.include({ method: 'submit', caller: 'plm', name: 'license:Issue' });
    expect((res.body as { transactionId: string }).transactionId).to.match(/^tx/);
  });

  it('seals an upload in memory into a DSI signed by the custodial ip-admin and registers it', async function () {
    const machine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const upload = {
      title: 'Bracket',
      partNumber: 'BRKT-1',
      revision: 'A',
      files: [
        { name: 'part.gcode', content: Buffer.from('G1 X1 SECRET-PLAINTEXT-7731\n').toString('base64') },
      ],
      recipients: [machine.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    };
    const res = await as('ipAdmin')('POST', '/v1/dsis/protect', upload);
    expect(res.status, res.text).to.equal(200);
    const body = res.body as { container: string; value: { dsiId: string } };
    const container = Buffer.from(body.container, 'base64');
    expect(container.includes(Buffer.from('SECRET-PLAINTEXT-7731'))).to.equal(false);
    const inspected = await inspect(new Uint8Array(container));
    expect(inspected.dsiId).to.equal(body.value.dsiId);
    expect(ledger.calls.map((c) => [c.method, c.name])).to.deep.equal([['submit', 'dsi:Register']]);
    const refused = await as('engineer')('POST', '/v1/dsis/protect', upload);
    expect(refused.status).to.equal(403);
    const empty = await as('ipAdmin')('POST', '/v1/dsis/protect', { ...upload, files: [] });
    expect(empty.status).to.equal(400);
    expect(ledger.writes).to.equal(1);
  });

  it('refuses a wrong role with 403 FORBIDDEN before anything reaches the ledger', async function () {
    const res = await as('engineer')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput);
    expectError(res, 403, 'FORBIDDEN', /license:Issue requires role ip-admin, engineer has engineer/);
    const none = await as('noRole')('POST', '/v1/machines', DTO_EXAMPLES.RegisterMachineInput);
    expectError(none, 403, 'FORBIDDEN', /requires role machine-admin, nobody has no role/);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses malformed input with 400 INVALID_ARGUMENT naming the field, nothing sent', async function () {
    const wrongType = await as('ipAdmin')('POST', '/v1/licenses', {
      ...DTO_EXAMPLES.IssueLicenseInput,
      grant: { ...DTO_EXAMPLES.IssueLicenseInput.grant, quantity: 'ten' },
    });
    expectError(wrongType, 400, 'INVALID_ARGUMENT', /input\.grant\.quantity: expected an integer >= 1/);
    const notJson = await as('ipAdmin')('POST', '/v1/licenses', '{"licenseId": ');
    expectError(notJson, 400, 'INVALID_ARGUMENT', /request body is not one JSON document/);
    const badParam = await as('ipAdmin')('GET', '/v1/dsis/not-hex/tree');
    expectError(badParam, 400, 'INVALID_ARGUMENT', /dsiId/);
    const noBody = await as('machineAdmin')('POST', '/v1/machines');
    expectError(noBody, 400, 'INVALID_ARGUMENT');
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a body over the limit with 413 LIMIT_EXCEEDED', async function () {
    const res = await as('ipAdmin')('POST', '/v1/dsis', {
      ...DTO_EXAMPLES.RegisterDsiInput,
      manifest: 'A'.repeat(70_000),
    });
    expectError(res, 413, 'LIMIT_EXCEEDED', /request body exceeds 65536 bytes/);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('completes no TLS handshake for another org’s certificate or an expired one, nor without one', async function () {
    for (const user of ['otherOrg', 'expired']) {
      const error = await as(user)('GET', '/v1/whoami').then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error, user).to.be.instanceOf(Error);
    }
    const anonymous = httpsAgent({ ca: ca.certPem });
    agents.push(anonymous);
    const error = await httpsJson(anonymous, url, 'GET', '/v1/whoami').then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error).to.be.instanceOf(Error);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('refuses a TLS server certificate of the same CA as a caller with 401 UNAUTHENTICATED', async function () {
    const res = await as('tlsServer')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput);
    expectError(res, 401, 'UNAUTHENTICATED', /TLS server certificate, not an enrollment certificate/);
    expect(ledger.calls).to.deep.equal([]);
  });

  it('answers a ledger refusal with the code’s row of HTTP_STATUS and the chaincode message', async function () {
    ledger.failure = new ThreadsealError('LICENSE_EXHAUSTED', 'license L7 has 0 of 4 units left');
    const res = await as('ipAdmin')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput);
    expectError(res, 409, 'LICENSE_EXHAUSTED', /^LICENSE_EXHAUSTED: license L7 has 0 of 4 units left$/);
  });

  it('shows no stack trace, path or peer address for an internal failure or an unavailable ledger', async function () {
    const internal = new TypeError("Cannot read properties of undefined (reading 'x')");
    internal.stack = `TypeError: boom\n    at /work/threadseal/gateway/dist/http/routes.js:12:5`;
    ledger.failure = internal;
    const res = await as('ipAdmin')('POST', '/v1/licenses', DTO_EXAMPLES.IssueLicenseInput);
    expectError(res, 500, 'INTERNAL', /^INTERNAL: internal error$/);
    ledger.failure = new ThreadsealError(
      'LEDGER_UNAVAILABLE',
      '14 UNAVAILABLE: No connection established to peer0.oem.threadseal.test at 127.0.0.1:29101 (/work/x/tls/ca.pem)',
    );
    const down = await as('ipAdmin')('GET', '/v1/licenses/L-1');
    expectError(
      down,
      503,
      'LEDGER_UNAVAILABLE',
      /^LEDGER_UNAVAILABLE: the ledger is unavailable; try again later$/,
    );
    for (const text of [res.text, down.text]) {
      expect(text).not.to.match(/\bat \/|\/work\/|127\.0\.0\.1|29101|peer0|\.js:/);
    }
    expect(
      logs.some((l) => l['level'] === 'error' && l['requestId'] === res.headers['x-request-id']),
    ).to.equal(true);
  });

  it('scrubs paths and addresses even from 4xx messages', async function () {
    ledger.failure = new ThreadsealError(
      'INPUT_ERROR',
      'cannot read /home/oem/secret/dsi.bin from 10.0.0.5:8443',
    );
    const res = await as('ipAdmin')('GET', '/v1/licenses/L-1');
    expectError(res, 400, 'INPUT_ERROR');
    expect(res.text).not.to.match(/home|10\.0\.0\.5/);
  });

  it('commits a submit once per Idempotency-Key and replays the first response', async function () {
    const key = `k-${Date.now()}`;
    const call = as('machineAdmin');
    const first = await call('POST', '/v1/machines', DTO_EXAMPLES.RegisterMachineInput, {
      'idempotency-key': key,
    });
    const again = await call('POST', '/v1/machines', DTO_EXAMPLES.RegisterMachineInput, {
      'idempotency-key': key,
    });
    expect(first.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(ledger.writes).to.equal(1);
    const other = await call(
      'POST',
      '/v1/machines',
      { ...DTO_EXAMPLES.RegisterMachineInput, serial: 'other' },
      { 'idempotency-key': key },
    );
    expectError(other, 409, 'ALREADY_EXISTS', /was used for a different request/);
    expect(ledger.writes).to.equal(1);
  });

  it('sheds load beyond the in-flight bound with 503 OVERLOADED and Retry-After', async function () {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = ledger.evaluate.bind(ledger);
    ledger.evaluate = async (...args: Parameters<FakeLedger['evaluate']>) => {
      await gate;
      return slow(...args);
    };
    try {
      const call = as('ipAdmin');
      const held = Array.from({ length: 4 }, () => call('GET', '/v1/licenses/L-1'));
      await new Promise((r) => setTimeout(r, 200));
      const shed = await call('GET', '/v1/licenses/L-1');
      expectError(shed, 503, 'OVERLOADED');
      expect(shed.headers['retry-after']).to.equal('1');
      const health = await call('GET', '/healthz');
      expect(health.status).to.equal(200);
      release();
      const answered = await Promise.all(held);
      expect(answered.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    } finally {
      release();
      ledger.evaluate = slow;
    }
  });

  it('serves health, readiness from the ledger, and JSON 404s', async function () {
    const call = as('engineer');
    expect((await call('GET', '/healthz')).body).to.deep.equal({ status: 'ok' });
    expect((await call('GET', '/readyz')).status).to.equal(200);
    ledger.isReady = false;
    const notReady = await call('GET', '/readyz');
    ledger.isReady = true;
    expect(notReady.status).to.equal(503);
    expectError(await call('GET', '/v1/nothing'), 404, 'NOT_FOUND', /no endpoint GET \/v1\/nothing/);
  });

  it('runs the non-custodial steps only for the caller who prepared them, in order, once each', async function () {
    const call = as('ipAdmin');
    const prepared = await call('POST', '/v1/transactions/prepare', {
      transaction: 'license:Issue',
      input: DTO_EXAMPLES.IssueLicenseInput,
    });
    expect(prepared.status, prepared.text).to.equal(201);
    const { handle, next } = prepared.body as { handle: string; next: string };
    expect(next).to.equal('endorse');
    const signature = Buffer.alloc(70, 7).toString('base64');
    const thief = await as('engineer')('POST', `/v1/transactions/${handle}/endorse`, { signature });
    expectError(thief, 404, 'NOT_FOUND');
    const early = await call('POST', `/v1/transactions/${handle}/submit`, { signature });
    expectError(early, 400, 'INVALID_ARGUMENT', /waiting for its endorse signature/);
    expect((await call('POST', `/v1/transactions/${handle}/endorse`, { signature })).status).to.equal(200);
    expect((await call('POST', `/v1/transactions/${handle}/submit`, { signature })).status).to.equal(200);
    const committed = await call('POST', `/v1/transactions/${handle}/commit`, { signature });
    expect(committed.body).to.deep.include({ value: { endorsed: true }, blockNumber: '42' });
    expectError(await call('POST', `/v1/transactions/${handle}/commit`, { signature }), 404, 'NOT_FOUND');
    const wrongRole = await as('engineer')('POST', '/v1/transactions/prepare', {
      transaction: 'license:Issue',
      input: DTO_EXAMPLES.IssueLicenseInput,
    });
    expectError(wrongRole, 403, 'FORBIDDEN');
    const unknown = await call('POST', '/v1/transactions/prepare', {
      transaction: 'system:PutNote',
      input: {},
    });
    expectError(unknown, 400, 'INVALID_ARGUMENT', /transaction: expected one of/);
    expect(ledger.calls.map((c) => c.method)).to.deep.equal([
      'prepare',
      'endorse',
      'submitSigned',
      'commitStatus',
    ]);
  });

  it('streams chaincode events of a DSI as server-sent events', async function () {
    const credential = users['engineer'] as TestCredential;
    const { request } = await import('node:https');
    const dsiId = DTO_EXAMPLES.DsiTreeInput.dsiId;
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(new URL(`/v1/events?dsiId=${dsiId}`, url), {
        cert: credential.certPem,
        key: credential.keyPem,
        ca: ca.certPem,
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          if (text.includes(': connected')) {
            ledger.emit({
              name: 'BuildCompleted',
              payload: { buildId: 'b1', dsiId, licenseId: 'L', machineId: 'm', partId: 'SN-1' },
            } as never);
          }
          if (text.includes('event: BuildCompleted')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).to.match(/event: BuildCompleted\ndata: \{"name":"BuildCompleted","blockNumber":"1"/);
  });

  it('logs one structured line per request with its request id', function () {
    const line = logs.find((l) => l['path'] === '/v1/whoami' && l['status'] === 200);
    expect(line).to.include({ method: 'GET', caller: 'plm' });
    expect(line?.['requestId']).to.be.a('string');
  });
});
