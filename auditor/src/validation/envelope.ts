import { createHash } from 'node:crypto';
import { WireReader } from './wire';

// Everything here is plain data (strings, numbers, byte views into the block's own bytes), so a decoded
// block can cross from a worker thread to the replay by structured clone without protobuf objects and
// with its bytes transferred, not copied. The messages are read with the wire reader (`wire.ts`), field
// numbers as in fabric-protos (common/common.proto, peer/transaction.proto, peer/proposal*.proto,
// ledger/rwset/rwset.proto, ledger/rwset/kvrwset/kv_rwset.proto).

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

/** The fields of a two-bytes-field message (Envelope, Header, SignatureHeader, Endorsement, …). */
function pair(bytes: Uint8Array, first = 1, second = 2): [Uint8Array | undefined, Uint8Array | undefined] {
  let a: Uint8Array | undefined;
  let b: Uint8Array | undefined;
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === first) a = r.bytes();
    else if (r.field === second) b = r.bytes();
    else r.skip();
  }
  return [a, b];
}

const EMPTY: Uint8Array = new Uint8Array(0);

interface ChannelHeaderFields {
  type: number;
  channelId: string;
  txId: string;
  epoch: number;
  timestampMs: number | undefined;
  extension: Uint8Array;
}

function channelHeaderOf(bytes: Uint8Array): ChannelHeaderFields {
  const out: ChannelHeaderFields = {
    type: 0,
    channelId: '',
    txId: '',
    epoch: 0,
    timestampMs: undefined,
    extension: EMPTY,
  };
  const r = new WireReader(bytes);
  while (r.next()) {
    switch (r.field) {
      case 1:
        out.type = r.int32();
        break;
      case 3: {
        let seconds = 0;
        let nanos = 0;
        const t = new WireReader(r.bytes());
        while (t.next()) {
          if (t.field === 1) seconds = Number(BigInt.asIntN(64, BigInt(t.uint())));
          else if (t.field === 2) nanos = t.int32();
          else t.skip();
        }
        out.timestampMs = seconds * 1000 + Math.floor(nanos / 1e6);
        break;
      }
      case 4:
        out.channelId = r.string();
        break;
      case 5:
        out.txId = r.string();
        break;
      case 6:
        out.epoch = r.uint();
        break;
      case 7:
        out.extension = r.bytes();
        break;
      default:
        r.skip();
    }
  }
  return out;
}

/** Decodes an envelope's payload headers, with the code Fabric gives each failure. */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope {
  let payloadBytes: Uint8Array;
  let signature: Uint8Array;
  try {
    const [p, s] = pair(bytes);
    payloadBytes = p ?? EMPTY;
    signature = s ?? EMPTY;
  } catch {
    throw new EnvelopeDecodeError('NIL_ENVELOPE', 'the data item is not an envelope');
  }
  let header: Uint8Array | undefined;
  let payloadData: Uint8Array;
  try {
    const [h, d] = pair(payloadBytes);
    header = h;
    payloadData = d ?? EMPTY;
  } catch {
    throw new EnvelopeDecodeError('BAD_PAYLOAD', 'the envelope payload does not decode');
  }
  if (!header) throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'the payload has no header');
  let channelHeaderBytes: Uint8Array;
  let channelHeader: ChannelHeaderFields;
  let creator: Uint8Array;
  let nonce: Uint8Array;
  try {
    const [ch, sh] = pair(header);
    channelHeaderBytes = ch ?? EMPTY;
    channelHeader = channelHeaderOf(channelHeaderBytes);
    const [c, n] = pair(sh ?? EMPTY);
    creator = c ?? EMPTY;
    nonce = n ?? EMPTY;
  } catch {
    throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'the channel or signature header does not decode');
  }
  if (channelHeader.epoch !== 0) throw new EnvelopeDecodeError('BAD_COMMON_HEADER', 'epoch is not 0');
  return {
    payload: payloadBytes,
    signature,
    creator,
    nonce,
    type: channelHeader.type,
    txId: channelHeader.txId,
    channelId: channelHeader.channelId,
    timestampMs: channelHeader.timestampMs,
    payloadData,
    channelHeaderBytes,
    extension: channelHeader.extension,
  };
}

