import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Signer as DsiSigner } from '@threadseal/dsi-container';
import { ThreadsealError } from '@threadseal/ledger-model';
import type { Caller, GatewayOrg } from '../auth/caller';
import { bearerOf, type CallerTokens } from '../auth/caller-tokens';
import { DASHBOARD_ASSETS } from '../dashboard/assets';
import type { GatewayLedger } from '../ledger/gateway-ledger';
import { CallerBuckets } from './caller-buckets';
import { errorResponse } from './error-response';
import { EventHub } from './event-hub';
import { IdempotencyStore } from './idempotency';
import { openApiDocument, type OpenApiDocument } from './openapi';
import { ledgerRoutes, type Route } from './routes';
import { SigningHandles } from './signing-handles';

/** The bounds of a gateway. */
export interface GatewayLimits {
  /** Largest request body accepted (413 LIMIT_EXCEEDED beyond it). */
  readonly maxBodyBytes: number;
  /** Requests handled at once; more are shed with 503 OVERLOADED and Retry-After. */
  readonly maxInFlight: number;
  readonly retryAfterSeconds: number;
  /**
   * Requests a second one caller (certificate fingerprint) may make on average, bursts up to `callerBurst`;
   * beyond it 429 RATE_LIMITED with Retry-After, before the caller takes a place in flight. 0 turns it off.
   */
  readonly callerRatePerSecond: number;
  readonly callerBurst: number;
  readonly idempotencyEntries: number;
  readonly idempotencyTtlMs: number;
  readonly pendingSignings: number;
  readonly signingTtlMs: number;
}

/** The limits a gateway uses for what its options leave out. */
export const DEFAULT_LIMITS: GatewayLimits = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxInFlight: 256,
  retryAfterSeconds: 1,
  callerRatePerSecond: 500,
  callerBurst: 1000,
  idempotencyEntries: 10_000,
  idempotencyTtlMs: 24 * 3600_000,
  pendingSignings: 1_000,
  signingTtlMs: 5 * 60_000,
});

/** One structured log line. */
export type LogEntry = Readonly<Record<string, unknown>>;

/** What the app is made of; `createApp` wires them, nothing listens until the server does. */
export interface GatewayDeps {
  /** The org served, for the start-up log and the OpenAPI title. */
  readonly org: GatewayOrg & { readonly name: string };
  readonly ledger: GatewayLedger;
  /**
   * Who sent a request (the TLS client certificate's identity, see `tlsCaller`).
   * @throws ThreadsealError UNAUTHENTICATED when the request has no acceptable credential.
   */
  readonly authenticate: (req: Request) => Caller;
  /** Whether the gateway holds a caller's key (shown by whoami). */
  readonly isCustodial?: (caller: Caller) => boolean;
  /** The DSI signer of a custodial caller, for upload-and-protect. */
  readonly dsiSignerFor?: (caller: Caller) => DsiSigner | undefined;
  /**
   * Issues and checks bearer tokens (`POST /v1/tokens`, `Authorization: Bearer`); without it a bearer
   * token is refused with 401.
   */
  readonly tokens?: CallerTokens;
  readonly limits?: Partial<GatewayLimits>;
  /**
   * The SQLite file of the idempotency records (created when missing), so a repeated submit after a restart
   * gets the first response and is not sent again; none: the records are kept in memory only.
   */
  readonly idempotencyFile?: string;
  readonly log?: (entry: LogEntry) => void;
}

/** An express app of the gateway and what it serves. */
export interface GatewayApp {
  readonly app: express.Express;
  readonly routes: readonly Route[];
  readonly openapi: OpenApiDocument;
  readonly events: EventHub;
  /** Stops the event feed, ends the event streams and closes the idempotency store. */
  close(): void;
}

type Locals = {
  requestId: string;
  /** process.hrtime of the request's first middleware. */
  started: bigint;
  caller?: Caller;
  /** Why the connection's credential was refused, thrown by any authenticated route. */
  refused?: unknown;
  /** How the caller authenticated, for the log. */
  auth?: 'certificate' | 'token';
};

const locals = (res: Response): Locals => res.locals as Locals;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The `X-Threadseal-After-Block` header, when present. @throws ThreadsealError INVALID_ARGUMENT when malformed. */
function afterBlockOf(req: Request): { afterBlock?: bigint } {
  const value = req.get('x-threadseal-after-block');
  if (value === undefined) return {};
  if (!/^[0-9]{1,19}$/.test(value))
    throw new ThreadsealError('INVALID_ARGUMENT', 'X-Threadseal-After-Block: expected a block number');
  return { afterBlock: BigInt(value) };
}

