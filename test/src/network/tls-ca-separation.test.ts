import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { expect } from 'chai';
import { isDsiError, protect, softwareSigner, verify } from '@threadseal/dsi-container';
import { LedgerConnection, loadConnectionProfile, peerGrpcClient, signers } from '@threadseal/ledger-client';
import { ThreadsealError } from '@threadseal/ledger-model';
import { identityFiles, type CommonConnectionProfile, type NetworkPlan } from '@threadseal/network';
import { testNetwork } from '../fixtures/network-fixture';

type Org = NetworkPlan['orgs'][number];
type Node = NetworkPlan['peers'][number] | NetworkPlan['orderers'][number];

function cert(file: string): X509Certificate {
  return new X509Certificate(readFileSync(file));
}

function orgNamed(name: string): Org {
  const org = [...testNetwork().plan.orgs, testNetwork().plan.ordererOrg].find((o) => o.name === name);
  if (!org) throw new Error(`the test network has no org ${name}`);
  return org;
}

function oemPeer(): NetworkPlan['peers'][number] {
  const peer = testNetwork().plan.peers.find((p) => p.org === 'oem');
  if (!peer) throw new Error('the test network has no OEM peer');
  return peer;
}

/** The TLS certificate and key the network issued to a node (its server certificate on every listener). */
function nodeTlsFiles(node: Node): { cert: string; key: string } {
  const tls = identityFiles(join(node.dir, 'identity')).tls;
  if (!tls) throw new Error(`${node.id} has no TLS enrollment`);
  return tls;
}

/** True when `leaf` carries a signature made by `issuer`'s key. */
function signedBy(leaf: X509Certificate, issuer: X509Certificate): boolean {
  return leaf.verify(issuer.publicKey);
}

async function protectSignedBy(certPem: Buffer, keyPem: Buffer): Promise<Buffer> {
  const recipient = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  const dsi = await protect({
    files: [{ name: 'bracket.step', source: Buffer.from(`ISO-10303-21; ${randomBytes(8).toString('hex')}`) }],
    signer: softwareSigner(certPem, keyPem),
    recipients: [recipient],
    title: 'bracket',
    partNumber: 'BR-1',
    revision: 'A',
    mspId: 'OemMSP',
  });
  const chunks: Buffer[] = [];
  for await (const chunk of dsi.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function dsiRefusal(
  container: Buffer,
  trustedRoot: string,
): Promise<{ code: string; message: string }> {
  try {
    await verify(container, { trustedRoots: [readFileSync(trustedRoot, 'utf8')] });
  } catch (err) {
    if (isDsiError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('the DSI verified');
}

/** Opens a TLS connection to a peer trusting only `ca`; resolves to the verification error, or 'authorized'. */
function tlsHandshake(endpoint: string, servername: string, ca: string): Promise<string> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port: Number(port),
      servername,
      ca: readFileSync(ca),
      ALPNProtocols: ['h2'],
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('authorized');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(err.code ?? err.message);
    });
  });
}