/** Fabric's transaction id: hex SHA-256 of nonce || creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function versionOf(bytes: Uint8Array): ReadVersion {
  let blockNum = 0;
  let txNum = 0;
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) blockNum = r.uint();
    else if (r.field === 2) txNum = r.uint();
    else r.skip();
  }
  return { blockNum, txNum };
}

/** A KVRead or KVReadHash: key (string or hash) and version. */
function readOf(bytes: Uint8Array): { key: Uint8Array; version: ReadVersion | undefined } {
  let key = EMPTY;
  let version: ReadVersion | undefined;
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) key = r.bytes();
    else if (r.field === 2) version = versionOf(r.bytes());
    else r.skip();
  }
  return { key, version };
}

function kvRead(bytes: Uint8Array): KvRead {
  const { key, version } = readOf(bytes);
  return { key: text(key), version };
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** KVWrite (key, is_delete, value) or KVWriteHash (key_hash, is_delete, value_hash). */
function writeOf(bytes: Uint8Array): { key: Uint8Array; isDelete: boolean; value: Uint8Array } {
  let key = EMPTY;
  let isDelete = false;
  let value = EMPTY;
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) key = r.bytes();
    else if (r.field === 2) isDelete = r.bool();
    else if (r.field === 3) value = r.bytes();
    else r.skip();
  }
  return { key, isDelete, value };
}

/** KVMetadataWrite or KVMetadataWriteHash: key (or hash) and entries (name, value). */
function metadataWriteOf(bytes: Uint8Array): { key: Uint8Array; entries: MetadataEntry[] } {
  let key = EMPTY;
  const entries: MetadataEntry[] = [];
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) key = r.bytes();
    else if (r.field === 2) {
      let name = '';
      let value = EMPTY;
      const e = new WireReader(r.bytes());
      while (e.next()) {
        if (e.field === 1) name = e.string();
        else if (e.field === 2) value = e.bytes();
        else e.skip();
      }
      entries.push({ name, value });
    } else r.skip();
  }
  return { key, entries };
}

function rangeQueryOf(bytes: Uint8Array): RangeQuery {
  let startKey = '';
  let endKey = '';
  let itrExhausted = false;
  // raw_reads (4) and reads_merkle_hashes (5) are a oneof: the last one given is the one set.
  let rawReads: KvRead[] | undefined;
  const r = new WireReader(bytes);
  while (r.next()) {
    switch (r.field) {
      case 1:
        startKey = r.string();
        break;
      case 2:
        endKey = r.string();
        break;
      case 3:
        itrExhausted = r.bool();
        break;
      case 4: {
        const reads: KvRead[] = [];
        const q = new WireReader(r.bytes());
        while (q.next()) {
          if (q.field === 1) reads.push(kvRead(q.bytes()));
          else q.skip();
        }
        rawReads = reads;
        break;
      }
      case 5:
        r.bytes();
        rawReads = undefined;
        break;
      default:
        r.skip();
    }
  }
  return { startKey, endKey, itrExhausted, rawReads };
}

function kvRwSet(
  bytes: Uint8Array,
): Pick<NamespaceRwSet, 'reads' | 'rangeQueries' | 'writes' | 'metadataWrites'> {
  const reads: KvRead[] = [];
  const rangeQueries: RangeQuery[] = [];
  const writes: KvWrite[] = [];
  const metadataWrites: KvMetadataWrite[] = [];
  const r = new WireReader(bytes);
  while (r.next()) {
    switch (r.field) {
      case 1:
        reads.push(kvRead(r.bytes()));
        break;
      case 2:
        rangeQueries.push(rangeQueryOf(r.bytes()));
        break;
      case 3: {
        const w = writeOf(r.bytes());
        writes.push({ key: text(w.key), value: w.value, isDelete: w.isDelete });
        break;
      }
      case 4: {
        const m = metadataWriteOf(r.bytes());
        metadataWrites.push({ key: text(m.key), entries: m.entries });
        break;
      }
      default:
        r.skip();
    }
  }
  return { reads, rangeQueries, writes, metadataWrites };
}

function collectionRwSet(bytes: Uint8Array): CollectionRwSet {
  let name = '';
  const hashedReads: HashedRead[] = [];
  const hashedWrites: HashedWrite[] = [];
  const metadataWrites: HashedMetadataWrite[] = [];
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) {
      // A repeated field set again (a second hashed_rwset) replaces, as for any singular bytes field.
      hashedReads.length = 0;
      hashedWrites.length = 0;
      metadataWrites.length = 0;
      const h = new WireReader(r.bytes());
      while (h.next()) {
        if (h.field === 1) {
          const read = readOf(h.bytes());
          hashedReads.push({ keyHash: hex(read.key), version: read.version });
        } else if (h.field === 2) {
          const w = writeOf(h.bytes());
          hashedWrites.push({ keyHash: hex(w.key), valueHash: w.value, isDelete: w.isDelete });
        } else if (h.field === 3) {
          const m = metadataWriteOf(h.bytes());
          metadataWrites.push({ keyHash: hex(m.key), entries: m.entries });
        } else h.skip();
      }
    } else r.skip();
  }
  return { name, hashedReads, hashedWrites, metadataWrites };
}

