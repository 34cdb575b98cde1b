import { createHash } from 'node:crypto';
import { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import type {
  ChaincodeProposal,
  ChaincodeResponse,
  ChaincodeStub,
  ClientIdentity,
  Iterators,
  SerializedIdentity,
  SplitCompositekey,
  StateQueryResponse,
  Timestamp,
} from 'fabric-shim-api';

/*
 * UNIT-TEST ONLY. An in-memory stand-in for the peer's ledger that implements fabric-shim's ChaincodeStub and
 * ClientIdentity interfaces, so contracts run unchanged in mocha. It keeps Fabric's semantics that matter to
 * the rules (reads never see the transaction's own writes, writes commit only when the transaction succeeds,
 * history newest first, one event per transaction) and records key-level endorsement policies. It is not a
 * Fabric ledger: nothing here checks endorsement or MVCC; the integration suite does that on the real network.
 */

const NS = '\u0000';
const MAX = '\u{10FFFF}';

/** A composite key with its U+0000 separators shown as `~`, as the chaincode prints keys in messages. */
function printableKey(key: string): string {
  return key.replace(/\u0000/g, '~').replace(/^~|~$/g, '');
}

interface Version {
  readonly txId: string;
  readonly timestamp: Date;
  readonly value: Uint8Array | null;
}

/** One emitted chaincode event. */
export interface RecordedEvent {
  readonly txId: string;
  readonly name: string;
  readonly payload: unknown;
}

/** The committed state shared by all unit-test transactions ("the channel"). */
export class UnitTestLedger {
  readonly #state = new Map<string, Uint8Array>();
  readonly #validation = new Map<string, Uint8Array>();
  readonly #history = new Map<string, Version[]>();
  readonly #private = new Map<string, Map<string, Uint8Array>>();
  readonly #events: RecordedEvent[] = [];

  /** Committed value of a key (empty when absent). */
  public get(key: string): Uint8Array {
    return this.#state.get(key) ?? new Uint8Array();
  }

  /** Committed key-level endorsement policy of a key. */
  public validationParameter(key: string): Uint8Array | undefined {
    return this.#validation.get(key);
  }

  /** Committed private value. */
  public getPrivate(collection: string, key: string): Uint8Array {
    return this.#private.get(collection)?.get(key) ?? new Uint8Array();
  }

  /** Every committed key, sorted. */
  public keys(): string[] {
    return [...this.#state.keys()].sort();
  }

  /** Every event emitted by committed transactions, oldest first. */
  public get events(): readonly RecordedEvent[] {
    return this.#events;
  }

  /** Committed versions of a key, oldest first. */
  public versions(key: string): readonly Version[] {
    return this.#history.get(key) ?? [];
  }

  /**
   * Simulates Fabric's validation-time policy check for a transaction endorsed by peers of `endorsers`:
   * a key with a committed key-level policy needs every org of that policy, a private write needs every
   * member of its collection (`terms-<A>-<B>` → A and B), any other key needs the chaincode-level policy
   * (`chaincodePolicy`: every org of `all` and n of `orgs`). Returns the unmet requirements (empty when valid).
   */
  public unmetEndorsements(
    stub: UnitTestStub,
    endorsers: readonly string[],
    chaincodePolicy: {
      readonly all: readonly string[];
      readonly n: number;
      readonly orgs: readonly string[];
    },
  ): string[] {
    const unmet: string[] = [];
    const endorsing = new Set(endorsers);
    const requireAll = (what: string, orgs: readonly string[]): void => {
      const missing = orgs.filter((org) => !endorsing.has(org));
      if (missing.length > 0) unmet.push(`${what} needs ${missing.join(', ')}`);
    };
    const writtenKeys = new Set([...stub.writes.keys(), ...stub.validationWrites.keys()]);
    for (const key of writtenKeys) {
      const policy = this.#validation.get(key);
      if (policy !== undefined) {
        requireAll(`key ${printableKey(key)}`, new KeyEndorsementPolicy(policy).listOrgs());
      } else {
        requireAll(`key ${printableKey(key)}`, chaincodePolicy.all);
        if (chaincodePolicy.orgs.filter((org) => endorsing.has(org)).length < chaincodePolicy.n)
          unmet.push(
            `key ${printableKey(key)} needs ${chaincodePolicy.n} of ${chaincodePolicy.orgs.join(', ')}`,
          );
      }
    }
    for (const collection of stub.privateWrites.keys())
      requireAll(`collection ${collection}`, collection.replace(/^terms-/, '').split('-'));
    return [...new Set(unmet)];
  }

  /**
   * Applies a successful transaction's writes. Refuses (throws) a transaction that changed state without
   * emitting an event, so every contract test also checks "one event per state change".
   */
  public commit(stub: UnitTestStub): void {
    if (stub.writes.size > 0 && stub.event === null)
      throw new Error(`transaction ${stub.getTxID()} changed state without an event`);
    for (const [key, value] of stub.writes) {
      if (value === null) this.#state.delete(key);
      else this.#state.set(key, value);
      const versions = this.#history.get(key) ?? [];
      versions.push({ txId: stub.getTxID(), timestamp: stub.getDateTimestamp(), value });
      this.#history.set(key, versions);
    }
    for (const [key, policy] of stub.validationWrites) this.#validation.set(key, policy);
    for (const [collection, writes] of stub.privateWrites) {
      const store = this.#private.get(collection) ?? new Map<string, Uint8Array>();
      for (const [key, value] of writes) store.set(key, value);
      this.#private.set(collection, store);
    }
    if (stub.event !== null)
      this.#events.push({
        txId: stub.getTxID(),
        name: stub.event.name,
        payload: JSON.parse(Buffer.from(stub.event.payload).toString('utf8')) as unknown,
      });
  }
}

