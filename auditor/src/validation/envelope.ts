import { createHash } from 'node:crypto';
import { common, ledger, peer } from '@hyperledger/fabric-protos';

/** One namespace's read-write set, decoded. */
export interface NamespaceRwSet {
  readonly namespace: string;
  readonly kv: ledger.rwset.kvrwset.KVRWSet;
  readonly collections: readonly {
    readonly name: string;
    readonly hashed: ledger.rwset.kvrwset.HashedRWSet;
  }[];
}

/** An endorser transaction, decoded down to its read-write sets. */
export interface EndorserTransaction {
  readonly chaincode: string;
  /** ProposalResponsePayload bytes: what every endorser signed (with its identity appended). */
  readonly proposalResponsePayload: Uint8Array;
  readonly endorsements: readonly { readonly endorser: Uint8Array; readonly signature: Uint8Array }[];
  readonly rwsets: readonly NamespaceRwSet[];
  /** Why the transaction is malformed for Fabric's message validation (INVALID_ENDORSER_TRANSACTION), if it is. */
  readonly malformed?: string;
}

/** An envelope decoded as far as the auditor needs it. */
export interface DecodedEnvelope {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly channelHeader: common.ChannelHeader;
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  readonly type: number;
  readonly txId: string;
  readonly payloadData: Uint8Array;
  readonly channelHeaderBytes: Uint8Array;
}

/** Thrown inside the decoder with the validation code Fabric would give; caught by the auditor. */
export class EnvelopeDecodeError extends Error {
  public constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Decodes an envelope's payload headers, with the code Fabric gives each failure. */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  let envelope: common.Envelope;
  let payload: common.Payload;
  try {
    envelope = common.Envelope.deserializeBinary(bytes);
  } catch {
    throw new EnvelopeDecodeError('NIL_ENVELOPE', 'the data item is not an envelope');
  }
  const payloadBytes = envelope.getPayload_asU8();
  try {
    payload = common.Payload.deserializeBinary(payloadBytes);
  } catch {
    throw new EnvelopeDecodeError('BAD_PAYLOAD', 'the envelope payload does not decode');
  }
  const header = payload.getHeader();
  if (!header) throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'the payload has no header');
  let channelHeader: common.ChannelHeader;
  let signatureHeader: common.SignatureHeader;
  try {
    channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  } catch {
    throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'the channel or signature header does not decode');
  }
  const creator = signatureHeader.getCreator_asU8();
  const nonce = signatureHeader.getNonce_asU8();
  if (channelHeader.getEpoch() !== 0) throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'epoch is not 0');
  return {
    payload: payloadBytes,
    signature: envelope.getSignature_asU8(),
    channelHeader,
    creator,
    nonce,
    type: channelHeader.getType(),
    txId: channelHeader.getTxId(),
    payloadData: payload.getData_asU8(),
    channelHeaderBytes: header.getChannelHeader_asU8(),
  };
}

/** Fabric's transaction id: hex SHA-256 of nonce || creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/** Decodes an endorser transaction's single action down to its read-write sets. */
export function decodeEndorserTransaction(envelope: DecodedEnvelope): EndorserTransaction {
  let malformed: string | undefined;
  const tx = peer.Transaction.deserializeBinary(envelope.payloadData);
  const actions = tx.getActionsList();
  const action = actions[0];
  if (!action) throw new EnvelopeDecodeError('INVALID_ENDORSER_TRANSACTION', 'the transaction has no action');
  if (actions.length !== 1) malformed = `the transaction has ${actions.length} actions, Fabric allows one`;
  const actionHeader = action.getHeader_asU8();
  const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const endorsed = cap.getAction();
  if (!endorsed) throw new EnvelopeDecodeError('INVALID_ENDORSER_TRANSACTION', 'no endorsed action');
  const prpBytes = endorsed.getProposalResponsePayload_asU8();
  const prp = peer.ProposalResponsePayload.deserializeBinary(prpBytes);
  const proposalHash = createHash('sha256')
    .update(envelope.channelHeaderBytes)
    .update(actionHeader)
    .update(cap.getChaincodeProposalPayload_asU8())
    .digest();
  if (!proposalHash.equals(Buffer.from(prp.getProposalHash_asU8())))
    malformed ??= 'the proposal hash does not match the channel header, action header and proposal payload';
  const ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
  const txRwSet = ledger.rwset.TxReadWriteSet.deserializeBinary(ccAction.getResults_asU8());
  const ext = peer.ChaincodeHeaderExtension.deserializeBinary(envelope.channelHeader.getExtension_asU8());
  const chaincode = ext.getChaincodeId()?.getName() ?? '';
  if (chaincode !== (ccAction.getChaincodeId()?.getName() ?? ''))
    malformed ??= 'the header and the chaincode action name different chaincodes';
  const rwsets = txRwSet.getNsRwsetList().map((ns) => ({
    namespace: ns.getNamespace(),
    kv: ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8()),
    collections: ns.getCollectionHashedRwsetList().map((c) => ({
      name: c.getCollectionName(),
      hashed: ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8()),
    })),
  }));
  return {
    chaincode,
    proposalResponsePayload: prpBytes,
    endorsements: endorsed.getEndorsementsList().map((e) => ({
      endorser: e.getEndorser_asU8(),
      signature: e.getSignature_asU8(),
    })),
    rwsets,
    ...(malformed === undefined ? {} : { malformed }),
  };
}
