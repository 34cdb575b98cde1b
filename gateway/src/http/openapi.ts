import { ERROR_CODES } from '@threadseal/ledger-model';
import { DTO_SCHEMAS, INPUT_SCHEMAS } from '@threadseal/rules';
import type { Route, Schema } from './routes';

/** An OpenAPI 3.1 document. */
export type OpenApiDocument = Readonly<Record<string, unknown>> & {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
};

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** The gateway's own schemas, besides the rules' DTOs. */
const GATEWAY_SCHEMAS: Readonly<Record<string, Schema>> = {
  AnyJson: { description: 'JSON as the chaincode returns it' },
  Error: {
    type: 'object',
    required: ['code', 'message', 'requestId'],
    properties: {
      code: { enum: [...ERROR_CODES] },
      message: { type: 'string', description: 'starts with the code; never a stack trace, path or address' },
      requestId: { type: 'string' },
    },
  },
  LicenseView: {
    type: 'object',
    required: ['license', 'balance', 'revocation', 'remaining'],
    properties: {
      license: ref('License'),
      balance: {
        type: 'object',
        required: ['licenseId', 'sublicensed', 'allocated', 'scrapAllowanceAllocated'],
        properties: {
          licenseId: { type: 'string' },
          sublicensed: { type: 'integer' },
          allocated: { type: 'integer' },
          scrapAllowanceAllocated: { type: 'integer' },
        },
      },
      revocation: { type: 'object' },
      remaining: { type: 'integer', minimum: 0 },
    },
  },
  DsiTree: {
    type: 'object',
    required: ['dsi', 'licenses', 'allocations', 'machines', 'builds', 'parts'],
    properties: {
      dsi: ref('Dsi'),
      licenses: { type: 'array', items: ref('LicenseView') },
      allocations: { type: 'array', items: ref('Allocation') },
      machines: { type: 'array', items: ref('Machine') },
      builds: { type: 'array', items: ref('Build') },
      parts: { type: 'array', items: ref('Part') },
    },
  },
  PartLookup: {
    type: 'object',
    required: ['genuine', 'part', 'build', 'dsi'],
    properties: {
      genuine: { type: 'boolean', description: 'recorded by a completed build of a registered DSI' },
      part: ref('Part'),
      build: ref('Build'),
      dsi: ref('Dsi'),
    },
  },
  Caller: {
    type: 'object',
    required: ['mspId', 'name', 'role', 'qualifications', 'operator', 'custodial'],
    properties: {
      mspId: { type: 'string' },
      name: { type: 'string' },
      role: { type: ['string', 'null'] },
      qualifications: { type: 'array', items: { type: 'string' } },
      operator: {
        type: 'string',
        pattern: '^[0-9a-f]{64}$',
        description:
          'SHA-256 of the caller’s certificate DER: what a machine’s StartBuild request names as `operator` when this caller submits it',
      },
      custodial: { type: 'boolean', description: 'the gateway holds this identity’s key' },
    },
  },
  PrepareRequest: {
    type: 'object',
    required: ['transaction', 'input'],
    properties: {
      transaction: { type: 'string', description: 'a JSON transaction of the catalogue, e.g. license:Issue' },
      input: {
        description: 'the transaction’s input DTO; the gateway checks it with the transaction’s decoder',
        anyOf: Object.keys(INPUT_SCHEMAS).map(ref),
      },
      licenseConfidential: {
        type: 'boolean',
        description: 'for a split, allocation or build start: the licence it spends from is confidential',
      },
    },
  },
  PreparedTransaction: {
    type: 'object',
    required: ['handle', 'transactionId', 'next', 'digest'],
    properties: {
      handle: { type: 'string' },
      transactionId: { type: 'string' },
      next: { enum: ['endorse', 'evaluate'] },
      digest: { type: 'string', description: 'base64 SHA-256 digest of the proposal, to sign' },
    },
  },
  SigningStepResponse: {
    type: 'object',
    required: ['handle', 'transactionId', 'next', 'digest'],
    properties: {
      handle: { type: 'string' },
      transactionId: { type: 'string' },
      next: { enum: ['submit', 'commit'] },
      digest: { type: 'string', description: 'base64 digest to sign for the next step' },
      result: { description: 'the endorsed result (after endorse)' },
    },
  },
  ProtectRequest: {
    type: 'object',
    required: ['title', 'partNumber', 'revision', 'files', 'recipients'],
    properties: {
      title: { type: 'string', minLength: 1, maxLength: 256 },
      partNumber: { type: 'string', minLength: 1, maxLength: 128 },
      revision: { type: 'string', minLength: 1, maxLength: 64 },
      files: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        items: {
          type: 'object',
          required: ['name', 'content'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 1024 },
            content: { type: 'string', description: 'base64 of the plaintext (kept in memory only)' },
          },
        },
      },
      recipients: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        items: { type: 'string', description: 'PEM P-256 public key or certificate' },
      },
    },
  },
  ProtectedDsi: {
    type: 'object',
    required: ['value', 'transactionId', 'blockNumber', 'attempts', 'container'],
    properties: {
      value: ref('Dsi'),
      transactionId: { type: 'string' },
      blockNumber: { type: 'string' },
      attempts: { type: 'integer' },
      container: { type: 'string', description: 'base64 of the sealed DSI container' },
    },
  },
  Token: {
    type: 'object',
    required: ['token', 'tokenType', 'expiresAt', 'expiresIn'],
    properties: {
      token: {
        type: 'string',
        description:
          'send as `Authorization: Bearer <token>`, on a connection presenting the same certificate',
      },
      tokenType: { const: 'Bearer' },
      expiresAt: { type: 'string', format: 'date-time' },
      expiresIn: { type: 'integer', minimum: 1, description: 'seconds' },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { enum: ['ok', 'ready', 'not ready'] } },
  },
};