describe('separate TLS and enrollment CAs: a TLS certificate is neither a DSI signer nor a member of its org', function () {
  it("issues every node's TLS certificate from its org's TLS CA, whose key is not the enrollment CA's", function () {
    const plan = testNetwork().plan;
    const nodes: Node[] = [...plan.peers, ...plan.orderers];
    const seen = nodes.map((node) => {
      const org = node.kind === 'orderer' ? plan.ordererOrg : orgNamed(node.org);
      const tlsCa = cert(org.tlsCaCert);
      const enrollmentCa = cert(org.caCert);
      const tls = cert(nodeTlsFiles(node).cert);
      const member = cert(join(node.dir, 'identity', 'msp', 'signcerts', 'cert.pem'));
      return {
        node: node.id,
        distinctRoots: !tlsCa.publicKey.equals(enrollmentCa.publicKey),
        tlsByTlsCa: signedBy(tls, tlsCa),
        tlsByEnrollmentCa: signedBy(tls, enrollmentCa),
        memberByEnrollmentCa: signedBy(member, enrollmentCa),
        memberByTlsCa: signedBy(member, tlsCa),
      };
    });
    for (const peer of plan.peers) {
      const chaincodeTls = cert(join(peer.dir, 'chaincode-identity', 'tls', 'signcerts', 'cert.pem'));
      expect(
        signedBy(chaincodeTls, cert(orgNamed(peer.org).tlsCaCert)),
        `${peer.id} chaincode server`,
      ).to.equal(true);
    }
    expect(seen).to.deep.equal(
      nodes.map((node) => ({
        node: node.id,
        distinctRoots: true,
        tlsByTlsCa: true,
        tlsByEnrollmentCa: false,
        memberByEnrollmentCa: true,
        memberByTlsCa: false,
      })),
    );
  });

  it('puts the enrollment CA under cacerts and the TLS CA under tlscacerts of each channel MSP', function () {
    const plan = testNetwork().plan;
    for (const org of [...plan.orgs, plan.ordererOrg]) {
      const read = (sub: string): string => readFileSync(join(org.mspDir, sub, 'ca.pem'), 'utf8');
      expect(read('cacerts'), `${org.name} cacerts`).to.equal(readFileSync(org.caCert, 'utf8'));
      expect(read('tlscacerts'), `${org.name} tlscacerts`).to.equal(readFileSync(org.tlsCaCert, 'utf8'));
      expect(read('cacerts')).not.to.equal(read('tlscacerts'));
    }
  });

  it('has clients dial peers through the TLS CA: the profiles name it, and the enrollment root does not verify a peer', async function () {
    const network = testNetwork();
    const profile = loadConnectionProfile(network.connectionFile);
    for (const org of network.plan.orgs) {
      const entry = profile.orgs[org.name];
      expect({ tls: entry?.tlsCaCert, enrollment: entry?.enrollmentCaCert }).to.deep.equal({
        tls: org.tlsCaCert,
        enrollment: org.caCert,
      });
      const ccp = JSON.parse(
        readFileSync(network.commonConnectionFile(org.name), 'utf8'),
      ) as CommonConnectionProfile;
      for (const peer of Object.values(ccp.peers))
        expect(peer.tlsCACerts.pem).to.equal(readFileSync(org.tlsCaCert, 'utf8'));
    }
    const peer = oemPeer();
    const oem = orgNamed('oem');
    const servername = `${peer.name}.${oem.domain}`;
    const endpoint = `${peer.host}:${peer.port}`;
    expect(await tlsHandshake(endpoint, servername, oem.caCert)).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await tlsHandshake(endpoint, servername, oem.tlsCaCert)).to.equal('authorized');
  });

  it("refuses a DSI signed with the OEM peer's TLS key against the OEM's enrollment CA, and accepts one of an OEM engineer", async function () {
    const oem = orgNamed('oem');
    const tls = nodeTlsFiles(oemPeer());
    const forged = await protectSignedBy(readFileSync(tls.cert), readFileSync(tls.key));

    const refused = await dsiRefusal(forged, oem.caCert);
    expect(refused.code).to.equal('UNTRUSTED_SIGNER');
    expect(refused.message).to.match(
      /^UNTRUSTED_SIGNER: signer certificate ".*CN=peer0.*" does not chain to a trusted root/,
    );
    // Even with the TLS CA (wrongly) as the anchor, a TLS-only certificate is no signer.
    expect((await dsiRefusal(forged, oem.tlsCaCert)).code).to.equal('SIGNER_KEY_USAGE');

    const engineer = identityFiles(testNetwork().userDir('oem', 'engineer'));
    const genuine = await protectSignedBy(readFileSync(engineer.cert), readFileSync(engineer.key));
    const verified = await verify(genuine, { trustedRoots: [readFileSync(oem.caCert, 'utf8')] });
    expect(verified.signerPath[0]?.subject).to.include('CN=engineer');
    expect((await dsiRefusal(genuine, oem.tlsCaCert)).code).to.equal('UNTRUSTED_SIGNER');
  });

  it('refuses the TLS certificates of the OEM peer and admin as OemMSP identities, and nothing is written', async function () {
    const network = testNetwork();
    const profile = loadConnectionProfile(network.connectionFile);
    const oemConnection = profile.orgs['oem'];
    if (!oemConnection) throw new Error('no oem org in the connection profile');
    const peer = oemPeer();
    const client = peerGrpcClient('oem', oemConnection);
    const opened: LedgerConnection[] = [];
    const as = (files: { cert: string; key: string }): LedgerConnection => {
      const c = LedgerConnection.connect({
        client,
        identity: { mspId: 'OemMSP', credentials: readFileSync(files.cert) },
        signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(files.key))),
        channel: profile.channel,
        chaincode: profile.chaincode,
      });
      opened.push(c);
      return c;
    };
    const adminFiles = identityFiles(network.userDir('oem', 'admin'));
    if (!adminFiles.tls) throw new Error('the OEM admin has no TLS enrollment');
    // Readers (qscc GetChainInfo) admit peers, Writers (PutNote) admit admins: with one CA for both, these
    // TLS certificates (OU peer, OU admin) were members that could read and write.
    const peerTls = as(nodeTlsFiles(peer));
    const adminTls = as(adminFiles.tls);
    const peerMember = as(identityFiles(join(peer.dir, 'identity')));
    const adminMember = as(adminFiles);
    const key = `tls-impostor-${randomBytes(4).toString('hex')}`;
    const failure = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => undefined,
        (err: unknown) => err,
      );
    try {
      // The same peer, the same path: the enrollment identities are members.
      const heightBefore = await peerMember.peerHeight();
      expect(await adminMember.peerHeight()).to.equal(heightBefore);

      const refusals = {
        peerRead: await failure(peerTls.peerHeight()),
        adminRead: await failure(adminTls.peerHeight()),
        peerWrite: await failure(peerTls.submit('system:PutNote', [key, 'forged by the peer TLS key'])),
        adminWrite: await failure(adminTls.submit('system:PutNote', [key, 'forged by the admin TLS key'])),
      };
      for (const [what, err] of Object.entries(refusals)) {
        expect(err, what).to.be.instanceOf(ThreadsealError);
        expect((err as Error).message, what).to.match(/access denied|creator|certificate|identity/i);
      }

      const note = await adminMember.evaluate('system:GetNote', [key]).then(
        () => 'written',
        (err: unknown) => (err as ThreadsealError).code,
      );
      expect(note).to.equal('NOT_FOUND');
      expect(await adminMember.peerHeight()).to.equal(heightBefore);
    } finally {
      for (const c of opened) c.close();
      client.close();
    }
  });
});
