export { DEFAULT_DEADLINES, LedgerConnection } from './connection/ledger-connection';
export { LedgerUnavailableError, TransactionInvalidError, gatewayErrorOf } from './connection/ledger-errors';
export type { EndorserRefusal } from './connection/ledger-errors';
export { validationCodeName } from './connection/validation-code';
export type {
  CommittedTransaction,
  LedgerConnectionOptions,
  LedgerDeadlines,
  TransactionRecord,
} from './connection/ledger-connection';
export { CausalGroup } from './connection/causal-group';
export { OfflineSigningSession } from './connection/offline-signing';
export type {
  OfflineSigningOptions,
  Unsigned,
  UnsignedProposal,
  UnsignedTransaction,
} from './connection/offline-signing';
export {
  blockNumber,
  blockTransactions,
  fileCheckpointer,
  readBlocks,
  readBlocksWithPrivateData,
  readLedgerEvents,
} from './events/ledger-events';
export type { BlockTransaction, CommittedLedgerEvent, EventReadOptions } from './events/ledger-events';
export { blockCensus } from './events/block-census';
export type { BlockCensus, CensusTransaction } from './events/block-census';
export { ConnectionProfileError, loadConnectionProfile, userMspDir } from './profile/connection-profile';
export type { ConnectionProfile, LedgerUser, OrgConnection } from './profile/connection-profile';
export { findMatchingPrivateKey, loadMspCredentials, readMspCertificate } from './profile/msp-identity';
export type { MspCredentials } from './profile/msp-identity';
export { openLedgerClient, openLedgerConnection, peerGrpcClient } from './profile/open-from-profile';
export type { ProfileConnectionOptions } from './profile/open-from-profile';
export { runSmoke } from './profile/smoke';
export type { SmokeReport } from './profile/smoke';
export { DEFAULT_RETRY, isTransientConflict, LedgerClient, toLedgerError } from './client/ledger-client';
export type { Committed, RetryPolicy, SubmitContext, SubmitOptions } from './client/ledger-client';
export {
  BuildClient,
  DsiClient,
  LicenseClient,
  MachineClient,
  ReleaseClient,
  type LicenseChainLink,
  TraceClient,
  signScrapRecord,
  signScrapRecordWith,
  signStartBuild,
  signStartBuildWith,
  threadsealLedger,
} from './client/aggregates';
export type {
  BuildRequestParams,
  ReleaseWaitOptions,
  ScrapRecord,
  ThreadsealLedger,
} from './client/aggregates';
// The signer and checkpointer factories and types callers hand to a connection, from fabric-gateway.
export { checkpointers, signers } from '@hyperledger/fabric-gateway';
export type {
  Checkpoint,
  Checkpointer,
  CloseableAsyncIterable,
  GrpcClient,
  HSMSigner,
  HSMSignerFactory,
  HSMSignerOptions,
  Identity,
  Signer,
} from '@hyperledger/fabric-gateway';
