import type {
  AbortBuildInput,
  Build,
  BuildRef,
  CompleteBuildInput,
  Part,
  PartRef,
  ScrapBuildInput,
  StartBuildInput,
} from './build.js';
import type { Dsi, GetDsiInput, RegisterDsiInput, RevokeDsiInput, SupersedeDsiInput } from './dsi.js';
import type {
  AllocateInput,
  Allocation,
  IssueLicenseInput,
  LicenseRef,
  LicenseTermsView,
  LicenseView,
  RevokeLicenseInput,
  SplitLicenseInput,
} from './license.js';
import type { Machine, MachineRef, RegisterMachineInput } from './machine.js';
import type {
  AllocationRef,
  DsiTree,
  DsiTreeInput,
  HistoryEntry,
  LicenseHistory,
  PartHistory,
} from './trace.js';

/**
 * Input (the single JSON argument) and output (the JSON result) of every JSON-argument transaction, by
 * name, so a client can type `submit<N extends JsonTransactionName>(name: N, input: TransactionIo[N]['input'])`.
 * `query: true` marks read-only transactions to evaluate rather than submit.
 */
export interface TransactionIo {
  'dsi:Register': { input: RegisterDsiInput; output: Dsi; query: false };
  'dsi:Supersede': { input: SupersedeDsiInput; output: Dsi; query: false };
  'dsi:Revoke': { input: RevokeDsiInput; output: Dsi; query: false };
  'dsi:Get': { input: GetDsiInput; output: Dsi; query: true };
  'license:Issue': { input: IssueLicenseInput; output: LicenseView; query: false };
  'license:Split': { input: SplitLicenseInput; output: LicenseView; query: false };
  'license:Allocate': { input: AllocateInput; output: Allocation; query: false };
  'license:Revoke': { input: RevokeLicenseInput; output: LicenseView; query: false };
  'license:Get': { input: LicenseRef; output: LicenseView; query: true };
  'license:GetTerms': { input: LicenseRef; output: LicenseTermsView; query: true };
  'machine:Register': { input: RegisterMachineInput; output: Machine; query: false };
  'machine:Get': { input: MachineRef; output: Machine; query: true };
  'build:Start': { input: StartBuildInput; output: Build; query: false };
  'build:Complete': { input: CompleteBuildInput; output: Build; query: false };
  'build:Abort': { input: AbortBuildInput; output: Build; query: false };
  'build:Scrap': { input: ScrapBuildInput; output: Build; query: false };
  'build:Get': { input: BuildRef; output: Build; query: true };
  'trace:GetDsiTree': { input: DsiTreeInput; output: DsiTree; query: true };
  'trace:GetLicenseHistory': { input: LicenseRef; output: LicenseHistory; query: true };
  'trace:GetAllocationHistory': { input: AllocationRef; output: HistoryEntry<Allocation>[]; query: true };
  'trace:GetPart': { input: PartRef; output: Part; query: true };
  'trace:GetPartHistory': { input: PartRef; output: PartHistory; query: true };
}

/** Names of the transactions taking one JSON argument (all but the `system` contract's). */
export type JsonTransactionName = keyof TransactionIo;

/** Read-only transactions: evaluate them on a peer instead of submitting. */
export const QUERY_TRANSACTIONS: ReadonlySet<JsonTransactionName> = new Set<JsonTransactionName>([
  'dsi:Get',
  'license:Get',
  'license:GetTerms',
  'machine:Get',
  'build:Get',
  'trace:GetDsiTree',
  'trace:GetLicenseHistory',
  'trace:GetAllocationHistory',
  'trace:GetPart',
  'trace:GetPartHistory',
]);
