/**
 * Tamper suite: every modification of a container must be rejected with a specific error code
 * and must release zero plaintext bytes to the consumer.
 */
import { sign } from 'node:crypto';
import { expect } from 'chai';
import { canonicalJson, type Json } from '../format/canonical-json';
import { encodePreamble } from '../format/header';
import { DsiErrorCode, type DsiErrorCode as Code } from '../errors';
import { MANIFEST_PAYLOAD_TYPE, PREAMBLE_LENGTH, TAG_LENGTH } from '../format/limits';
import { lowSDer, normaliseDer, parseDerSignature } from '../crypto/ecdsa';
import { pae } from '../crypto/dsse';
import { AEAD, sealBase } from '../crypto/hpke';
import { wrapContext } from './open';
import { recipientPublicKey } from '../keys/software';
import { keyId } from '../crypto/p256';
import {
  expectCode,
  openAndDrain,
  pem,
  prng,
  protectBytes,
  recipientB,
  testBytes,
  testSigner,
} from '../testing/fixtures';

const CHUNK = 64;
const STEP = CHUNK + TAG_LENGTH;

/** Codes a damaged header or preamble may legitimately produce (each names a distinct check). */
const HEADER_CODES: readonly Code[] = [
  'BAD_MAGIC',
  'UNSUPPORTED_VERSION',
  'HEADER_TOO_LARGE',
  'MALFORMED_HEADER',
  'MALFORMED_MANIFEST',
  'LIMIT_EXCEEDED',
  'BAD_SIGNATURE',
  'UNTRUSTED_SIGNER',
  'UNSUPPORTED_KEY',
  'NOT_A_RECIPIENT',
  'WRAP_MISMATCH',
  'TRUNCATED',
  'TRAILING_DATA',
];

interface Sample {
  bytes: Buffer;
  headerEnd: number;
  dsiId: string;
}

async function sample(seed = 1, sizes: readonly number[] = [5 * CHUNK + 7, 3 * CHUNK]): Promise<Sample> {
  const { bytes, dsiId } = await protectBytes({
    files: sizes.map((size, i) => ({ name: `file-${i}.gcode`, source: testBytes(size, seed * 10 + i) })),
  });
  return { bytes, dsiId, headerEnd: PREAMBLE_LENGTH + bytes.readUInt32BE(9) };
}

function flip(buf: Buffer, bit: number): Buffer {
  const out = Buffer.from(buf);
  out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return out;
}

/** Decodes the header JSON, lets `edit` change it, and re-encodes a container around the same payload. */
function rewriteHeader(s: Sample, edit: (h: Record<string, Json>) => void): Buffer {
  const header = JSON.parse(s.bytes.subarray(PREAMBLE_LENGTH, s.headerEnd).toString()) as Record<
    string,
    Json
  >;
  edit(header);
  const hb = Buffer.from(canonicalJson(header));
  return Buffer.concat([encodePreamble(hb.length), hb, s.bytes.subarray(s.headerEnd)]);
}

async function expectRejected(bytes: Buffer, code: Code | readonly Code[], context: string): Promise<void> {
  const r = await openAndDrain(bytes);
  expect(r.released, `plaintext released (${context})`).to.equal(0);
  expectCode(r.error, code, context);
}

