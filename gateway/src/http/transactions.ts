import {
  decodeAbortBuild,
  decodeAllocate,
  decodeAllocationRef,
  decodeBuildNonceRef,
  decodeBuildRef,
  decodeCompleteBuild,
  decodeDeactivateMachine,
  decodeRotateMachineKeys,
  decodeDsiRef,
  decodeIssueLicense,
  decodeLicenseRef,
  decodeMachineRef,
  decodePartRef,
  decodeRecordRelease,
  decodeReleaseRef,
  decodeRegisterDsi,
  decodeRegisterMachine,
  decodeRevokeDsi,
  decodeRevokeLicense,
  decodeScrapBuild,
  decodeSplitLicense,
  decodeStartBuild,
  decodeSupersedeDsi,
  type DtoSchemaName,
} from '@threadseal/rules';
import {
  ThreadsealError,
  TRANSACTIONS,
  type EvaluateTransactionName,
  type JsonTransactionName,
  type SubmitTransactionName,
  type TransactionInput,
} from '@threadseal/ledger-model';

/** How the gateway checks one transaction's input: the rules' decoder and the schema published for it. */
export interface InputRule<N extends JsonTransactionName> {
  readonly schema: DtoSchemaName;
  readonly decode: (value: unknown) => TransactionInput<N>;
}

/**
 * The decoder and schema of every JSON transaction: requests are decoded by the same functions the chaincode
 * runs (authoritative, cross-field rules included) before anything is sent; the OpenAPI document publishes
 * the schemas.
 */
export const INPUT_RULES: { readonly [N in JsonTransactionName]: InputRule<N> } = {
  'dsi:Register': { schema: 'RegisterDsiInput', decode: (v) => decodeRegisterDsi(v) },
  'dsi:Supersede': { schema: 'SupersedeDsiInput', decode: decodeSupersedeDsi },
  'dsi:Revoke': { schema: 'RevokeDsiInput', decode: decodeRevokeDsi },
  'dsi:Get': { schema: 'GetDsiInput', decode: decodeDsiRef },
  'license:Issue': { schema: 'IssueLicenseInput', decode: decodeIssueLicense },
  'license:Split': { schema: 'SplitLicenseInput', decode: decodeSplitLicense },
  'license:Allocate': { schema: 'AllocateInput', decode: decodeAllocate },
  'license:Revoke': { schema: 'RevokeLicenseInput', decode: decodeRevokeLicense },
  'license:Get': { schema: 'LicenseRef', decode: decodeLicenseRef },
  'license:GetTerms': { schema: 'LicenseRef', decode: decodeLicenseRef },
  'machine:Register': { schema: 'RegisterMachineInput', decode: decodeRegisterMachine },
  'machine:Deactivate': { schema: 'DeactivateMachineInput', decode: decodeDeactivateMachine },
  'machine:RotateKeys': { schema: 'RotateMachineKeysInput', decode: decodeRotateMachineKeys },
  'machine:Get': { schema: 'MachineRef', decode: decodeMachineRef },
  'build:Start': { schema: 'StartBuildInput', decode: decodeStartBuild },
  'build:Complete': { schema: 'CompleteBuildInput', decode: decodeCompleteBuild },
  'build:Abort': { schema: 'AbortBuildInput', decode: decodeAbortBuild },
  'build:Scrap': { schema: 'ScrapBuildInput', decode: decodeScrapBuild },
  'build:Get': { schema: 'BuildRef', decode: decodeBuildRef },
  'build:GetByNonce': { schema: 'BuildNonceRef', decode: decodeBuildNonceRef },
  'release:Record': { schema: 'RecordReleaseInput', decode: decodeRecordRelease },
  'release:Get': { schema: 'ReleaseRef', decode: decodeReleaseRef },
  'trace:GetDsiTree': { schema: 'DsiTreeInput', decode: decodeDsiRef },
  'trace:GetLicenseHistory': { schema: 'LicenseRef', decode: decodeLicenseRef },
  'trace:GetAllocationHistory': { schema: 'AllocationRef', decode: decodeAllocationRef },
  'trace:GetPart': { schema: 'PartRef', decode: decodePartRef },
  'trace:GetPartHistory': { schema: 'PartRef', decode: decodePartRef },
};

/**
 * The JSON transaction a caller names.
 * @throws ThreadsealError INVALID_ARGUMENT when it is not one of the catalogue's JSON transactions.
 */
export function jsonTransaction(value: unknown): SubmitTransactionName | EvaluateTransactionName {
  if (typeof value !== 'string' || !Object.prototype.hasOwnProperty.call(INPUT_RULES, value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
    throw new ThreadsealError(
      'INVALID_ARGUMENT',
      `transaction: expected one of ${Object.keys(INPUT_RULES).join(', ')}, got ${shown}`,
    );
  }
  return value as SubmitTransactionName | EvaluateTransactionName;
}

/** Whether a JSON transaction changes the ledger. */
export function isSubmit(name: JsonTransactionName): name is SubmitTransactionName {
  return TRANSACTIONS[name].kind === 'submit';
}
