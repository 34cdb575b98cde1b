/**
 * Shared vocabulary of the threadseal chaincode and its clients: transaction and event names, error
 * codes, typed inputs/outputs and the canonical codec. Free of Fabric dependencies.
 */
export { canonicalJson, type JsonValue } from './canonical-json.js';
export { DSI_MANIFEST_PAYLOAD_TYPE, dssePae } from './dsse.js';
export {
  CLIENT_ERROR_CODES,
  AGENT_ERROR_CODES,
  CONTROLLER_ERROR_CODES,
  CONTAINER_ERROR_CODES,
  ERROR_CODES,
  HTTP_STATUS,
  LEDGER_ERROR_CODES,
  LedgerError,
  NETWORK_ERROR_CODES,
  ThreadsealError,
  codeObject,
  isLedgerErrorCode,
  isThreadsealError,
  parseLedgerError,
  type ClientErrorCode,
  type AgentErrorCode,
  type ControllerErrorCode,
  type ContainerErrorCode,
  type ErrorCode,
  type LedgerErrorCode,
  type NetworkErrorCodeName,
  type ParsedLedgerError,
} from './errors.js';
export {
  CONTRACT,
  TRANSACTIONS,
  TRANSIENT,
  TX,
  transactionSpec,
  transientTermsField,
  type ContractName,
  type EvaluateTransactionName,
  type JsonTransactionName,
  type SubmitTransactionName,
  type TextArguments,
  type TransactionArgument,
  type TransactionInput,
  type TransactionKind,
  type TransactionName,
  type TransactionNames,
  type TransactionOutput,
  type TransactionSpec,
  type TransientField,
} from './transactions.js';
export {
  EVENT,
  isEventName,
  parseLedgerEvent,
  type EventName,
  type EventPayloads,
  type LedgerEvent,
} from './events.js';
export { IDENTITY_ATTRIBUTE, ROLE, type Role } from './roles.js';
export type {
  Dsi,
  DsiStatus,
  FileDigest,
  GetDsiInput,
  RegisterDsiInput,
  RevokeDsiInput,
  SupersedeDsiInput,
} from './dsi.js';
export {
  LICENSE_MODES,
  type AllocateInput,
  type Allocation,
  type ConfidentialTermsRef,
  type ExactParameter,
  type IssueLicenseInput,
  type License,
  type LicenseBalance,
  type LicenseGrant,
  type LicenseMode,
  type LicenseRef,
  type LicenseRevocation,
  type LicenseTermsView,
  type LicenseView,
  type MachineConstraints,
  type OperatorRequirements,
  type ParameterBound,
  type ProductionTerms,
  type RangeParameter,
  type RevokeLicenseInput,
  type SplitLicenseInput,
} from './license.js';
export type {
  DeactivateMachineInput,
  RotateMachineKeysInput,
  Machine,
  MachineRef,
  MachineStatus,
  RegisterMachineInput,
} from './machine.js';
export {
  RELEASE_STANZA_TYPE,
  type KeyRelease,
  type RecordReleaseInput,
  type ReleaseRef,
  type ReleaseStanza,
} from './release.js';
export {
  SCRAP_RECORD_TYPE,
  START_BUILD_REQUEST_TYPE,
  operatorFingerprint,
  scrapRecordSigningBytes,
  startBuildSigningBytes,
  type AbortBuildInput,
  type Build,
  type BuildNonceRef,
  type BuildRef,
  type BuildStatus,
  type CompleteBuildInput,
  type ParameterValue,
  type Part,
  type PartRef,
  type ScrapBuildInput,
  type StartBuildInput,
  type StartBuildRequest,
} from './build.js';
export type {
  AllocationRef,
  DsiTree,
  DsiTreeInput,
  HistoryEntry,
  LicenseHistory,
  PartHistory,
} from './trace.js';
export {
  confidentialTransport,
  isConfidential,
  withDigestKey,
  type ConfidentialCall,
  type ConfidentialityOf,
  type LicenseConfidentiality,
  type Transport,
} from './confidential-transport.js';
export {
  declaredNumber,
  parseDeclaredNumber,
  type DeclaredRange,
  type ProcessDeclaration,
} from './process.js';
