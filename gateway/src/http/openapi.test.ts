import { expect } from 'chai';
import { DTO_SCHEMAS } from '@threadseal/rules';
import { FakeLedger } from '../testing/fake-ledger';
import { createApp, type GatewayApp } from './app';

/** The routes express actually serves: `METHOD /path` with OpenAPI's `{param}` syntax. */
function servedRoutes(gateway: GatewayApp): string[] {
  const stack = (
    gateway.app.router as unknown as {
      stack: { route?: { path: string; methods: Record<string, boolean> } }[];
    }
  ).stack;
  return stack
    .flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map(
            (m) => `${m.toUpperCase()} ${(layer.route?.path ?? '').replace(/:([A-Za-z]+)/g, '{$1}')}`,
          )
        : [],
    )
    .sort();
}

describe('the OpenAPI document', function () {
  this.timeout(60_000);
  let gateway: GatewayApp;
  before(function () {
    gateway = createApp({
      org: { name: 'oem', mspId: 'OemMSP', caCertificatePem: '' },
      ledger: new FakeLedger(),
      authenticate: () => {
        throw new Error('not called');
      },
      log: () => undefined,
    });
  });
  after(function () {
    gateway.close();
  });

  it('passes the Redocly linter (recommended rules) with no error and no warning', async function () {
    // The linter is an ES module; this workspace is CommonJS (docs/decisions/0004).
    const { createConfig, lintFromString } = await import('@redocly/openapi-core');
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(gateway.openapi),
      absoluteRef: 'openapi.json',
      config,
    });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`)).to.deep.equal([]);
  });

  it('is OpenAPI 3.1 with mutual TLS as its security scheme', function () {
    expect(gateway.openapi['openapi']).to.equal('3.1.0');
    expect(gateway.openapi['security']).to.deep.equal([{ mutualTLS: [] }]);
  });

  it('describes exactly the routes express serves', function () {
    const documented = Object.entries(gateway.openapi.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = servedRoutes(gateway);
    expect(served.length).to.be.greaterThan(20);
    expect(documented).to.deep.equal(served);
  });

  it('publishes every DTO schema of the rules package unchanged (but for $schema) as a component', function () {
    const components = (gateway.openapi['components'] as { schemas: Record<string, unknown> }).schemas;
    for (const [name, schema] of Object.entries(DTO_SCHEMAS)) {
      const { $schema: dialect, ...rest } = schema as Record<string, unknown>;
      expect(dialect, name).to.equal('https://json-schema.org/draft/2020-12/schema');
      expect(components[name], name).to.deep.equal(rest);
    }
  });

  it('takes each submit’s request body from the rules schema of its transaction input', function () {
    const issue = gateway.openapi.paths['/v1/licenses']?.['post'] as {
      requestBody: { content: { 'application/json': { schema: unknown } } };
    };
    expect(issue.requestBody.content['application/json'].schema).to.deep.equal({
      $ref: '#/components/schemas/IssueLicenseInput',
    });
  });
});
