import { common, peer } from '@hyperledger/fabric-protos';
import { canonicalJson, ThreadsealError } from '@threadseal/ledger-model';
import { rawBlockFromProto, rawBlockToProto } from '../block/block-proto';
import { blockDataHash, blockHeaderHash, type RawBlock } from '../block/raw-block';
import { ChannelConfig } from '../config/channel-config';
import { verifyFabricSignature } from '../msp/msp';
import { checkSignatures } from '../policy/policy';
import { decodeEndorserTransaction, decodeEnvelope } from '../validation/envelope';
import type { AuditedTransaction } from '../replay/auditor';
import { blockHeaderBytes, METADATA_INDEX } from '../block/raw-block';

/** The format name a passport file starts with. */
export const PASSPORT_FORMAT = 'threadseal-part-passport/1';

/** What a transaction contributed to the part. */
export type PassportRole = 'license' | 'allocation' | 'start-build' | 'complete-build';

/** A part passport: everything needed to check, offline, the transactions that made a part. */
export interface PartPassport {
  readonly format: typeof PASSPORT_FORMAT;
  readonly partId: string;
  readonly namespace: string;
  /** Every block header from the genesis block to the last block named, in order (hex fields). */
  readonly headers: readonly {
    readonly number: string;
    readonly previousHash: string;
    readonly dataHash: string;
  }[];
  /** Full blocks (protobuf, base64): every config block up to the last one named, and each block named. */
  readonly blocks: readonly { readonly number: string; readonly block: string }[];
  readonly transactions: readonly {
    readonly role: PassportRole;
    readonly key: string;
    readonly block: string;
    readonly txIndex: number;
    readonly txId: string;
  }[];
}

const compositeKey = (type: string, ...attrs: string[]): string =>
  `\u0000${type}\u0000${attrs.map((a) => `${a}\u0000`).join('')}`;

