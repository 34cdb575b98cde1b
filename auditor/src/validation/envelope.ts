import { createHash } from 'node:crypto';
import { common, ledger, peer } from '@hyperledger/fabric-protos';

// Everything here is plain data (strings, numbers, byte views into the block's own bytes), so a decoded
// block can cross from a worker thread to the replay by structured clone without protobuf objects and
// with its bytes transferred, not copied.

/** A version as a read set records it (block number, transaction index). */
export interface ReadVersion {
  readonly blockNum: number;
  readonly txNum: number;
}

/** A public read: the key and the version read (undefined: read as absent). */
export interface KvRead {
  readonly key: string;
  readonly version: ReadVersion | undefined;
}

/** A public write; `isDelete` as the write set says it (an empty value is a delete too, decided later). */
export interface KvWrite {
  readonly key: string;
  readonly value: Uint8Array;
  readonly isDelete: boolean;
}

/** One entry of a metadata write (VALIDATION_PARAMETER: a key-level endorsement policy). */
export interface MetadataEntry {
  readonly name: string;
  readonly value: Uint8Array;
}

/** A metadata write on a public key; no entries deletes the key's metadata. */
export interface KvMetadataWrite {
  readonly key: string;
  readonly entries: readonly MetadataEntry[];
}

/** A range query; `rawReads` undefined when it was recorded as Merkle hashes only. */
export interface RangeQuery {
  readonly startKey: string;
  readonly endKey: string;
  readonly itrExhausted: boolean;
  readonly rawReads: readonly KvRead[] | undefined;
}

/** A private-data read, by the hex of the key hash. */
export interface HashedRead {
  readonly keyHash: string;
  readonly version: ReadVersion | undefined;
}

/** A private-data write, by the hex of the key hash, with the value hash. */
export interface HashedWrite {
  readonly keyHash: string;
  readonly valueHash: Uint8Array;
  readonly isDelete: boolean;
}

/** A metadata write on a private-data key, by the hex of the key hash. */
export interface HashedMetadataWrite {
  readonly keyHash: string;
  readonly entries: readonly MetadataEntry[];
}

/** One collection's hashed read-write set. */
export interface CollectionRwSet {
  readonly name: string;
  readonly hashedReads: readonly HashedRead[];
  readonly hashedWrites: readonly HashedWrite[];
  readonly metadataWrites: readonly HashedMetadataWrite[];
}

/** One namespace's read-write set, decoded. */
export interface NamespaceRwSet {
  readonly namespace: string;
  readonly reads: readonly KvRead[];
  readonly rangeQueries: readonly RangeQuery[];
  readonly writes: readonly KvWrite[];
  readonly metadataWrites: readonly KvMetadataWrite[];
  readonly collections: readonly CollectionRwSet[];
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
  readonly creator: Uint8Array;
  readonly nonce: Uint8Array;
  readonly type: number;
  readonly txId: string;
  readonly channelId: string;
  /** The channel header's timestamp in milliseconds since the epoch; undefined when it has none. */
  readonly timestampMs: number | undefined;
  readonly payloadData: Uint8Array;
  readonly channelHeaderBytes: Uint8Array;
  /** The channel header's extension (a ChaincodeHeaderExtension for endorser transactions). */
  readonly extension: Uint8Array;
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
  const ts = channelHeader.getTimestamp();
  return {
    payload: payloadBytes,
    signature: envelope.getSignature_asU8(),
    creator,
    nonce,
    type: channelHeader.getType(),
    txId: channelHeader.getTxId(),
    channelId: channelHeader.getChannelId(),
    timestampMs: ts ? ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6) : undefined,
    payloadData: payload.getData_asU8(),
    channelHeaderBytes: header.getChannelHeader_asU8(),
    extension: channelHeader.getExtension_asU8(),
  };
}

/** Fabric's transaction id: hex SHA-256 of nonce || creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function versionOf(read: { hasVersion(): boolean; getVersion(): ledger.rwset.kvrwset.Version | undefined }) {
  const v = read.hasVersion() ? read.getVersion() : undefined;
  return v ? { blockNum: v.getBlockNum(), txNum: v.getTxNum() } : undefined;
}

function entriesOf(m: { getEntriesList(): ledger.rwset.kvrwset.KVMetadataEntry[] }): MetadataEntry[] {
  return m.getEntriesList().map((e) => ({ name: e.getName(), value: e.getValue_asU8() }));
}

function namespaceRwSet(ns: ledger.rwset.NsReadWriteSet): NamespaceRwSet {
  const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
  return {
    namespace: ns.getNamespace(),
    reads: kv.getReadsList().map((r) => ({ key: r.getKey(), version: versionOf(r) })),
    rangeQueries: kv.getRangeQueriesInfoList().map((rq) => ({
      startKey: rq.getStartKey(),
      endKey: rq.getEndKey(),
      itrExhausted: rq.getItrExhausted(),
      rawReads: rq.hasRawReads()
        ? (rq.getRawReads()?.getKvReadsList() ?? []).map((r) => ({ key: r.getKey(), version: versionOf(r) }))
        : undefined,
    })),
    writes: kv.getWritesList().map((w) => ({
      key: w.getKey(),
      value: w.getValue_asU8(),
      isDelete: w.getIsDelete(),
    })),
    metadataWrites: kv.getMetadataWritesList().map((m) => ({ key: m.getKey(), entries: entriesOf(m) })),
    collections: ns.getCollectionHashedRwsetList().map((c) => {
      const hashed = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(c.getHashedRwset_asU8());
      return {
        name: c.getCollectionName(),
        hashedReads: hashed
          .getHashedReadsList()
          .map((r) => ({ keyHash: hex(r.getKeyHash_asU8()), version: versionOf(r) })),
        hashedWrites: hashed.getHashedWritesList().map((w) => ({
          keyHash: hex(w.getKeyHash_asU8()),
          valueHash: w.getValueHash_asU8(),
          isDelete: w.getIsDelete(),
        })),
        metadataWrites: hashed
          .getMetadataWritesList()
          .map((m) => ({ keyHash: hex(m.getKeyHash_asU8()), entries: entriesOf(m) })),
      };
    }),
  };
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
  const ext = peer.ChaincodeHeaderExtension.deserializeBinary(envelope.extension);
  const chaincode = ext.getChaincodeId()?.getName() ?? '';
  if (chaincode !== (ccAction.getChaincodeId()?.getName() ?? ''))
    malformed ??= 'the header and the chaincode action name different chaincodes';
  return {
    chaincode,
    proposalResponsePayload: prpBytes,
    endorsements: endorsed.getEndorsementsList().map((e) => ({
      endorser: e.getEndorser_asU8(),
      signature: e.getSignature_asU8(),
    })),
    rwsets: txRwSet.getNsRwsetList().map(namespaceRwSet),
    ...(malformed === undefined ? {} : { malformed }),
  };
}
