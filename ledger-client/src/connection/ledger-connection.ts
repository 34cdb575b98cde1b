import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, signers, type Contract, type Gateway, type Network } from '@hyperledger/fabric-gateway';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import {
  loadConnectionProfile,
  userCredentialPaths,
  type ConnectionProfile,
  type OrgConnection,
} from './connection-profile';

/** Which enrolled user of which org a connection acts as. */
export interface LedgerUser {
  readonly org: string;
  readonly user: string;
}

/** A committed transaction: its id, block, and the result the chaincode returned. */
export interface CommittedTransaction {
  readonly transactionId: string;
  readonly blockNumber: bigint;
  readonly result: Uint8Array;
}

/** The transaction reached the ledger but was marked invalid (MVCC conflict, endorsement policy failure, …). */
export class TransactionInvalidError extends Error {
  override readonly name = 'TransactionInvalidError';
  constructor(
    readonly transactionId: string,
    /** Fabric's TxValidationCode name, e.g. `MVCC_READ_CONFLICT`, `ENDORSEMENT_POLICY_FAILURE`. */
    readonly validationCode: string,
    readonly blockNumber: bigint,
  ) {
    super(`transaction ${transactionId} committed INVALID in block ${blockNumber}: ${validationCode}`);
  }
}

const validationCodeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(peer.TxValidationCode).map(([name, code]) => [code, name]),
);

/** The name of a Fabric TxValidationCode number. */
export function validationCodeName(code: number): string {
  return validationCodeNames.get(code) ?? `UNKNOWN(${code})`;
}

/** What qscc returns about a committed transaction: its validation code and the MSPs that endorsed it. */
export interface TransactionRecord {
  readonly validationCode: string;
  readonly endorserMspIds: readonly string[];
  readonly creatorMspId: string;
}

/**
 * The newest block this process has seen a transaction of its own commit in, per network and channel
 * (keyed by the connection profile's path: two networks may share a channel name). Peers of
 * different orgs commit a block at slightly different moments; a connection whose peer is behind this mark
 * waits for it before endorsing or evaluating, so that one org's call never reads older state than a
 * commit another org's connection in the same process has already reported (causal consistency).
 */
const committedMark = new Map<string, bigint>();

/**
 * A gRPC connection to one org's peer gateway, acting as one enrolled user. Only a transaction whose
 * commit status is VALID is reported as committed; anything else throws.
 */
export class LedgerConnection {
  readonly #client: grpc.Client;
  readonly #gateway: Gateway;
  readonly #network: Network;
  readonly #contract: Contract;
  /** Height (block count) this connection's peer is known to have reached. */
  #peerHeight = 0n;
  readonly #markKey: string;
  readonly profile: ConnectionProfile;
  readonly org: OrgConnection;

  private constructor(
    profileFile: string,
    profile: ConnectionProfile,
    org: OrgConnection,
    client: grpc.Client,
    gateway: Gateway,
  ) {
    this.#markKey = `${resolve(profileFile)}#${profile.channel}`;
    this.profile = profile;
    this.org = org;
    this.#client = client;
    this.#gateway = gateway;
    this.#network = gateway.getNetwork(profile.channel);
    this.#contract = this.#network.getContract(profile.chaincode);
  }

  /**
   * Connects as `user` of `org` to that org's first peer.
   * @throws ConnectionProfileError when the profile or the user's credentials cannot be read.
   */
  static open(profileFile: string, who: LedgerUser): LedgerConnection {
    const profile = loadConnectionProfile(profileFile);
    const org = profile.orgs[who.org];
    if (!org) throw new Error(`unknown org ${who.org} (profile has ${Object.keys(profile.orgs).join(', ')})`);
    const target = org.peers[0];
    if (!target) throw new Error(`org ${who.org} has no peer`);
    const { certFile, keystoreDir } = userCredentialPaths(org, who.user);
    const keyFile = readdirSync(keystoreDir).find((f) => !f.startsWith('.'));
    if (!keyFile) throw new Error(`no private key for ${who.user}@${who.org} in ${keystoreDir}`);
    const credentials = readFileSync(certFile);
    const privateKey = createPrivateKey(readFileSync(join(keystoreDir, keyFile)));
    const client = new grpc.Client(target.endpoint, grpc.credentials.createSsl(readFileSync(org.tlsCaCert)), {
      'grpc.ssl_target_name_override': target.hostAlias,
    });
    const gateway = connect({
      client,
      identity: { mspId: org.mspId, credentials },
      signer: signers.newPrivateKeySigner(privateKey),
      evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
      endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
      submitOptions: () => ({ deadline: Date.now() + 10_000 }),
      commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
    });
    return new LedgerConnection(profileFile, profile, org, client, gateway);
  }

  /** Evaluates a transaction on the peer (a query: nothing is ordered or committed). */
  async evaluate(transaction: string, args: readonly string[] = []): Promise<Uint8Array> {
    await this.#catchUp();
    return this.#contract.evaluateTransaction(transaction, ...args);
  }

  /** The channel height as this connection's peer reports it (qscc GetChainInfo). */
  async peerHeight(): Promise<bigint> {
    const bytes = await this.#network
      .getContract('qscc')
      .evaluateTransaction('GetChainInfo', this.profile.channel);
    return BigInt(common.BlockchainInfo.deserializeBinary(bytes).getHeight());
  }

  /** Waits (at most 10 s) until this connection's peer has committed the newest block this process saw. */
  async #catchUp(): Promise<void> {
    const mark = committedMark.get(this.#markKey);
    if (mark === undefined || this.#peerHeight > mark) return;
    const deadline = Date.now() + 10_000;
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
    options: { endorsingOrgs?: readonly string[]; transient?: Record<string, Uint8Array> } = {},
  ): Promise<CommittedTransaction> {
    await this.#catchUp();
    const proposal = this.#contract.newProposal(transaction, {
      arguments: [...args],
      ...(options.endorsingOrgs ? { endorsingOrganizations: [...options.endorsingOrgs] } : {}),
      ...(options.transient ? { transientData: options.transient } : {}),
    });
    const endorsed = await proposal.endorse();
    const submitted = await endorsed.submit();
    const status = await submitted.getStatus();
    if (!status.successful || status.code !== peer.TxValidationCode.VALID) {
      throw new TransactionInvalidError(
        status.transactionId,
        validationCodeName(status.code),
        status.blockNumber,
      );
    }
    // Our peer reported the commit, so it holds this block; later calls anywhere in the process wait for it.
    if (status.blockNumber >= this.#peerHeight) this.#peerHeight = status.blockNumber + 1n;
    if (status.blockNumber > (committedMark.get(this.#markKey) ?? -1n)) {
      committedMark.set(this.#markKey, status.blockNumber);
    }
    return {
      transactionId: status.transactionId,
      blockNumber: status.blockNumber,
      result: submitted.getResult(),
    };
  }

  /** Reads back a committed transaction through the peer's query system chaincode (qscc). */
  async transactionRecord(transactionId: string): Promise<TransactionRecord> {
    const bytes = await this.#network
      .getContract('qscc')
      .evaluateTransaction('GetTransactionByID', this.profile.channel, transactionId);
    const processed = peer.ProcessedTransaction.deserializeBinary(bytes);
    const envelope = processed.getTransactionenvelope();
    if (!envelope) throw new Error(`transaction ${transactionId} has no envelope`);
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

  /** Closes the gateway and its gRPC channel. */
  close(): void {
    this.#gateway.close();
    this.#client.close();
  }
}
