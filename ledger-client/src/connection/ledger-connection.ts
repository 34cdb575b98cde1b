import {
  connect,
  type Contract,
  type Gateway,
  type GrpcClient,
  type Identity,
  type Network,
  type CloseableAsyncIterable,
  type Signer,
} from '@hyperledger/fabric-gateway';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { LedgerError, operatorFingerprint } from '@threadseal/ledger-model';
import {
  readBlocks,
  readBlocksWithPrivateData,
  readLedgerEvents,
  type CommittedLedgerEvent,
  type EventReadOptions,
} from '../events/ledger-events';
import type { CausalGroup } from './causal-group';
import { validationCodeName } from './validation-code';
import { mapped, TransactionInvalidError } from './ledger-errors';

export { TransactionInvalidError } from './ledger-errors';

/** A committed transaction: its id, block, and the result the chaincode returned. */
export interface CommittedTransaction {
  readonly transactionId: string;
  readonly blockNumber: bigint;
  readonly result: Uint8Array;
}

/** What qscc returns about a committed transaction: its validation code and the MSPs that endorsed it. */
export interface TransactionRecord {
  readonly validationCode: string;
  readonly endorserMspIds: readonly string[];
  readonly creatorMspId: string;
}

/** Deadlines of each kind of call, in milliseconds from the moment the call starts. */
export interface LedgerDeadlines {
  /** An evaluate (query) on the connection's peer. */
  readonly evaluateMs: number;
  /** Collecting the endorsements of a submit. */
  readonly endorseMs: number;
  /** Handing the endorsed transaction to the orderer. */
  readonly submitMs: number;
  /** Waiting for the commit status of a submitted transaction. */
  readonly commitStatusMs: number;
  /** How long a call waits for its peer to reach its causal group's newest block before going ahead anyway. */
  readonly catchUpMs: number;
}

/** The deadlines a connection uses for what its options leave out. */
export const DEFAULT_DEADLINES: LedgerDeadlines = Object.freeze({
  evaluateMs: 10_000,
  endorseMs: 30_000,
  submitMs: 10_000,
  commitStatusMs: 60_000,
  catchUpMs: 10_000,
});

/** What a connection needs: a gRPC client to one peer's gateway, who acts, how it signs, and where. */
export interface LedgerConnectionOptions {
  /**
   * A gRPC client to the peer's gateway service. It may be shared by many connections (one per identity);
   * the connection never closes it: whoever created it does.
   */
  readonly client: GrpcClient;
  /** The MSP id and X.509 certificate (PEM bytes) the connection acts as. */
  readonly identity: Identity;
  /**
   * Signs digests for that identity: `signers.newPrivateKeySigner(key)` for a software key, or the signer of
   * `signers.newHSMSignerFactory(library).newSigner(…)` for a key in a PKCS#11 token.
   */
  readonly signer: Signer;
  readonly channel: string;
  readonly chaincode: string;
  /** Per-kind deadlines; each one left out is taken from {@link DEFAULT_DEADLINES}. */
  readonly deadlines?: Partial<LedgerDeadlines>;
  /** The group whose commits this connection waits for its peer to have seen; none: it never waits. */
  readonly causal?: CausalGroup;
  /**
   * Called once by `close()`, after the connection itself is closed: lets whoever created the gRPC client
   * for this connection alone tie the client's lifetime to it (the connection-profile helper does).
   */
  readonly onClose?: () => void;
}

/**
 * A connection to one org's peer gateway, acting as one identity. Only a transaction whose commit status is
 * VALID is reported as committed; anything else throws.
 */
export class LedgerConnection {
  readonly #gateway: Gateway;
  readonly #network: Network;
  readonly #contract: Contract;
  readonly #deadlines: LedgerDeadlines;
  readonly #causal: CausalGroup | undefined;
  readonly #onClose: (() => void) | undefined;
  #closed = false;
  /** Height (block count) this connection's peer is known to have reached. */
  #peerHeight = 0n;
  /** The MSP id this connection acts for. */
  readonly mspId: string;
  /** `operatorFingerprint` of the identity this connection acts as (its certificate bytes as sent). */
  readonly operator: string;
  readonly channel: string;
  readonly chaincode: string;

  private constructor(options: LedgerConnectionOptions, gateway: Gateway, deadlines: LedgerDeadlines) {
    this.mspId = options.identity.mspId;
    this.operator = operatorFingerprint(options.identity.credentials);
    this.channel = options.channel;
    this.chaincode = options.chaincode;
    this.#deadlines = deadlines;
    this.#causal = options.causal;
    this.#onClose = options.onClose;
    this.#gateway = gateway;
    this.#network = gateway.getNetwork(options.channel);
    this.#contract = this.#network.getContract(options.chaincode);
  }

  /**
   * Connects `options.identity` through `options.client`; nothing is sent until the first call.
   * @throws LedgerError CONNECTION_FAILED when the client, identity or signer is missing or unusable.
   */
  static connect(options: LedgerConnectionOptions): LedgerConnection {
    const deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    for (const [kind, ms] of Object.entries(deadlines)) {
      if (!Number.isFinite(ms) || ms <= 0) {
        throw new LedgerError(
          'CONNECTION_FAILED',
          `deadline ${kind} must be a positive number of ms, got ${ms}`,
        );
      }
    }
    const after = (ms: number) => () => ({ deadline: Date.now() + ms });
    let gateway: Gateway;
    try {
      gateway = connect({
        client: options.client,
        identity: options.identity,
        signer: options.signer,
        evaluateOptions: after(deadlines.evaluateMs),
        endorseOptions: after(deadlines.endorseMs),
        submitOptions: after(deadlines.submitMs),
        commitStatusOptions: after(deadlines.commitStatusMs),
      });
    } catch (err) {
      throw Object.assign(new LedgerError('CONNECTION_FAILED', (err as Error).message), { cause: err });
    }
    return new LedgerConnection(options, gateway, deadlines);
  }