function iterator<T>(items: readonly T[]): Promise<Iterators.CommonIterator<T>> & AsyncIterable<T> {
  let index = 0;
  const it: Iterators.CommonIterator<T> = {
    close: () => Promise.resolve(),
    next: () => {
      const value = items[index++];
      return Promise.resolve(
        value === undefined ? { value: undefined as unknown as T, done: true } : { value, done: false },
      );
    },
  };
  const promise = Promise.resolve(it) as Promise<Iterators.CommonIterator<T>> & AsyncIterable<T>;
  promise[Symbol.asyncIterator] = function () {
    return (async function* () {
      await Promise.resolve();
      yield* items;
    })();
  };
  return promise;
}

function unsupported(name: string): never {
  throw new Error(`${name} is not implemented by the unit-test stub`);
}

/** Options of one unit-test transaction. */
export interface UnitTestTxOptions {
  readonly txId: string;
  readonly timestamp: Date;
  readonly mspId: string;
  readonly transient?: ReadonlyMap<string, Uint8Array>;
  /** Collections this peer is a member of; private reads elsewhere fail as on a non-member peer. */
  readonly peerCollections?: ReadonlySet<string>;
}

/** UNIT-TEST ONLY: a ChaincodeStub over a {@link UnitTestLedger} for one transaction. */
export class UnitTestStub implements ChaincodeStub {
  readonly #ledger: UnitTestLedger;
  readonly #options: UnitTestTxOptions;
  /** Buffered writes (`null` = delete), applied by {@link UnitTestLedger.commit}. */
  public readonly writes = new Map<string, Uint8Array | null>();
  public readonly validationWrites = new Map<string, Uint8Array>();
  public readonly privateWrites = new Map<string, Map<string, Uint8Array>>();
  public event: { readonly name: string; readonly payload: Uint8Array } | null = null;

  public constructor(ledger: UnitTestLedger, options: UnitTestTxOptions) {
    this.#ledger = ledger;
    this.#options = options;
  }

