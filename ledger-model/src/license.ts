/** License modes, narrowest first: a sub-license's mode may not come later in this list than its parent's. */
export const LICENSE_MODES = ['engineering', 'manufacturing', 'distribution'] as const;

/**
 * What a license permits: `engineering` opens the DSI on named workstations and never produces,
 * `manufacturing` produces on allocated machines, `distribution` may only sub-license.
 */
export type LicenseMode = (typeof LICENSE_MODES)[number];

/** A numeric process parameter bounded by an inclusive range. */
export interface RangeParameter {
  readonly name: string;
  readonly unit: string;
  readonly kind: 'range';
  readonly min: number;
  readonly max: number;
}

/** A process parameter fixed to one value (e.g. `material = Ti-6Al-4V`, `layerHeight = 0.03`). */
export interface ExactParameter {
  readonly name: string;
  readonly unit: string;
  readonly kind: 'exact';
  readonly value: number | string;
}

/** One named, typed entry of a license's parameter envelope. */
export type ParameterBound = RangeParameter | ExactParameter;

/** Which machines may produce under a license; an empty list means "any". */
export interface MachineConstraints {
  readonly makes: readonly string[];
  readonly models: readonly string[];
  readonly serials: readonly string[];
  /** Certifications the machine must all hold. */
  readonly requiredCertifications: readonly string[];
}

/** Who may operate a build: `role` CA attribute one of `roles` (empty = any), holding every qualification. */
export interface OperatorRequirements {
  readonly roles: readonly string[];
  readonly qualifications: readonly string[];
}

/**
 * The production terms of a license. When the IP owner marks a license tree confidential these terms
 * live only in the private data collection of grantor and holder; the channel holds their hash.
 */
export interface ProductionTerms {
  readonly machines: MachineConstraints;
  readonly envelope: readonly ParameterBound[];
  readonly operators: OperatorRequirements;
  /** Workstation ids an engineering license may open the DSI on (empty for other modes = none named). */
  readonly workstations: readonly string[];
  /**
   * Confidential terms only: 32 random bytes (64 lowercase hex) that key the channel's commitments to them —
   * the license's `termsHash` and the `parametersDigest` of every build under it (HMAC-SHA256) — so that they
   * cannot be brute-forced from public records. It lives with the terms in the license's collection and never
   * reaches the channel; `confidentialTransport` adds a fresh one to new confidential terms. Public terms carry
   * none (they are on the channel anyway).
   */
  readonly digestKey?: string;
}

/** The quantity, mode and validity of a license; always public. */
export interface LicenseGrant {
  /** Units granted (a positive integer). */
  readonly quantity: number;
  readonly mode: LicenseMode;
  /** Start of validity, inclusive (ISO 8601 UTC, e.g. `2026-01-01T00:00:00.000Z`). */
  readonly validFrom: string;
  /** End of validity, exclusive (ISO 8601 UTC). */
  readonly validUntil: string;
  readonly maySublicense: boolean;
  /** Scrapped units that may be credited back under this license (a non-negative integer). */
  readonly scrapAllowance: number;
}

/**
 * Input of `license:Issue`: the DSI owner licenses its DSI to `holderMsp`.
 * With `confidential: true`, omit `terms` and pass them in the transient field `terms`.
 */
export interface IssueLicenseInput {
  readonly licenseId: string;
  readonly dsiId: string;
  readonly holderMsp: string;
  readonly grant: LicenseGrant;
  readonly confidential: boolean;
  readonly terms?: ProductionTerms;
}

/**
 * Input of `license:Split`: the holder of `parentId` grants part of its remaining units to `holderMsp`
 * (possibly itself). Confidentiality is inherited from the parent; for a confidential tree pass the
 * new terms in the transient field `terms` and, to peers outside the parent's collection, the parent's
 * terms in `terms.<parentId>`.
 */
export interface SplitLicenseInput {
  readonly parentId: string;
  readonly licenseId: string;
  readonly holderMsp: string;
  readonly grant: LicenseGrant;
  readonly terms?: ProductionTerms;
}

/** Input of `license:Allocate`: the holder of a manufacturing license gives units to one of its machines. */
export interface AllocateInput {
  readonly licenseId: string;
  readonly machineId: string;
  /** Units added to the machine's allocation (positive integer); a second call tops the allocation up. */
  readonly quantity: number;
  /** Share of the license's scrap allowance given to this allocation (non-negative integer). */
  readonly scrapAllowance: number;
}

/** Input of `license:Revoke` (grantor only). */
export interface RevokeLicenseInput {
  readonly licenseId: string;
  readonly reason: string;
}

/** Input of `license:Get`, `license:GetTerms` and `trace:GetLicenseHistory`. */
export interface LicenseRef {
  readonly licenseId: string;
}

/** Where confidential terms are kept. */
export interface ConfidentialTermsRef {
  /** Private data collection of grantor and holder. */
  readonly collection: string;
}

/** The immutable part of a license (key `license~<licenseId>`). */
export interface License {
  readonly licenseId: string;
  readonly dsiId: string;
  /** Parent license, `null` for a license issued by the DSI owner. */
  readonly parentId: string | null;
  /** License ids from the root to the parent (empty for a root license). */
  readonly ancestry: readonly string[];
  readonly grantorMsp: string;
  readonly holderMsp: string;
  readonly grant: LicenseGrant;
  /** The production terms, or `null` when they are confidential. */
  readonly terms: ProductionTerms | null;
  /** Hex SHA-256 of the canonical JSON of the production terms (always present). */
  readonly termsHash: string;
  readonly confidential: ConfidentialTermsRef | null;
  readonly issuedAt: string;
  readonly issuedTxId: string;
}

/** Units of a license spent so far (key `license-balance~<licenseId>`). */
export interface LicenseBalance {
  readonly licenseId: string;
  /** Σ quantity of direct sub-licenses. */
  readonly sublicensed: number;
  /** Σ quantity of allocations to machines. */
  readonly allocated: number;
  /** Σ scrap allowance handed to allocations. */
  readonly scrapAllowanceAllocated: number;
}

/** Revocation status of a license (key `license-revocation~<licenseId>`, endorsed by the grantor alone). */
export interface LicenseRevocation {
  readonly licenseId: string;
  readonly revoked: boolean;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly reason: string | null;
}

/** Output of `license:Get`. */
export interface LicenseView {
  readonly license: License;
  readonly balance: LicenseBalance;
  readonly revocation: LicenseRevocation;
  /** Units still free for sub-licensing or allocation. */
  readonly remaining: number;
}

/** Output of `license:GetTerms`. */
export interface LicenseTermsView {
  readonly licenseId: string;
  readonly termsHash: string;
  readonly terms: ProductionTerms;
}

/**
 * A machine's share of a license (key `allocation~<licenseId>~<machineId>`). Only StartBuild and
 * ScrapBuild on that machine write it, so machines never contend.
 */
export interface Allocation {
  readonly licenseId: string;
  readonly machineId: string;
  readonly dsiId: string;
  readonly holderMsp: string;
  /** Units allocated. */
  readonly quantity: number;
  /** Builds started. */
  readonly consumed: number;
  /** Scrapped builds whose unit was credited back. */
  readonly scrapCredited: number;
  /** How many scrapped units may be credited back. */
  readonly scrapAllowance: number;
}