function namespaceRwSet(bytes: Uint8Array): NamespaceRwSet {
  let namespace = '';
  let kv = kvRwSet(EMPTY);
  const collections: CollectionRwSet[] = [];
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 1) namespace = r.string();
    else if (r.field === 2) kv = kvRwSet(r.bytes());
    else if (r.field === 3) collections.push(collectionRwSet(r.bytes()));
    else r.skip();
  }
  return { namespace, ...kv, collections };
}

/** The chaincode name of a ChaincodeID message (path 1, name 2, version 3). */
function chaincodeName(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  let name = '';
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.field === 2) name = r.string();
    else r.skip();
  }
  return name;
}

/** Decodes an endorser transaction's single action down to its read-write sets. */
export function decodeEndorserTransaction(envelope: DecodedEnvelope): EndorserTransaction {
  let malformed: string | undefined;
  // peer.Transaction { repeated TransactionAction actions = 1 }
  const actions: Uint8Array[] = [];
  const t = new WireReader(envelope.payloadData);
  while (t.next()) {
    if (t.field === 1) actions.push(t.bytes());
    else t.skip();
  }
  const action = actions[0];
  if (!action) throw new EnvelopeDecodeError('INVALID_ENDORSER_TRANSACTION', 'the transaction has no action');
  if (actions.length !== 1) malformed = `the transaction has ${actions.length} actions, Fabric allows one`;
  // TransactionAction { header = 1, payload = 2 }; ChaincodeActionPayload { chaincode_proposal_payload = 1, action = 2 }
  const [actionHeader, actionPayload] = pair(action);
  const [proposalPayload, endorsedBytes] = pair(actionPayload ?? EMPTY);
  if (!endorsedBytes) throw new EnvelopeDecodeError('INVALID_ENDORSER_TRANSACTION', 'no endorsed action');
  // ChaincodeEndorsedAction { proposal_response_payload = 1, repeated Endorsement endorsements = 2 }
  let prpBytes = EMPTY;
  const endorsements: { endorser: Uint8Array; signature: Uint8Array }[] = [];
  const e = new WireReader(endorsedBytes);
  while (e.next()) {
    if (e.field === 1) prpBytes = e.bytes();
    else if (e.field === 2) {
      const [endorser, signature] = pair(e.bytes());
      endorsements.push({ endorser: endorser ?? EMPTY, signature: signature ?? EMPTY });
    } else e.skip();
  }
  // ProposalResponsePayload { proposal_hash = 1, extension = 2 }
  const [proposalHash, extension] = pair(prpBytes);
  const computed = createHash('sha256')
    .update(envelope.channelHeaderBytes)
    .update(actionHeader ?? EMPTY)
    .update(proposalPayload ?? EMPTY)
    .digest();
  if (!computed.equals(proposalHash ?? EMPTY))
    malformed ??= 'the proposal hash does not match the channel header, action header and proposal payload';
  // ChaincodeAction { results = 1, events = 2, response = 3, chaincode_id = 4 }
  let results = EMPTY;
  let actionChaincode: Uint8Array | undefined;
  const c = new WireReader(extension ?? EMPTY);
  while (c.next()) {
    if (c.field === 1) results = c.bytes();
    else if (c.field === 4) actionChaincode = c.bytes();
    else c.skip();
  }
  // TxReadWriteSet { data_model = 1, repeated NsReadWriteSet ns_rwset = 2 }
  const rwsets: NamespaceRwSet[] = [];
  const rw = new WireReader(results);
  while (rw.next()) {
    if (rw.field === 2) rwsets.push(namespaceRwSet(rw.bytes()));
    else rw.skip();
  }
  // ChaincodeHeaderExtension { chaincode_id = 2 }
  const [, headerChaincode] = pair(envelope.extension);
  const chaincode = chaincodeName(headerChaincode);
  if (chaincode !== chaincodeName(actionChaincode))
    malformed ??= 'the header and the chaincode action name different chaincodes';
  return {
    chaincode,
    proposalResponsePayload: prpBytes,
    endorsements,
    rwsets,
    ...(malformed === undefined ? {} : { malformed }),
  };
}
