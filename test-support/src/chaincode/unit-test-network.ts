import type { KeyObject } from 'node:crypto';
import { signScrapRecord, signStartBuild } from '@threadseal/ledger-client';
import {
  operatorFingerprint,
  type ParameterValue,
  type RegisterMachineInput,
  type StartBuildInput,
  type TransactionName,
} from '@threadseal/ledger-model';
import { newMachineKey } from '@threadseal/scenario';
import type { Context, Contract } from 'fabric-contract-api';
import {
  UnitTestIdentity,
  UnitTestLedger,
  UnitTestStub,
  unitTestContext,
  type UnitTestUser,
} from './unit-test-stub';

/**
 * The chaincode-level policy of `chaincode/deployment.json`: the stakeholder's (OEM's) peer and one of the other
 * two orgs' peers — `AND('OemMSP.peer', OR('ManufacturerMSP.peer','SubcontractorMSP.peer'))`.
 */
export const CHAINCODE_POLICY = {
  all: ['OemMSP'],
  n: 1,
  orgs: ['ManufacturerMSP', 'SubcontractorMSP'],
} as const;

/** UNIT-TEST ONLY: the simulated validation refused a transaction (Fabric's ENDORSEMENT_POLICY_FAILURE). */
export class EndorsementPolicyFailure extends Error {
  public readonly unmet: readonly string[];

  public constructor(tx: string, endorsers: readonly string[], unmet: readonly string[]) {
    super(
      `ENDORSEMENT_POLICY_FAILURE (simulated): ${tx} endorsed by [${endorsers.join(', ')}]: ${unmet.join('; ')}`,
    );
    this.name = 'EndorsementPolicyFailure';
    this.unmet = unmet;
  }
}

type TransactionFn = (ctx: Context, inputJson: string) => Promise<string>;

/** Options of one unit-test submission. */
export interface UnitTestCallOptions {
  /** Transient fields: byte arrays as given, anything else JSON-encoded. */
  readonly transient?: Readonly<Record<string, unknown>>;
  /**
   * Orgs whose peers endorse. When given, the commit is refused unless the simulated validation policies
   * (key-level, collection, chaincode-level OEM and one other) are met — see `UnitTestLedger.unmetEndorsements`.
   */
  readonly endorsers?: readonly string[];
  /** Collections the endorsing peer belongs to (default: every collection). */
  readonly peerCollections?: ReadonlySet<string>;
}

/**
 * A contract class of the chaincode under test, as its `contracts` list exports it; contracts that read the
 * peer's clock take it as their one constructor argument.
 */
export type UnitTestContractClass = new (peerNow: () => number) => Contract;

/**
 * UNIT-TEST ONLY: runs the real contracts over a {@link UnitTestLedger}, one transaction at a time, with a
 * controllable clock used both as proposal timestamp and as peer clock. The contracts are the chaincode's
 * own (its exported `contracts` list), so this package never imports the chaincode.
 */
export class UnitTestNetwork {
  public readonly ledger = new UnitTestLedger();
  /** Proposal timestamp of the next transaction. */
  public now: Date;
  /** Peer clock offset from `now`, to test clock-skew refusal. */
  public peerSkewMs = 0;
  #txCount = 0;
  readonly #contracts: ReadonlyMap<string, Contract>;

