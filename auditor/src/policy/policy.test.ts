import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, msp } from '@hyperledger/fabric-protos';
import { Msp, MspManager, verifyFabricSignature } from '../msp/msp';
import { checkSignatures, evaluateSignaturePolicy } from './policy';

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

interface TestIdentity {
  readonly serialized: Uint8Array;
  readonly key: KeyObject;
}

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

function parseRs(der: Buffer): { r: bigint; s: bigint } {
  const rLen = der[3] ?? 0;
  const r = BigInt(`0x${der.subarray(4, 4 + rLen).toString('hex')}`);
  const sLen = der[5 + rLen] ?? 0;
  const s = BigInt(`0x${der.subarray(6 + rLen, 6 + rLen + sLen).toString('hex')}`);
  return { r, s };
}

/** A low-S signature, as Fabric's signers produce. */
function fabricSign(key: KeyObject, data: Uint8Array): Buffer {
  const der = sign('sha256', data, { key, dsaEncoding: 'der' });
  const { r, s } = parseRs(der);
  const low = s > P256_N / 2n ? P256_N - s : s;
  const body = Buffer.concat([derInt(r), derInt(low)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function role(
  mspId: string,
  r: msp.MSPRole.MSPRoleTypeMap[keyof msp.MSPRole.MSPRoleTypeMap],
): msp.MSPPrincipal {
  const mspRole = new msp.MSPRole();
  mspRole.setMspIdentifier(mspId);
  mspRole.setRole(r);
  const p = new msp.MSPPrincipal();
  p.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
  p.setPrincipal(mspRole.serializeBinary());
  return p;
}

function nOutOf(n: number, principals: msp.MSPPrincipal[]): common.SignaturePolicyEnvelope {
  const rules = principals.map((_, i) => {
    const s = new common.SignaturePolicy();
    s.setSignedBy(i);
    return s;
  });
  const inner = new common.SignaturePolicy.NOutOf();
  inner.setN(n);
  inner.setRulesList(rules);
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(inner);
  const env = new common.SignaturePolicyEnvelope();
  env.setRule(rule);
  env.setIdentitiesList(principals);
  return env;
}

describe('auditor MSP and signature policies (a PKI made with openssl)', function () {
  let dir: string;
  let manager: MspManager;
  const ids: Record<string, TestIdentity> = {};

  before(function () {
    if (spawnSync('openssl', ['version']).status !== 0) {
      process.stdout.write('      (skipped: openssl is not installed)\n');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'auditor-pki-'));
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ca = (name: string): void => {
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
      );
    };
    const leaf = (name: string, issuer: string, ou: string): void => {
      ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.ec`);
      ssl('pkcs8', '-topk8', '-nocrypt', '-in', `${name}.ec`, '-out', `${name}.key`);
      ssl('req', '-new', '-key', `${name}.key`, '-subj', `/OU=${ou}/CN=${name}`, '-out', `${name}.csr`);
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
        '3650',
        '-extfile',
        'leaf.ext',
        '-out',
        `${name}.pem`,
      );
      const sid = new msp.SerializedIdentity();
      sid.setMspid('Org1MSP');
      sid.setIdBytes(readFileSync(join(dir, `${name}.pem`)));
      ids[name] = {
        serialized: sid.serializeBinary(),
        key: createPrivateKey(readFileSync(join(dir, `${name}.key`))),
      };
    };
    ca('org1-ca');
    ca('rogue-ca');
    leaf('peer1', 'org1-ca', 'peer');
    leaf('client1', 'org1-ca', 'client');
    leaf('rogue-peer', 'rogue-ca', 'peer');
    const config = new msp.FabricMSPConfig();
    config.setName('Org1MSP');
    config.setRootCertsList([readFileSync(join(dir, 'org1-ca.pem'))]);
    const ous = new msp.FabricNodeOUs();
    ous.setEnable(true);
    for (const [set, ou] of [
      ['setClientOuIdentifier', 'client'],
      ['setPeerOuIdentifier', 'peer'],
      ['setAdminOuIdentifier', 'admin'],
      ['setOrdererOuIdentifier', 'orderer'],
    ] as const) {
      const id = new msp.FabricOUIdentifier();
      id.setOrganizationalUnitIdentifier(ou);
      ous[set](id);
    }
    config.setFabricNodeOus(ous);
    manager = new MspManager([new Msp(config)]);
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const signed = (name: string, data = Buffer.from('proposal response payload')) => {
    const id = ids[name];
    if (!id) throw new Error(name);
    return { identity: id.serialized, data, signature: fabricSign(id.key, data) };
  };

  it('accepts an identity that chains to the MSP root and classifies it by its node OU', function () {
    const peer = manager.identity(ids['peer1']?.serialized ?? new Uint8Array());
    expect(peer.ok).to.equal(true);
    if (peer.ok) expect([...peer.identity.roles].sort()).to.deep.equal(['member', 'peer']);
  });

  it("refuses an identity issued by another CA under the org's MSP id", function () {
    const rogue = manager.identity(ids['rogue-peer']?.serialized ?? new Uint8Array());
    expect(rogue.ok).to.equal(false);
    if (!rogue.ok) expect(rogue.reason).to.match(/does not chain to the MSP's roots/);
  });

  it('drops a bad signature, a rogue identity and a repeated identity before any policy runs', function () {
    const bad = { ...signed('client1'), signature: signed('client1', Buffer.from('other')).signature };
    const check = checkSignatures([signed('peer1'), signed('peer1'), signed('rogue-peer'), bad], manager);
    expect(check.valid.map((v) => v.identity.certificate.subject)).to.deep.equal(['OU=peer\nCN=peer1']);
    expect(check.refused.map((r) => r.index)).to.deep.equal([1, 2, 3]);
    expect(check.refused[0]?.reason).to.equal('the same identity signed twice');
    expect(check.refused[2]?.reason).to.equal('signature of Org1MSP identity does not verify');
  });

  it('refuses a high-S signature that plain ECDSA would accept (Fabric BCCSP rule)', function () {
    const id = ids['peer1'];
    if (!id) throw new Error('peer1');
    const data = Buffer.from('block header');
    const low = fabricSign(id.key, data);
    const { r, s } = parseRs(low);
    const body = Buffer.concat([derInt(r), derInt(P256_N - s)]);
    const high = Buffer.concat([Buffer.from([0x30, body.length]), body]);
    const key = manager.identity(id.serialized);
    if (!key.ok) throw new Error(key.reason);
    expect(verifyFabricSignature(key.identity.publicKey, data, low)).to.equal(true);
    expect(verifyFabricSignature(key.identity.publicKey, data, high)).to.equal(false);
  });

  it('evaluates n-of-m role policies with each signer used once', function () {
    const peerAndClient = nOutOf(2, [
      role('Org1MSP', msp.MSPRole.MSPRoleType.PEER),
      role('Org1MSP', msp.MSPRole.MSPRoleType.CLIENT),
    ]);
    const twoPeers = nOutOf(2, [
      role('Org1MSP', msp.MSPRole.MSPRoleType.PEER),
      role('Org1MSP', msp.MSPRole.MSPRoleType.PEER),
    ]);
    const anyMember = nOutOf(1, [role('Org1MSP', msp.MSPRole.MSPRoleType.MEMBER)]);
    const admin = nOutOf(1, [role('Org1MSP', msp.MSPRole.MSPRoleType.ADMIN)]);
    const both = checkSignatures([signed('peer1'), signed('client1')], manager).valid;
    const peerOnly = checkSignatures([signed('peer1')], manager).valid;
    expect(evaluateSignaturePolicy(peerAndClient, both)).to.equal(true);
    expect(evaluateSignaturePolicy(peerAndClient, peerOnly)).to.equal(false);
    expect(evaluateSignaturePolicy(twoPeers, both), 'one peer cannot count twice').to.equal(false);
    expect(evaluateSignaturePolicy(anyMember, peerOnly)).to.equal(true);
    expect(evaluateSignaturePolicy(admin, both)).to.equal(false);
    expect(evaluateSignaturePolicy(anyMember, [])).to.equal(false);
  });
});
