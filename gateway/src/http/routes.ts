import type { Request, Response } from 'express';
import {
  ThreadsealError,
  type Build,
  type Dsi,
  type EvaluateTransactionName,
  type Part,
  type SubmitTransactionName,
} from '@threadseal/ledger-model';
import { authorize } from '../auth/permissions';
import type { Signer as DsiSigner } from '@threadseal/dsi-container';
import type { Caller } from '../auth/caller';
import { protectAndRegister } from './protect';
import type { GatewayLedger } from '../ledger/gateway-ledger';
import type { SigningHandles, SigningStage } from './signing-handles';
import { INPUT_RULES, isSubmit, jsonTransaction } from './transactions';

/** A JSON Schema as the OpenAPI document carries it (a `$ref` to a component or an inline schema). */
export type Schema = Readonly<Record<string, unknown>>;

/** What a route handler gets: the authenticated caller and the request's parts. */
export interface RouteContext {
  readonly caller: Caller;
  readonly body: unknown;
  readonly params: Readonly<Record<string, string>>;
  /** From the `X-Threadseal-After-Block` header: wait for the peer to hold this block first. */
  readonly afterBlock?: bigint;
}

/** A route's answer: its status and JSON body. */
export interface RouteResult {
  readonly status: number;
  readonly body: unknown;
}

/** One endpoint of the gateway: how express serves it and how the OpenAPI document describes it. */
export interface Route {
  readonly method: 'get' | 'post';
  /** The express path (`/v1/dsis/:dsiId`); OpenAPI writes `{dsiId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'dsis' | 'licenses' | 'machines' | 'builds' | 'parts' | 'transactions' | 'service';
  /** Path parameters and their schemas. */
  readonly params?: Readonly<Record<string, Schema>>;
  readonly requestBody?: Schema;
  /** Schema of the success body and its content type (JSON unless said). */
  readonly response: { readonly status: number; readonly schema: Schema; readonly contentType?: string };
  /** Submits take an `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  /** False for the service endpoints reachable without a client certificate's identity check. */
  readonly authenticated: boolean;
  /** A JSON endpoint. */
  readonly handle?: (context: RouteContext) => Promise<RouteResult>;
  /** An endpoint that writes its own response (events stream, static files, health). */
  readonly raw?: (req: Request, res: Response, caller: Caller | undefined) => void | Promise<void>;
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const ID_PARAM: Schema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$' };
const HEX64_PARAM: Schema = { type: 'string', pattern: '^[0-9a-f]{64}$' };

const committed = (value: Schema): Schema => ({
  type: 'object',
  required: ['value', 'transactionId', 'blockNumber', 'attempts'],
  properties: {
    value,
    transactionId: { type: 'string' },
    blockNumber: { type: 'string', pattern: '^[0-9]+$' },
    attempts: { type: 'integer', minimum: 1 },
  },
});

/** The output schema name of each submit, for its response. */
const SUBMIT_OUTPUT: Partial<Record<SubmitTransactionName, string>> = {
  'dsi:Register': 'Dsi',
  'dsi:Revoke': 'Dsi',
  'license:Issue': 'LicenseView',
  'license:Split': 'LicenseView',
  'license:Allocate': 'Allocation',
  'license:Revoke': 'LicenseView',
  'machine:Register': 'Machine',
  'machine:Deactivate': 'Machine',
  'machine:RotateKeys': 'Machine',
  'build:Start': 'Build',
  'build:Complete': 'Build',
};

function submitRoute(
  ledger: GatewayLedger,
  path: string,
  name: SubmitTransactionName,
  operationId: string,
  summary: string,
  tag: Route['tag'],
): Route {
  const rule = INPUT_RULES[name];
  return {
    method: 'post',
    path,
    operationId,
    summary,
    tag,
    requestBody: ref(rule.schema),
    response: { status: 200, schema: committed(ref(SUBMIT_OUTPUT[name] ?? 'AnyJson')) },
    idempotent: true,
    authenticated: true,
    handle: async ({ caller, body, afterBlock }) => {
      authorize(caller, name);
      const input = rule.decode(body);
      return {
        status: 200,
        body: await ledger.submit(caller, name, input, afterBlock === undefined ? {} : { afterBlock }),
      };
    },
  };
}

function readRoute(
  ledger: GatewayLedger,
  path: string,
  name: EvaluateTransactionName,
  operationId: string,
  summary: string,
  tag: Route['tag'],
  params: Readonly<Record<string, Schema>>,
  output: string,
): Route {
  const rule = INPUT_RULES[name];
  return {
    method: 'get',
    path,
    operationId,
    summary,
    tag,
    params,
    response: { status: 200, schema: ref(output) },
    authenticated: true,
    handle: async ({ caller, params: values, afterBlock }) => {
      authorize(caller, name);
      const input = rule.decode({ ...values });
      return {
        status: 200,
        body: await ledger.evaluate(caller, name, input, afterBlock === undefined ? {} : { afterBlock }),
      };
    },
  };
}

function signature(body: unknown): Uint8Array {
  const value = (body as { signature?: unknown } | null)?.signature;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{8,200}={0,2}$/.test(value))
    throw new ThreadsealError('INVALID_ARGUMENT', 'signature: expected base64 of a DER ECDSA signature');
  return Buffer.from(value, 'base64');
}

