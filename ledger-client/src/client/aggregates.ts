import { randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  START_BUILD_REQUEST_TYPE,
  startBuildSigningBytes,
  TRANSIENT,
  TX,
  transientTermsField,
  type AbortBuildInput,
  type AllocateInput,
  type Allocation,
  type Build,
  type CompleteBuildInput,
  type Dsi,
  type DsiTree,
  type HistoryEntry,
  type IssueLicenseInput,
  type LicenseHistory,
  type LicenseTermsView,
  type LicenseView,
  type Machine,
  type ParameterValue,
  type Part,
  type PartHistory,
  type ProductionTerms,
  type RegisterDsiInput,
  type RegisterMachineInput,
  type ScrapBuildInput,
  type SplitLicenseInput,
  type StartBuildRequest,
  type SupersedeDsiInput,
} from '@threadseal/ledger-model';
import type { Committed, LedgerClient, SubmitOptions } from './ledger-client';

type Endorse = Pick<SubmitOptions, 'endorsingOrgs' | 'retry'>;

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

/** Licenses: issue, split down the chain, allocate to machines, revoke, read. */
export class LicenseClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  /** Issues a root license; confidential terms travel in the transient map, never in the transaction. */
  issue(
    input: IssueLicenseInput,
    options: Endorse & { confidentialTerms?: ProductionTerms } = {},
  ): Promise<Committed<LicenseView>> {
    const transient = options.confidentialTerms
      ? { terms: JSON.stringify(options.confidentialTerms) }
      : undefined;
    return this.#client.submit(TX.license.issue, input, { ...options, ...(transient ? { transient } : {}) });
  }
  /** Grants part of a license's remaining quantity to an org, with terms no wider than the parent's. */
  split(
    input: SplitLicenseInput,
    options: Endorse & { confidentialTerms?: ProductionTerms; parentTerms?: ProductionTerms } = {},
  ): Promise<Committed<LicenseView>> {
    const transient: Record<string, string> = {};
    if (options.confidentialTerms) transient['terms'] = JSON.stringify(options.confidentialTerms);
    if (options.parentTerms)
      transient[transientTermsField(input.parentId)] = JSON.stringify(options.parentTerms);
    return this.#client.submit(TX.license.split, input, {
      ...options,
      ...(Object.keys(transient).length ? { transient } : {}),
    });
  }
  allocate(
    input: AllocateInput,
    options: Endorse & { licenseTerms?: ProductionTerms } = {},
  ): Promise<Committed<Allocation>> {
    const transient = options.licenseTerms
      ? { [transientTermsField(input.licenseId)]: JSON.stringify(options.licenseTerms) }
      : undefined;
    return this.#client.submit(TX.license.allocate, input, {
      ...options,
      ...(transient ? { transient } : {}),
    });
  }
  revoke(licenseId: string, reason: string, options: Endorse = {}): Promise<Committed<LicenseView>> {
    return this.#client.submit(TX.license.revoke, { licenseId, reason }, options);
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
  get(machineId: string): Promise<Machine> {
    return this.#client.evaluate(TX.machine.get, { machineId });
  }
}

/** What a machine asks for when it wants to start a build; signed with its registered key. */
export interface BuildRequestParams {
  readonly licenseId: string;
  readonly machineId: string;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Defaults to 16 random bytes (base64url). */
  readonly nonce?: string;
  /** Defaults to now. */
  readonly issuedAt?: string;
}

/** Signs a StartBuild request with a machine's P-256 key (DER ECDSA over the canonical JSON). */
export function signStartBuild(
  params: BuildRequestParams,
  machineKey: KeyObject,
): { request: StartBuildRequest; signature: string } {
  const request: StartBuildRequest = {
    type: START_BUILD_REQUEST_TYPE,
    licenseId: params.licenseId,
    machineId: params.machineId,
    nonce: params.nonce ?? randomBytes(16).toString('base64url'),
    issuedAt: params.issuedAt ?? new Date().toISOString(),
    parameters: params.parameters,
  };
  const signature = sign('sha256', startBuildSigningBytes(request), {
    key: machineKey,
    dsaEncoding: 'der',
  }).toString('base64');
  return { request, signature };
}

/** Builds: start (consumes one unit, committed), complete with the part id, abort, scrap. */
export class BuildClient {
  readonly #client: LedgerClient;
  constructor(client: LedgerClient) {
    this.#client = client;
  }
  /**
   * Submits a machine-signed start; resolves only once the unit is consumed in a VALID block. Under a
   * confidential license (`licenseTerms` given) the request and its parameters travel in the transient map
   * and the block carries only `{}`, so the exact process parameters never reach the shared ledger.
   */
  start(
    signed: { request: StartBuildRequest; signature: string },
    options: Endorse & { licenseTerms?: ProductionTerms } = {},
  ): Promise<Committed<Build>> {
    if (!options.licenseTerms) return this.#client.submit(TX.build.start, signed, options);
    const transient = {
      [TRANSIENT.startBuild]: JSON.stringify(signed),
      [transientTermsField(signed.request.licenseId)]: JSON.stringify(options.licenseTerms),
    };
    // The argument is typed as the request; for the confidential path the chaincode expects `{}` there.
    const empty = {} as { request: StartBuildRequest; signature: string };
    return this.#client.submit(TX.build.start, empty, { ...options, transient });
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
    trace: new TraceClient(client),
    client,
    close: () => {
      client.close();
    },
  };
}
