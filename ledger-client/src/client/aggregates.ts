import { randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  confidentialTransport,
  EVENT,
  LedgerError,
  START_BUILD_REQUEST_TYPE,
  scrapRecordSigningBytes,
  startBuildSigningBytes,
  TX,
  type ConfidentialityOf,
  type AbortBuildInput,
  type AllocateInput,
  type Allocation,
  type Build,
  type CompleteBuildInput,
  type Dsi,
  type DsiTree,
  type HistoryEntry,
  type IssueLicenseInput,
  type KeyRelease,
  type LicenseHistory,
  type LicenseTermsView,
  type LicenseView,
  type Machine,
  type ParameterValue,
  type Part,
  type PartHistory,
  type ProductionTerms,
  type RegisterDsiInput,
  type RecordReleaseInput,
  type RegisterMachineInput,
  type RotateMachineKeysInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildInput,
  type StartBuildRequest,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';
import type { Committed, LedgerClient, SubmitOptions } from './ledger-client';

type Endorse = Pick<SubmitOptions, 'endorsingOrgs' | 'retry' | 'onTransactionId'>;

/** What a caller that names no license gets: the public transport. */
const PUBLIC: ConfidentialityOf = { confidential: null };

function withTransient(options: Endorse, transient: Readonly<Record<string, string>>): SubmitOptions {
  return Object.keys(transient).length > 0 ? { ...options, transient } : options;
}

/** DSI registry: register, supersede, revoke, read. */
export class DsiClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  register(input: RegisterDsiInput, options: Endorse = {}): Promise<Committed<Dsi>> {
    return this.#client.submit(TX.dsi.register, input, options);
  }
  supersede(input: SupersedeDsiInput, options: Endorse = {}): Promise<Committed<Dsi>> {
    return this.#client.submit(TX.dsi.supersede, input, options);
  }
  revoke(dsiId: string, reason: string, options: Endorse = {}): Promise<Committed<Dsi>> {
    return this.#client.submit(TX.dsi.revoke, { dsiId, reason }, options);
  }
  get(dsiId: string): Promise<Dsi> {
    return this.#client.evaluate(TX.dsi.get, { dsiId });
  }
}

/** One license of a chain, as the rules' `ChainNode` takes it. */
export interface LicenseChainLink {
  readonly license: LicenseView['license'];
  readonly revocation: LicenseView['revocation'];
  readonly terms: ProductionTerms | null;
}

