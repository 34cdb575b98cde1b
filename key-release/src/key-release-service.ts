import {
  releaseKeys,
  type ExpectedSigner,
  type RecipientKey,
  type VerifyOptions,
} from '@threadseal/dsi-container';
import {
  fileCheckpointer,
  threadsealLedger,
  type LedgerClient,
  type ThreadsealLedger,
} from '@threadseal/ledger-client';
import {
  EVENT,
  isThreadsealError,
  LedgerError,
  RELEASE_STANZA_TYPE,
  ROLE,
  type Build,
  type Dsi,
  type ErrorCode,
  type Machine,
} from '@threadseal/ledger-model';
import { recipientKeyId, recordRelease, txTime, type ChainNode } from '@threadseal/rules';
import type { DsiStore } from './dsi-store';

/** What the service decided for one build. */
export type ReleaseDecision =
  | {
      readonly buildId: string;
      readonly outcome: 'released';
      readonly transactionId: string;
      readonly blockNumber: bigint;
    }
  | { readonly buildId: string; readonly outcome: 'already-released' }
  | {
      readonly buildId: string;
      readonly outcome: 'refused';
      readonly code: ErrorCode;
      readonly reason: string;
    }
  | { readonly buildId: string; readonly outcome: 'not-ours'; readonly reason: string };

/** One structured log line of the service (no key material, ever). */
export interface ReleaseLogEntry {
  readonly at: string;
  readonly service: 'key-release';
  readonly buildId: string;
  readonly outcome: ReleaseDecision['outcome'];
  readonly code?: string;
  readonly reason?: string;
  readonly transactionId?: string;
}

export interface KeyReleaseOptions {
  /** The ledger as the owner org's `key-release` identity, through the owner's own peer. */
  readonly client: LedgerClient;
  /** The service's unwrap key: a recipient of every DSI it releases (PKCS#11 in production). */
  readonly unwrapKey: RecipientKey;
  /** The containers of the DSIs the org owns. */
  readonly containers: DsiStore;
  /** Roots the DSIs' signer chains must reach (the owner org's CA). */
  readonly trustedRoots: VerifyOptions['trustedRoots'];
  /** Who must have signed a DSI before its keys leave; by default the service's own MSP. */
  readonly expectedSigner?: ExpectedSigner;
  /** The file the event position is kept in, so a restart neither misses nor repeats a build. */
  readonly checkpointFile: string;
  /** The first block to read when the checkpoint file is new (default: the next block to commit). */
  readonly startBlock?: bigint;
  /** Where decisions are logged; by default JSON lines on stderr. */
  readonly log?: (entry: ReleaseLogEntry) => void;
}

const defaultLog = (entry: ReleaseLogEntry): void => {
  process.stderr.write(`${JSON.stringify(entry)}\n`);
};

/**
 * The IP owner's key-release service. It follows the chaincode events of its own peer; for each committed
 * `BuildStarted` of a DSI it holds, it verifies the container, unwraps the content keys with its own key,
 * seals them to that build's machine bound to the build id, and records the release on the ledger, where the
 * chaincode checks again — build running, machine active, license chain and DSI usable now — so a revoked
 * license or a deactivated machine stops every later release. Only events of VALID transactions arrive, and an
 * evaluate is never taken as an authorization: the release itself must commit VALID. Each event is checkpointed
 * after it is handled; a build handled twice after a crash finds its release already recorded.
 */
export class KeyReleaseService {
  readonly #options: KeyReleaseOptions;
  readonly #ledger: ThreadsealLedger;
  readonly #log: (entry: ReleaseLogEntry) => void;
  #stopped = false;
  #close: (() => void) | undefined;

  constructor(options: KeyReleaseOptions) {
    this.#options = options;
    this.#ledger = threadsealLedger(options.client);
    this.#log = options.log ?? defaultLog;
  }