const SIGNATURE_BODY: Schema = {
  type: 'object',
  required: ['signature'],
  properties: {
    signature: {
      type: 'string',
      pattern: '^[A-Za-z0-9+/]{8,200}={0,2}$',
      description: 'base64 of the DER ECDSA P-256 signature (low S) over the digest of the previous step',
    },
  },
};
const HANDLE_PARAM: Schema = { type: 'string', pattern: '^[A-Za-z0-9_-]{24}$' };

function signingRoutes(ledger: GatewayLedger, handles: SigningHandles): Route[] {
  const step = (
    stage: SigningStage,
    summary: string,
    schema: Schema,
    run: (
      caller: Caller,
      handle: string,
      bytes: Uint8Array,
      sig: Uint8Array,
      pending: ReturnType<SigningHandles['take']>,
    ) => Promise<unknown>,
  ): Route => ({
    method: 'post',
    path: `/v1/transactions/:handle/${stage}`,
    operationId: `${stage}SignedTransaction`,
    summary,
    tag: 'transactions',
    params: { handle: HANDLE_PARAM },
    requestBody: SIGNATURE_BODY,
    response: { status: 200, schema },
    authenticated: true,
    handle: async ({ caller, body, params }) => {
      const sig = signature(body);
      const handle = params['handle'] ?? '';
      const pending = handles.take(handle, caller.fingerprint, stage);
      return { status: 200, body: await run(caller, handle, pending.bytes, sig, pending) };
    },
  });
  return [
    {
      method: 'post',
      path: '/v1/transactions/prepare',
      operationId: 'prepareTransaction',
      summary:
        'Prepares a transaction as the caller without their key: returns the proposal digest to sign and a handle',
      tag: 'transactions',
      requestBody: ref('PrepareRequest'),
      response: { status: 201, schema: ref('PreparedTransaction') },
      authenticated: true,
      handle: ({ caller, body }) => {
        const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        const name = jsonTransaction(request['transaction']);
        authorize(caller, name);
        const input = INPUT_RULES[name].decode(request['input']);
        const confidential = request['licenseConfidential'];
        if (confidential !== undefined && typeof confidential !== 'boolean')
          throw new ThreadsealError('INVALID_ARGUMENT', 'licenseConfidential: expected true or false');
        const proposal = ledger.prepare(caller, name, input, {
          ...(confidential !== undefined ? { licenseConfidential: confidential } : {}),
        });
        const stage: SigningStage = isSubmit(name) ? 'endorse' : 'evaluate';
        const handle = handles.open({
          callerFingerprint: caller.fingerprint,
          transaction: name,
          transactionId: proposal.transactionId,
          stage,
          bytes: Buffer.from(proposal.bytes, 'base64'),
        });
        return Promise.resolve({
          status: 201,
          body: { handle, transactionId: proposal.transactionId, next: stage, digest: proposal.digest },
        });
      },
    },
    step(
      'evaluate',
      'Evaluates a prepared read with the signed proposal digest',
      ref('AnyJson'),
      async (caller, _h, bytes, sig) => ({
        result: await ledger.evaluateSigned(caller, bytes, sig),
      }),
    ),
    step(
      'endorse',
      'Endorses the signed proposal; returns the transaction digest to sign',
      ref('SigningStepResponse'),
      async (caller, handle, bytes, sig, pending) => {
        const endorsed = await ledger.endorse(caller, bytes, sig);
        handles.advance(handle, {
          ...pending,
          stage: 'submit',
          bytes: Buffer.from(endorsed.bytes, 'base64'),
          result: endorsed.result,
        });
        return {
          handle,
          transactionId: endorsed.transactionId,
          next: 'submit',
          digest: endorsed.digest,
          result: endorsed.result,
        };
      },
    ),
    step(
      'submit',
      'Orders the signed transaction; returns the commit-status digest to sign',
      ref('SigningStepResponse'),
      async (caller, handle, bytes, sig, pending) => {
        const commit = await ledger.submitSigned(caller, bytes, sig);
        handles.advance(handle, { ...pending, stage: 'commit', bytes: Buffer.from(commit.bytes, 'base64') });
        return { handle, transactionId: pending.transactionId, next: 'commit', digest: commit.digest };
      },
    ),
    step(
      'commit',
      'Waits for the commit with the signed commit-status request; answers only for a VALID commit',
      committed(ref('AnyJson')),
      async (caller, _handle, bytes, sig, pending) => {
        const status = await ledger.commitStatus(caller, bytes, sig);
        return {
          value: pending.result ?? null,
          transactionId: status.transactionId,
          blockNumber: status.blockNumber,
          attempts: 1,
        };
      },
    ),
  ];
}

