#!/usr/bin/env node
// Regenerates dsi-container/vectors/: DSI containers any implementation can check, one valid
// set and one per failure class, indexed by vectors.json. Uses the BUILT library
// (run `npx tsc -b dsi-container` first) and the TEST-ONLY PKI in dsi-container/test-pki.
//
//   node scripts/gen-container-vectors.mjs
//
// Content keys are fixed (derived from the vector name) so manifests are stable; ECDSA and
// HPKE use fresh randomness, so regenerated containers differ byte-wise but carry the same
// expectations.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = path.join(root, 'dsi-container/dist');
const dsi = require(path.join(dist, 'index.js'));
const { encodeHeader, decodeHeader, encodePreamble } = require(path.join(dist, 'format/header.js'));
const { encodeManifest, fileDigest } = require(path.join(dist, 'format/manifest.js'));
const { wrapKeys } = require(path.join(dist, 'container/protect.js'));
const { dsiIdOfManifest } = require(path.join(dist, 'container/layout.js'));
const { pae } = require(path.join(dist, 'crypto/dsse.js'));
const { normaliseDer } = require(path.join(dist, 'crypto/ecdsa.js'));
const { PREAMBLE_LENGTH, MANIFEST_PAYLOAD_TYPE, TAG_LENGTH } = require(path.join(dist, 'format/limits.js'));

const pki = path.join(root, 'dsi-container/test-pki');
const out = path.join(root, 'dsi-container/vectors');
const pem = (n) => readFileSync(path.join(pki, n), 'utf8');
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const AT = '2026-06-01T00:00:00.000Z';
const CREATED = new Date('2026-01-15T12:00:00.000Z');

/** Deterministic non-secret bytes for plaintexts and test content keys. */
function bytes(label, length) {
  const parts = [];
  for (let i = 0; parts.length * 32 < length; i++)
    parts.push(createHash('sha256').update(`${label}/${i}`).digest());
  return Buffer.concat(parts).subarray(0, length);
}

