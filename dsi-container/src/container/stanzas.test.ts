/**
 * Recipient stanzas are not signed: anyone can add one carrying a recipient's key id. A bogus
 * stanza next to the real one must not lock that recipient out.
 */
import { expect } from 'chai';
import { canonicalJson, type Json } from '../format/canonical-json';
import { encodePreamble } from '../format/header';
import { PREAMBLE_LENGTH } from '../format/limits';
import { AEAD, sealBase } from '../crypto/hpke';
import { keyId } from '../crypto/p256';
import { recipientPublicKey } from '../keys/software';
import { wrapContext } from './open';
import { expectCode, openAndDrain, pem, protectBytes, testBytes } from '../testing/fixtures';

const PLAIN = testBytes(500, 5);

async function withStanzas(arrange: (real: Json, bogus: Json) => Json[]): Promise<Buffer> {
  const { bytes, dsiId } = await protectBytes({ files: [{ name: 'part.gcode', source: PLAIN }] });
  const headerEnd = PREAMBLE_LENGTH + bytes.readUInt32BE(9);
  const header = JSON.parse(bytes.subarray(PREAMBLE_LENGTH, headerEnd).toString()) as Record<string, Json>;
  const pk = recipientPublicKey(pem('recipient-a.pub.pem'));
  const { info, aad } = wrapContext(dsiId);
  // Bound to this DSI id and sealed to A's key, but carrying keys that match no commitment.
  const forged = sealBase(AEAD.aes256gcm, pk, info, aad, testBytes(32, 99));
  const bogus: Json = {
    enc: forged.enc.toString('base64'),
    keyId: keyId(pk),
    type: 'hpke-p256-sha256-aes256gcm',
    wrappedKeys: forged.ciphertext.toString('base64'),
  };
  const [real] = header.recipients as Json[];
  header.recipients = arrange(real as Json, bogus);
  const hb = Buffer.from(canonicalJson(header));
  return Buffer.concat([encodePreamble(hb.length), hb, bytes.subarray(headerEnd)]);
}

describe('DSI recipient stanzas with the same key id', function () {
  this.timeout(20_000);

  it('opens when a bogus stanza for the same key id comes before the real one', async () => {
    const r = await openAndDrain(await withStanzas((real, bogus) => [bogus, real]));
    expect(r.error).to.equal(undefined);
    expect(r.files.get('part.gcode')?.equals(PLAIN)).to.equal(true);
  });

  it('opens when the bogus stanza comes after the real one', async () => {
    const r = await openAndDrain(await withStanzas((real, bogus) => [real, bogus]));
    expect(r.error).to.equal(undefined);
    expect(r.files.get('part.gcode')?.equals(PLAIN)).to.equal(true);
  });

  it("reports the first stanza's WRAP_MISMATCH when none of them opens, releasing 0 bytes", async () => {
    const r = await openAndDrain(await withStanzas((_real, bogus) => [bogus, bogus]));
    expect(r.released).to.equal(0);
    expect(expectCode(r.error, 'WRAP_MISMATCH').message).to.match(
      /^WRAP_MISMATCH: content key of file #0 from stanza [0-9a-f]{64} does not match the signed key commitment$/,
    );
  });
});
