import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { BlockStoreFormatError, decodeStoredBlock, encodeBlockFile, encodeStoredBlock } from './block-store';
import { rawBlockFromProto, rawBlockToProto } from './block-proto';
import { blockDataHash, blockHeaderBytes, type RawBlock } from './raw-block';

const hash32 = Buffer.alloc(32, 0xab);

describe('auditor block header and block store encodings', function () {
  it('encodes the header as Fabric does: DER SEQUENCE { INTEGER, OCTET STRING, OCTET STRING }', function () {
    const genesis = blockHeaderBytes({ number: 0n, previousHash: new Uint8Array(), dataHash: hash32 });
    expect(genesis.toString('hex')).to.equal(
      `3027020100040004 20${hash32.toString('hex')}`.replace(/ /g, ''),
    );
    // 128 needs a leading zero byte to stay positive; 300 needs two bytes.
    expect(
      blockHeaderBytes({ number: 128n, previousHash: hash32, dataHash: hash32 })
        .subarray(0, 6)
        .toString('hex'),
    ).to.equal('304802020080');
    expect(
      blockHeaderBytes({ number: 300n, previousHash: hash32, dataHash: hash32 })
        .subarray(2, 6)
        .toString('hex'),
    ).to.equal('0202012c');
  });

  it('hashes block data as SHA-256 over the concatenated envelopes', function () {
    const data = [Buffer.from('a'), Buffer.from('bc')];
    expect(blockDataHash(data).toString('hex')).to.equal(createHash('sha256').update('abc').digest('hex'));
  });

  const block: RawBlock = {
    number: 300n,
    previousHash: hash32,
    dataHash: Buffer.alloc(32, 1),
    data: [Buffer.from('envelope one'), Buffer.alloc(200, 7)],
    metadata: [Buffer.from('sigs'), new Uint8Array(), Buffer.from([0, 11])],
  };

  it('round-trips a block through the block store and protobuf encodings', function () {
    const back = decodeStoredBlock(encodeStoredBlock(block));
    expect(back.number).to.equal(300n);
    expect(back.data.map((d) => Buffer.from(d).toString('hex'))).to.deep.equal(
      block.data.map((d) => Buffer.from(d).toString('hex')),
    );
    expect(Buffer.from(back.metadata[2] ?? []).toString('hex')).to.equal('000b');
    const proto = rawBlockFromProto(rawBlockToProto(block));
    expect(Buffer.from(proto.previousHash).equals(hash32)).to.equal(true);
    expect(encodeBlockFile([block]).length).to.equal(encodeStoredBlock(block).length + 2);
  });

  it('refuses a truncated block and trailing bytes instead of guessing', function () {
    const bytes = encodeStoredBlock(block);
    expect(() => decodeStoredBlock(bytes.subarray(0, bytes.length - 3))).to.throw(
      BlockStoreFormatError,
      /runs past the end/,
    );
    expect(() => decodeStoredBlock(Buffer.concat([bytes, Buffer.from([1])]))).to.throw(
      BlockStoreFormatError,
      /after the metadata/,
    );
  });
});
