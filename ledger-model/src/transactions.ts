import type {
  AbortBuildInput,
  Build,
  BuildNonceRef,
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
import type {
  DeactivateMachineInput,
  Machine,
  MachineRef,
  RegisterMachineInput,
  RotateMachineKeysInput,
} from './machine.js';
import type { KeyRelease, RecordReleaseInput, ReleaseRef } from './release.js';
import type {
  AllocationRef,
  DsiTree,
  DsiTreeInput,
  HistoryEntry,
  LicenseHistory,
  PartHistory,
} from './trace.js';

/** Contract (namespace) names of the threadseal chaincode. */
export const CONTRACT = {
  system: 'system',
  dsi: 'dsi',
  license: 'license',
  machine: 'machine',
  build: 'build',
  release: 'release',
  trace: 'trace',
} as const;

/** A contract name of {@link CONTRACT}. */
export type ContractName = (typeof CONTRACT)[keyof typeof CONTRACT];

/** Transient-map field names read by the chaincode. */
export const TRANSIENT = {
  /** Confidential production terms of the license being issued or split (canonical JSON). */
  terms: 'terms',
  /** Prefix of `terms.<licenseId>`: confidential terms of an existing license, checked against its hash. */
  termsOfPrefix: 'terms.',
  /** The whole `StartBuildInput` (JSON) of a build under a confidential license; the argument is then `{}`. */
  startBuild: 'startBuild',
} as const;

/** The transient field carrying the confidential terms of an existing license: `terms.<licenseId>`. */
export function transientTermsField(licenseId: string): string {
  return `${TRANSIENT.termsOfPrefix}${licenseId}`;
}

/**
 * A transient field a transaction reads: `terms`, `startBuild`, or the terms of an existing license named by
 * a member of the input (`terms.<licenseId>` is `terms.` followed by the input's `licenseId`).
 */
export type TransientField =
  typeof TRANSIENT.terms | typeof TRANSIENT.startBuild | 'terms.<licenseId>' | 'terms.<parentId>';

/** Whether a transaction changes the ledger (submit, wait for a VALID commit) or only reads it (evaluate). */
export type TransactionKind = 'submit' | 'evaluate';

/** `json`: one JSON argument (every contract but `system`); `text`: plain string arguments. */
export type TransactionArgument = 'json' | 'text';

/** The arguments of the system contract's transactions: plain strings, not one JSON document. */
export type TextArguments = readonly string[];

/**
 * One transaction of the catalogue. Its input and output are carried as types only (`types` is never set
 * at run time), so that a client typed by the catalogue cannot send the wrong DTO or expect the wrong result.
 */
export interface TransactionSpec<
  K extends TransactionKind = TransactionKind,
  I = unknown,
  O = unknown,
  A extends TransactionArgument = TransactionArgument,
> {
  readonly kind: K;
  readonly argument: A;
  /** The transient fields the chaincode reads besides the argument, in no particular order. */
  readonly transient: readonly TransientField[];
  readonly types?: { readonly input: I; readonly output: O };
}

const submit = <I, O>(
  transient: readonly TransientField[] = [],
): TransactionSpec<'submit', I, O, 'json'> => ({
  kind: 'submit',
  argument: 'json',
  transient,
});
const evaluate = <I, O>(): TransactionSpec<'evaluate', I, O, 'json'> => ({
  kind: 'evaluate',
  argument: 'json',
  transient: [],
});
const text = <K extends TransactionKind>(kind: K): TransactionSpec<K, TextArguments, string, 'text'> => ({
  kind,
  argument: 'text',
  transient: [],
});

/**
 * Every transaction of the chaincode, by fully-qualified name (`<contract>:<function>`): its kind, input,
 * output and transient fields. The one list of transactions: {@link TX} is derived from it, the chaincode's
 * unit tests check that the served contracts match it, and the ledger client is typed by it.
 */
export const TRANSACTIONS = {
  'system:Ping': text('evaluate'),
  'system:WhoAmI': text('evaluate'),
  'system:PutNote': text('submit'),
  'system:GetNote': text('evaluate'),
  'dsi:Register': submit<RegisterDsiInput, Dsi>(),
  'dsi:Supersede': submit<SupersedeDsiInput, Dsi>(),
  'dsi:Revoke': submit<RevokeDsiInput, Dsi>(),
  'dsi:Get': evaluate<GetDsiInput, Dsi>(),
  'license:Issue': submit<IssueLicenseInput, LicenseView>([TRANSIENT.terms]),
  'license:Split': submit<SplitLicenseInput, LicenseView>([TRANSIENT.terms, 'terms.<parentId>']),
  'license:Allocate': submit<AllocateInput, Allocation>(['terms.<licenseId>']),
  'license:Revoke': submit<RevokeLicenseInput, LicenseView>(),
  'license:Get': evaluate<LicenseRef, LicenseView>(),
  'license:GetTerms': evaluate<LicenseRef, LicenseTermsView>(),
  'machine:Register': submit<RegisterMachineInput, Machine>(),
  'machine:Deactivate': submit<DeactivateMachineInput, Machine>(),
  'machine:RotateKeys': submit<RotateMachineKeysInput, Machine>(),
  'machine:Get': evaluate<MachineRef, Machine>(),
  'build:Start': submit<StartBuildInput, Build>([TRANSIENT.startBuild, 'terms.<licenseId>']),
  'build:Complete': submit<CompleteBuildInput, Build>(),
  'build:Abort': submit<AbortBuildInput, Build>(),
  'build:Scrap': submit<ScrapBuildInput, Build>(),
  'build:Get': evaluate<BuildRef, Build>(),
  'build:GetByNonce': evaluate<BuildNonceRef, Build>(),
  'release:Record': submit<RecordReleaseInput, KeyRelease>(),
  'release:Get': evaluate<ReleaseRef, KeyRelease>(),
  'trace:GetDsiTree': evaluate<DsiTreeInput, DsiTree>(),
  'trace:GetLicenseHistory': evaluate<LicenseRef, LicenseHistory>(),
  'trace:GetAllocationHistory': evaluate<AllocationRef, HistoryEntry<Allocation>[]>(),
  'trace:GetPart': evaluate<PartRef, Part>(),
  'trace:GetPartHistory': evaluate<PartRef, PartHistory>(),
} as const satisfies Readonly<Record<`${ContractName}:${string}`, TransactionSpec>>;

type Catalogue = typeof TRANSACTIONS;

/** Any transaction name of the catalogue. */
export type TransactionName = keyof Catalogue;

/** Names of the transactions taking one JSON argument (all but the `system` contract's). */
export type JsonTransactionName = {
  [N in TransactionName]: Catalogue[N]['argument'] extends 'json' ? N : never;
}[TransactionName];

/** JSON transactions that change the ledger: submit them and wait for a VALID commit. */
export type SubmitTransactionName = {
  [N in JsonTransactionName]: Catalogue[N]['kind'] extends 'submit' ? N : never;
}[JsonTransactionName];

/** JSON transactions that only read: evaluate them on a peer. */
export type EvaluateTransactionName = {
  [N in JsonTransactionName]: Catalogue[N]['kind'] extends 'evaluate' ? N : never;
}[JsonTransactionName];

/** The input (argument) type of a transaction. */
export type TransactionInput<N extends TransactionName> = NonNullable<Catalogue[N]['types']>['input'];

/** The output (result) type of a transaction. */
export type TransactionOutput<N extends TransactionName> = NonNullable<Catalogue[N]['types']>['output'];

/** The spec of one transaction. @throws TypeError for a name outside the catalogue. */
export function transactionSpec(name: string): TransactionSpec {
  if (!Object.prototype.hasOwnProperty.call(TRANSACTIONS, name))
    throw new TypeError(`${name} is not a threadseal transaction`);
  return TRANSACTIONS[name as TransactionName];
}

type ContractOf<N> = N extends `${infer C}:${string}` ? C : never;
type FunctionKey<N> = N extends `${string}:${infer F}` ? Uncapitalize<F> : never;

/** Transaction names by contract and lower-camel function: `TX.build.start === 'build:Start'`. */
export type TransactionNames = {
  readonly [C in ContractName]: {
    readonly [N in TransactionName as ContractOf<N> extends C ? FunctionKey<N> : never]: N;
  };
};

/** Fully-qualified transaction names (`<contract>:<function>`), derived from {@link TRANSACTIONS}. */
export const TX: TransactionNames = (() => {
  const byContract: Record<string, Record<string, string>> = {};
  for (const name of Object.keys(TRANSACTIONS)) {
    const [contract = '', fn = ''] = name.split(':');
    (byContract[contract] ??= {})[fn.charAt(0).toLowerCase() + fn.slice(1)] = name;
  }
  return byContract as unknown as TransactionNames;
})();
