import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { inspect, dsiId } from './inspect';
import { verify } from './verify';
import { addRecipients } from './add-recipients';
import { protect, protectToFile } from './protect';
import {
  CORPUS_DIR,
  collect,
  corpusPresent,
  expectCode,
  openAndDrain,
  pem,
  protectBytes,
  recipientA,
  recipientB,
  testBytes,
  testSigner,
  trustedRoots,
} from '../testing/fixtures';

const CHUNK = 64;

describe('DSI round trips', function () {
  this.timeout(60_000);

  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 4 * CHUNK, 4 * CHUNK + 1, 37 * CHUNK + 5]) {
    it(`returns exactly the ${size}-byte plaintext it sealed`, async () => {
      const data = testBytes(size, size + 1);
      const { bytes } = await protectBytes({ files: [{ name: 'part.gcode', source: data }] });
      const { files, error, released } = await openAndDrain(bytes);
      expect(error).to.equal(undefined);
      expect(released).to.equal(size);
      expect(files.get('part.gcode')?.equals(data)).to.equal(true);
    });
  }

  it('reads the same bytes from a buffer input and a chunked stream input', async () => {
    const data = testBytes(10_000, 9);
    const fromBuffer = await protectBytes({ files: [{ name: 'a.ngc', source: data }] });
    const chunks = Readable.from([data.subarray(0, 7), data.subarray(7, 5000), data.subarray(5000)]);
    const fromStream = await protectBytes({ files: [{ name: 'a.ngc', source: chunks }] });
    for (const bytes of [fromBuffer.bytes, fromStream.bytes]) {
      const opened = await openAndDrain(Readable.from([bytes]));
      expect(opened.files.get('a.ngc')?.equals(data)).to.equal(true);
    }
  });

  it('seals a multi-file technical data package from the shared corpus and opens every file', async function () {
    if (!corpusPresent()) {
      console.log(`      (skipped: ${CORPUS_DIR} is absent, no real TDP to seal)`);
      this.skip();
    }
    const names = ['additive', 'cnc'].flatMap((d) =>
      readdirSync(path.join(CORPUS_DIR, d)).map((f) => `${d}/${f}`),
    );
    const files = names.map((name) => ({ name, source: path.join(CORPUS_DIR, name) }));
    const { bytes } = await protectBytes({ files, chunkSize: 4096, segmentChunks: 16 });
    const info = await inspect(bytes);
    expect(info.manifest.files.map((f) => f.name)).to.deep.equal(names);
    expect(info.manifest.files.find((f) => f.name === 'additive/wormdrive.3mf')?.mediaType).to.equal(
      'model/3mf',
    );
    const opened = await openAndDrain(bytes);
    expect(opened.error).to.equal(undefined);
    for (const name of names) {
      const expected = readFileSync(path.join(CORPUS_DIR, name));
      expect(opened.files.get(name)?.equals(expected), name).to.equal(true);
      expect(statSync(path.join(CORPUS_DIR, name)).size).to.equal(expected.length);
    }
  });

  it('keeps confidential names out of the public manifest and restores them on open', async () => {
    const { bytes } = await protectBytes({
      files: [
        { name: 'public.step', source: Buffer.from('solid') },
        { name: 'secret/fixture-7.gcode', source: Buffer.from('G1 X1'), confidentialName: true },
      ],
    });
    expect(bytes.includes(Buffer.from('fixture-7'))).to.equal(false);
    const info = await inspect(bytes);
    expect(info.manifest.files[1]?.name).to.equal(null);
    const opened = await openAndDrain(bytes);
    expect(opened.files.get('secret/fixture-7.gcode')?.toString()).to.equal('G1 X1');
  });

  it('reports the DSI id (SHA-256 of the signed manifest) the same way from protect, inspect, dsiId and verify', async () => {
    const r = await protectBytes({ files: [{ name: 'x.step', source: Buffer.from('x') }] });
    expect(r.dsiId).to.match(/^[0-9a-f]{64}$/);
    expect((await inspect(r.bytes)).dsiId).to.equal(r.dsiId);
    expect(await dsiId(Readable.from([r.bytes]))).to.equal(r.dsiId);
    expect((await verify(r.bytes, { trustedRoots: trustedRoots() })).dsiId).to.equal(r.dsiId);
  });

  it('verifies a signer chained through an intermediate CA included in the container', async () => {
    const { bytes } = await protectBytes({
      files: [{ name: 'x.step', source: Buffer.from('x') }],
      signer: testSigner('chained-signer', ['intermediate-ca']),
    });
    const v = await verify(bytes, { trustedRoots: trustedRoots() });
    expect(v.signerPath.map((c) => c.subject.split('\n').pop())).to.deep.equal([
      'CN=ip-owner@org2',
      'CN=Test Intermediate CA',
      'CN=Test Root CA',
    ]);
  });

  it('adds a recipient after signing without changing the DSI id', async () => {
    const { bytes, dsiId: id } = await protectBytes({ files: [{ name: 'p.gcode', source: testBytes(500) }] });
    expectCode((await openAndDrain(bytes, recipientB())).error, 'NOT_A_RECIPIENT');
    const rewrapped = await addRecipients(bytes, recipientA(), [pem('recipient-b.pub.pem')], {
      trustedRoots: trustedRoots(),
    });
    expect(rewrapped.dsiId).to.equal(id);
    expect(rewrapped.added).to.equal(1);
    const out = await collect(rewrapped.stream);
    expect(out.length).to.equal(rewrapped.size);
    const opened = await openAndDrain(out, recipientB());
    expect(opened.error).to.equal(undefined);
    expect(opened.files.get('p.gcode')?.equals(testBytes(500))).to.equal(true);
  });

  it('streams a multi-segment file through the worker pool (segments above the inline threshold)', async () => {
    const data = testBytes(3 * 1024 * 1024 + 17, 5);
    const { bytes } = await protectBytes({
      files: [{ name: 'big.3mf', source: data }],
      chunkSize: 64 * 1024,
      segmentChunks: 16,
    });
    const opened = await openAndDrain(bytes);
    expect(opened.files.get('big.3mf')?.equals(data)).to.equal(true);
  });

  it('seals path, bytes and stream inputs together, spooling only ciphertext of the stream and deleting it after', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsi-rt-'));
    const spoolDir = mkdtempSync(path.join(tmpdir(), 'dsi-spool-'));
    try {
      const onDisk = testBytes(70_000, 3);
      writeFileSync(path.join(dir, 'a.step'), onDisk);
      const sealed = await protect({
        files: [
          { name: 'a.step', source: path.join(dir, 'a.step') },
          { name: 'b.3mf', source: testBytes(5000, 4) },
          { name: 'c.gcode', source: Readable.from([testBytes(3000, 5)]) },
        ],
        signer: testSigner('signer'),
        recipients: [pem('recipient-a.pub.pem')],
        title: 't',
        partNumber: 'p',
        revision: 'r',
        chunkSize: 1024,
        segmentChunks: 8,
        tmpDir: spoolDir,
      });
      const spooled = readdirSync(spoolDir).flatMap((d) => readdirSync(path.join(spoolDir, d)));
      expect(spooled).to.deep.equal(['payload.bin']);
      const stored = readFileSync(path.join(spoolDir, readdirSync(spoolDir)[0] ?? '', 'payload.bin'));
      expect(stored.length).to.equal(3000 + 3 * 16);
      expect(stored.includes(testBytes(3000, 5).subarray(0, 32))).to.equal(false);
      const bytes = await collect(sealed.stream);
      expect(bytes.length).to.equal(sealed.size);
      expect(readdirSync(spoolDir)).to.deep.equal([]);
      const opened = await openAndDrain(bytes);
      expect(opened.files.get('a.step')?.equals(onDisk)).to.equal(true);
      expect(opened.files.get('b.3mf')?.equals(testBytes(5000, 4))).to.equal(true);
      expect(opened.files.get('c.gcode')?.equals(testBytes(3000, 5))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('fails the container stream with INPUT_ERROR when an input file changes before it is emitted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsi-rt-'));
    try {
      const file = path.join(dir, 'part.gcode');
      writeFileSync(file, testBytes(4000, 1));
      const sealed = await protect({
        files: [{ name: 'part.gcode', source: file }],
        signer: testSigner('signer'),
        recipients: [pem('recipient-a.pub.pem')],
        title: 't',
        partNumber: 'p',
        revision: 'r',
        chunkSize: 1024,
      });
      writeFileSync(file, testBytes(4001, 2));
      const err = await collect(sealed.stream).then(
        () => undefined,
        (e: unknown) => e,
      );
      expectCode(err, 'INPUT_ERROR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the same container in one pass with protectToFile (header sized before encryption)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsi-rt-'));
    try {
      for (const [n, sizes] of [
        [0, [0]],
        [1, [1, 100_000, 4097]],
        [2, [65_536 * 3]],
      ] as const) {
        const files = sizes.map((size, i) => ({
          name: `d${i}/f${i}.gcode`,
          source: testBytes(size, 10 * n + i),
          confidentialName: i === 1,
        }));
        const out = path.join(dir, `p${n}.dsi`);
        const r = await protectToFile(
          {
            files,
            signer: testSigner('signer'),
            recipients: [pem('recipient-a.pub.pem'), pem('recipient-b.pub.pem')],
            title: 'T',
            partNumber: 'P',
            revision: 'R',
            productionRules: 'rules/1',
            mspId: 'Org1MSP',
            chunkSize: 4096,
          },
          out,
        );
        expect(statSync(out).size).to.equal(r.size);
        expect((await inspect(out)).dsiId).to.equal(r.dsiId);
        const opened = await openAndDrain(out, recipientB());
        expect(opened.error).to.equal(undefined);
        files.forEach((f) => expect(opened.files.get(f.name)?.equals(f.source)).to.equal(true));
      }
      expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seals paths on worker threads into the ciphertext that bytes produce, and verifies a file on worker threads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsi-rt-'));
    try {
      // 20 MiB + 777 bytes: several 8 MiB worker jobs of 1 MiB segments, and a short final chunk.
      const block = testBytes(1 << 20, 5);
      const big = Buffer.concat([
        ...Array.from({ length: 20 }, (_, i) => Buffer.from(block.map((b) => b ^ i))),
        block.subarray(0, 777),
      ]);
      const small = testBytes(5000, 6);
      const sources = [big, Buffer.alloc(0), small];
      sources.forEach((b, i) => {
        writeFileSync(path.join(dir, `in${i}`), b);
      });
      const common = {
        signer: testSigner('signer'),
        recipients: [pem('recipient-a.pub.pem')],
        title: 'T',
        partNumber: 'P',
        revision: 'R',
        segmentChunks: 16,
        created: new Date('2026-01-02T03:04:05.678Z'),
        contentKeysForTestVectors: sources.map((_, i) => Buffer.alloc(32, i + 1)),
      };
      const names = ['big.stl', 'empty.txt', 'small.gcode'];
      const fromPaths = await protectToFile(
        { ...common, files: names.map((name, i) => ({ name, source: path.join(dir, `in${i}`) })) },
        path.join(dir, 'paths.dsi'),
      );
      const fromBytes = await protectToFile(
        { ...common, files: names.map((name, i) => ({ name, source: sources[i] as Buffer })) },
        path.join(dir, 'bytes.dsi'),
      );
      expect(fromPaths.dsiId).to.equal(fromBytes.dsiId);
      expect(fromPaths.manifest.files[0]?.segments).to.have.length(21);
      const a = readFileSync(path.join(dir, 'paths.dsi'));
      const b = readFileSync(path.join(dir, 'bytes.dsi'));
      const payload =
        a.length -
        fromPaths.manifest.files.reduce(
          (n, f) => n + f.size + 16 * Math.max(1, Math.ceil(f.size / 65_536)),
          0,
        );
      expect(a.subarray(payload).equals(b.subarray(payload))).to.equal(true);

      const opened = await openAndDrain(path.join(dir, 'paths.dsi'));
      expect(opened.error).to.equal(undefined);
      names.forEach((n, i) => expect(opened.files.get(n)?.equals(sources[i] as Buffer)).to.equal(true));

      // One flipped ciphertext byte in segment 13 of the big file: the worker digests catch it.
      const at = payload + 13 * (16 * (65_536 + 16)) + 100;
      a[at] = (a[at] as number) ^ 1;
      writeFileSync(path.join(dir, 'tampered.dsi'), a);
      const err = await verify(path.join(dir, 'tampered.dsi'), { trustedRoots: trustedRoots() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const e = expectCode(err, 'DIGEST_MISMATCH');
      expect(e.message).to.contain('segment 13 of 21 (chunks 208–223');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad arguments with INVALID_ARGUMENT', async () => {
    const base = {
      signer: testSigner('signer'),
      recipients: [pem('recipient-a.pub.pem')],
      title: 't',
      partNumber: 'p',
      revision: 'r',
    };
    for (const bad of [
      { ...base, files: [] },
      { ...base, files: [{ name: '../escape.gcode', source: Buffer.alloc(1) }] },
      {
        ...base,
        files: [
          { name: 'a', source: Buffer.alloc(1) },
          { name: 'a', source: Buffer.alloc(1) },
        ],
      },
      { ...base, files: [{ name: 'a', source: Buffer.alloc(1) }], chunkSize: 10 },
      { ...base, files: [{ name: 'a', source: Buffer.alloc(1) }], recipients: [] },
    ]) {
      const err = await protect(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expectCode(err, 'INVALID_ARGUMENT');
    }
  });

  it('turns a missing input or container file into INPUT_ERROR naming the path, never a raw fs error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsi-missing-'));
    const missing = path.join(dir, 'no-such.dsi');
    try {
      for (const attempt of [
        () => inspect(missing),
        () => verify(missing, { trustedRoots: trustedRoots() }),
        () =>
          protect({
            signer: testSigner('signer'),
            recipients: [pem('recipient-a.pub.pem')],
            title: 't',
            partNumber: 'p',
            revision: 'r',
            files: [{ name: 'part.gcode', source: missing }],
          }),
      ]) {
        const err = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expectCode(err, 'INPUT_ERROR');
        expect((err as Error).message).to.include(missing);
        expect((err as Error).message).to.match(/ENOENT/);
        expect((err as Error).cause).to.have.property('code', 'ENOENT');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
