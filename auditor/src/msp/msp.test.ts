import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msp } from '@hyperledger/fabric-protos';
import { checkSignatures } from '../policy/policy';
import { parseRevocationList } from './der';
import { BytesMap, Msp, MspManager, verifyFabricSignature } from './msp';

const DAY = 86_400_000;

function pemBody(pem: Buffer): Buffer {
  return Buffer.from(pem.toString('latin1').split('-----')[2] ?? '', 'base64');
}

/** The subject key identifier as `openssl x509 -text` prints it, as hex `openssl req -addext` takes back. */
function subjectKeyIdentifierHex(pem: string): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
  const m = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text);
  if (!m?.[1]) throw new Error('the CA has no subject key identifier');
  return m[1].replace(/:/g, '');
}

interface Leaf {
  readonly serialized: Uint8Array;
  readonly key: KeyObject;
  readonly certificate: X509Certificate;
}

describe('auditor MSP certificate validity: revocation lists and expiry (a PKI made with openssl)', function () {
  let dir: string;
  const leaves: Record<string, Leaf> = {};
  let ssl: (...args: string[]) => void;
  let crl: Buffer;
  let rogueCrl: Buffer;

  const mspConfig = (revocationLists: Uint8Array[]): msp.FabricMSPConfig => {
    const config = new msp.FabricMSPConfig();
    config.setName('Org1MSP');
    config.setRootCertsList([readFileSync(join(dir, 'org1-ca.pem'))]);
    config.setIntermediateCertsList([readFileSync(join(dir, 'short-ca.pem'))]);
    config.setRevocationListList(revocationLists);
    return config;
  };

  before(function () {
    if (spawnSync('openssl', ['version']).status !== 0) {
      process.stdout.write('      (skipped: openssl is not installed)\n');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'auditor-crl-'));
    ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ca = (name: string, subjectKeyId = 'hash'): void => {
      ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
      ssl(
        'req',
        '-x509',
        '-new',
        '-key',
        `${name}.key`,
        '-subj',
        `/CN=${name}`,
        '-days',
        '3650',
        '-out',
        `${name}.pem`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        `subjectKeyIdentifier=${subjectKeyId}`,
      );
      // `openssl ca` keeps its state in a database; the CRL carries the CA's key identifier (Fabric finds
      // a CRL by it).
      writeFileSync(join(dir, `${name}.db`), '');
      writeFileSync(join(dir, `${name}.crlnumber`), '01\n');
      writeFileSync(
        join(dir, `${name}.cnf`),
        [
          '[ca]',
          'default_ca = ca_default',
          '[ca_default]',
          `database = ${name}.db`,
          `crlnumber = ${name}.crlnumber`,
          'default_md = sha256',
          'default_crl_days = 30',
          'crl_extensions = crl_ext',
          '[crl_ext]',
          'authorityKeyIdentifier = keyid:always',
          '',
        ].join('\n'),
      );
    };
    // An intermediate CA under org1-ca that expires long before the certificates it issues.
    const intermediate = (name: string, issuer: string, days: string): void => {
      ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
      ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
      writeFileSync(
        join(dir, 'ca.ext'),
        'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
      );
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${issuer}.pem`,
        '-CAkey',
        `${issuer}.key`,
        '-CAcreateserial',
        '-days',
        days,
        '-extfile',
        'ca.ext',
        '-out',
        `${name}.pem`,
      );
    };
    const leaf = (name: string, issuer: string, days: string): void => {
      ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.ec`);
      ssl('pkcs8', '-topk8', '-nocrypt', '-in', `${name}.ec`, '-out', `${name}.key`);
      ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
      writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${issuer}.pem`,
        '-CAkey',
        `${issuer}.key`,
        '-CAcreateserial',
        '-days',
        days,
        '-extfile',
        'leaf.ext',
        '-out',
        `${name}.pem`,
      );
      const pem = readFileSync(join(dir, `${name}.pem`));
      const sid = new msp.SerializedIdentity();
      sid.setMspid('Org1MSP');
      sid.setIdBytes(pem);
      leaves[name] = {
        serialized: sid.serializeBinary(),
        key: createPrivateKey(readFileSync(join(dir, `${name}.key`))),
        certificate: new X509Certificate(pem),
      };
    };
    const revokeAndList = (caName: string, revoked: string, out: string): void => {
      const common = ['-config', `${caName}.cnf`, '-keyfile', `${caName}.key`, '-cert', `${caName}.pem`];
      ssl('ca', ...common, '-revoke', `${revoked}.pem`);
      ssl('ca', ...common, '-gencrl', '-out', out);
    };
    ca('org1-ca');
    const orgKeyId = subjectKeyIdentifierHex(readFileSync(join(dir, 'org1-ca.pem'), 'utf8'));
    // The attacker's CA claims the org CA's key identifier, so its CRLs look like the org CA's.
    ca('rogue-ca', orgKeyId);
    leaf('good', 'org1-ca', '3650');
    leaf('revoked', 'org1-ca', '3650');
    leaf('one-day', 'org1-ca', '1');
    intermediate('short-ca', 'org1-ca', '2');
    leaf('under-short', 'short-ca', '3650');
    leaf('outlives-root', 'org1-ca', '5000');
    revokeAndList('org1-ca', 'revoked', 'org1.crl');
    crl = readFileSync(join(dir, 'org1.crl'));
    // The attacker's CRL names the good certificate under the org CA's key identifier, signed by another key.
    revokeAndList('rogue-ca', 'good', 'rogue.crl');
    rogueCrl = readFileSync(join(dir, 'rogue.crl'));
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A low-S signature, as Fabric's signers make (signing again until S is in the lower half). */
  const signed = (name: string, data = Buffer.from('proposal response payload')) => {
    const l = leaves[name];
    if (!l) throw new Error(name);
    for (;;) {
      const signature = sign('sha256', data, { key: l.key, dsaEncoding: 'der' });
      if (verifyFabricSignature(l.certificate.publicKey, data, signature))
        return { identity: l.serialized, data, signature };
    }
  };

  it("parses the CRL the CA made: its key identifier and the revoked certificate's serial", function () {
    const parsed = parseRevocationList(pemBody(crl));
    expect(parsed.hasAuthorityKeyIdentifier).to.equal(true);
    expect([...parsed.revokedSerials]).to.deep.equal([
      leaves['revoked']?.certificate.serialNumber.toUpperCase().replace(/^0+/, ''),
    ]);
    expect(parsed.hash).to.equal('sha256');
  });

  it('refuses a certificate the MSP revocation list revokes, and keeps accepting the others', function () {
    const manager = new MspManager([new Msp(mspConfig([crl]))]);
    const revoked = manager.identity(leaves['revoked']?.serialized ?? new Uint8Array());
    expect(revoked.ok).to.equal(false);
    if (!revoked.ok)
      expect(revoked.reason).to.match(
        /^Org1MSP: certificate CN=revoked \(serial [0-9A-F]+\) is revoked by revocation list 0$/,
      );
    expect(manager.identity(leaves['good']?.serialized ?? new Uint8Array()).ok).to.equal(true);
    // Without the CRL the same certificate is valid: the refusal comes from the list.
    expect(
      new MspManager([new Msp(mspConfig([]))]).identity(leaves['revoked']?.serialized ?? new Uint8Array()).ok,
    ).to.equal(true);
  });

  it("drops a revoked signer's signature before any policy counts it", function () {
    const manager = new MspManager([new Msp(mspConfig([crl]))]);
    const check = checkSignatures([signed('revoked'), signed('good')], manager);
    expect(check.valid.map((v) => v.identity.certificate.subject)).to.deep.equal(['CN=good']);
    expect(check.refused.map((r) => r.index)).to.deep.equal([0]);
    expect(check.refused[0]?.reason).to.contain('is revoked');
  });

  it('ignores a CRL that names a certificate but is not signed by its issuing CA (as Fabric does)', function () {
    const manager = new MspManager([new Msp(mspConfig([rogueCrl]))]);
    const parsed = parseRevocationList(pemBody(rogueCrl));
    expect(
      parsed.revokedSerials.has(leaves['good']?.certificate.serialNumber.replace(/^0+/, '') ?? ''),
    ).to.equal(true);
    // Its key identifier matches the org CA's and it names the certificate, but its signature is not the CA's.
    expect(manager.identity(leaves['good']?.serialized ?? new Uint8Array()).ok).to.equal(true);
  });

  it('fails closed on a revocation list that does not parse: no identity of that MSP validates', function () {
    const manager = new MspManager([new Msp(mspConfig([Buffer.from('not a CRL')]))]);
    const r = manager.identity(leaves['good']?.serialized ?? new Uint8Array());
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/^Org1MSP: revocation list 0 does not parse/);
  });

  it('refuses a certificate outside its validity period at the given time, and accepts it inside', function () {
    const manager = new MspManager([new Msp(mspConfig([]))]);
    const l = leaves['one-day'];
    if (!l) throw new Error('one-day');
    const notAfter = Date.parse(l.certificate.validTo);
    const notBefore = Date.parse(l.certificate.validFrom);
    expect(manager.identity(l.serialized, notBefore + 1000).ok).to.equal(true);
    const expired = manager.identity(l.serialized, notAfter + DAY);
    expect(expired.ok).to.equal(false);
    if (!expired.ok)
      expect(expired.reason).to.equal(
        `Org1MSP: certificate CN=one-day expired at ${new Date(notAfter).toISOString()}, before the block time ${new Date(notAfter + DAY).toISOString()}`,
      );
    const early = manager.identity(l.serialized, notBefore - DAY);
    expect(early.ok).to.equal(false);
    if (!early.ok) expect(early.reason).to.contain('is not valid before');
    // The cached structural verdict is unchanged by a refusal at another time.
    expect(manager.identity(l.serialized).ok).to.equal(true);
    const check = checkSignatures([signed('one-day')], manager, notAfter + DAY);
    expect(check.valid).to.deep.equal([]);
    expect(check.refused[0]?.reason).to.contain('expired at');
  });

  it('keys the identity cache on the exact bytes: equal bytes hit, bytes sharing length and tail do not', function () {
    const map = new BytesMap<string>();
    const a = Buffer.concat([Buffer.from('aaaa'), Buffer.alloc(40, 7)]);
    const b = Buffer.concat([Buffer.from('bbbb'), Buffer.alloc(40, 7)]);
    map.set(a, 'a');
    expect(map.get(Buffer.from(a)), 'a copy of the same bytes').to.equal('a');
    expect(map.get(b), 'same length and last 32 bytes').to.equal(undefined);
    map.set(b, 'b');
    expect([map.get(a), map.get(b)]).to.deep.equal(['a', 'b']);
    a[0] = 0x7a; // the map kept its own copy: a later change of the caller's buffer changes nothing
    expect(map.get(Buffer.concat([Buffer.from('aaaa'), Buffer.alloc(40, 7)]))).to.equal('a');
  });

  it('refuses a certificate whose intermediate CA has expired at the block time, and accepts it before', function () {
    const manager = new MspManager([new Msp(mspConfig([]))]);
    const l = leaves['under-short'];
    if (!l) throw new Error('under-short');
    const ca = new X509Certificate(readFileSync(join(dir, 'short-ca.pem')));
    const caNotAfter = Date.parse(ca.validTo);
    expect(manager.identity(l.serialized, caNotAfter - 1000).ok, 'inside the CA validity').to.equal(true);
    const at = caNotAfter + DAY; // the leaf itself is valid for ten years
    expect(at).to.be.below(Date.parse(l.certificate.validTo));
    const expired = manager.identity(l.serialized, at);
    expect(expired.ok).to.equal(false);
    if (!expired.ok)
      expect(expired.reason).to.equal(
        `Org1MSP: CA certificate CN=short-ca of certificate CN=under-short expired at ${new Date(caNotAfter).toISOString()}, before the block time ${new Date(at).toISOString()}`,
      );
    // Its signature counts for no policy then, and the cached structural verdict stays.
    const check = checkSignatures([signed('under-short')], manager, at);
    expect(check.valid).to.deep.equal([]);
    expect(check.refused[0]?.reason).to.contain('CA certificate CN=short-ca');
    expect(manager.identity(l.serialized).ok).to.equal(true);
  });

  it('refuses a certificate that outlives its root CA once the root has expired', function () {
    const manager = new MspManager([new Msp(mspConfig([]))]);
    const l = leaves['outlives-root'];
    if (!l) throw new Error('outlives-root');
    const rootNotAfter = Date.parse(new X509Certificate(readFileSync(join(dir, 'org1-ca.pem'))).validTo);
    expect(manager.identity(l.serialized, rootNotAfter - DAY).ok).to.equal(true);
    const r = manager.identity(l.serialized, rootNotAfter + DAY);
    expect(r.ok).to.equal(false);
    if (!r.ok)
      expect(r.reason).to.match(
        /^Org1MSP: CA certificate CN=org1-ca of certificate CN=outlives-root expired at /,
      );
  });

  it("reads a CRL's nextUpdate and names the lists past it, which still revoke what they list", function () {
    const parsed = parseRevocationList(pemBody(crl));
    const nextUpdate = parsed.nextUpdate ?? 0;
    // openssl's default_crl_days = 30 in the CA's configuration above
    expect(Math.abs(nextUpdate - (Date.now() + 30 * DAY))).to.be.below(DAY);
    const manager = new MspManager([new Msp(mspConfig([crl]))]);
    expect(manager.staleRevocationLists(nextUpdate - 1000)).to.deep.equal([]);
    expect(manager.staleRevocationLists(nextUpdate + DAY)).to.deep.equal([
      { mspId: 'Org1MSP', index: 0, nextUpdate },
    ]);
    // Stale is not void: the revoked certificate stays refused after the nextUpdate, the others accepted.
    expect(manager.identity(leaves['revoked']?.serialized ?? new Uint8Array(), nextUpdate + DAY).ok).to.equal(
      false,
    );
    expect(manager.identity(leaves['good']?.serialized ?? new Uint8Array(), nextUpdate + DAY).ok).to.equal(
      true,
    );
  });

  it('fails closed on a CRL whose nextUpdate is not a valid time', function () {
    const der = Buffer.from(pemBody(crl));
    const parsed = parseRevocationList(der);
    const text = new Date(parsed.nextUpdate ?? 0).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const at = der.indexOf(Buffer.from(text, 'latin1'));
    expect(at, 'the nextUpdate UTCTime is in the DER').to.be.above(0);
    der.write('991399', at, 'latin1'); // month 13
    expect(() => parseRevocationList(der)).to.throw('not a valid date');
    const manager = new MspManager([new Msp(mspConfig([der]))]);
    const r = manager.identity(leaves['good']?.serialized ?? new Uint8Array());
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.match(/^Org1MSP: revocation list 0 does not parse \(not a valid date/);
  });
});