async function collect(stream) {
  const parts = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

async function seal(
  name,
  files,
  {
    signer = 'signer',
    extra = [],
    recipients = ['recipient-a.pub.pem'],
    chunkSize = 64,
    segmentChunks = 4,
  } = {},
) {
  const r = await dsi.protect({
    files,
    signer: dsi.softwareSigner(
      [pem(`${signer}.cert.pem`), ...extra.map((e) => pem(`${e}.cert.pem`))].join('\n'),
      pem(`${signer}.key.pem`),
    ),
    recipients: recipients.map(pem),
    title: `Test vector ${name}`,
    partNumber: 'TV-1',
    revision: 'A',
    productionRules: 'rules/TV-1/A',
    mspId: 'Org1MSP',
    created: CREATED,
    chunkSize,
    segmentChunks,
    contentKeysForTestVectors: files.map((f) => bytes(`${name}/${f.name}/key`, 32)),
  });
  return collect(r.stream);
}

const headerEnd = (b) => PREAMBLE_LENGTH + b.readUInt32BE(9);
const withHeader = (b, header) => {
  const hb = encodeHeader(header);
  return Buffer.concat([encodePreamble(hb.length), hb, b.subarray(headerEnd(b))]);
};

const vectors = [];
function add(name, container, description, expect, extra = {}) {
  writeFileSync(path.join(out, `${name}.dsi`), container);
  vectors.push({
    name,
    file: `${name}.dsi`,
    description,
    operation: extra.operation ?? 'open',
    trustedRoots: ['root-ca.cert.pem'],
    recipientKey: extra.recipientKey ?? 'recipient-a.key.pem',
    at: AT,
    expect,
    ...(extra.files ? { files: extra.files } : {}),
    ...(extra.contentKeys ? { contentKeys: extra.contentKeys } : {}),
    ...(extra.dsiId ? { dsiId: extra.dsiId } : {}),
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// ---- valid containers ----
const plain = {
  empty: Buffer.alloc(0),
  one: bytes('one', 1),
  exact: bytes('exact', 64),
  multi: bytes('multi', 64 * 9 + 5),
  small: bytes('small', 40),
};
const fileList = (entries) =>
  entries.map(([name, data]) => ({ name, size: data.length, sha256: sha256(data) }));
const ok = async (name, description, files, opts) => {
  const c = await seal(
    name,
    files.map(([n, d, conf]) => ({ name: n, source: d, confidentialName: !!conf })),
    opts,
  );
  add(name, c, description, 'OK', {
    contentKeys: files.map(([n]) => bytes(`${name}/${n}/key`, 32).toString('hex')),
    files: fileList(files),
    dsiId: dsi.dsiIdOfManifest(decodeHeader(c.subarray(PREAMBLE_LENGTH, headerEnd(c))).manifestBytes),
  });
  return c;
};
await ok('valid-empty-file', 'one empty file: one empty final chunk (16-byte tag only)', [
  ['empty.gcode', plain.empty],
]);
await ok('valid-one-byte', 'one 1-byte file', [['one.ngc', plain.one]]);
await ok('valid-exact-chunk', 'file of exactly one chunk (64 bytes)', [['exact.step', plain.exact]]);
const base = await ok(
  'valid-multi-file',
  'three files, 10-chunk file spanning 3 segments, one confidential name',
  [
    ['cad/part.step', plain.multi],
    ['build/part.3mf', plain.small],
    ['secret/fixture.gcode', plain.one, true],
  ],
);
await ok(
  'valid-intermediate-ca',
  'signer certified by an intermediate CA included in the container',
  [['part.gcode', plain.small]],
  {
    signer: 'chained-signer',
    extra: ['intermediate-ca'],
  },
);
const twoRecipients = await ok(
  'valid-two-recipients',
  'two recipient stanzas; opened with the second recipient',
  [['part.gcode', plain.small]],
  {
    recipients: ['recipient-a.pub.pem', 'recipient-b.pub.pem'],
  },
);
vectors.at(-1).recipientKey = 'recipient-b.key.pem';

// ---- one per failure class ----
const flipByte = (b, at, mask = 1) => {
  const c = Buffer.from(b);
  c[at] ^= mask;
  return c;
};
const h = decodeHeader(base.subarray(PREAMBLE_LENGTH, headerEnd(base)));
add('bad-magic', flipByte(base, 1, 0x20), 'second magic byte altered', 'BAD_MAGIC');
add(
  'unsupported-version',
  (() => {
    const c = Buffer.from(base);
    c[8] = 2;
    return c;
  })(),
  'version byte 2',
  'UNSUPPORTED_VERSION',
);
add(
  'header-too-large',
  (() => {
    const c = Buffer.from(base);
    c.writeUInt32BE(0x7fffffff, 9);
    return c;
  })(),
  'header length 2^31-1, over the 16 MiB limit',
  'HEADER_TOO_LARGE',
);
{
  const raw = base.subarray(PREAMBLE_LENGTH, headerEnd(base)).toString();
  const dup = Buffer.from(raw.replace('{"certificates":', '{"certificates":[],"certificates":'));
  add(
    'malformed-header-duplicate-field',
    Buffer.concat([encodePreamble(dup.length), dup, base.subarray(headerEnd(base))]),
    'header JSON with a duplicate "certificates" field',
    'MALFORMED_HEADER',
  );
}
add(
  'truncated-last-chunk',
  base.subarray(0, base.length - 1),
  'last byte of the last chunk removed',
  'TRUNCATED',
);
add(
  'truncated-chunk-boundary',
  base.subarray(0, headerEnd(base) + 2 * (64 + TAG_LENGTH)),
  'cut after the second chunk',
  'TRUNCATED',
);
add('trailing-data', Buffer.concat([base, Buffer.from('X')]), 'one byte appended', 'TRAILING_DATA');
add(
  'digest-mismatch',
  flipByte(base, headerEnd(base) + 100),
  'one bit flipped in chunk 1 of file cad/part.step',
  'DIGEST_MISMATCH',
);
add(
  'bad-signature-wrong-signer',
  withHeader(base, {
    ...h,
    certificates: [new (require('node:crypto').X509Certificate)(pem('other-signer.cert.pem')).raw],
  }),
  'signer certificate replaced by another certificate of the same CA',
  'BAD_SIGNATURE',
);
{
  const c = await seal('untrusted', [{ name: 'part.gcode', source: plain.small }], {
    signer: 'rogue-signer',
  });
  add('untrusted-signer', c, 'signed by a certificate of a CA that is not trusted', 'UNTRUSTED_SIGNER');
}
{
  const c = await seal('expired', [{ name: 'part.gcode', source: plain.small }], {
    signer: 'expired-signer',
  });
  add(
    'signer-expired',
    c,
    'signer certificate valid 2020-01-01..2021-01-01, checked at 2026-06-01',
    'SIGNER_EXPIRED',
  );
}
add('not-a-recipient', base, 'valid container opened with a key that is not a recipient', 'NOT_A_RECIPIENT', {
  recipientKey: 'recipient-b.key.pem',
});
{
  // A donor DSI with the same file count, so the stanza has the right size and only its binding fails.
  const donor = await seal('donor', [
    { name: 'cad/part.step', source: plain.multi },
    { name: 'build/part.3mf', source: plain.small },
    { name: 'secret/fixture.gcode', source: plain.one, confidentialName: true },
  ]);
  const other = decodeHeader(donor.subarray(PREAMBLE_LENGTH, headerEnd(donor)));
  add(
    'wrap-mismatch-moved-stanza',
    withHeader(base, { ...h, recipients: other.recipients }),
    'recipient stanza (for recipient A) taken from another DSI with the same files',
    'WRAP_MISMATCH',
  );
}
{
  // A signer that signed bad ciphertext: digests match, the AEAD tag of chunk 2 does not.
  const payloadStart = headerEnd(base);
  const payload = Buffer.from(base.subarray(payloadStart));
  payload[2 * (64 + TAG_LENGTH) + 3] ^= 1;
  const m = h.manifest;
  const step = 64 + TAG_LENGTH;
  const segLen = m.segmentChunks * step;
  const f0 = m.files[0];
  const f0ct = payload.subarray(0, f0.size + TAG_LENGTH * Math.ceil(f0.size / 64));
  const segments = f0.segments.map((_, i) => sha256(f0ct.subarray(i * segLen, (i + 1) * segLen)));
  const manifest = { ...m, files: [{ ...f0, segments, digest: fileDigest(segments) }, ...m.files.slice(1)] };
  const manifestBytes = encodeManifest(manifest);
  const signature = normaliseDer(
    require('node:crypto').sign('sha256', pae(MANIFEST_PAYLOAD_TYPE, manifestBytes), {
      key: pem('signer.key.pem'),
      dsaEncoding: 'der',
    }),
  );
  const keys = m.files.map((f) => bytes(`valid-multi-file/${f.name ?? 'secret/fixture.gcode'}/key`, 32));
  const recipients = wrapKeys(
    keys,
    [dsi.recipientPublicKey(pem('recipient-a.pub.pem'))],
    dsiIdOfManifest(manifestBytes),
  );
  const hb = encodeHeader({ manifestBytes, signature, certificates: h.certificates, recipients });
  add(
    'corrupted-chunk-signed',
    Buffer.concat([encodePreamble(hb.length), hb, payload]),
    'the signer signed digests of ciphertext whose chunk 2 fails its GCM tag',
    'CORRUPTED_CHUNK',
  );
}

writeFileSync(
  path.join(out, 'vectors.json'),
  `${JSON.stringify({ format: 'threadseal-dsi/1', generatedBy: 'scripts/gen-container-vectors.mjs', vectors }, null, 2)}\n`,
);
console.log(`wrote ${vectors.length} vectors to ${path.relative(root, out)}`);