/** "Is this part genuine, and where does it come from?": the part, the build that made it, its DSI. */
async function partLookup(
  ledger: GatewayLedger,
  caller: Caller,
  partId: string,
  afterBlock: bigint | undefined,
): Promise<unknown> {
  authorize(caller, 'trace:GetPart');
  const ref = INPUT_RULES['trace:GetPart'].decode({ partId });
  const options = afterBlock === undefined ? {} : { afterBlock };
  const part: Part = await ledger.evaluate(caller, 'trace:GetPart', ref, options);
  const [build, dsi]: [Build, Dsi] = await Promise.all([
    ledger.evaluate(caller, 'build:Get', { buildId: part.buildId }, options),
    ledger.evaluate(caller, 'dsi:Get', { dsiId: part.dsiId }, options),
  ]);
  const genuine = build.status === 'completed' && build.partId === part.partId && build.dsiId === part.dsiId;
  return { genuine, part, build, dsi };
}

/** The ledger endpoints of the gateway (the service ones are added by the app). */
export function ledgerRoutes(
  ledger: GatewayLedger,
  handles: SigningHandles,
  dsiSignerFor: (caller: Caller) => DsiSigner | undefined = () => undefined,
): Route[] {
  return [
    {
      method: 'post',
      path: '/v1/dsis/protect',
      operationId: 'protectAndRegisterDsi',
      summary:
        'Upload-and-protect: seals the files (in memory) into a DSI signed by the caller and registers it',
      tag: 'dsis',
      requestBody: ref('ProtectRequest'),
      response: { status: 200, schema: ref('ProtectedDsi') },
      idempotent: true,
      authenticated: true,
      handle: async ({ caller, body }) => ({
        status: 200,
        body: await protectAndRegister(ledger, caller, dsiSignerFor(caller), body),
      }),
    },
    submitRoute(
      ledger,
      '/v1/dsis',
      'dsi:Register',
      'registerDsi',
      'Registers a DSI sealed and signed by the caller',
      'dsis',
    ),
    submitRoute(
      ledger,
      '/v1/dsis/revoke',
      'dsi:Revoke',
      'revokeDsi',
      'Revokes a DSI of the caller’s org',
      'dsis',
    ),
    readRoute(
      ledger,
      '/v1/dsis/:dsiId',
      'dsi:Get',
      'getDsi',
      'Reads a DSI',
      'dsis',
      { dsiId: HEX64_PARAM },
      'Dsi',
    ),
    readRoute(
      ledger,
      '/v1/dsis/:dsiId/tree',
      'trace:GetDsiTree',
      'getDsiTree',
      'The licence tree of a DSI: licences, allocations, machines, builds and parts',
      'dsis',
      { dsiId: HEX64_PARAM },
      'DsiTree',
    ),
    submitRoute(
      ledger,
      '/v1/licenses',
      'license:Issue',
      'issueLicense',
      'Issues a root licence on a DSI of the org',
      'licenses',
    ),
    submitRoute(
      ledger,
      '/v1/licenses/split',
      'license:Split',
      'splitLicense',
      'Splits part of a licence to an org, narrowing its terms',
      'licenses',
    ),
    submitRoute(
      ledger,
      '/v1/licenses/allocate',
      'license:Allocate',
      'allocateLicense',
      'Allocates units of a licence to a machine',
      'licenses',
    ),
    submitRoute(
      ledger,
      '/v1/licenses/revoke',
      'license:Revoke',
      'revokeLicense',
      'Revokes a licence granted by the org',
      'licenses',
    ),
    readRoute(
      ledger,
      '/v1/licenses/:licenseId',
      'license:Get',
      'getLicense',
      'Reads a licence and its balance',
      'licenses',
      { licenseId: ID_PARAM },
      'LicenseView',
    ),
    readRoute(
      ledger,
      '/v1/licenses/:licenseId/history',
      'trace:GetLicenseHistory',
      'getLicenseHistory',
      'Every committed version of a licence, its balance and its revocation',
      'licenses',
      { licenseId: ID_PARAM },
      'AnyJson',
    ),
    submitRoute(
      ledger,
      '/v1/machines',
      'machine:Register',
      'registerMachine',
      'Registers a machine of the org with its public key',
      'machines',
    ),
    readRoute(
      ledger,
      '/v1/machines/:machineId',
      'machine:Get',
      'getMachine',
      'Reads a machine',
      'machines',
      { machineId: ID_PARAM },
      'Machine',
    ),
    submitRoute(
      ledger,
      '/v1/machines/deactivate',
      'machine:Deactivate',
      'deactivateMachine',
      'Deactivates a machine of the caller’s org: no build starts and no key is released to it from then on',
      'machines',
    ),
    submitRoute(
      ledger,
      '/v1/machines/rotate-keys',
      'machine:RotateKeys',
      'rotateMachineKeys',
      'Replaces both keys of a machine of the caller’s org; requests signed with the old key fail from then on',
      'machines',
    ),
    readRoute(
      ledger,
      '/v1/builds/:buildId/release',
      'release:Get',
      'getKeyRelease',
      'Reads the content keys released to the machine of a build (sealed to the machine’s key)',
      'builds',
      { buildId: ID_PARAM },
      'KeyRelease',
    ),
    submitRoute(
      ledger,
      '/v1/builds/start',
      'build:Start',
      'startBuild',
      'Starts a machine-signed build: one unit consumed in a VALID block',
      'builds',
    ),
    submitRoute(
      ledger,
      '/v1/builds/complete',
      'build:Complete',
      'completeBuild',
      'Completes a build with the part id',
      'builds',
    ),
    readRoute(
      ledger,
      '/v1/builds/:buildId',
      'build:Get',
      'getBuild',
      'Build status',
      'builds',
      { buildId: ID_PARAM },
      'Build',
    ),
    {
      method: 'get',
      path: '/v1/parts/:partId',
      operationId: 'lookUpPart',
      summary: 'Is this part genuine, and where does it come from: the part, its build and its DSI',
      tag: 'parts',
      params: { partId: ID_PARAM },
      response: { status: 200, schema: ref('PartLookup') },
      authenticated: true,
      handle: async ({ caller, params, afterBlock }) => ({
        status: 200,
        body: await partLookup(ledger, caller, params['partId'] ?? '', afterBlock),
      }),
    },
    readRoute(
      ledger,
      '/v1/parts/:partId/history',
      'trace:GetPartHistory',
      'getPartHistory',
      'Committed versions of a part and of the build that produced it',
      'parts',
      { partId: ID_PARAM },
      'AnyJson',
    ),
    ...signingRoutes(ledger, handles),
  ];
}
