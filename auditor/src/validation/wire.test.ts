import { expect } from 'chai';
import { common } from '@hyperledger/fabric-protos';
import { decodeEnvelope, EnvelopeDecodeError } from './envelope';
import { WireFormatError, WireReader } from './wire';

function fields(bytes: Uint8Array): [number, string][] {
  const out: [number, string][] = [];
  const r = new WireReader(bytes);
  while (r.next()) {
    if (r.wireType === 2) out.push([r.field, Buffer.from(r.bytes()).toString('hex')]);
    else if (r.wireType === 0) out.push([r.field, String(r.uint())]);
    else r.skip();
  }
  return out;
}

describe('auditor protobuf wire reader', function () {
  it('reads what google-protobuf writes, as views into the same bytes', function () {
    const env = new common.Envelope();
    env.setPayload(Buffer.from('payload'));
    env.setSignature(Buffer.from('sig'));
    const bytes = env.serializeBinary();
    expect(fields(bytes)).to.deep.equal([
      [1, Buffer.from('payload').toString('hex')],
      [2, Buffer.from('sig').toString('hex')],
    ]);
    const r = new WireReader(bytes);
    r.next();
    expect(r.bytes().buffer).to.equal(bytes.buffer);
  });

  it('skips unknown fields of every wire type and keeps the last of a repeated singular field', function () {
    // field 9 varint 300, field 10 fixed64, field 11 fixed32, then field 1 twice
    const bytes = Buffer.from([
      0x48, 0xac, 0x02, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5d, 1, 2, 3, 4, 0x0a, 1, 0x41, 0x0a, 1, 0x42,
    ]);
    expect(fields(bytes)).to.deep.equal([
      [9, '300'],
      [1, '41'],
      [1, '42'],
    ]);
  });

  it('refuses a truncated field, a length past the end, a group, and a known field of the wrong wire type', function () {
    const read = (bytes: number[]): void => {
      fields(Buffer.from(bytes));
    };
    expect(() => {
      read([0x0a, 5, 1, 2]);
    }).to.throw(WireFormatError, 'a field of 5 bytes runs past the end');
    expect(() => {
      read([0x08, 0x80]);
    }).to.throw(WireFormatError, 'a varint runs past the end');
    expect(() => {
      read([0x0b]);
    }).to.throw(WireFormatError, 'unsupported wire type 3');
    expect(() => {
      read([0x00]);
    }).to.throw(WireFormatError, 'field number 0');
    const r = new WireReader(Buffer.from([0x08, 1]));
    r.next();
    expect(() => r.bytes()).to.throw(WireFormatError, 'field 1 has wire type 0, expected 2');
  });

  it("gives an envelope's failures Fabric's codes: not an envelope, a payload that does not decode, no header", function () {
    const code = (bytes: Uint8Array): string => {
      try {
        decodeEnvelope(bytes);
        return 'decoded';
      } catch (err) {
        expect(err).to.be.instanceOf(EnvelopeDecodeError);
        return (err as EnvelopeDecodeError).code;
      }
    };
    expect(code(Buffer.from([0x0a, 9, 1]))).to.equal('NIL_ENVELOPE');
    expect(code(Buffer.from([0x0a, 2, 0x0a, 7]))).to.equal('BAD_PAYLOAD');
    expect(code(Buffer.from([0x0a, 2, 0x12, 0]))).to.equal('BAD_COMMON_HEADER');
  });
});
