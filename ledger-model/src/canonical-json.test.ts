import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalJson } from './canonical-json.js';

describe('canonical JSON', () => {
  it('sorts keys at every depth, omits undefined members and adds no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined })).to.equal(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('encodes strings and numbers as JSON.stringify does', () => {
    expect(canonicalJson(['é\n"', 0.1, -0, 1e21])).to.equal('["é\\n\\"",0.1,0,1e+21]');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).to.throw(
      TypeError,
      'canonical JSON cannot encode NaN at $.a',
    );
    expect(() => canonicalJson([1n])).to.throw(TypeError, 'canonical JSON cannot encode a bigint at $[0]');
  });

  it('is a fixed point of parse-then-encode and ignores key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).to.equal(once);
        expect(JSON.parse(once)).to.deep.equal(JSON.parse(JSON.stringify(value)));
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).to.equal(canonicalJson(record));
      }),
    );
  });
});
