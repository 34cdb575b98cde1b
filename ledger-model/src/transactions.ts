/** Contract (namespace) names of the threadseal chaincode. */
export const CONTRACT = {
  system: 'system',
  dsi: 'dsi',
  license: 'license',
  machine: 'machine',
  build: 'build',
  trace: 'trace',
} as const;

/** Fully-qualified transaction names (`<contract>:<function>`); each takes one JSON argument. */
export const TX = {
  system: {
    ping: 'system:Ping',
    whoAmI: 'system:WhoAmI',
    putNote: 'system:PutNote',
    getNote: 'system:GetNote',
  },
  dsi: {
    register: 'dsi:Register',
    supersede: 'dsi:Supersede',
    revoke: 'dsi:Revoke',
    get: 'dsi:Get',
  },
  license: {
    issue: 'license:Issue',
    split: 'license:Split',
    allocate: 'license:Allocate',
    revoke: 'license:Revoke',
    get: 'license:Get',
    getTerms: 'license:GetTerms',
  },
  machine: {
    register: 'machine:Register',
    get: 'machine:Get',
  },
  build: {
    start: 'build:Start',
    complete: 'build:Complete',
    abort: 'build:Abort',
    scrap: 'build:Scrap',
    get: 'build:Get',
  },
  trace: {
    getDsiTree: 'trace:GetDsiTree',
    getLicenseHistory: 'trace:GetLicenseHistory',
    getAllocationHistory: 'trace:GetAllocationHistory',
    getPart: 'trace:GetPart',
    getPartHistory: 'trace:GetPartHistory',
  },
} as const;

type Values<T> = T[keyof T];

/** Any transaction name of {@link TX}. */
export type TransactionName = Values<{ [C in keyof typeof TX]: Values<(typeof TX)[C]> }>;

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
