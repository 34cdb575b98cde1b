export { blockDataHash, blockHeaderBytes, blockHeaderHash, METADATA_INDEX } from './block/raw-block';
export { rawBlockFromProto, rawBlockToProto } from './block/block-proto';
export type { RawBlock } from './block/raw-block';
export {
  BlockStoreFormatError,
  blockFiles,
  decodeStoredBlock,
  encodeBlockFile,
  encodeStoredBlock,
  readBlockStore,
} from './block/block-store';
export { ChannelConfig } from './config/channel-config';
export type { ChannelOrg, PolicyVerdict } from './config/channel-config';
export { Msp, MspManager, verifyFabricSignature } from './msp/msp';
export type { IdentityResult, MspRole, ValidIdentity } from './msp/msp';
export { checkSignatures, evaluateSignaturePolicy } from './policy/policy';
export type { SignedData, VerifiedSigner } from './policy/policy';
export { spaceOf, VALIDATION_PARAMETER, WorldState } from './state/world-state';
export type { Height, VersionedValue } from './state/world-state';
export { ANOMALY, NOTICE_KINDS } from './replay/anomaly';
export type { Anomaly, AnomalyKind } from './replay/anomaly';
export { Auditor, printable, validationCodeNameOf } from './replay/auditor';
export type { AuditedTransaction, AuditMode, AuditorOptions } from './replay/auditor';
export {
  blockStoreSource,
  genesisHashOfBlockFile,
  parseGenesisHash,
  peerBlockSource,
  peerBlockStoreDir,
} from './source/block-sources';
export type { BlockSource } from './source/block-sources';
export { auditChain, auditReportJson, auditReportText } from './report/audit-report';
export type { AuditChainOptions, AuditReport } from './report/audit-report';
export { compareWithSnapshot, readStateSnapshot } from './state/state-snapshot';
export type { SnapshotEntry } from './state/state-snapshot';
export { indexChain, indexDigest } from './index/audit-index';
export type { IndexOptions, IndexResult } from './index/audit-index';
export { buildPassport, PASSPORT_FORMAT, passportBytes, verifyPassport } from './passport/passport';
export type { PartPassport, PassportRole, PassportVerdict } from './passport/passport';
export { ledgerReport, ledgerReportText } from './report/ledger-report';
export type { DomainAnomaly, LedgerReport, LicenseNodeReport, MachineReport } from './report/ledger-report';
