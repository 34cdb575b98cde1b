import {
  LedgerError,
  type Allocation,
  type Build,
  type Dsi,
  type HistoryEntry,
  type License,
  type LicenseBalance,
  type LicenseRevocation,
  type KeyRelease,
  type Machine,
  type Part,
  type ProductionTerms,
} from '@threadseal/ledger-model';
import type { ChaincodeStub } from 'fabric-shim-api';
import {
  type ChainNode,
  type NewLicense,
  rightsGuards,
  termsHash,
  type TermsPlacement,
} from '@threadseal/rules';
import { decode, encode, printableKey } from './codec.js';
import { termsCollection } from './collections.js';
import { peersOf } from './endorsement.js';
import { ownerGuards } from './stakeholders.js';
import { LedgerKeys, TREE_KIND, type TreeKind } from './keys.js';

/** Supplies confidential production terms that a transaction was given (transient map), checked against a hash. */
export interface TermsSource {
  /** The terms of `licenseId` if the client supplied them; they are checked against `termsHash`. */
  termsOf(licenseId: string, termsHash: string): ProductionTerms | null;
}

/**
 * The only reader and writer of ledger state. Every write also sets the key's state-based endorsement
 * policy and the DSI tree index entry where the record is part of a DSI's tree.
 */
export class LedgerRepository {
  readonly #stub: ChaincodeStub;
  readonly #keys: LedgerKeys;

  public constructor(stub: ChaincodeStub) {
    this.#stub = stub;
    this.#keys = new LedgerKeys(stub);
  }

  /** The key builder bound to this transaction's stub. */
  public get keys(): LedgerKeys {
    return this.#keys;
  }