/** Licenses: issue, split down the chain, allocate to machines, revoke, read. */
export class LicenseClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  /**
   * Issues a root license. With `input.confidential` its terms travel in the transient map, never in the
   * transaction ({@link confidentialTransport}).
   */
  issue(input: IssueLicenseInput, options: Endorse = {}): Promise<Committed<LicenseView>> {
    const { argument, transient } = confidentialTransport({ name: TX.license.issue, input });
    return this.#client.submit(TX.license.issue, argument, withTransient(options, transient));
  }
  /**
   * Grants part of a license's remaining quantity to an org, with terms no wider than the parent's. A split
   * inherits the parent's confidentiality: pass the `parent` license as read from the ledger (and, for
   * endorsers outside its collection, its `parentTerms`); without `parent` the split is sent as public, which
   * the chaincode refuses under a confidential parent.
   */
  split(
    input: SplitLicenseInput,
    options: Endorse & { parent?: ConfidentialityOf; parentTerms?: ProductionTerms } = {},
  ): Promise<Committed<LicenseView>> {
    const { parent = PUBLIC, parentTerms, ...endorse } = options;
    const { argument, transient } = confidentialTransport({
      name: TX.license.split,
      input,
      parent,
      ...(parentTerms ? { parentTerms } : {}),
    });
    return this.#client.submit(TX.license.split, argument, withTransient(endorse, transient));
  }
  /** Allocates units to a machine; under a confidential `license` its `licenseTerms` go in the transient map. */
  allocate(
    input: AllocateInput,
    options: Endorse & { license?: ConfidentialityOf; licenseTerms?: ProductionTerms } = {},
  ): Promise<Committed<Allocation>> {
    const { license = PUBLIC, licenseTerms, ...endorse } = options;
    const { argument, transient } = confidentialTransport({
      name: TX.license.allocate,
      input,
      license,
      ...(licenseTerms ? { licenseTerms } : {}),
    });
    return this.#client.submit(TX.license.allocate, argument, withTransient(endorse, transient));
  }
  revoke(licenseId: string, reason: string, options: Endorse = {}): Promise<Committed<LicenseView>> {
    return this.#client.submit(TX.license.revoke, { licenseId, reason }, options);
  }
  /**
   * The chain of licenses from the root (issued by the DSI owner) down to `licenseId`, each with its
   * revocation and, with `terms`, the production terms this org's peer can read (confidential terms of
   * licenses this org is neither grantor nor holder of are `null`: the chaincode checks those).
   * @throws LedgerError CORRUPT_STATE when the parent links do not end.
   */
  async chain(licenseId: string, options: { readonly terms: boolean }): Promise<LicenseChainLink[]> {
    const chain: LicenseChainLink[] = [];
    for (let id: string | null = licenseId; id !== null;) {
      const view = await this.get(id);
      let terms = options.terms ? view.license.terms : null;
      if (options.terms && terms === null) {
        try {
          terms = (await this.terms(id)).terms;
        } catch (err) {
          const unreadable =
            err instanceof LedgerError &&
            (err.code === 'FORBIDDEN' || err.code === 'CONFIDENTIAL_TERMS_UNAVAILABLE');
          if (!unreadable) throw err;
        }
      }
      chain.unshift({ license: view.license, revocation: view.revocation, terms });
      id = view.license.parentId;
      if (chain.length > 64)
        throw new LedgerError('CORRUPT_STATE', `license chain of ${licenseId} does not end`);
    }
    return chain;
  }
  get(licenseId: string): Promise<LicenseView> {
    return this.#client.evaluate(TX.license.get, { licenseId });
  }
  terms(licenseId: string): Promise<LicenseTermsView> {
    return this.#client.evaluate(TX.license.getTerms, { licenseId });
  }
}

/** Machine registry. */
export class MachineClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  register(input: RegisterMachineInput, options: Endorse = {}): Promise<Committed<Machine>> {
    return this.#client.submit(TX.machine.register, input, options);
  }
  /** Deactivates a machine of the caller's org: no build starts on it and no key is released to it after. */
  deactivate(machineId: string, reason: string, options: Endorse = {}): Promise<Committed<Machine>> {
    return this.#client.submit(TX.machine.deactivate, { machineId, reason }, options);
  }
  /** Replaces both keys of a machine (two new P-256 public keys); old-key requests fail from then on. */
  rotateKeys(input: RotateMachineKeysInput, options: Endorse = {}): Promise<Committed<Machine>> {
    return this.#client.submit(TX.machine.rotateKeys, input, options);
  }
  get(machineId: string): Promise<Machine> {
    return this.#client.evaluate(TX.machine.get, { machineId });
  }
}

/** Key releases: the DSI owner's key-release service records them; the machine's agent reads its own. */
export class ReleaseClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  record(input: RecordReleaseInput, options: Endorse = {}): Promise<Committed<KeyRelease>> {
    return this.#client.submit(TX.release.record, input, options);
  }
  get(buildId: string): Promise<KeyRelease> {
    return this.#client.evaluate(TX.release.get, { buildId });
  }
  /**
   * Waits until the keys of `buildId` are released (the owner's key-release service follows committed builds),
   * reading through this client's peer: it follows the chaincode's events from `afterBlock + 1` (the release
   * commits after the build it is for) or, without it, from the peer's height before a first read, and reads
   * the release once its `KeyReleased` event has committed — no polling. Undefined when none committed within
   * `timeoutMs`, or at once when `signal` aborts.
   * @throws LedgerError when the peer refuses the event stream or the read.
   */
  async waitFor(
    buildId: string,
    timeoutMs: number,
    options: ReleaseWaitOptions = {},
  ): Promise<KeyRelease | undefined> {
    const { signal } = options;
    // A function, not a narrowed property: the signal may abort across the awaits below.
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return undefined;
    const connection = this.#client.connection;
    let startBlock: bigint;
    if (options.afterBlock !== undefined) startBlock = options.afterBlock + 1n;
    else {
      // Every block committed after the read below has at least this number.
      startBlock = await connection.peerHeight();
      const now = await this.#getIfReleased(buildId);
      if (now !== undefined) return now;
    }
    const events = await connection.ledgerEvents({ startBlock });
    // Set by the timer or the signal (outside this function's control flow, hence an object).
    const wait = { ended: false };
    const stop = (): void => {
      wait.ended = true;
      events.close();
    };
    const timer = setTimeout(stop, timeoutMs);
    signal?.addEventListener('abort', stop, { once: true });
    if (aborted()) stop();
    let released = false;
    try {
      for await (const e of events) {
        if (e.event.name === EVENT.keyReleased && e.event.payload.buildId === buildId) {
          released = true;
          break;
        }
      }
    } catch (err) {
      // Closing the stream ends the iteration with a cancellation; anything else is the peer's refusal.
      if (!wait.ended) throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      events.close();
    }
    // Committed: this peer delivered the event after committing the block, so the read finds it.
    return released ? await this.get(buildId) : undefined;
  }

  async #getIfReleased(buildId: string): Promise<KeyRelease | undefined> {
    try {
      return await this.get(buildId);
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }
}