  /**
   * Follows the events until {@link stop} (or the stream fails: a lost peer connection rejects, and a restart
   * resumes from the checkpoint). `onDecision` sees every decision, in commit order.
   */
  async run(onDecision: (decision: ReleaseDecision) => void = () => undefined): Promise<void> {
    const checkpoint = await fileCheckpointer(this.#options.checkpointFile);
    const events = await this.#options.client.connection.ledgerEvents({
      checkpoint,
      ...(this.#options.startBlock !== undefined ? { startBlock: this.#options.startBlock } : {}),
    });
    this.#close = () => {
      events.close();
    };
    // stop() may have come while the stream was being opened.
    if (this.#stopped) events.close();
    try {
      for await (const e of events) {
        if (e.event.name === EVENT.buildStarted) onDecision(await this.release(e.event.payload.buildId));
        await checkpoint.checkpointChaincodeEvent(e);
        if (this.#stopped) break;
      }
    } catch (err) {
      // Closing the stream from stop() ends the iteration with a cancellation: that is a normal end.
      if (!this.#stopped) throw err;
    } finally {
      events.close();
    }
  }

  /** Stops following events after the one being handled. */
  stop(): void {
    this.#stopped = true;
    this.#close?.();
  }

  /**
   * Releases the keys of one build if they are this service's to release and the ledger lets it. Refusals by
   * the ledger are decisions, not failures; an unreachable ledger or an unusable container throws.
   */
  async release(buildId: string): Promise<ReleaseDecision> {
    const decision = await this.#decide(buildId);
    this.#log({
      at: new Date().toISOString(),
      service: 'key-release',
      buildId,
      outcome: decision.outcome,
      ...(decision.outcome === 'refused' ? { code: decision.code, reason: decision.reason } : {}),
      ...(decision.outcome === 'not-ours' ? { reason: decision.reason } : {}),
      ...(decision.outcome === 'released' ? { transactionId: decision.transactionId } : {}),
    });
    return decision;
  }

  async #decide(buildId: string): Promise<ReleaseDecision> {
    let build: Build;
    try {
      build = await this.#ledger.builds.get(buildId);
    } catch (err) {
      if (isNotFound(err)) return refused(buildId, err);
      throw err;
    }
    // The reads the decision needs do not depend on each other: they go to the peer at once (the release
    // wait is on every job's way to its first byte). Each keeps its own meaning of a failure.
    const settled = await Promise.allSettled([
      this.#ledger.releases.get(buildId),
      this.#options.containers.get(build.dsiId),
      this.#ledger.machines.get(build.machineId),
      this.#ledger.dsi.get(build.dsiId),
      this.#ledger.licenses.chain(build.licenseId, { terms: false }),
    ] as const);
    const [release, stored, machineRead, dsiRead, chainRead] = settled;
    if (release.status === 'fulfilled') return { buildId, outcome: 'already-released' };
    if (!isNotFound(release.reason)) throw release.reason;
    if (stored.status === 'rejected') throw stored.reason;
    const container = stored.value;
    if (container === undefined)
      return {
        buildId,
        outcome: 'not-ours',
        reason: `no container of DSI ${build.dsiId} in this service's store`,
      };
    if (machineRead.status === 'rejected') throw machineRead.reason;
    const machine = machineRead.value;
    // The chaincode's own rule, on what this org's peer has committed, before anything is sealed or sent: a
    // refused proposal would still show the sealed keys to the peers asked to endorse it.
    try {
      if (dsiRead.status === 'rejected') throw dsiRead.reason;
      if (chainRead.status === 'rejected') throw chainRead.reason;
      this.#precheck(build, machine, dsiRead.value, chainRead.value);
    } catch (err) {
      if (err instanceof LedgerError && err.code !== 'CONNECTION_FAILED') return refused(buildId, err);
      throw err;
    }
    const stanza = await releaseKeys(
      container,
      this.#options.unwrapKey,
      machine.recipientPublicKeyPem,
      buildId,
      {
        trustedRoots: this.#options.trustedRoots,
        expectedSigner: this.#options.expectedSigner ?? { mspId: this.#options.client.mspId },
      },
    );
    try {
      const committed = await this.#ledger.releases.record({ buildId, stanza });
      return {
        buildId,
        outcome: 'released',
        transactionId: committed.transactionId,
        blockNumber: committed.blockNumber,
      };
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'ALREADY_EXISTS')
        return { buildId, outcome: 'already-released' };
      if (err instanceof LedgerError && err.code !== 'CONNECTION_FAILED') return refused(buildId, err);
      throw err;
    }
  }

  /** Runs `recordRelease` of the rules package on the committed state this org's peer holds. */
  #precheck(build: Build, machine: Machine, dsi: Dsi, chain: readonly ChainNode[]): void {
    const actor = {
      mspId: this.#options.client.mspId,
      id: 'key-release',
      role: ROLE.keyRelease,
      qualifications: [],
    };
    const placeholder = {
      type: RELEASE_STANZA_TYPE,
      keyId: recipientKeyId(machine),
      enc: PLACEHOLDER_POINT,
      wrappedKeys: PLACEHOLDER_POINT,
    };
    recordRelease(
      dsi,
      chain,
      build,
      machine,
      actor,
      { buildId: build.buildId, stanza: placeholder },
      txTime(new Date().toISOString()),
    );
  }
}

const PLACEHOLDER_POINT = Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString('base64');

const isNotFound = (err: unknown): boolean => err instanceof LedgerError && err.code === 'NOT_FOUND';

function refused(buildId: string, err: unknown): ReleaseDecision {
  const code: ErrorCode = isThreadsealError(err) ? err.code : 'INTERNAL';
  return { buildId, outcome: 'refused', code, reason: err instanceof Error ? err.message : String(err) };
}
