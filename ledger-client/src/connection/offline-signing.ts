import { connect, type Gateway, type GrpcClient, type Identity } from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';
import type { CommittedTransaction, LedgerDeadlines } from './ledger-connection';
import { DEFAULT_DEADLINES } from './ledger-connection';
import { mapped, TransactionInvalidError } from './ledger-errors';
import { validationCodeName } from './validation-code';

/** Bytes a caller must sign (`digest`) and the message they belong to (`bytes`, handed back with the signature). */
export interface Unsigned {
  /** The message as fabric-gateway serializes it; passed back unchanged with its signature. */
  readonly bytes: Uint8Array;
  /** SHA-256 of what the peer checks the signature over: sign exactly this (ECDSA P-256, DER, low S). */
  readonly digest: Uint8Array;
}

/** A proposal that was prepared without a signer. */
export interface UnsignedProposal extends Unsigned {
  readonly transactionId: string;
}

/** An endorsed transaction that still needs the caller's signature before it is ordered. */
export interface UnsignedTransaction extends Unsigned {
  readonly transactionId: string;
  /** The result the endorsers returned (what the chaincode will return once it commits). */
  readonly result: Uint8Array;
}

/** What an offline-signing session needs: the gRPC client, the caller's identity (no signer), where. */
export interface OfflineSigningOptions {
  readonly client: GrpcClient;
  readonly identity: Identity;
  readonly channel: string;
  readonly chaincode: string;
  readonly deadlines?: Partial<LedgerDeadlines>;
}

/**
 * fabric-gateway's offline signing as four steps for a caller who keeps their own key (prepare → sign the
 * proposal digest → endorse → sign the transaction digest → submit → sign the commit digest → commit
 * status): whoever runs the session never holds the caller's private key. Every step takes and returns
 * bytes only, so the steps can run in different requests. Only a VALID commit resolves `commitStatus`.
 */
export class OfflineSigningSession {
  readonly #gateway: Gateway;
  readonly #channel: string;
  readonly #chaincode: string;
  readonly #deadlines: LedgerDeadlines;

  private constructor(gateway: Gateway, options: OfflineSigningOptions, deadlines: LedgerDeadlines) {
    this.#gateway = gateway;
    this.#channel = options.channel;
    this.#chaincode = options.chaincode;
    this.#deadlines = deadlines;
  }

  /** Opens a session as `options.identity`; nothing is sent until a step runs. */
  static connect(options: OfflineSigningOptions): OfflineSigningSession {
    const deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    const after = (ms: number) => () => ({ deadline: Date.now() + ms });
    const gateway = connect({
      client: options.client,
      identity: options.identity,
      evaluateOptions: after(deadlines.evaluateMs),
      endorseOptions: after(deadlines.endorseMs),
      submitOptions: after(deadlines.submitMs),
      commitStatusOptions: after(deadlines.commitStatusMs),
    });
    return new OfflineSigningSession(gateway, options, deadlines);
  }

  /** The unsigned proposal of `transaction`; nothing reaches the peer. */
  prepare(
    transaction: string,
    args: readonly string[],
    options: { endorsingOrgs?: readonly string[]; transient?: Record<string, Uint8Array> } = {},
  ): UnsignedProposal {
    const proposal = this.#gateway
      .getNetwork(this.#channel)
      .getContract(this.#chaincode)
      .newProposal(transaction, {
        arguments: [...args],
        ...(options.endorsingOrgs ? { endorsingOrganizations: [...options.endorsingOrgs] } : {}),
        ...(options.transient ? { transientData: options.transient } : {}),
      });
    return {
      bytes: proposal.getBytes(),
      digest: proposal.getDigest(),
      transactionId: proposal.getTransactionId(),
    };
  }

  /**
   * Evaluates a signed proposal (a query): its result, nothing ordered.
   * @throws LedgerError with the chaincode's code; LedgerUnavailableError when the peer fails.
   */
  evaluate(proposalBytes: Uint8Array, signature: Uint8Array): Promise<Uint8Array> {
    return mapped(() => this.#gateway.newSignedProposal(proposalBytes, signature).evaluate());
  }

  /**
   * Endorses a signed proposal; the transaction that comes back must be signed before it is submitted.
   * @throws LedgerError with the chaincode's code; LedgerUnavailableError when endorsement fails.
   */
  async endorse(proposalBytes: Uint8Array, signature: Uint8Array): Promise<UnsignedTransaction> {
    const transaction = await mapped(() =>
      this.#gateway.newSignedProposal(proposalBytes, signature).endorse(),
    );
    return {
      bytes: transaction.getBytes(),
      digest: transaction.getDigest(),
      transactionId: transaction.getTransactionId(),
      result: transaction.getResult(),
    };
  }

  /**
   * Hands a signed transaction to the orderer; the commit-status request that comes back must be signed.
   * @throws LedgerUnavailableError when the orderer refuses it.
   */
  async submit(transactionBytes: Uint8Array, signature: Uint8Array): Promise<Unsigned> {
    const commit = await mapped(() =>
      this.#gateway.newSignedTransaction(transactionBytes, signature).submit(),
    );
    return { bytes: commit.getBytes(), digest: commit.getDigest() };
  }

  /**
   * Waits for the commit status of a submitted transaction; resolves only when it committed VALID.
   * @param result the endorsed result, returned with the committed transaction.
   * @throws TransactionInvalidError when it committed with any other validation code.
   */
  async commitStatus(
    commitBytes: Uint8Array,
    signature: Uint8Array,
    result: Uint8Array = new Uint8Array(),
  ): Promise<CommittedTransaction> {
    const status = await mapped(() => this.#gateway.newSignedCommit(commitBytes, signature).getStatus());
    if (!status.successful || status.code !== peer.TxValidationCode.VALID) {
      throw new TransactionInvalidError(
        status.transactionId,
        validationCodeName(status.code),
        status.blockNumber,
      );
    }
    return { transactionId: status.transactionId, blockNumber: status.blockNumber, result };
  }

  /** The deadlines this session uses. */
  get deadlines(): LedgerDeadlines {
    return this.#deadlines;
  }

  /** Closes the session (the gRPC client stays open: whoever created it closes it). */
  close(): void {
    this.#gateway.close();
  }
}
