import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import {
  decodeBlock,
  RecordedVerdicts,
  RecordingChecker,
  SignatureChecker,
  type DecodedBlock,
} from '../block/decoded-block';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, type RawBlock } from '../block/raw-block';
import { verifyFabricSignature } from '../msp/msp';
import { BlockVerifierPool } from './block-verifier';

/** A protobuf length-delimited field (lengths below 2^14 here). */
function field(number: number, bytes: Uint8Array): Buffer {
  const length = bytes.length < 0x80 ? [bytes.length] : [(bytes.length & 0x7f) | 0x80, bytes.length >> 7];
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), bytes]);
}

/** Decoded blocks as text: byte fields as hex, whatever array type they arrived in (Buffer or Uint8Array). */
function canonical(blocks: readonly DecodedBlock[]): string {
  // `this[key]` is the value before Buffer's toJSON turned it into { type, data }.
  return JSON.stringify(blocks, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array)
      return `0x${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')}`;
    return typeof v === 'bigint' ? `${v}n` : v;
  });
}

describe('auditor block verification on worker threads', function () {
  let dir: string;
  let identity: Uint8Array;
  let key: KeyObject;
  let publicKey: KeyObject;
  let pool: BlockVerifierPool | undefined;

  before(function () {
    if (spawnSync('openssl', ['version']).status !== 0) {
      process.stdout.write('      (skipped: openssl is not installed)\n');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'auditor-workers-'));
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'k.ec');
    ssl('pkcs8', '-topk8', '-nocrypt', '-in', 'k.ec', '-out', 'k.key');
    ssl('req', '-x509', '-new', '-key', 'k.key', '-subj', '/CN=signer', '-days', '30', '-out', 'k.pem');
    const pem = readFileSync(join(dir, 'k.pem'));
    publicKey = new X509Certificate(pem).publicKey;
    key = createPrivateKey(readFileSync(join(dir, 'k.key')));
    const sid = new msp.SerializedIdentity();
    sid.setMspid('Org1MSP');
    sid.setIdBytes(pem);
    identity = sid.serializeBinary();
  });

  after(async function () {
    await pool?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Any signature, high S about half the time (Fabric refuses those): both verdicts occur.
  const anySign = (data: Uint8Array): Uint8Array => sign('sha256', data, { key, dsaEncoding: 'der' });

  /** An endorser transaction writing `key`, endorsed twice; `tamper` changes a byte after signing. */
  function transaction(n: number, tamper: boolean, signer: Uint8Array): Uint8Array {
    const kv = new ledger.rwset.kvrwset.KVRWSet();
    const read = new ledger.rwset.kvrwset.KVRead();
    read.setKey(`r${n}`);
    const version = new ledger.rwset.kvrwset.Version();
    version.setBlockNum(n);
    version.setTxNum(1);
    read.setVersion(version);
    const write = new ledger.rwset.kvrwset.KVWrite();
    write.setKey(`k${n}`);
    write.setValue(Buffer.from(`value ${n}`));
    kv.setReadsList([read]);
    kv.setWritesList([write]);
    const hashed = new ledger.rwset.kvrwset.HashedRWSet();
    const hw = new ledger.rwset.kvrwset.KVWriteHash();
    hw.setKeyHash(randomBytes(32));
    hw.setValueHash(randomBytes(32));
    hashed.setHashedWritesList([hw]);
    const coll = new ledger.rwset.CollectionHashedReadWriteSet();
    coll.setCollectionName('private');
    coll.setHashedRwset(hashed.serializeBinary());
    const ns = new ledger.rwset.NsReadWriteSet();
    ns.setNamespace('threadseal');
    ns.setRwset(kv.serializeBinary());
    ns.setCollectionHashedRwsetList([coll]);
    const rw = new ledger.rwset.TxReadWriteSet();
    rw.setNsRwsetList([ns]);
    const ccId = new peer.ChaincodeID();
    ccId.setName('threadseal');
    const action = new peer.ChaincodeAction();
    action.setResults(rw.serializeBinary());
    action.setChaincodeId(ccId);
    const prp = new peer.ProposalResponsePayload();
    prp.setProposalHash(randomBytes(32));
    prp.setExtension$(action.serializeBinary());
    const prpBytes = prp.serializeBinary();
    const endorsed = new peer.ChaincodeEndorsedAction();
    endorsed.setProposalResponsePayload(prpBytes);
    endorsed.setEndorsementsList(
      [0, 1].map(() => {
        const e = new peer.Endorsement();
        e.setEndorser(signer);
        e.setSignature(anySign(Buffer.concat([prpBytes, signer])));
        return e;
      }),
    );
    const cap = new peer.ChaincodeActionPayload();
    cap.setAction(endorsed);
    const txAction = new peer.TransactionAction();
    txAction.setPayload(cap.serializeBinary());
    const tx = new peer.Transaction();
    tx.setActionsList([txAction]);
    const ext = new peer.ChaincodeHeaderExtension();
    ext.setChaincodeId(ccId);
    const ch = new common.ChannelHeader();
    ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
    ch.setChannelId('thread');
    ch.setTxId(`tx${n}`);
    ch.setExtension$(ext.serializeBinary());
    const sh = new common.SignatureHeader();
    sh.setCreator(signer);
    sh.setNonce(randomBytes(24));
    const header = new common.Header();
    header.setChannelHeader(ch.serializeBinary());
    header.setSignatureHeader(sh.serializeBinary());
    const payload = new common.Payload();
    payload.setHeader(header);
    payload.setData(tx.serializeBinary());
    const payloadBytes = Buffer.from(payload.serializeBinary());
    const env = new common.Envelope();
    const signature = anySign(payloadBytes);
    if (tamper) payloadBytes[payloadBytes.length - 1] = (payloadBytes[payloadBytes.length - 1] ?? 0) ^ 1;
    env.setPayload(payloadBytes);
    env.setSignature(signature);
    return env.serializeBinary();
  }

  function chain(count: number): RawBlock[] {
    const blocks: RawBlock[] = [];
    let previousHash: Uint8Array = new Uint8Array(32);
    for (let b = 0; b < count; b++) {
      const data = [0, 1, 2].map((i) =>
        b === 3 && i === 1
          ? Buffer.from('not an envelope')
          : transaction(
              b * 3 + i,
              (b + i) % 4 === 0,
              b === 5 && i === 2 ? Buffer.from('no identity') : identity,
            ),
      );
      const unsigned: RawBlock = {
        number: BigInt(b),
        previousHash,
        dataHash: blockDataHash(data),
        data,
        metadata: [new Uint8Array(), new Uint8Array(), Uint8Array.from([0, 0, 0]), new Uint8Array()],
      };
      const sh = new common.SignatureHeader();
      sh.setCreator(identity);
      sh.setNonce(randomBytes(24));
      const shBytes = sh.serializeBinary();
      const signature = anySign(Buffer.concat([shBytes, blockHeaderBytes(unsigned)]));
      const metadata = field(2, Buffer.concat([field(1, shBytes), field(2, signature)]));
      const block = { ...unsigned, metadata: [metadata, ...unsigned.metadata.slice(1)] };
      blocks.push(block);
      previousHash = blockHeaderHash(block);
    }
    return blocks;
  }

  it('gives the verdicts and data hashes the calling thread computes, and decoding with them gives the same blocks', async function () {
    const blocks = chain(40);
    pool = new BlockVerifierPool(2);
    const batches = await Promise.all([pool.verify(blocks.slice(0, 17)), pool.verify(blocks.slice(17))]);
    const fromWorkers = batches.flatMap((b) => b ?? []);
    expect(fromWorkers).to.have.length(40);
    const checker = new SignatureChecker();
    const here = blocks.map((b) => decodeBlock(b, checker));
    blocks.forEach((b, i) => {
      const recording = new RecordingChecker(checker);
      const decoded = decodeBlock(b, recording);
      const worker = fromWorkers[i];
      expect(Array.from(worker?.verdicts ?? []), `verdicts of block ${i}`).to.deep.equal(recording.verdicts);
      expect(Buffer.from(worker?.dataHash ?? []).toString('hex')).to.equal(
        Buffer.from(decoded.dataHash).toString('hex'),
      );
    });
    // Decoding with the worker's verdicts instead of verifying gives the very same decoded blocks.
    const fromVerdicts = blocks.map((b, i) => {
      const v = fromWorkers[i];
      if (!v) throw new Error(`no verdicts for block ${i}`);
      return decodeBlock(b, new RecordedVerdicts(v.verdicts, checker), v.dataHash);
    });
    expect(canonical(fromVerdicts)).to.equal(canonical(here));
    // The verdicts are verifyFabricSignature's: some verify, some do not (high S, a changed byte).
    const verdicts = here.flatMap((b) =>
      b.transactions.flatMap((t) => [t.creator, ...(t.endorsements ?? [])].map((s) => s?.verified)),
    );
    expect(verdicts.filter((v) => v === true).length, 'some verify').to.be.greaterThan(50);
    expect(verdicts.filter((v) => v === false).length, 'some do not').to.be.greaterThan(50);
    const tx = here[2]?.transactions[1];
    const env = tx && 'value' in tx.envelope ? tx.envelope.value : undefined;
    expect(
      verifyFabricSignature(publicKey, env?.payload ?? new Uint8Array(), env?.signature ?? new Uint8Array()),
    ).to.equal(tx?.creator?.verified);
    // A data item that is not an envelope, and an identity without a certificate (no verdict).
    expect(here[3]?.transactions[1]?.envelope).to.deep.equal({
      error: { code: 'NIL_ENVELOPE', message: 'the data item is not an envelope' },
    });
    expect(here[5]?.transactions[2]?.creator?.verified).to.equal(undefined);
    expect(
      Buffer.from(here[4]?.headerHash ?? []).equals(Buffer.from(blocks[5]?.previousHash ?? [])),
    ).to.equal(true);
  });

  it('verifies on the calling thread the signatures past the verdicts a worker gave', function () {
    const [block] = chain(2).slice(1);
    if (!block) throw new Error('block');
    const checker = new SignatureChecker();
    const recording = new RecordingChecker(checker);
    const honest = decodeBlock(block, recording);
    // Fewer verdicts than signatures: the rest are verified here, and match the honest decode.
    const partial = decodeBlock(
      block,
      new RecordedVerdicts(Uint8Array.from(recording.verdicts.slice(0, 2)), checker),
    );
    expect(canonical([partial])).to.equal(canonical([honest]));
  });

  it('gives the read-write sets as plain data', function () {
    const blocks = chain(1);
    const [decoded] = blocks.map((b) => decodeBlock(b, new SignatureChecker()));
    const tx = decoded?.transactions[0]?.endorserTransaction;
    const value = tx && 'value' in tx ? tx.value : undefined;
    expect(value?.chaincode).to.equal('threadseal');
    const ns = value?.rwsets[0];
    expect(ns?.namespace).to.equal('threadseal');
    expect(ns?.reads).to.deep.equal([{ key: 'r0', version: { blockNum: 0, txNum: 1 } }]);
    expect(ns?.writes.map((w) => [w.key, Buffer.from(w.value).toString(), w.isDelete])).to.deep.equal([
      ['k0', 'value 0', false],
    ]);
    expect(ns?.collections[0]?.name).to.equal('private');
    expect(ns?.collections[0]?.hashedWrites[0]?.keyHash).to.match(/^[0-9a-f]{64}$/);
  });
});
