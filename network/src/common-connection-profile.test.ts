import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { commonConnectionProfile, commonConnectionProfileFile } from './common-connection-profile';
import { loadDescription } from './description';
import { planNetwork, type NetworkPlan } from './plan';

describe('common connection profile', function () {
  let dir: string;
  let plan: NetworkPlan;
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const enrollmentPem = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n';

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-ccp-'));
    const description = loadDescription(join(__dirname, '..', 'profiles', 'reference.yaml'));
    plan = planNetwork(description, { stateDir: dir, repoRoot: '/repo', basePort: 41000 });
    for (const org of plan.orgs) {
      mkdirSync(dirname(org.tlsCaCert), { recursive: true });
      writeFileSync(org.tlsCaCert, pem);
      writeFileSync(org.caCert, enrollmentPem);
    }
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("has the fields Fabric's SDKs and Caliper read, pointing at the org's own peer and CA", function () {
    const manufacturer = plan.orgs.find((o) => o.name === 'manufacturer');
    if (!manufacturer) throw new Error('no manufacturer org');
    const peer = plan.peers.find((p) => p.org === 'manufacturer');
    if (!peer) throw new Error('no manufacturer peer');
    const ccp = commonConnectionProfile(plan, manufacturer);
    const peerName = 'peer0.manufacturer.threadseal.test';
    expect(ccp.client.organization).to.equal('manufacturer');
    expect(ccp.organizations).to.deep.equal({
      manufacturer: {
        mspid: 'ManufacturerMSP',
        peers: [peerName],
        certificateAuthorities: ['ca.manufacturer.threadseal.test'],
      },
    });
    expect(ccp.peers[peerName]).to.deep.equal({
      url: `grpcs://127.0.0.1:${peer.port}`,
      tlsCACerts: { pem },
      grpcOptions: { 'ssl-target-name-override': peerName, hostnameOverride: peerName },
    });
    expect(Object.keys(ccp.channels)).to.deep.equal(['thread']);
    expect(ccp.certificateAuthorities['ca.manufacturer.threadseal.test']?.url).to.equal(
      `https://127.0.0.1:${manufacturer.ca.port}`,
    );
    // The peers are trusted through the TLS CA root, never the enrollment CA's; the CA server's own
    // listener certificate is its enrollment CA's.
    expect(JSON.stringify(ccp.peers)).not.to.include(enrollmentPem.split('\n')[1]);
    expect(ccp.certificateAuthorities['ca.manufacturer.threadseal.test']?.tlsCACerts).to.deep.equal({
      pem: [enrollmentPem],
    });
    expect(commonConnectionProfileFile('manufacturer')).to.equal('connection-manufacturer.json');
  });
});