function parseJson(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (!bytes) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The keys whose first valid write made the part, and their roles, from the part's record. */
function passportKeys(
  partId: string,
  latest: (key: string) => Uint8Array | undefined,
): { role: PassportRole; key: string }[] {
  const part = parseJson(latest(compositeKey('part', partId)));
  if (!part) throw new ThreadsealError('NOT_FOUND', `no part ${partId} in the audited world state`);
  const str = (o: Record<string, unknown> | undefined, f: string): string => {
    const v = o?.[f];
    if (typeof v !== 'string')
      throw new ThreadsealError('CORRUPT_STATE', `the record of part ${partId} has no ${f}`);
    return v;
  };
  const licenseId = str(part, 'licenseId');
  const license = parseJson(latest(compositeKey('license', licenseId)));
  const ancestry = Array.isArray(license?.['ancestry'])
    ? (license['ancestry'] as unknown[]).filter((x) => typeof x === 'string')
    : [];
  const chain = [...new Set([...ancestry, licenseId])];
  return [
    ...chain.map((id) => ({ role: 'license' as const, key: compositeKey('license', id) })),
    { role: 'allocation', key: compositeKey('allocation', licenseId, str(part, 'machineId')) },
    { role: 'start-build', key: compositeKey('build', str(part, 'buildId')) },
    { role: 'complete-build', key: compositeKey('part', partId) },
  ];
}

/**
 * Builds a part's passport from an audited replay: `transactions` are the audit's verdicts (their writes),
 * `blocks` the chain it replayed. Only transactions the audit recomputed as VALID are used.
 * @throws ThreadsealError NOT_FOUND when the part is not in the audited state.
 */
export function buildPassport(
  partId: string,
  namespace: string,
  transactions: readonly AuditedTransaction[],
  blocks: readonly RawBlock[],
): PartPassport {
  const firstWrite = new Map<string, AuditedTransaction>();
  const lastValue = new Map<string, Uint8Array | undefined>();
  for (const tx of transactions) {
    if (tx.recomputedCode !== 'VALID') continue;
    for (const w of tx.writes) {
      if (w.namespace !== namespace) continue;
      if (!firstWrite.has(w.key)) firstWrite.set(w.key, tx);
      lastValue.set(w.key, w.value);
    }
  }
  const named = passportKeys(partId, (key) => lastValue.get(key)).map(({ role, key }) => {
    const tx = firstWrite.get(key);
    if (!tx)
      throw new ThreadsealError('NOT_FOUND', `no valid transaction wrote ${key.replace(/\u0000/g, '~')}`);
    return { role, key, block: tx.block.toString(), txIndex: tx.txIndex, txId: tx.txId };
  });
  const last = named.reduce((m, t) => (BigInt(t.block) > m ? BigInt(t.block) : m), 0n);
  const wanted = new Set(named.map((t) => t.block));
  const configBlocks = new Set(
    transactions.filter((t) => t.type === 'CONFIG' && t.block <= last).map((t) => t.block.toString()),
  );
  configBlocks.add('0');
  const chain = blocks.filter((b) => b.number <= last);
  return {
    format: PASSPORT_FORMAT,
    partId,
    namespace,
    headers: chain.map((b) => ({
      number: b.number.toString(),
      previousHash: Buffer.from(b.previousHash).toString('hex'),
      dataHash: Buffer.from(b.dataHash).toString('hex'),
    })),
    blocks: chain
      .filter((b) => wanted.has(b.number.toString()) || configBlocks.has(b.number.toString()))
      .map((b) => ({
        number: b.number.toString(),
        block: Buffer.from(rawBlockToProto(b)).toString('base64'),
      })),
    transactions: named,
  };
}

/** Serializes a passport: canonical JSON, so that any changed byte is either refused or changes a checked field. */
export function passportBytes(passport: PartPassport): Buffer {
  return Buffer.from(canonicalJson(passport), 'utf8');
}

/** What checking a passport found: `ok` only when nothing failed. */
export interface PassportVerdict {
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly endorsers: Readonly<Record<string, readonly string[]>>;
}

/**
 * Checks a passport offline against the pinned genesis hash: the header chain, each carried block's
 * header and data hash, the orderer signatures under the configuration in force, each named transaction's
 * creator and endorsement signatures, and that the transactions wrote the keys their roles name.
 */
export function verifyPassport(bytes: Uint8Array, genesisHash: Uint8Array): PassportVerdict {
  const failures: string[] = [];
  const endorsers: Record<string, string[]> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { ok: false, failures: ['the passport is not JSON'], endorsers };
  }
  const passport = decodePassport(parsed);
  if (typeof passport === 'string') return { ok: false, failures: [passport], endorsers };
  if (!passportBytes(passport).equals(Buffer.from(bytes)))
    failures.push('the passport is not in canonical form (bytes were changed)');
  // 1. The header chain from the pinned genesis hash.
  const headers = passport.headers.map((h) => ({
    number: BigInt(h.number),
    previousHash: Buffer.from(h.previousHash, 'hex'),
    dataHash: Buffer.from(h.dataHash, 'hex'),
  }));
  headers.forEach((h, i) => {
    if (h.number !== BigInt(i)) failures.push(`header ${i} is numbered ${h.number}`);
    if (i === 0) {
      if (!blockHeaderHash(h).equals(Buffer.from(genesisHash)))
        failures.push('header 0 does not hash to the pinned genesis hash');
    } else {
      const prev = headers[i - 1];
      if (prev && !blockHeaderHash(prev).equals(h.previousHash))
        failures.push(`header ${i}: previous hash is not the hash of header ${i - 1}`);
    }
  });
  // 2. Each carried block against its header; configs followed in block order.
  const blocks = new Map<string, RawBlock>();
  let config: ChannelConfig | undefined;
  const configAt = new Map<string, ChannelConfig | undefined>();
  for (const entry of [...passport.blocks].sort((a, b) => (BigInt(a.number) < BigInt(b.number) ? -1 : 1))) {
    let block: RawBlock;
    try {
      block = rawBlockFromProto(Buffer.from(entry.block, 'base64'));
    } catch {
      failures.push(`block ${entry.number} does not decode`);
      continue;
    }
    const header = headers[Number(block.number)];
    if (block.number.toString() !== entry.number || !header) {
      failures.push(`block ${entry.number} is not covered by the header chain`);
      continue;
    }
    if (
      !header.previousHash.equals(Buffer.from(block.previousHash)) ||
      !header.dataHash.equals(Buffer.from(block.dataHash))
    )
      failures.push(`block ${entry.number}: its header differs from header ${entry.number} of the chain`);
    if (!blockDataHash(block.data).equals(Buffer.from(block.dataHash)))
      failures.push(`block ${entry.number}: the data hash does not match its transactions`);
    configAt.set(entry.number, config);
    if (block.number > 0n) {
      let failure: string | undefined;
      try {
        failure = ordererSignatureFailure(block, config);
      } catch {
        failure = 'the signatures metadata does not decode';
      }
      if (failure) failures.push(`block ${entry.number}: ${failure}`);
    }
    try {
      const env = decodeEnvelope(block.data[0] ?? new Uint8Array());
      if (env.type === common.HeaderType.CONFIG)
        config = ChannelConfig.fromConfigEnvelope(env.payloadData, block.number);
    } catch {
      failures.push(`block ${entry.number}: the first envelope does not decode`);
    }
    blocks.set(entry.number, block);
  }
  // 3. Each named transaction: signatures, and the key its role names among its writes.
  for (const t of passport.transactions) {
    const block = blocks.get(t.block);
    const where = `${t.role} transaction ${t.txId} (block ${t.block}, tx ${t.txIndex})`;
    const item = block?.data[t.txIndex];
    const txConfig = configAt.get(t.block);
    if (!block || !item || !txConfig) {
      failures.push(`${where}: its block is not in the passport`);
      continue;
    }
    try {
      const env = decodeEnvelope(item);
      if (env.txId !== t.txId) failures.push(`${where}: the envelope holds transaction ${env.txId}`);
      const creator = txConfig.msps.identity(env.creator);
      if (!creator.ok) failures.push(`${where}: creator refused: ${creator.reason}`);
      else if (!verifyFabricSignature(creator.identity.publicKey, env.payload, env.signature))
        failures.push(`${where}: the creator's signature does not verify`);
      const tx = decodeEndorserTransaction(env);
      const check = checkSignatures(
        tx.endorsements.map((e) => ({
          identity: e.endorser,
          data: Buffer.concat([tx.proposalResponsePayload, e.endorser]),
          signature: e.signature,
        })),
        txConfig.msps,
      );
      for (const r of check.refused) failures.push(`${where}: endorsement ${r.index}: ${r.reason}`);
      if (check.valid.length === 0) failures.push(`${where}: no valid endorsement`);
      endorsers[t.txId] = check.valid.map((v) => v.identity.mspId);
      const wrote = tx.rwsets
        .filter((ns) => ns.namespace === passport.namespace)
        .some((ns) => ns.writes.some((w) => w.key === t.key && !w.isDelete));
      if (!wrote) failures.push(`${where}: does not write the key its role names`);
      const flags = block.metadata[METADATA_INDEX.TRANSACTIONS_FILTER];
      if (flags?.[t.txIndex] !== peer.TxValidationCode.VALID) failures.push(`${where}: not flagged VALID`);
    } catch (err) {
      failures.push(`${where}: does not decode (${(err as Error).message})`);
    }
  }
  if (
    !passport.transactions.some(
      (t) => t.role === 'complete-build' && t.key === compositeKey('part', passport.partId),
    )
  )
    failures.push(`no complete-build transaction writes part ${passport.partId}`);
  return { ok: failures.length === 0, failures, endorsers };
}