describe('DSI tamper resistance', function () {
  this.timeout(120_000);
  let s: Sample;
  before(async () => {
    s = await sample();
  });

  it('opens the untampered sample (control)', async () => {
    const r = await openAndDrain(s.bytes);
    expect(r.error).to.equal(undefined);
    expect(r.released).to.equal(5 * CHUNK + 7 + 3 * CHUNK);
  });

  it('rejects every single-bit flip in the preamble and header', async () => {
    const seen = new Set<string>();
    for (let bit = 0; bit < s.headerEnd * 8; bit++) {
      const r = await openAndDrain(flip(s.bytes, bit));
      expect(r.released).to.equal(0);
      const e = expectCode(r.error, HEADER_CODES, `bit ${bit}`);
      seen.add(e.code);
    }
    // The flips exercise many distinct checks, not one catch-all.
    expect(seen.size).to.be.greaterThanOrEqual(6);
  });

  it('rejects every single-bit flip in the first and in the last chunk with DIGEST_MISMATCH', async () => {
    const first = s.headerEnd;
    const last = s.bytes.length - (3 * CHUNK - 2 * CHUNK + TAG_LENGTH);
    for (const [start, end] of [
      [first, first + STEP],
      [last, s.bytes.length],
    ] as const) {
      for (let bit = start * 8; bit < end * 8; bit++)
        await expectRejected(flip(s.bytes, bit), 'DIGEST_MISMATCH', `bit ${bit}`);
    }
  });

  it('rejects 10,000 random multi-bit flips (seeded) anywhere in the container', async () => {
    const next = prng(0x7ea1);
    const total = s.bytes.length * 8;
    for (let run = 0; run < 10_000; run++) {
      const n = 2 + Math.floor(next() * 7);
      const bits = new Set<number>();
      while (bits.size < n) bits.add(Math.floor(next() * total));
      let b = s.bytes;
      for (const bit of bits) b = flip(b, bit);
      const inPayload = [...bits].every((bit) => bit >> 3 >= s.headerEnd);
      // Recipient stanzas are not signed: a damaged stanza is found at unwrap, after the payload
      // digests, so a run that also hits the payload may fail on the payload first.
      await expectRejected(
        b,
        inPayload ? 'DIGEST_MISMATCH' : [...HEADER_CODES, 'DIGEST_MISMATCH'],
        `run ${run} bits ${[...bits].join(',')}`,
      );
    }
  });

  it('rejects truncation at every chunk boundary and at 200 random offsets with TRUNCATED', async () => {
    const cuts = new Set<number>([0, 1, 8, 12, PREAMBLE_LENGTH, s.headerEnd - 1]);
    for (let o = s.headerEnd; o < s.bytes.length; o += STEP) cuts.add(o);
    const file1 = s.headerEnd + 5 * CHUNK + 7 + 6 * TAG_LENGTH;
    for (let o = file1; o < s.bytes.length; o += STEP) cuts.add(o);
    const next = prng(42);
    for (let i = 0; i < 200; i++) cuts.add(Math.floor(next() * s.bytes.length));
    for (const cut of cuts) await expectRejected(s.bytes.subarray(0, cut), 'TRUNCATED', `cut at ${cut}`);
  });

  it('rejects reordered chunks and a chunk replaced by a copy of another with DIGEST_MISMATCH', async () => {
    const at = (i: number): Buffer => s.bytes.subarray(s.headerEnd + i * STEP, s.headerEnd + (i + 1) * STEP);
    const swapped = Buffer.concat([
      s.bytes.subarray(0, s.headerEnd),
      at(1),
      at(0),
      s.bytes.subarray(s.headerEnd + 2 * STEP),
    ]);
    await expectRejected(swapped, 'DIGEST_MISMATCH', 'swap 0/1');
    const duplicated = Buffer.concat([
      s.bytes.subarray(0, s.headerEnd),
      at(0),
      at(0),
      s.bytes.subarray(s.headerEnd + 2 * STEP),
    ]);
    await expectRejected(duplicated, 'DIGEST_MISMATCH', 'chunk 1 replaced by chunk 0');
  });

  it('rejects an inserted duplicate chunk with TRAILING_DATA and a deleted chunk with TRUNCATED', async () => {
    const chunk0 = s.bytes.subarray(s.headerEnd, s.headerEnd + STEP);
    const inserted = Buffer.concat([
      s.bytes.subarray(0, s.headerEnd + STEP),
      chunk0,
      s.bytes.subarray(s.headerEnd + STEP),
    ]);
    await expectRejected(inserted, 'TRAILING_DATA', 'duplicate chunk inserted');
    const deleted = Buffer.concat([
      s.bytes.subarray(0, s.headerEnd + STEP),
      s.bytes.subarray(s.headerEnd + 2 * STEP),
    ]);
    await expectRejected(deleted, 'TRUNCATED', 'chunk 1 deleted');
  });

  it('rejects appended bytes with TRAILING_DATA', async () => {
    for (const extra of [Buffer.of(0), testBytes(1000)])
      await expectRejected(Buffer.concat([s.bytes, extra]), 'TRAILING_DATA', 'appended');
  });

  it('rejects a header swapped from another DSI with the same file sizes with DIGEST_MISMATCH', async () => {
    const other = await sample(2);
    await expectRejected(
      Buffer.concat([other.bytes.subarray(0, other.headerEnd), s.bytes.subarray(s.headerEnd)]),
      'DIGEST_MISMATCH',
      'header swap',
    );
    await expectRejected(
      Buffer.concat([s.bytes.subarray(0, s.headerEnd), other.bytes.subarray(other.headerEnd)]),
      'DIGEST_MISMATCH',
      'payload swap',
    );
  });

  it('rejects a recipient wrap moved from another DSI with WRAP_MISMATCH', async () => {
    const other = await sample(3);
    const theirs = JSON.parse(other.bytes.subarray(PREAMBLE_LENGTH, other.headerEnd).toString()) as {
      recipients: Json;
    };
    await expectRejected(
      rewriteHeader(s, (h) => {
        h.recipients = theirs.recipients;
      }),
      'WRAP_MISMATCH',
      'moved wrap',
    );
  });

  it('rejects a forged wrap bound to this DSI id but carrying other keys with WRAP_MISMATCH', async () => {
    const pk = recipientPublicKey(pem('recipient-a.pub.pem'));
    const { info, aad } = wrapContext(s.dsiId);
    const forged = sealBase(AEAD.aes256gcm, pk, info, aad, testBytes(64, 99));
    await expectRejected(
      rewriteHeader(s, (h) => {
        h.recipients = [
          {
            enc: forged.enc.toString('base64'),
            keyId: keyId(pk),
            type: 'hpke-p256-sha256-aes256gcm',
            wrappedKeys: forged.ciphertext.toString('base64'),
          },
        ];
      }),
      'WRAP_MISMATCH',
      'forged wrap',
    );
  });

  it('rejects a key that is not a recipient with NOT_A_RECIPIENT', async () => {
    const r = await openAndDrain(s.bytes, recipientB());
    expect(r.released).to.equal(0);
    expectCode(r.error, 'NOT_A_RECIPIENT');
  });

  it('rejects a signer certificate swapped for another trusted one with BAD_SIGNATURE', async () => {
    const other = Buffer.from(testSigner('other-signer').certificates[0]?.raw ?? []).toString('base64');
    await expectRejected(
      rewriteHeader(s, (h) => {
        h.certificates = [other];
      }),
      'BAD_SIGNATURE',
      'wrong signer',
    );
  });

  it('rejects a high-S form of the valid signature with BAD_SIGNATURE (Fabric rejects high-S)', async () => {
    await expectRejected(
      rewriteHeader(s, (h) => {
        const env = h.envelope as { signatures: { sig: string }[] };
        const sig = parseDerSignature(Buffer.from(env.signatures[0]?.sig ?? '', 'base64'));
        if (!sig) throw new Error('sample signature is not DER');
        const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
        // lowSDer would normalise back, so build the high-S DER by hand.
        const low = lowSDer(sig.r, sig.s);
        const hex = (n - sig.s).toString(16).padStart(64, '0');
        const sBytes = Buffer.from(`00${hex}`, 'hex');
        const rPart = low.subarray(2, 2 + 2 + (low[3] ?? 0));
        const body = Buffer.concat([rPart, Buffer.of(0x02, sBytes.length), sBytes]);
        env.signatures[0] = { sig: Buffer.concat([Buffer.of(0x30, body.length), body]).toString('base64') };
      }),
      'BAD_SIGNATURE',
      'high S',
    );
  });

  it('rejects a signer that does not chain to the trusted root with UNTRUSTED_SIGNER', async () => {
    const { bytes } = await protectBytes({
      files: [{ name: 'a.gcode', source: testBytes(100) }],
      signer: testSigner('rogue-signer'),
    });
    await expectRejected(bytes, 'UNTRUSTED_SIGNER', 'rogue signer');
  });

  it('rejects an expired signer certificate with SIGNER_EXPIRED', async () => {
    const { bytes } = await protectBytes({
      files: [{ name: 'a.gcode', source: testBytes(100) }],
      signer: testSigner('expired-signer'),
    });
    await expectRejected(bytes, 'SIGNER_EXPIRED', 'expired signer');
  });

  it('rejects an unknown version with UNSUPPORTED_VERSION, a bad magic with BAD_MAGIC and a huge header length with HEADER_TOO_LARGE', async () => {
    const v2 = Buffer.from(s.bytes);
    v2[8] = 2;
    await expectRejected(v2, 'UNSUPPORTED_VERSION', 'version 2');
    await expectRejected(Buffer.concat([Buffer.from('PK\x03\x04'), s.bytes]), 'BAD_MAGIC', 'zip');
    const huge = Buffer.from(s.bytes);
    huge.writeUInt32BE(0xffffffff, 9);
    await expectRejected(huge, 'HEADER_TOO_LARGE', 'huge header');
  });

  it('rejects a duplicate header field and non-canonical JSON with MALFORMED_HEADER', async () => {
    const raw = s.bytes.subarray(PREAMBLE_LENGTH, s.headerEnd).toString();
    for (const text of [
      raw.replace('{"certificates":', '{"certificates":[],"certificates":'),
      ` ${raw}`,
      raw.replace('"recipients":', '"recipients" :'),
    ]) {
      const hb = Buffer.from(text);
      await expectRejected(
        Buffer.concat([encodePreamble(hb.length), hb, s.bytes.subarray(s.headerEnd)]),
        'MALFORMED_HEADER',
        text.slice(0, 40),
      );
    }
  });

  it('names the file and segment in messages', async () => {
    const r = await openAndDrain(flip(s.bytes, (s.bytes.length - 1) * 8));
    expect((r.error as Error).message).to.equal(
      `DIGEST_MISMATCH: ciphertext of segment 0 of 1 (chunks 0–2, offset ${s.headerEnd + 5 * CHUNK + 7 + 6 * TAG_LENGTH}) of file file-1.gcode does not match the signed digest`,
    );
  });

  it('rejects a signer chain that is not yet valid with SIGNER_NOT_YET_VALID', async () => {
    const r = await openAndDrain(s.bytes, undefined, new Date('2024-06-01T00:00:00Z'));
    expect(r.released).to.equal(0);
    const e = expectCode(r.error, 'SIGNER_NOT_YET_VALID');
    expect(e.message).to.equal(
      'SIGNER_NOT_YET_VALID: signer certificate "O=ThreadSeal Test, OU=client, CN=ip-owner@org1" is not valid before 2025-01-01T00:00:00.000Z (checked at 2024-06-01T00:00:00.000Z)',
    );
  });

  it('rejects a validly signed manifest whose creator is not the signer with CREATOR_MISMATCH', async () => {
    const header = JSON.parse(s.bytes.subarray(PREAMBLE_LENGTH, s.headerEnd).toString()) as {
      envelope: { payload: string };
    };
    const manifest = JSON.parse(Buffer.from(header.envelope.payload, 'base64').toString()) as Record<
      string,
      Json
    >;
    manifest.creator = { mspId: 'Org1MSP', subject: 'CN=someone else' };
    const manifestBytes = Buffer.from(canonicalJson(manifest));
    const signature = normaliseDer(
      sign('sha256', pae(MANIFEST_PAYLOAD_TYPE, manifestBytes), {
        key: pem('signer.key.pem'),
        dsaEncoding: 'der',
      }),
    );
    const forged = rewriteHeader(s, (h) => {
      h.envelope = {
        payload: manifestBytes.toString('base64'),
        payloadType: MANIFEST_PAYLOAD_TYPE,
        signatures: [{ sig: signature.toString('base64') }],
      };
    });
    const r = await openAndDrain(forged);
    expect(r.released).to.equal(0);
    expectCode(r.error, 'CREATOR_MISMATCH');
  });

  it('states what was expected and found for truncation, trailing data and a foreign key', async () => {
    const cut = await openAndDrain(s.bytes.subarray(0, s.bytes.length - 10));
    expect((cut.error as Error).message).to.equal(
      `TRUNCATED: input ends at offset ${s.bytes.length - 10}, in chunk 2 of 3 of file file-1.gcode; the manifest declares ${s.bytes.length} bytes`,
    );
    const extra = await openAndDrain(Buffer.concat([s.bytes, Buffer.from('xyz')]));
    expect((extra.error as Error).message).to.equal(
      `TRAILING_DATA: 3 bytes follow the end of the last file at offset ${s.bytes.length}`,
    );
    const foreign = await openAndDrain(s.bytes, recipientB());
    expect((foreign.error as Error).message).to.equal(
      `NOT_A_RECIPIENT: no recipient stanza for key ${keyId(recipientB().publicKey)} (1 stanzas present)`,
    );
  });

  it('lists every error code in one closed set', () => {
    expect(Object.keys(DsiErrorCode)).to.include.members([
      'BAD_MAGIC',
      'UNSUPPORTED_VERSION',
      'TRUNCATED',
      'TRAILING_DATA',
      'CORRUPTED_CHUNK',
      'WRAP_MISMATCH',
    ]);
  });
});