/** Options of {@link ReleaseClient.waitFor}. */
export interface ReleaseWaitOptions {
  /** The block the build committed in (`Committed.blockNumber` of its StartBuild). */
  readonly afterBlock?: bigint;
  /** Ends the wait at once, with no release. */
  readonly signal?: AbortSignal;
}

/** What a machine asks for when it wants to start a build; signed with its registered key. */
export interface BuildRequestParams {
  readonly licenseId: string;
  readonly machineId: string;
  /**
   * The operator logged in at the machine, who will submit the request: `operatorFingerprint` of their identity
   * (`LedgerClient.operator` of their connection). The chaincode refuses it from anyone else.
   */
  readonly operator: string;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Defaults to 16 random bytes (base64url). */
  readonly nonce?: string;
  /** Defaults to now. */
  readonly issuedAt?: string;
}

function buildRequest(params: BuildRequestParams): StartBuildRequest {
  return {
    type: START_BUILD_REQUEST_TYPE,
    licenseId: params.licenseId,
    machineId: params.machineId,
    operator: params.operator,
    nonce: params.nonce ?? randomBytes(16).toString('base64url'),
    issuedAt: params.issuedAt ?? new Date().toISOString(),
    parameters: params.parameters,
  };
}

/**
 * Signs a StartBuild request with a machine key held elsewhere — a PKCS#11 token — through `sign`, which
 * returns a DER ECDSA P-256 signature over SHA-256 of the bytes it is given.
 */
export async function signStartBuildWith(
  params: BuildRequestParams,
  sign: (message: Buffer) => Promise<Buffer>,
): Promise<{ request: StartBuildRequest; signature: string }> {
  const request = buildRequest(params);
  const signature = (await sign(Buffer.from(startBuildSigningBytes(request)))).toString('base64');
  return { request, signature };
}

/** Signs a StartBuild request with a machine's P-256 key (DER ECDSA over the canonical JSON). */
export function signStartBuild(
  params: BuildRequestParams,
  machineKey: KeyObject,
): { request: StartBuildRequest; signature: string } {
  const request = buildRequest(params);
  const signature = sign('sha256', startBuildSigningBytes(request), {
    key: machineKey,
    dsaEncoding: 'der',
  }).toString('base64');
  return { request, signature };
}

/** What a machine vouches for when a build is scrapped: the build, the reason and the evidence digest. */
export type ScrapRecord = Pick<ScrapBuildInput, 'buildId' | 'reason' | 'evidenceDigest'>;

/**
 * The machine's signature over a scrap record (`scrapRecordSigningBytes`), with a key held elsewhere — a PKCS#11
 * token — through `sign` (DER ECDSA P-256 over SHA-256 of the bytes it is given): what `build:Scrap` needs to
 * credit the unit back.
 */
export async function signScrapRecordWith(
  record: ScrapRecord,
  sign: (message: Buffer) => Promise<Buffer>,
): Promise<string> {
  return (await sign(Buffer.from(scrapRecordSigningBytes(record)))).toString('base64');
}