function errorResponses(route: Route): Record<string, unknown> {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: ref('Error') } },
  });
  const out: Record<string, unknown> = { '400': error('malformed request (INVALID_ARGUMENT)') };
  if (route.authenticated) {
    out['401'] = error(
      'no client certificate of this org, or a bearer token expired, altered or bound to another certificate (UNAUTHENTICATED)',
    );
    out['403'] = error('the caller’s role may not do this (FORBIDDEN and the ledger’s refusals)');
    out['404'] = error('not found (NOT_FOUND)');
    out['409'] = error('the ledger’s state refuses it');
    out['413'] = error('request body too large (LIMIT_EXCEEDED)');
    out['422'] = error('well-formed but fails a check');
    out['429'] = {
      ...error('this caller exceeds its own request rate (RATE_LIMITED, with Retry-After)'),
      headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } },
    };
  }
  out['503'] = {
    ...error('overloaded (OVERLOADED, with Retry-After) or the ledger is unavailable'),
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } },
  };
  return out;
}

function withoutDialect(schema: Readonly<Record<string, unknown>>): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema'));
}

/**
 * The OpenAPI 3.1 document of a gateway, generated from its routes and the rules' DTO schemas: one path per
 * route, request bodies and responses by `$ref` to the components, the error body on every error status.
 */
export function openApiDocument(
  routes: readonly Route[],
  info: { title: string; version: string },
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(route.params ?? {}).map(([name, schema]) => ({
        name,
        in: 'path',
        required: true,
        schema,
      })),
      ...(route.tag !== 'service' && route.tag !== 'transactions'
        ? [
            {
              name: 'X-Threadseal-After-Block',
              in: 'header',
              required: false,
              description:
                'read your writes across orgs: wait until this gateway’s peer holds the block of a commit you saw',
              schema: { type: 'string', pattern: '^[0-9]{1,19}$' },
            },
          ]
        : []),
      ...(route.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'the same key and body commit once; the repeat gets the first response',
              schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
            },
          ]
        : []),
    ];
    (paths[path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      // mTLS alone, or mTLS and a bearer token bound to the same certificate.
      security: route.authenticated ? [{ mutualTLS: [] }, { mutualTLS: [], bearerToken: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.requestBody
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.requestBody } } } }
        : {}),
      responses: {
        [String(route.response.status)]: {
          description: route.summary,
          content: { [route.response.contentType ?? 'application/json']: { schema: route.response.schema } },
        },
        ...errorResponses(route),
      },
    };
  }
  const tags = [...new Set(routes.map((r) => r.tag))].map((name) => ({
    name,
    description: `${name} endpoints`,
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description:
        'The REST gateway of one threadseal org in front of its peer. Callers authenticate with their own Fabric CA certificate (mTLS).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'this gateway' }],
    security: [{ mutualTLS: [] }],
    tags,
    paths,
    components: {
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: 'a client certificate enrolled by the org’s Fabric CA' },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'a short-lived token from POST /v1/tokens, accepted only with the client certificate it was issued to',
        },
      },
      schemas: {
        ...Object.fromEntries(
          Object.entries(DTO_SCHEMAS).map(([name, schema]) => [name, withoutDialect(schema)]),
        ),
        ...GATEWAY_SCHEMAS,
      },
    },
  };
}