  public constructor(contracts: readonly UnitTestContractClass[], start: Date) {
    this.now = start;
    const peerNow = (): number => this.now.getTime() + this.peerSkewMs;
    this.#contracts = new Map(
      contracts.map((Class) => {
        const contract = new Class(peerNow);
        return [contract.getName(), contract] as const;
      }),
    );
  }

  /** Moves the clock. */
  public advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** The id the next transaction will get. */
  public nextTxId(): string {
    return `tx${String(this.#txCount + 1).padStart(4, '0')}`;
  }

  async #run<T>(
    user: UnitTestUser,
    tx: TransactionName,
    input: unknown,
    commit: boolean,
    options: UnitTestCallOptions,
  ): Promise<T> {
    const [contractName, fnName] = tx.split(':') as [string, string];
    const contract = this.#contracts.get(contractName);
    const fn = (contract as unknown as Record<string, TransactionFn | undefined> | undefined)?.[fnName];
    if (contract === undefined || fn === undefined) throw new Error(`unknown transaction ${tx}`);
    this.#txCount += 1;
    const transient = new Map<string, Uint8Array>(
      Object.entries(options.transient ?? {}).map(([key, value]) => [
        key,
        value instanceof Uint8Array ? value : Buffer.from(JSON.stringify(value), 'utf8'),
      ]),
    );
    const stub = new UnitTestStub(this.ledger, {
      txId: `tx${String(this.#txCount).padStart(4, '0')}`,
      timestamp: this.now,
      mspId: user.mspId,
      transient,
      ...(options.peerCollections === undefined ? {} : { peerCollections: options.peerCollections }),
    });
    const result = await fn.call(
      contract,
      unitTestContext(stub, new UnitTestIdentity(user)),
      JSON.stringify(input),
    );
    if (commit && options.endorsers !== undefined) {
      const unmet = this.ledger.unmetEndorsements(stub, options.endorsers, CHAINCODE_POLICY);
      if (unmet.length > 0) throw new EndorsementPolicyFailure(tx, options.endorsers, unmet);
    }
    if (commit) this.ledger.commit(stub);
    return JSON.parse(result) as T;
  }

  /** Runs a transaction and commits its writes and event when it succeeds. */
  public submit<T>(
    user: UnitTestUser,
    tx: TransactionName,
    input: unknown,
    options: UnitTestCallOptions = {},
  ): Promise<T> {
    return this.#run<T>(user, tx, input, true, options);
  }

  /** Runs a transaction without committing anything. */
  public evaluate<T>(
    user: UnitTestUser,
    tx: TransactionName,
    input: unknown,
    options: UnitTestCallOptions = {},
  ): Promise<T> {
    return this.#run<T>(user, tx, input, false, options);
  }
}

/** UNIT-TEST ONLY: a machine with a P-256 key that signs StartBuild requests like the enforce agent does. */
export class UnitTestMachine {
  public readonly machineId: string;
  public readonly publicKeyPem: string;
  public readonly recipientPublicKeyPem: string;
  /** The machine's decryption key: what opens the content keys released to it. */
  public readonly recipientKey: KeyObject;
  readonly #privateKey: KeyObject;
  #nonce = 0;

  public constructor(machineId: string) {
    const key = newMachineKey(machineId);
    this.machineId = machineId;
    this.#privateKey = key.privateKey;
    this.publicKeyPem = key.publicKeyPem;
    this.recipientPublicKeyPem = key.recipientPublicKeyPem;
    this.recipientKey = key.recipientKey;
  }

  /** The `machine:Register` input for this machine: its id and public key with the registry details given. */
  public registration(
    details: Omit<RegisterMachineInput, 'machineId' | 'publicKeyPem' | 'recipientPublicKeyPem'>,
  ): RegisterMachineInput {
    return {
      machineId: this.machineId,
      ...details,
      publicKeyPem: this.publicKeyPem,
      recipientPublicKeyPem: this.recipientPublicKeyPem,
    };
  }

  /** This machine's signature over a scrap record (the ledger client's `signScrapRecord`): credit needs it. */
  public scrapRecord(buildId: string, reason: string, evidenceDigest: string | null): string {
    return signScrapRecord({ buildId, reason, evidenceDigest }, this.#privateKey);
  }

  /**
   * A signed request (the ledger client's `signStartBuild`) with a fresh, readable nonce, made for `operator` —
   * the user logged in at the machine, who alone may submit it.
   */
  public startBuild(
    operator: UnitTestUser,
    licenseId: string,
    issuedAt: Date,
    parameters: Readonly<Record<string, ParameterValue>>,
    nonce?: string,
  ): StartBuildInput {
    this.#nonce += 1;
    return signStartBuild(
      {
        licenseId,
        machineId: this.machineId,
        operator: operatorFingerprint(new UnitTestIdentity(operator).getIDBytes()),
        parameters,
        nonce: nonce ?? `${this.machineId}-nonce-${String(this.#nonce).padStart(6, '0')}`,
        issuedAt: issuedAt.toISOString(),
      },
      this.#privateKey,
    );
  }
}
