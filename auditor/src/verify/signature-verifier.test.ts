import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msp } from '@hyperledger/fabric-protos';
import { verifyFabricSignature } from '../msp/msp';
import { SignatureVerifier, type SignatureJob } from './signature-verifier';

describe('auditor signature verification on worker threads', function () {
  let dir: string;
  let identity: Uint8Array;
  let certificate: X509Certificate;
  let key: ReturnType<typeof createPrivateKey>;
  let verifier: SignatureVerifier | undefined;

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
    certificate = new X509Certificate(pem);
    key = createPrivateKey(readFileSync(join(dir, 'k.key')));
    const sid = new msp.SerializedIdentity();
    sid.setMspid('Org1MSP');
    sid.setIdBytes(pem);
    identity = sid.serializeBinary();
  });

  after(async function () {
    await verifier?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives, for every job, the verdict verifyFabricSignature gives on the main thread', async function () {
    verifier = new SignatureVerifier(2);
    const jobs: SignatureJob[] = [];
    for (let i = 0; i < 600; i++) {
      const data = Buffer.from(`payload ${i}`);
      const signature = sign('sha256', data, { key, dsaEncoding: 'der' }); // high S about half the time
      if (i % 3 === 1) data[0] = (data[0] ?? 0) ^ 1; // a changed byte after signing
      jobs.push({ identity, data, signature });
    }
    await Promise.all([verifier.verify(jobs.slice(0, 250)), verifier.verify(jobs.slice(250))]);
    const expected = jobs.map((j) => verifyFabricSignature(certificate.publicKey, j.data, j.signature));
    expect(jobs.map((j) => j.verifiedSignature)).to.deep.equal(expected);
    expect(expected.filter(Boolean).length, 'some verify').to.be.greaterThan(100);
    expect(expected.filter((v) => !v).length, 'some do not').to.be.greaterThan(300);
  });

  it('leaves a job without a verdict when its identity holds no readable certificate', async function () {
    verifier ??= new SignatureVerifier(1);
    const data = Buffer.from('x');
    const job: SignatureJob = {
      identity: Buffer.from('not a serialized identity'),
      data,
      signature: sign('sha256', data, { key, dsaEncoding: 'der' }),
    };
    await verifier.verify([job]);
    expect(job.verifiedSignature).to.equal(undefined);
  });
});
