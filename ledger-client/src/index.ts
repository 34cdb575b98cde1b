export { LedgerConnection, TransactionInvalidError, validationCodeName } from './ledger/ledger-connection';
export type { CommittedTransaction, LedgerUser, TransactionRecord } from './ledger/ledger-connection';
export { ConnectionProfileError, loadConnectionProfile } from './ledger/connection-profile';
export type { ConnectionProfile, OrgConnection } from './ledger/connection-profile';
export { runSmoke } from './ledger/smoke';
export type { SmokeReport } from './ledger/smoke';
export { DEFAULT_RETRY, isTransientConflict, LedgerClient, toLedgerError } from './client/ledger-client';
export type { Committed, RetryPolicy, SubmitOptions } from './client/ledger-client';
export {
  BuildClient,
  DsiClient,
  LicenseClient,
  MachineClient,
  TraceClient,
  signStartBuild,
  threadsealLedger,
} from './client/aggregates';
export type { BuildRequestParams, ThreadsealLedger } from './client/aggregates';
