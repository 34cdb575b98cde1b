import { randomBytes } from 'node:crypto';
import type { StartBuildInput } from './build.js';
import type {
  AllocateInput,
  ConfidentialTermsRef,
  IssueLicenseInput,
  ProductionTerms,
  SplitLicenseInput,
} from './license.js';
import { TRANSIENT, transientTermsField, type TransactionInput } from './transactions.js';

/**
 * New confidential terms with their digest key: the terms as given when they carry one, else with 32 fresh
 * random bytes (the key of the license's `termsHash` and builds' `parametersDigest`; see `ProductionTerms`).
 */
export function withDigestKey(terms: ProductionTerms): ProductionTerms {
  return terms.digestKey !== undefined ? terms : { ...terms, digestKey: randomBytes(32).toString('hex') };
}

/**
 * A license's own confidentiality: `IssueLicenseInput.confidential` for a license being issued,
 * `License.confidential` (the collection, or `null`) for one on the ledger.
 */
export type LicenseConfidentiality = boolean | ConfidentialTermsRef | null;

/** A license as far as its confidentiality goes: a `License`, or anything carrying its flag. */
export interface ConfidentialityOf {
  readonly confidential: LicenseConfidentiality;
}

/**
 * True when a license's production terms, and the declared parameters of builds under it, may travel only in
 * the transient map. The one place this is decided, from the license's own flag and never from whether
 * terms happen to be at hand; the chaincode refuses the other transport.
 */
export function isConfidential(license: ConfidentialityOf): boolean {
  return (
    license.confidential === true ||
    (typeof license.confidential === 'object' && license.confidential !== null)
  );
}

/** A transaction that may carry confidential data, with what decides and completes its transport. */
export type ConfidentialCall =
  | { readonly name: 'license:Issue'; readonly input: IssueLicenseInput }
  | {
      readonly name: 'license:Split';
      readonly input: SplitLicenseInput;
      /** The parent license: a split inherits its confidentiality. */
      readonly parent: ConfidentialityOf;
      /** The parent's confidential terms, for endorsing peers outside the parent's collection. */
      readonly parentTerms?: ProductionTerms;
    }
  | {
      readonly name: 'license:Allocate';
      readonly input: AllocateInput;
      readonly license: ConfidentialityOf;
      readonly licenseTerms?: ProductionTerms;
    }
  | {
      readonly name: 'build:Start';
      readonly input: StartBuildInput;
      readonly license: ConfidentialityOf;
      readonly licenseTerms?: ProductionTerms;
    };

/** What a client sends: the argument, which reaches the block, and the transient map, which does not. */
export interface Transport<N extends ConfidentialCall['name']> {
  readonly argument: TransactionInput<N>;
  readonly transient: Readonly<Record<string, string>>;
}

function withoutTerms<T extends { readonly terms?: ProductionTerms }>(input: T): Omit<T, 'terms'> {
  const argument: { -readonly [K in keyof T]?: T[K] } = { ...input };
  delete argument.terms;
  return argument as Omit<T, 'terms'>;
}

/**
 * Splits a call into argument and transient map by the license's own `confidential` flag
 * ({@link isConfidential}). Public: the input is the argument and nothing is transient (terms of an existing
 * public license are on the channel and are not sent). Confidential: terms leave the argument for the
 * transient field `terms` (new terms with a fresh digest key, {@link withDigestKey}), the terms of an existing
 * license go in `terms.<licenseId>`, and a StartBuild
 * input travels whole in `startBuild` with `{}` as the argument, so that no block carries the envelope.
 */
export function confidentialTransport<C extends ConfidentialCall>(call: C): Transport<C['name']>;
export function confidentialTransport(call: ConfidentialCall): Transport<ConfidentialCall['name']> {
  const json = (value: unknown): string => JSON.stringify(value);
  switch (call.name) {
    case 'license:Issue': {
      const { input } = call;
      if (!isConfidential(input)) return { argument: input, transient: {} };
      return {
        argument: withoutTerms(input),
        transient: input.terms === undefined ? {} : { [TRANSIENT.terms]: json(withDigestKey(input.terms)) },
      };
    }
    case 'license:Split': {
      const { input, parent, parentTerms } = call;
      if (!isConfidential(parent)) return { argument: input, transient: {} };
      return {
        argument: withoutTerms(input),
        transient: {
          ...(input.terms === undefined ? {} : { [TRANSIENT.terms]: json(withDigestKey(input.terms)) }),
          ...(parentTerms === undefined ? {} : { [transientTermsField(input.parentId)]: json(parentTerms) }),
        },
      };
    }
    case 'license:Allocate': {
      const { input, license, licenseTerms } = call;
      if (!isConfidential(license) || licenseTerms === undefined) return { argument: input, transient: {} };
      return { argument: input, transient: { [transientTermsField(input.licenseId)]: json(licenseTerms) } };
    }
    case 'build:Start': {
      const { input, license, licenseTerms } = call;
      if (!isConfidential(license)) return { argument: input, transient: {} };
      return {
        // The chaincode reads the whole input from the transient field and requires `{}` as the argument.
        argument: {} as StartBuildInput,
        transient: {
          [TRANSIENT.startBuild]: json(input),
          ...(licenseTerms === undefined
            ? {}
            : { [transientTermsField(input.request.licenseId)]: json(licenseTerms) }),
        },
      };
    }
  }
}