  public getArgs(): string[] {
    return [];
  }
  public getStringArgs(): string[] {
    return [];
  }
  public getFunctionAndParameters(): { params: string[]; fcn: string } {
    return { fcn: '', params: [] };
  }
  public getTxID(): string {
    return this.#options.txId;
  }
  public getChannelID(): string {
    return 'thread';
  }
  public getCreator(): SerializedIdentity {
    return unsupported('getCreator');
  }
  public getMspID(): string {
    return this.#options.mspId;
  }
  public getTransient(): Map<string, Uint8Array> {
    return new Map(this.#options.transient ?? []);
  }
  public getSignedProposal(): ChaincodeProposal.SignedProposal {
    return unsupported('getSignedProposal');
  }
  public getTxTimestamp(): Timestamp {
    const ms = this.#options.timestamp.getTime();
    // fabric-shim returns a Long here; the chaincode only reads getDateTimestamp(), so a number stands in.
    return { seconds: Math.floor(ms / 1000) as unknown as Timestamp['seconds'], nanos: (ms % 1000) * 1e6 };
  }
  public getDateTimestamp(): Date {
    return new Date(this.#options.timestamp.getTime());
  }
  public getBinding(): string {
    return createHash('sha256').update(this.#options.txId).digest('hex');
  }

  public getState(key: string): Promise<Uint8Array> {
    return Promise.resolve(Uint8Array.from(this.#ledger.get(key)));
  }
  public putState(key: string, value: Uint8Array): Promise<void> {
    if (key.length === 0) return Promise.reject(new Error('key must not be empty'));
    this.writes.set(key, Uint8Array.from(value));
    return Promise.resolve();
  }
  public deleteState(key: string): Promise<void> {
    this.writes.set(key, null);
    return Promise.resolve();
  }
  public setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
    this.validationWrites.set(key, Uint8Array.from(ep));
    return Promise.resolve();
  }
  public getStateValidationParameter(key: string): Promise<Uint8Array> {
    return Promise.resolve(this.#ledger.validationParameter(key) ?? new Uint8Array());
  }
  public getStateByRange(
    startKey: string,
    endKey: string,
  ): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    if (startKey === '' && endKey === '')
      unsupported('an unbounded getStateByRange (full scans are forbidden)');
    const kvs = this.#ledger
      .keys()
      .filter((key) => key >= startKey && (endKey === '' || key < endKey))
      .map((key) => ({ namespace: 'threadseal', key, value: this.#ledger.get(key) }));
    return iterator(kvs);
  }
  public getStateByRangeWithPagination(): Promise<StateQueryResponse<Iterators.StateQueryIterator>> &
    AsyncIterable<Iterators.KV> {
    return unsupported('getStateByRangeWithPagination');
  }
  public getStateByPartialCompositeKey(
    objectType: string,
    attributes: string[],
  ): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.getStateByRange(prefix, prefix + MAX);
  }
  public getStateByPartialCompositeKeyWithPagination(): Promise<
    StateQueryResponse<Iterators.StateQueryIterator>
  > &
    AsyncIterable<Iterators.KV> {
    return unsupported('getStateByPartialCompositeKeyWithPagination');
  }
  public getQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    return unsupported('getQueryResult');
  }
  public getQueryResultWithPagination(): Promise<StateQueryResponse<Iterators.StateQueryIterator>> &
    AsyncIterable<Iterators.KV> {
    return unsupported('getQueryResultWithPagination');
  }
  public getHistoryForKey(
    key: string,
  ): Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification> {
    const mods = [...this.#ledger.versions(key)].reverse().map((version) => ({
      isDelete: version.value === null,
      value: version.value ?? new Uint8Array(),
      // Same shape fabric-shim produces at run time: protobuf toObject(), seconds as a plain number.
      timestamp: {
        seconds: Math.floor(version.timestamp.getTime() / 1000),
        nanos: (version.timestamp.getTime() % 1000) * 1e6,
      } as unknown as Timestamp,
      txId: version.txId,
    }));
    return iterator(mods);
  }
  public invokeChaincode(): Promise<ChaincodeResponse> {
    return unsupported('invokeChaincode');
  }
  public setEvent(name: string, payload: Uint8Array): void {
    this.event = { name, payload: Uint8Array.from(payload) };
  }
  public createCompositeKey(objectType: string, attributes: string[]): string {
    for (const part of [objectType, ...attributes])
      if (part.includes(NS) || part.includes(MAX))
        throw new Error(`invalid composite key attribute ${JSON.stringify(part)}`);
    return `${NS}${objectType}${NS}${attributes.map((attribute) => `${attribute}${NS}`).join('')}`;
  }
  public splitCompositeKey(compositeKey: string): SplitCompositekey {
    const parts = compositeKey.slice(1).split(NS);
    parts.pop();
    return { objectType: parts[0] ?? '', attributes: parts.slice(1) };
  }

  #privateReadable(collection: string): void {
    if (this.#options.peerCollections !== undefined && !this.#options.peerCollections.has(collection)) {
      throw new Error(`peer of ${this.#options.mspId} is not a member of collection ${collection}`);
    }
  }
  public getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    try {
      this.#privateReadable(collection);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return Promise.resolve(Uint8Array.from(this.#ledger.getPrivate(collection, key)));
  }
  public getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    const value = this.#ledger.getPrivate(collection, key);
    return Promise.resolve(value.length === 0 ? value : createHash('sha256').update(value).digest());
  }
  public putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    const writes = this.privateWrites.get(collection) ?? new Map<string, Uint8Array>();
    writes.set(key, Uint8Array.from(value));
    this.privateWrites.set(collection, writes);
    return Promise.resolve();
  }
  public deletePrivateData(): Promise<void> {
    return unsupported('deletePrivateData');
  }
  public purgePrivateData(): Promise<void> {
    return unsupported('purgePrivateData');
  }
  public setPrivateDataValidationParameter(): Promise<void> {
    return unsupported('setPrivateDataValidationParameter');
  }
  public getPrivateDataValidationParameter(): Promise<Uint8Array> {
    return unsupported('getPrivateDataValidationParameter');
  }
  public getPrivateDataByRange(): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    return unsupported('getPrivateDataByRange');
  }
  public getPrivateDataByPartialCompositeKey(): Promise<Iterators.StateQueryIterator> &
    AsyncIterable<Iterators.KV> {
    return unsupported('getPrivateDataByPartialCompositeKey');
  }
  public getPrivateDataQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    return unsupported('getPrivateDataQueryResult');
  }
}

