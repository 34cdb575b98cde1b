import { expect } from 'chai';
import { canonicalJson, parseCanonicalJson } from './canonical-json';

describe('canonical JSON (RFC 8785 subset)', () => {
  it('sorts keys and omits whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'é'] })).to.equal('{"a":[true,null,"é"],"b":1}');
  });

  for (const [text, why] of [
    ['{"a":1,"a":2}', 'duplicate key'],
    ['{"b":1,"a":2}', 'key order'],
    ['{"a": 1}', 'whitespace'],
    ['{"a":1.5}', 'non-integer'],
    ['{"a":"\\u0041"}', 'needless escape'],
    ['{"a":1}\n', 'trailing newline'],
  ] as const) {
    it(`rejects ${why}`, () => {
      expect(parseCanonicalJson(Buffer.from(text))).to.have.property('problem');
    });
  }

  it('rejects invalid UTF-8', () => {
    expect(parseCanonicalJson(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).to.deep.equal({
      problem: 'is not valid UTF-8',
    });
  });
});