/** The machine's signature over a scrap record with its P-256 key (DER ECDSA), base64. */
export function signScrapRecord(record: ScrapRecord, machineKey: KeyObject): string {
  return sign('sha256', scrapRecordSigningBytes(record), { key: machineKey, dsaEncoding: 'der' }).toString(
    'base64',
  );
}

/** Builds: start (consumes one unit, committed), complete with the part id, abort, scrap. */
export class BuildClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  /**
   * Submits a machine-signed start; resolves only once the unit is consumed in a VALID block. Under a
   * confidential `license` the request and its parameters travel in the transient map and the block carries
   * only `{}`, so the exact process parameters never reach the shared ledger; without `license` the start is
   * sent as public, which the chaincode refuses under a confidential license.
   */
  start(
    signed: StartBuildInput,
    options: Endorse & { license?: ConfidentialityOf; licenseTerms?: ProductionTerms } = {},
  ): Promise<Committed<Build>> {
    const { license = PUBLIC, licenseTerms, ...endorse } = options;
    const { argument, transient } = confidentialTransport({
      name: TX.build.start,
      input: signed,
      license,
      ...(licenseTerms ? { licenseTerms } : {}),
    });
    return this.#client.submit(TX.build.start, argument, withTransient(endorse, transient));
  }
  /**
   * The operator logged in at the machine starts a build with the machine's software key: signs the request for
   * this client's identity ({@link LedgerClient.operator}) and submits it as {@link start} does.
   */
  startWithMachineKey(
    params: Omit<BuildRequestParams, 'operator'>,
    machineKey: KeyObject,
    options: Endorse & { license?: ConfidentialityOf; licenseTerms?: ProductionTerms } = {},
  ): Promise<Committed<Build>> {
    return this.start(signStartBuild({ ...params, operator: this.#client.operator }, machineKey), options);
  }
  complete(input: CompleteBuildInput, options: Endorse = {}): Promise<Committed<Build>> {
    return this.#client.submit(TX.build.complete, input, options);
  }
  abort(input: AbortBuildInput, options: Endorse = {}): Promise<Committed<Build>> {
    return this.#client.submit(TX.build.abort, input, options);
  }
  scrap(input: ScrapBuildInput, options: Endorse = {}): Promise<Committed<Build>> {
    return this.#client.submit(TX.build.scrap, input, options);
  }
  get(buildId: string): Promise<Build> {
    return this.#client.evaluate(TX.build.get, { buildId });
  }
  /** The build a machine's signed request started, by its nonce. @throws LedgerError NOT_FOUND */
  byNonce(machineId: string, nonce: string): Promise<Build> {
    return this.#client.evaluate(TX.build.getByNonce, { machineId, nonce });
  }
}

/** Trace: the OEM's tree of a DSI and the histories auditors replay. */
export class TraceClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  dsiTree(dsiId: string): Promise<DsiTree> {
    return this.#client.evaluate(TX.trace.getDsiTree, { dsiId });
  }
  licenseHistory(licenseId: string): Promise<LicenseHistory> {
    return this.#client.evaluate(TX.trace.getLicenseHistory, { licenseId });
  }
  allocationHistory(licenseId: string, machineId: string): Promise<HistoryEntry<Allocation>[]> {
    return this.#client.evaluate(TX.trace.getAllocationHistory, { licenseId, machineId });
  }
  part(partId: string): Promise<Part> {
    return this.#client.evaluate(TX.trace.getPart, { partId });
  }
  partHistory(partId: string): Promise<PartHistory> {
    return this.#client.evaluate(TX.trace.getPartHistory, { partId });
  }
}

/** Every aggregate client over one connection. */
export interface ThreadsealLedger {
  readonly dsi: DsiClient;
  readonly licenses: LicenseClient;
  readonly machines: MachineClient;
  readonly builds: BuildClient;
  readonly releases: ReleaseClient;
  readonly trace: TraceClient;
  readonly client: LedgerClient;
  close(): void;
}

/** Wraps a LedgerClient in the aggregate clients. */
export function threadsealLedger(client: LedgerClient): ThreadsealLedger {
  return {
    dsi: new DsiClient(client),
    licenses: new LicenseClient(client),
    machines: new MachineClient(client),
    builds: new BuildClient(client),
    releases: new ReleaseClient(client),
    trace: new TraceClient(client),
    client,
    close: () => {
      client.close();
    },
  };
}