/** A unit-test client: MSP id, subject and CA attributes, and the certificate of those that sign DSIs. */
export interface UnitTestUser {
  readonly mspId: string;
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** PEM certificate returned as the identity bytes (as Fabric's are); without one, the id string. */
  readonly certificatePem?: string;
}

/** UNIT-TEST ONLY: a ClientIdentity answering from a {@link UnitTestUser}. */
export class UnitTestIdentity implements ClientIdentity {
  readonly #user: UnitTestUser;

  public constructor(user: UnitTestUser) {
    this.#user = user;
  }
  public assertAttributeValue(attrName: string, attrValue: string): boolean {
    return this.#user.attributes[attrName] === attrValue;
  }
  public getAttributeValue(attrName: string): string | null {
    return this.#user.attributes[attrName] ?? null;
  }
  public getID(): string {
    return `x509::/OU=client/CN=${this.#user.name}::/CN=ca.${this.#user.mspId}`;
  }
  public getIDBytes(): Uint8Array {
    return Buffer.from(this.#user.certificatePem ?? this.getID(), 'utf8');
  }
  public getMSPID(): string {
    return this.#user.mspId;
  }
}

/** UNIT-TEST ONLY: a contract-api Context over a unit-test stub and identity. */
export function unitTestContext(stub: ChaincodeStub, identity: ClientIdentity): Context {
  const ctx = new Context();
  ctx.stub = stub;
  ctx.clientIdentity = identity;
  return ctx;
}
