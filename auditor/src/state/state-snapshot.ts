import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ledger } from '@hyperledger/fabric-protos';
import { ThreadsealError } from '@threadseal/ledger-model';
import { ANOMALY, type Anomaly } from '../replay/anomaly';
import { printable } from '../replay/auditor';
import { spaceOf, type WorldState } from './world-state';

/** One key of a peer's state snapshot. */
export interface SnapshotEntry {
  readonly space: string;
  readonly key: string;
  readonly value: Uint8Array;
  readonly block: bigint;
  readonly tx: number;
  readonly metadata: ReadonlyMap<string, Uint8Array> | undefined;
}

class Cursor {
  offset = 0;
  public constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {}
  public varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new ThreadsealError('INPUT_ERROR', `${this.file}: truncated varint`);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  public bytesField(): Uint8Array {
    const length = Number(this.varint());
    if (this.offset + length > this.bytes.length)
      throw new ThreadsealError('INPUT_ERROR', `${this.file}: a field runs past the end`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  public get done(): boolean {
    return this.offset >= this.bytes.length;
  }
}

/** Fabric's order-preserving varint (a length byte, then big-endian bytes): used in snapshot versions. */
function orderPreserving(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  const size = bytes[at] ?? 0;
  let value = 0n;
  for (let i = 1; i <= size; i++) value = (value << 8n) | BigInt(bytes[at + i] ?? 0);
  return { value, next: at + 1 + size };
}

function decodeRecord(
  bytes: Uint8Array,
  file: string,
): { key: Uint8Array; value: Uint8Array; metadata: Uint8Array; version: Uint8Array } {
  const c = new Cursor(bytes, file);
  const empty: Uint8Array = new Uint8Array();
  const out = { key: empty, value: empty, metadata: empty, version: empty };
  while (!c.done) {
    const tag = Number(c.varint());
    if ((tag & 7) !== 2)
      throw new ThreadsealError('INPUT_ERROR', `${file}: unexpected wire type in a snapshot record`);
    const field = c.bytesField();
    if (tag >> 3 === 1) out.key = field;
    else if (tag >> 3 === 2) out.value = field;
    else if (tag >> 3 === 3) out.metadata = field;
    else if (tag >> 3 === 4) out.version = field;
  }
  return out;
}

function readStateFiles(dir: string, data: string, meta: string, hashed: boolean): SnapshotEntry[] {
  const dataFile = join(dir, data);
  const metaFile = join(dir, meta);
  let dataBytes: Buffer;
  let metaBytes: Buffer;
  try {
    dataBytes = readFileSync(dataFile);
    metaBytes = readFileSync(metaFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ThreadsealError('INPUT_ERROR', `cannot read the snapshot in ${dir}`, { cause: err });
  }
  if (dataBytes[0] !== 1 || metaBytes[0] !== 1)
    throw new ThreadsealError('INPUT_ERROR', `${dir}: unknown snapshot file format`);
  const m = new Cursor(metaBytes.subarray(1), metaFile);
  const d = new Cursor(dataBytes.subarray(1), dataFile);
  const entries: SnapshotEntry[] = [];
  for (let n = Number(m.varint()); n > 0; n--) {
    const namespace = Buffer.from(m.bytesField()).toString('utf8');
    const count = Number(m.varint());
    let space = namespace;
    if (hashed) {
      const at = namespace.indexOf('$$h');
      space = spaceOf(namespace.slice(0, at), namespace.slice(at + 3));
    }
    for (let i = 0; i < count; i++) {
      const r = decodeRecord(d.bytesField(), dataFile);
      const block = orderPreserving(r.version, 0);
      const tx = orderPreserving(r.version, block.next);
      let metadata: Map<string, Uint8Array> | undefined;
      if (r.metadata.length > 0) {
        const w = ledger.rwset.kvrwset.KVMetadataWrite.deserializeBinary(r.metadata);
        metadata = new Map(w.getEntriesList().map((e) => [e.getName(), e.getValue_asU8()]));
      }
      entries.push({
        space,
        key: hashed ? Buffer.from(r.key).toString('hex') : Buffer.from(r.key).toString('utf8'),
        value: r.value,
        block: block.value,
        tx: Number(tx.value),
        metadata,
      });
    }
  }
  return entries;
}

/**
 * Reads a peer's ledger snapshot directory (`peer snapshot submitrequest`; Fabric's `public_state.*` and
 * `private_state_hashes.*` files): every public key and every private-data key hash with value, version
 * and metadata.
 */
export function readStateSnapshot(dir: string): SnapshotEntry[] {
  return [
    ...readStateFiles(dir, 'public_state.data', 'public_state.metadata', false),
    ...readStateFiles(dir, 'private_state_hashes.data', 'private_state_hashes.metadata', true),
  ];
}

function sameMetadata(
  a: ReadonlyMap<string, Uint8Array> | undefined,
  b: ReadonlyMap<string, Uint8Array> | undefined,
): boolean {
  const aa = a ?? new Map<string, Uint8Array>();
  const bb = b ?? new Map<string, Uint8Array>();
  if (aa.size !== bb.size) return false;
  for (const [k, v] of aa) {
    const w = bb.get(k);
    if (!w || !Buffer.from(v).equals(Buffer.from(w))) return false;
  }
  return true;
}

/**
 * Compares the rebuilt world state with a peer's snapshot key for key: value, version and metadata of
 * every key on either side. `atBlock` is the snapshot's last block; the state must have been rebuilt to it.
 */
export function compareWithSnapshot(
  state: WorldState,
  snapshot: readonly SnapshotEntry[],
  atBlock: bigint,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const peerKeys = new Set<string>();
  const where = (space: string, key: string): string => `${printable(space)} key ${printable(key)}`;
  for (const e of snapshot) {
    peerKeys.add(`${e.space}\u0001${e.key}`);
    const mine = state.get(e.space, e.key);
    let problem: string | undefined;
    if (!mine) problem = 'is on the peer but not in the rebuilt state';
    else if (!Buffer.from(mine.value).equals(Buffer.from(e.value)))
      problem = 'has a different value on the peer';
    else if (mine.version.block !== e.block || mine.version.tx !== e.tx)
      problem = `is at version ${e.block}:${e.tx} on the peer, ${mine.version.block}:${mine.version.tx} rebuilt`;
    else if (!sameMetadata(mine.metadata, e.metadata))
      problem = 'has different metadata (key-level policy) on the peer';
    if (problem)
      anomalies.push({
        kind: ANOMALY.STATE_MISMATCH,
        block: atBlock,
        detail: `${where(e.space, e.key)} ${problem}`,
      });
  }
  for (const [space, key] of state.entries())
    if (!peerKeys.has(`${space}\u0001${key}`))
      anomalies.push({
        kind: ANOMALY.STATE_MISMATCH,
        block: atBlock,
        detail: `${where(space, key)} is rebuilt but not on the peer`,
      });
  return anomalies;
}