  async #read<T>(key: string): Promise<T | null> {
    const bytes = await this.#stub.getState(key);
    return bytes.length === 0 ? null : decode<T>(bytes, key);
  }

  async #require<T>(key: string, what: string): Promise<T> {
    const value = await this.#read<T>(key);
    if (value === null) throw new LedgerError('NOT_FOUND', `${what} does not exist`);
    return value;
  }

  async #assertAbsent(key: string, what: string): Promise<void> {
    const bytes = await this.#stub.getState(key);
    if (bytes.length > 0) throw new LedgerError('ALREADY_EXISTS', `${what} already exists`);
  }

  async #put(key: string, value: unknown, endorsers?: readonly string[]): Promise<void> {
    await this.#stub.putState(key, encode(value));
    if (endorsers !== undefined) await this.#stub.setStateValidationParameter(key, peersOf(...endorsers));
  }

  async #index(
    dsiId: string,
    kind: TreeKind,
    ids: readonly string[],
    primaryKey: string,
    guards: readonly string[],
  ): Promise<void> {
    const key = this.#keys.treeEntry(dsiId, kind, ids);
    await this.#stub.putState(key, Buffer.from(primaryKey, 'utf8'));
    await this.#stub.setStateValidationParameter(key, peersOf(...guards));
  }

  // DSI

  /** @throws LedgerError NOT_FOUND. */
  public requireDsi(dsiId: string): Promise<Dsi> {
    return this.#require<Dsi>(this.#keys.dsi(dsiId), `DSI ${dsiId}`);
  }

  /**
   * Stores a new DSI; its later changes need its owner's and the channel stakeholders' peers.
   * @throws LedgerError ALREADY_EXISTS.
   */
  public async createDsi(dsi: Dsi): Promise<void> {
    const key = this.#keys.dsi(dsi.dsiId);
    await this.#assertAbsent(key, `DSI ${dsi.dsiId}`);
    await this.#put(key, dsi, ownerGuards(dsi.ownerMsp));
  }

  /** Stores a changed DSI. */
  public updateDsi(dsi: Dsi): Promise<void> {
    return this.#put(this.#keys.dsi(dsi.dsiId), dsi);
  }

  // Licenses

  /** @throws LedgerError NOT_FOUND. */
  public requireLicense(licenseId: string): Promise<License> {
    return this.#require<License>(this.#keys.license(licenseId), `license ${licenseId}`);
  }

  /** @throws LedgerError NOT_FOUND. */
  public requireBalance(licenseId: string): Promise<LicenseBalance> {
    return this.#require<LicenseBalance>(
      this.#keys.licenseBalance(licenseId),
      `balance of license ${licenseId}`,
    );
  }

  /**
   * The revocation status of a license: the record written when it was revoked, or "not revoked" while no
   * record exists (the record comes into being with the revocation, so creating it falls under the
   * chaincode-level policy, which the holder alone cannot refuse).
   */
  public async revocationOf(licenseId: string): Promise<LicenseRevocation> {
    return (
      (await this.#read<LicenseRevocation>(this.#keys.licenseRevocation(licenseId))) ?? {
        licenseId,
        revoked: false,
        revokedAt: null,
        revokedBy: null,
        reason: null,
      }
    );
  }

  /**
   * Loads the chain from the root license down to `licenseId` with revocation status and terms: public
   * terms from the license, confidential ones from `terms` when the client supplied them.
   * @throws LedgerError NOT_FOUND, CORRUPT_STATE, INVALID_ARGUMENT (supplied terms that do not match the hash).
   */
  public async loadChain(licenseId: string, terms: TermsSource, dsiOwnerMsp: string): Promise<ChainNode[]> {
    const leaf = await this.requireLicense(licenseId);
    const licenses: License[] = [];
    for (const ancestorId of leaf.ancestry) licenses.push(await this.requireLicense(ancestorId));
    licenses.push(leaf);
    const chain: ChainNode[] = [];
    for (const license of licenses) {
      await this.#assertCreatedByItsGuards(license, dsiOwnerMsp);
      chain.push({
        license,
        revocation: await this.revocationOf(license.licenseId),
        terms: license.terms ?? terms.termsOf(license.licenseId, license.termsHash),
      });
    }
    return chain;
  }

  /**
   * A license counts only if every one of its guards endorsed its creation: the honest chaincode writes its terms
   * into the collection of exactly its guards, whose endorsement policy (every member's peer) Fabric applies to
   * that new key; a license created without that write — by the stakeholder and one licensee naming a third org
   * that never endorsed it — has no hash there, which every peer can read (`getPrivateDataHash`).
   * @throws LedgerError LICENSE_NOT_ACCEPTED.
   */
  async #assertCreatedByItsGuards(license: License, dsiOwnerMsp: string): Promise<void> {
    const guards = rightsGuards(dsiOwnerMsp, license);
    const collection = license.confidential?.collection ?? termsCollection(...guards);
    const hash = await this.#stub.getPrivateDataHash(collection, this.#keys.licenseTerms(license.licenseId));
    if (hash.length === 0)
      throw new LedgerError(
        'LICENSE_NOT_ACCEPTED',
        `license ${license.licenseId} was not created with the endorsement of all its guards (${guards.join(', ')}): nothing of it in ${collection}`,
      );
  }

  /**
   * Stores a new license (its record and its balance), the tree index entry and its terms in the collection of
   * its guards. Every later change of these keys needs the peers of all its guards (`rightsGuards`: DSI owner,
   * grantor, holder — never fewer than two orgs). The collection copy is written for public licenses too: the
   * collection's endorsement policy (every member's peer) is what makes the receiving org's endorsement of a
   * new license a ledger rule rather than a client convention. No revocation record is written until it is
   * revoked ({@link revocationOf}).
   * @throws LedgerError ALREADY_EXISTS.
   */
  public async createLicense(
    created: NewLicense,
    terms: ProductionTerms,
    placement: TermsPlacement,
    guards: readonly string[],
  ): Promise<void> {
    const { license, balance } = created;
    const key = this.#keys.license(license.licenseId);
    await this.#assertAbsent(key, `license ${license.licenseId}`);
    await this.#put(key, license, guards);
    await this.#put(this.#keys.licenseBalance(license.licenseId), balance, guards);
    await this.#index(license.dsiId, TREE_KIND.license, [license.licenseId], key, guards);
    await this.#stub.putPrivateData(
      placement?.collection ?? termsCollection(...guards),
      this.#keys.licenseTerms(license.licenseId),
      encode(terms),
    );
  }

  /** Stores a license's changed balance. */
  public putBalance(balance: LicenseBalance): Promise<void> {
    return this.#put(this.#keys.licenseBalance(balance.licenseId), balance);
  }

  /**
   * Creates a license's revocation record, guarded from then on like the license (the rule refused a second
   * revocation already, from {@link revocationOf}). @throws LedgerError ALREADY_EXISTS.
   */
  public async createRevocation(revocation: LicenseRevocation, guards: readonly string[]): Promise<void> {
    const key = this.#keys.licenseRevocation(revocation.licenseId);
    await this.#assertAbsent(key, `revocation of license ${revocation.licenseId}`);
    await this.#put(key, revocation, guards);
  }

  /**
   * Reads confidential terms from the license's collection on this peer and checks them against the hash on
   * the channel. Only queries call it: a private read during endorsement would make read sets differ between
   * member and non-member endorsers.
   * @throws LedgerError CONFIDENTIAL_TERMS_UNAVAILABLE when this peer or client cannot read them, CORRUPT_STATE.
   */
  public async readConfidentialTerms(license: License, collection: string): Promise<ProductionTerms> {
    let bytes: Uint8Array;
    try {
      bytes = await this.#stub.getPrivateData(collection, this.#keys.licenseTerms(license.licenseId));
    } catch (cause) {
      throw new LedgerError(
        'CONFIDENTIAL_TERMS_UNAVAILABLE',
        `terms of license ${license.licenseId} cannot be read from ${collection} here: ${(cause as Error).message}`,
      );
    }
    if (bytes.length === 0)
      throw new LedgerError(
        'CONFIDENTIAL_TERMS_UNAVAILABLE',
        `terms of license ${license.licenseId} are not in ${collection} on this peer`,
      );
    const terms = decode<ProductionTerms>(bytes, this.#keys.licenseTerms(license.licenseId));
    if (termsHash(terms) !== license.termsHash)
      throw new LedgerError(
        'CORRUPT_STATE',
        `terms of license ${license.licenseId} in ${collection} do not match the hash on the channel`,
      );
    return terms;
  }

  // Allocations

  /** The allocation of a license to a machine, `null` if none yet. */
  public getAllocation(licenseId: string, machineId: string): Promise<Allocation | null> {
    return this.#read<Allocation>(this.#keys.allocation(licenseId, machineId));
  }

  /** @throws LedgerError NOT_FOUND. */
  public requireAllocation(licenseId: string, machineId: string): Promise<Allocation> {
    return this.#require<Allocation>(
      this.#keys.allocation(licenseId, machineId),
      `allocation of license ${licenseId} to machine ${machineId}`,
    );
  }

  /**
   * Stores an allocation. A new one (`newGuards` given: the license's guards) gets its tree entry and those
   * guards as the endorsers of its later changes.
   */
  public async putAllocation(allocation: Allocation, newGuards?: readonly string[]): Promise<void> {
    const key = this.#keys.allocation(allocation.licenseId, allocation.machineId);
    await this.#put(key, allocation, newGuards);
    if (newGuards !== undefined)
      await this.#index(
        allocation.dsiId,
        TREE_KIND.allocation,
        [allocation.licenseId, allocation.machineId],
        key,
        newGuards,
      );
  }

  // Machines

  /** @throws LedgerError NOT_FOUND. */
  public requireMachine(machineId: string): Promise<Machine> {
    return this.#require<Machine>(this.#keys.machine(machineId), `machine ${machineId}`);
  }

  /**
   * Stores a new machine; its later changes need its owner's and the channel stakeholders' peers.
   * @throws LedgerError ALREADY_EXISTS.
   */
  public async createMachine(machine: Machine): Promise<void> {
    const key = this.#keys.machine(machine.machineId);
    await this.#assertAbsent(key, `machine ${machine.machineId}`);
    await this.#put(key, machine, ownerGuards(machine.ownerMsp));
  }

  /** Stores a changed machine (its key keeps the policy set at registration). */
  public updateMachine(machine: Machine): Promise<void> {
    return this.#put(this.#keys.machine(machine.machineId), machine);
  }

  // Key releases

  /** The release of a build, `null` if none yet. */
  public getRelease(buildId: string): Promise<KeyRelease | null> {
    return this.#read<KeyRelease>(this.#keys.release(buildId));
  }

  /** @throws LedgerError NOT_FOUND. */
  public requireRelease(buildId: string): Promise<KeyRelease> {
    return this.#require<KeyRelease>(this.#keys.release(buildId), `key release of build ${buildId}`);
  }

  /**
   * Stores the one release of a build; later changes would need the peers of the build license's guards.
   * @throws LedgerError ALREADY_EXISTS when the build's keys were released before.
   */
  public async createRelease(release: KeyRelease, guards: readonly string[]): Promise<void> {
    const key = this.#keys.release(release.buildId);
    await this.#assertAbsent(key, `key release of build ${release.buildId}`);
    await this.#put(key, release, guards);
  }

  // Builds, parts, nonces

  /** @throws LedgerError NOT_FOUND. */
  public requireBuild(buildId: string): Promise<Build> {
    return this.#require<Build>(this.#keys.build(buildId), `build ${buildId}`);
  }

  /** Stores a new build with the license's guards as endorsers of its later changes. */
  public async createBuild(build: Build, guards: readonly string[]): Promise<void> {
    const key = this.#keys.build(build.buildId);
    await this.#assertAbsent(key, `build ${build.buildId}`);
    await this.#put(key, build, guards);
    await this.#index(build.dsiId, TREE_KIND.build, [build.buildId], key, guards);
  }

  /** Stores a changed build. */
  public updateBuild(build: Build): Promise<void> {
    return this.#put(this.#keys.build(build.buildId), build);
  }

  /** @throws LedgerError NOT_FOUND. */
  public requirePart(partId: string): Promise<Part> {
    return this.#require<Part>(this.#keys.part(partId), `part ${partId}`);
  }

  /**
   * Stores a new part, guarded like the license it was built under.
   * @throws LedgerError ALREADY_EXISTS when the part id was used before.
   */
  public async createPart(part: Part, guards: readonly string[]): Promise<void> {
    const key = this.#keys.part(part.partId);
    await this.#assertAbsent(key, `part ${part.partId}`);
    await this.#put(key, part, guards);
    await this.#index(part.dsiId, TREE_KIND.part, [part.partId], key, guards);
  }

  /** The build a machine's nonce started. @throws LedgerError NOT_FOUND when the nonce was never used. */
  public async requireBuildByNonce(machineId: string, nonce: string): Promise<Build> {
    const used = await this.#require<{ buildId: string }>(
      this.#keys.nonce(machineId, nonce),
      `a build of machine ${machineId} with nonce ${nonce}`,
    );
    return this.requireBuild(used.buildId);
  }

  /**
   * Records a StartBuild nonce of a machine under its own key, guarded like the build's license.
   * @throws LedgerError REPLAYED_REQUEST when the machine used it before.
   */
  public async recordNonce(
    machineId: string,
    nonce: string,
    buildId: string,
    guards: readonly string[],
  ): Promise<void> {
    const key = this.#keys.nonce(machineId, nonce);
    const bytes = await this.#stub.getState(key);
    if (bytes.length > 0)
      throw new LedgerError(
        'REPLAYED_REQUEST',
        `nonce ${nonce} of machine ${machineId} was already used by build ${decode<{ buildId: string }>(bytes, key).buildId}`,
      );
    await this.#put(key, { machineId, nonce, buildId }, guards);
  }

  // Queries

  /** Every record of one kind in a DSI's tree, through the `tree~<dsiId>~<kind>` partial key (never a full scan). */
  public async treeRecords<T>(dsiId: string, kind: TreeKind): Promise<T[]> {
    const { objectType, attributes } = this.#keys.treePrefix(dsiId, kind);
    const primaryKeys: string[] = [];
    for await (const entry of this.#stub.getStateByPartialCompositeKey(objectType, attributes)) {
      primaryKeys.push(Buffer.from(entry.value).toString('utf8'));
    }
    const records: T[] = [];
    for (const key of primaryKeys) records.push(await this.#require<T>(key, printableKey(key)));
    return records;
  }

  /** Machines by id, each read once. */
  public async machines(machineIds: Iterable<string>): Promise<Machine[]> {
    const result: Machine[] = [];
    for (const id of [...new Set(machineIds)].sort()) result.push(await this.requireMachine(id));
    return result;
  }

  /** Every committed version of a key, newest first (the order Fabric 2.x returns). */
  public async history<T>(key: string): Promise<HistoryEntry<T>[]> {
    const entries: HistoryEntry<T>[] = [];
    for await (const mod of this.#stub.getHistoryForKey(key)) {
      // Typed as Long, but fabric-shim hands over protobuf's toObject(), where seconds is a plain number.
      const seconds: unknown = mod.timestamp.seconds;
      const millis =
        (typeof seconds === 'number' ? seconds : mod.timestamp.seconds.toNumber()) * 1000 +
        Math.floor(mod.timestamp.nanos / 1e6);
      entries.push({
        txId: mod.txId,
        timestamp: new Date(millis).toISOString(),
        isDelete: mod.isDelete,
        value: mod.isDelete || mod.value.length === 0 ? null : decode<T>(mod.value, key),
      });
    }
    return entries;
  }
}