function ordererSignatureFailure(block: RawBlock, config: ChannelConfig | undefined): string | undefined {
  if (!config) return 'no channel configuration precedes it';
  const md = common.Metadata.deserializeBinary(block.metadata[METADATA_INDEX.SIGNATURES] ?? new Uint8Array());
  const headerBytes = blockHeaderBytes(block);
  const signed = md
    .getSignaturesList()
    .filter((s) => s.getSignatureHeader_asU8().length > 0)
    .map((s) => ({
      identity: common.SignatureHeader.deserializeBinary(s.getSignatureHeader_asU8()).getCreator_asU8(),
      data: Buffer.concat([md.getValue_asU8(), s.getSignatureHeader_asU8(), headerBytes]),
      signature: s.getSignature_asU8(),
    }));
  const verdict = config.evaluatePath(
    '/Channel/Orderer/BlockValidation',
    checkSignatures(signed, config.msps).valid,
  );
  return verdict.ok ? undefined : `orderer signatures: ${verdict.reason}`;
}

const ROLES: readonly string[] = ['license', 'allocation', 'start-build', 'complete-build'];
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isDecimal = (v: unknown): v is string => typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v);
const isHex = (v: unknown): v is string => typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v);

/** Checks the shape of a parsed passport; a string says what is wrong with it. */
function decodePassport(v: unknown): PartPassport | string {
  if (!isRecord(v)) return 'the passport is not a JSON object';
  if (v['format'] !== PASSPORT_FORMAT) return `the passport format is not ${PASSPORT_FORMAT}`;
  const { partId, namespace, headers, blocks, transactions } = v;
  if (typeof partId !== 'string' || typeof namespace !== 'string')
    return 'the passport has no partId or namespace';
  if (!Array.isArray(headers) || !Array.isArray(blocks) || !Array.isArray(transactions))
    return 'the passport lacks headers, blocks or transactions';
  const h: PartPassport['headers'][number][] = [];
  for (const x of headers as unknown[]) {
    if (!isRecord(x) || !isDecimal(x['number']) || !isHex(x['previousHash']) || !isHex(x['dataHash']))
      return `header ${h.length} is malformed`;
    h.push({ number: x['number'], previousHash: x['previousHash'], dataHash: x['dataHash'] });
  }
  const b: PartPassport['blocks'][number][] = [];
  for (const x of blocks as unknown[]) {
    if (!isRecord(x) || !isDecimal(x['number']) || typeof x['block'] !== 'string')
      return `carried block ${b.length} is malformed`;
    b.push({ number: x['number'], block: x['block'] });
  }
  const t: PartPassport['transactions'][number][] = [];
  for (const x of transactions as unknown[]) {
    if (
      !isRecord(x) ||
      typeof x['role'] !== 'string' ||
      !ROLES.includes(x['role']) ||
      typeof x['key'] !== 'string' ||
      !isDecimal(x['block']) ||
      typeof x['txIndex'] !== 'number' ||
      !Number.isInteger(x['txIndex']) ||
      typeof x['txId'] !== 'string'
    )
      return `transaction ${t.length} is malformed`;
    t.push({
      role: x['role'] as PassportRole,
      key: x['key'],
      block: x['block'],
      txIndex: x['txIndex'],
      txId: x['txId'],
    });
  }
  return { format: PASSPORT_FORMAT, partId, namespace, headers: h, blocks: b, transactions: t };
}