  /** Evaluates a transaction on the peer (a query: nothing is ordered or committed). */
  async evaluate(transaction: string, args: readonly string[] = []): Promise<Uint8Array> {
    return mapped(async () => {
      await this.#catchUp();
      return this.#contract.evaluateTransaction(transaction, ...args);
    });
  }

  /** The channel height as this connection's peer reports it (qscc GetChainInfo). */
  async peerHeight(): Promise<bigint> {
    const bytes = await mapped(() =>
      this.#network.getContract('qscc').evaluateTransaction('GetChainInfo', this.channel),
    );
    return BigInt(common.BlockchainInfo.deserializeBinary(bytes).getHeight());
  }

  /** The serialized block `blockNumber` as this connection's peer has it (qscc GetBlockByNumber). */
  async block(blockNumber: bigint): Promise<Uint8Array> {
    return mapped(() =>
      this.#network
        .getContract('qscc')
        .evaluateTransaction('GetBlockByNumber', this.channel, blockNumber.toString()),
    );
  }

  /** Waits (at most `catchUpMs`) until this connection's peer holds the newest block its group saw committed. */
  async #catchUp(): Promise<void> {
    const mark = this.#causal?.newestCommittedBlock;
    if (mark === undefined || this.#peerHeight > mark) return;
    const deadline = Date.now() + this.#deadlines.catchUpMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      this.#peerHeight = await this.peerHeight();
      if (this.#peerHeight > mark || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * Endorses, orders and waits for the commit of a transaction; resolves only when it committed VALID.
   * @param endorsingOrgs MSP ids that must endorse (defaults to what the endorsement policy asks for).
   * @throws TransactionInvalidError when it committed with any other validation code.
   */
  async submit(
    transaction: string,
    args: readonly string[] = [],
    options: {
      endorsingOrgs?: readonly string[];
      transient?: Record<string, Uint8Array>;
      onTransactionId?: (transactionId: string) => void;
    } = {},
  ): Promise<CommittedTransaction> {
    await this.#catchUp();
    const proposal = this.#contract.newProposal(transaction, {
      arguments: [...args],
      ...(options.endorsingOrgs ? { endorsingOrganizations: [...options.endorsingOrgs] } : {}),
      ...(options.transient ? { transientData: options.transient } : {}),
    });
    options.onTransactionId?.(proposal.getTransactionId());
    const { submitted, status } = await mapped(async () => {
      const endorsed = await proposal.endorse();
      const sent = await endorsed.submit();
      return { submitted: sent, status: await sent.getStatus() };
    });
    if (!status.successful || status.code !== peer.TxValidationCode.VALID) {
      throw new TransactionInvalidError(
        status.transactionId,
        validationCodeName(status.code),
        status.blockNumber,
      );
    }
    // Our peer reported the commit, so it holds this block; later calls of the whole group wait for it.
    if (status.blockNumber >= this.#peerHeight) this.#peerHeight = status.blockNumber + 1n;
    this.#causal?.observeCommit(status.blockNumber);
    return {
      transactionId: status.transactionId,
      blockNumber: status.blockNumber,
      result: submitted.getResult(),
    };
  }

  /** Reads back a committed transaction through the peer's query system chaincode (qscc). */
  async transactionRecord(transactionId: string): Promise<TransactionRecord> {
    const bytes = await mapped(() =>
      this.#network
        .getContract('qscc')
        .evaluateTransaction('GetTransactionByID', this.channel, transactionId),
    );
    const processed = peer.ProcessedTransaction.deserializeBinary(bytes);
    const envelope = processed.getTransactionenvelope();
    if (!envelope) throw new LedgerError('CORRUPT_STATE', `transaction ${transactionId} has no envelope`);
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const header = payload.getHeader();
    const signatureHeader = common.SignatureHeader.deserializeBinary(
      header?.getSignatureHeader_asU8() ?? new Uint8Array(),
    );
    const creator = msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8());
    const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
    const endorserMspIds = tx.getActionsList().flatMap((action) => {
      const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      return (actionPayload.getAction()?.getEndorsementsList() ?? []).map((e) =>
        msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid(),
      );
    });
    return {
      validationCode: validationCodeName(processed.getValidationcode()),
      endorserMspIds,
      creatorMspId: creator.getMspid(),
    };
  }

  /**
   * The chaincode's events from the start position, decoded (see `readLedgerEvents`); close the stream when done.
   * @throws GatewayError when the peer refuses the request.
   */
  ledgerEvents(options: EventReadOptions = {}): Promise<CloseableAsyncIterable<CommittedLedgerEvent>> {
    return readLedgerEvents(this.#network, this.chaincode, options);
  }

  /**
   * The channel's full blocks from the start position; close the stream when done.
   * @throws GatewayError when the peer refuses the request.
   */
  blocks(options: EventReadOptions = {}): Promise<CloseableAsyncIterable<common.Block>> {
    return readBlocks(this.#network, options);
  }

  /**
   * The channel's blocks with the private data this org's peer holds for them; close the stream when done.
   * @throws GatewayError when the peer refuses the request.
   */
  blocksWithPrivateData(
    options: EventReadOptions = {},
  ): Promise<CloseableAsyncIterable<peer.BlockAndPrivateData>> {
    return readBlocksWithPrivateData(this.#network, options);
  }

  /** Closes the connection (idempotent); the gRPC client stays open unless `onClose` closes it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#gateway.close();
    this.#onClose?.();
  }
}