/** The express app of a gateway, testable without listening: every route, the OpenAPI document, the dashboard. */
export function createApp(deps: GatewayDeps): GatewayApp {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const log = deps.log ?? ((entry: LogEntry) => process.stdout.write(`${JSON.stringify(entry)}\n`));
  const idempotency = new IdempotencyStore({
    maxEntries: limits.idempotencyEntries,
    ttlMs: limits.idempotencyTtlMs,
    ...(deps.idempotencyFile !== undefined ? { file: deps.idempotencyFile } : {}),
  });
  const handles = new SigningHandles({ max: limits.pendingSignings, ttlMs: limits.signingTtlMs });
  const events = new EventHub();
  const stopEvents = deps.ledger.watchEvents((event, block) => {
    events.publish(event, block);
  });

  const serviceRoutes: Route[] = [
    {
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: the process answers',
      tag: 'service',
      response: { status: 200, schema: { $ref: '#/components/schemas/Health' } },
      authenticated: false,
      raw: (_req, res) => {
        res.json({ status: 'ok' });
      },
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      summary: 'Readiness: the org’s peer is reachable',
      tag: 'service',
      response: { status: 200, schema: { $ref: '#/components/schemas/Health' } },
      authenticated: false,
      raw: async (_req, res) => {
        const ready = await deps.ledger.ready();
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openApi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'service',
      response: { status: 200, schema: { type: 'object' } },
      authenticated: false,
      raw: (_req, res) => {
        res.json(openapi);
      },
    },
    {
      method: 'get',
      path: '/v1/whoami',
      operationId: 'whoAmI',
      summary: 'The caller as the gateway authenticated it',
      tag: 'service',
      response: { status: 200, schema: { $ref: '#/components/schemas/Caller' } },
      authenticated: true,
      handle: ({ caller }) =>
        Promise.resolve({
          status: 200,
          body: {
            mspId: caller.mspId,
            name: caller.name,
            role: caller.role,
            qualifications: caller.qualifications,
            operator: caller.fingerprint,
            custodial: deps.isCustodial?.(caller) ?? false,
          },
        }),
    },
    {
      method: 'post',
      path: '/v1/tokens',
      operationId: 'issueToken',
      summary:
        'A short-lived bearer token for the caller, bound to its client certificate (MSP, role, certificate fingerprint)',
      tag: 'service',
      response: { status: 201, schema: { $ref: '#/components/schemas/Token' } },
      authenticated: true,
      handle: ({ caller, body }) => {
        if (!deps.tokens) throw new ThreadsealError('NOT_FOUND', 'this gateway issues no bearer tokens');
        const empty =
          body === undefined ||
          (typeof body === 'object' &&
            body !== null &&
            !Array.isArray(body) &&
            Object.keys(body).length === 0);
        if (!empty)
          throw new ThreadsealError('INVALID_ARGUMENT', 'POST /v1/tokens takes no request body (or {})');
        return Promise.resolve({ status: 201, body: deps.tokens.issue(caller) });
      },
    },
    {
      method: 'get',
      path: '/v1/events',
      operationId: 'streamEvents',
      summary: 'Server-sent events: every chaincode event committed from now on (?dsiId= narrows to one DSI)',
      tag: 'service',
      response: { status: 200, schema: { type: 'string' }, contentType: 'text/event-stream' },
      authenticated: true,
      raw: (req, res) => {
        const dsiId = typeof req.query['dsiId'] === 'string' ? req.query['dsiId'] : undefined;
        events.subscribe(res, dsiId);
      },
    },
    ...DASHBOARD_ASSETS.map((asset): Route => ({
      method: 'get',
      path: asset.path,
      operationId: asset.operationId,
      summary: asset.summary,
      tag: 'service',
      response: { status: 200, schema: { type: 'string' }, contentType: asset.contentType },
      authenticated: true,
      raw: (_req, res) => {
        res.status(200).type(asset.contentType).set('Cache-Control', 'no-store').send(asset.body());
      },
    })),
  ];
  const routes = [...serviceRoutes, ...ledgerRoutes(deps.ledger, handles, deps.dsiSignerFor)];
  const openapi = openApiDocument(routes, {
    title: `threadseal gateway (${deps.org.name})`,
    version: '0.1.0',
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Request id and one structured log line per request.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    locals(res).started = started;
    res.on('finish', () => {
      log({
        time: new Date().toISOString(),
        level: res.statusCode >= 500 ? 'error' : 'info',
        requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        handlerMs: res.locals['handlerMs'],
        beforeWriteMs: res.locals['beforeWriteMs'],
        caller: locals(res).caller?.name,
        auth: locals(res).auth,
        code: res.locals['errorCode'],
      });
    });
    next();
  });

  const unmetered = (path: string) => path === '/healthz' || path === '/readyz';

  // Who is calling, once per request and before any limit: the connection's certificate (cached per
  // connection by the authenticator), and a bearer token when one is sent — bound to that same certificate.
  // A refusal is kept and thrown by the authenticated routes only (health and the document stay reachable).
  const buckets =
    limits.callerRatePerSecond > 0
      ? new CallerBuckets({ ratePerSecond: limits.callerRatePerSecond, burst: limits.callerBurst })
      : undefined;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (unmetered(req.path)) {
      next();
      return;
    }
    const state = locals(res);
    try {
      const caller = deps.authenticate(req);
      const bearer = bearerOf(req.get('authorization'));
      if (bearer !== undefined) {
        if (!deps.tokens)
          throw new ThreadsealError('UNAUTHENTICATED', 'bearer token refused: this gateway issues none');
        deps.tokens.verify(bearer, caller);
      }
      state.caller = caller;
      state.auth = bearer === undefined ? 'certificate' : 'token';
    } catch (err) {
      state.refused = err;
      next();
      return;
    }
    // Per caller first: a caller past its own rate is refused without taking a place in flight.
    const admission = buckets?.take(state.caller.fingerprint);
    if (admission && !admission.admitted) {
      res.set('Retry-After', String(admission.retryAfterSeconds));
      next(
        new ThreadsealError(
          'RATE_LIMITED',
          `${state.caller.name} exceeds ${limits.callerRatePerSecond} requests a second`,
        ),
      );
      return;
    }
    next();
  });

  // Load shedding: a bounded number of requests in flight; health and the event streams are not counted.
  let inFlight = 0;
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (unmetered(req.path) || req.path === '/v1/events') {
      next();
      return;
    }
    if (inFlight >= limits.maxInFlight) {
      res.set('Retry-After', String(limits.retryAfterSeconds));
      next(new ThreadsealError('OVERLOADED', `${inFlight} requests in flight`));
      return;
    }
    inFlight++;
    let done = false;
    const release = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('finish', release);
    res.on('close', release);
    next();
  });

  const json = express.json({
    limit: limits.maxBodyBytes,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });

  for (const route of routes) {
    const handlers = [
      (_req: Request, res: Response, next: NextFunction) => {
        const state = locals(res);
        if (route.authenticated && state.caller === undefined) {
          next(state.refused ?? new ThreadsealError('UNAUTHENTICATED', 'no credential'));
          return;
        }
        next();
      },
      ...(route.method === 'post' ? [json] : []),
      async (req: Request, res: Response) => {
        const caller = locals(res).caller;
        if (route.raw) {
          await route.raw(req, res, caller);
          return;
        }
        if (!route.handle || !caller)
          throw new ThreadsealError('INTERNAL', `route ${route.operationId} has no handler`);
        const handle = route.handle;
        const context = {
          caller,
          body: req.body as unknown,
          params: req.params as Record<string, string>,
          ...afterBlockOf(req),
        };
        const key = route.idempotent ? req.get('idempotency-key') : undefined;
        if (key === undefined) {
          const started = performance.now();
          const result = await handle(context);
          // How long the handler (the ledger call, essentially) took, apart from the HTTP layer: in the log
          // and as Server-Timing, so a client can tell the gateway's own cost from the ledger's.
          const handlerMs = performance.now() - started;
          const beforeWriteMs = Number(process.hrtime.bigint() - locals(res).started) / 1e6;
          res.locals['handlerMs'] = handlerMs;
          res.locals['beforeWriteMs'] = beforeWriteMs;
          // `gateway`: from the request's first middleware until its response starts to be written.
          res.set(
            'Server-Timing',
            `handler;dur=${handlerMs.toFixed(3)}, gateway;dur=${beforeWriteMs.toFixed(3)}`,
          );
          res.status(result.status).json(result.body);
          return;
        }
        const { response, replayed } = await idempotency.once(
          `${caller.fingerprint}:${route.operationId}`,
          key,
          context.body,
          async () => {
            try {
              return await handle(context);
            } catch (err) {
              const { status, body } = errorResponse(err, locals(res).requestId);
              return { status, body: { code: body.code, message: body.message } };
            }
          },
        );
        if (replayed) res.set('Idempotent-Replayed', 'true');
        const body =
          response.status >= 400
            ? { ...(response.body as object), requestId: locals(res).requestId }
            : response.body;
        res.status(response.status).json(body);
      },
    ];
    if (route.method === 'get') app.get(route.path, ...handlers);
    else app.post(route.path, ...handlers);
  }

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new ThreadsealError('NOT_FOUND', `no endpoint ${req.method} ${req.path.slice(0, 200)}`));
  });

  // The one error handler: a code from the vocabulary, its HTTP status, a message safe to show.
  // express recognizes an error handler by its four parameters.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = errorResponse(err, locals(res).requestId);
    res.locals['errorCode'] = body.code;
    if (status >= 500)
      log({
        time: new Date().toISOString(),
        level: 'error',
        requestId: body.requestId,
        error: String(err instanceof Error ? err.message : err),
      });
    if (res.headersSent) {
      res.end();
      return;
    }
    if ((body.code === 'OVERLOADED' || body.code === 'RATE_LIMITED') && !res.get('Retry-After'))
      res.set('Retry-After', String(limits.retryAfterSeconds));
    res.status(status).json(body);
  });

  return {
    app,
    routes,
    openapi,
    events,
    close: () => {
      stopEvents();
      events.close();
      idempotency.close();
    },
  };
}
