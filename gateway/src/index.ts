/**
 * The REST gateway of one threadseal org: an express app in front of the org's peer, every call made as the
 * caller's own enrolled identity (mTLS), custodial signing for named service identities and non-custodial
 * (offline) signing for everyone else, an OpenAPI 3.1 document generated from the rules' schemas, and the
 * dashboard.
 */
export { callerOf, type Caller, type GatewayOrg } from './auth/caller';
export {
  bearerOf,
  CallerTokens,
  type CallerTokensOptions,
  type IssuedToken,
  type TokenClaims,
} from './auth/caller-tokens';
export { watchRevocationList, type CrlWatchHandlers } from './auth/crl-watch';
export { fabricAttributes } from './auth/fabric-attributes';
export { RevocationList } from './auth/revocation-list';
export { authorize, permissionOf, SUBMIT_PERMISSIONS, type Permission } from './auth/permissions';
export { tlsCaller, type TlsCallerOptions } from './auth/tls-caller';
export { gatewayConfig, type GatewayConfig } from './config';
export { main } from './main';
export {
  createApp,
  DEFAULT_LIMITS,
  type GatewayApp,
  type GatewayDeps,
  type GatewayLimits,
  type LogEntry,
} from './http/app';
export { errorResponse, scrub, type ErrorBody } from './http/error-response';
export { openApiDocument, type OpenApiDocument } from './http/openapi';
export type { Route } from './http/routes';
export { INPUT_RULES } from './http/transactions';
export { CallerBuckets, type Admission } from './http/caller-buckets';
export {
  CustodialKeys,
  type CustodialIdentity,
  type CustodialKeyConfig,
  type CustodialMspDir,
  type CustodialPkcs11,
} from './ledger/custodial-keys';
export { FabricGatewayLedger, type FabricGatewayLedgerOptions } from './ledger/fabric-gateway-ledger';
export type {
  CallOptions,
  CommittedResult,
  GatewayLedger,
  PrepareHints,
  SigningStep,
} from './ledger/gateway-ledger';
export { listenMutualTls, startGateway, type MutualTlsListen, type RunningGateway } from './server';
