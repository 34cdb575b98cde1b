import type { ChaincodeStub } from 'fabric-shim-api';

/** Object types of every composite key the chaincode writes; the first element of each key. */
export const KEY_TYPE = {
  dsi: 'dsi',
  license: 'license',
  licenseBalance: 'license-balance',
  licenseRevocation: 'license-revocation',
  licenseTerms: 'license-terms',
  allocation: 'allocation',
  machine: 'machine',
  build: 'build',
  part: 'part',
  nonce: 'nonce',
  release: 'release',
  tree: 'tree',
} as const;

/** Kinds of entries in the per-DSI tree index (`tree~<dsiId>~<kind>~<id>…`). */
export const TREE_KIND = {
  license: 'license',
  allocation: 'allocation',
  build: 'build',
  part: 'part',
} as const;

/** One of {@link TREE_KIND}. */
export type TreeKind = (typeof TREE_KIND)[keyof typeof TREE_KIND];

/**
 * Every ledger key of the chaincode, built with the stub's composite-key encoding. This is the only
 * module that names keys.
 */
export class LedgerKeys {
  readonly #stub: ChaincodeStub;

  public constructor(stub: ChaincodeStub) {
    this.#stub = stub;
  }

  /** `dsi~<dsiId>` */
  public dsi(dsiId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.dsi, [dsiId]);
  }

  /** `license~<licenseId>`: immutable grant and (public) terms. */
  public license(licenseId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.license, [licenseId]);
  }

  /** `license-balance~<licenseId>`: units sub-licensed and allocated. */
  public licenseBalance(licenseId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.licenseBalance, [licenseId]);
  }

  /** `license-revocation~<licenseId>`: written by the grantor alone. */
  public licenseRevocation(licenseId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.licenseRevocation, [licenseId]);
  }

  /** `license-terms~<licenseId>` inside a private data collection. */
  public licenseTerms(licenseId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.licenseTerms, [licenseId]);
  }

  /** `allocation~<licenseId>~<machineId>`: one key per machine and license, so machines never contend. */
  public allocation(licenseId: string, machineId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.allocation, [licenseId, machineId]);
  }

  /** `machine~<machineId>` */
  public machine(machineId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.machine, [machineId]);
  }

  /** `build~<buildId>` */
  public build(buildId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.build, [buildId]);
  }

  /** `part~<partId>` */
  public part(partId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.part, [partId]);
  }

  /** `nonce~<machineId>~<nonce>`: a used StartBuild nonce, an append-only fact. */
  public nonce(machineId: string, nonce: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.nonce, [machineId, nonce]);
  }

  /** `release~<buildId>`: the content keys released to the machine of one build, written once. */
  public release(buildId: string): string {
    return this.#stub.createCompositeKey(KEY_TYPE.release, [buildId]);
  }

  /** `tree~<dsiId>~<kind>~<id…>`: index entry whose value is the primary key. */
  public treeEntry(dsiId: string, kind: TreeKind, ids: readonly string[]): string {
    return this.#stub.createCompositeKey(KEY_TYPE.tree, [dsiId, kind, ...ids]);
  }

  /** Attributes of the partial key `tree~<dsiId>~<kind>` for {@link ChaincodeStub.getStateByPartialCompositeKey}. */
  public treePrefix(
    dsiId: string,
    kind: TreeKind,
  ): { readonly objectType: string; readonly attributes: string[] } {
    return { objectType: KEY_TYPE.tree, attributes: [dsiId, kind] };
  }
}
