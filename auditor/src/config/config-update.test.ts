import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, msp, orderer as ordererProto, peer } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, type RawBlock } from '../block/raw-block';
import { verifyFabricSignature } from '../msp/msp';
import { describeConfigChanges } from './config-changes';
import { ANOMALY } from '../replay/anomaly';
import { Auditor, type AuditedTransaction } from '../replay/auditor';
import { spaceOf } from '../state/world-state';

// A channel built in the test (orderer org, Org1, Org2, each with its own openssl CA), a genesis block, and
// config blocks the orderer signs and cuts: some carry an update the orgs authorized, some are forged.

const CHANNEL = 'thread';
const DAY = 86_400_000;

interface Signer {
  readonly serialized: Uint8Array;
  readonly key: KeyObject;
  readonly publicKey: KeyObject;
  readonly pem: Buffer;
}

/** A protobuf length-delimited field (lengths below 2^14 here). */
function field(number: number, bytes: Uint8Array): Buffer {
  const length = bytes.length < 0x80 ? [bytes.length] : [(bytes.length & 0x7f) | 0x80, bytes.length >> 7];
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...length]), bytes]);
}

/** A low-S signature, as Fabric's signers make (signed again until S is in the lower half). */
function fabricSign(signer: Signer, data: Uint8Array): Uint8Array {
  for (;;) {
    const signature = sign('sha256', data, { key: signer.key, dsaEncoding: 'der' });
    if (verifyFabricSignature(signer.publicKey, data, signature)) return signature;
  }
}

describe('auditor config updates checked against the mod_policy of what they change (forged config blocks)', function () {
  let dir: string;
  const signers: Record<string, Signer> = {};
  const caPem: Record<string, Buffer> = {};
  let genesisConfig: common.Config;
  let genesis: RawBlock;
  let org2Crl: Buffer;
  /** Revocation lists org() puts in Org2's MSP (none but in the test of a stale list). */
  let org2Lists: Uint8Array[] = [];

  const who = (name: string): Signer => {
    const s = signers[name];
    if (!s) throw new Error(name);
    return s;
  };

  before(function () {
    if (spawnSync('openssl', ['version']).status !== 0) {
      process.stdout.write('      (skipped: openssl is not installed)\n');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'auditor-configtx-'));
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
    for (const [org, mspId, people] of [
      ['orderer', 'OrdererMSP', ['orderer', 'orderer-admin']],
      ['org1', 'Org1MSP', ['org1-admin', 'org1-member']],
      ['org2', 'Org2MSP', ['org2-admin']],
    ] as const) {
      ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${org}-ca.key`);
      ssl(
        'req',
        '-x509',
        '-new',
        '-key',
        `${org}-ca.key`,
        '-subj',
        `/CN=${org}-ca`,
        '-days',
        '3650',
        '-out',
        `${org}-ca.pem`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
      );
      caPem[mspId] = readFileSync(join(dir, `${org}-ca.pem`));
      for (const name of people) {
        ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.ec`);
        ssl('pkcs8', '-topk8', '-nocrypt', '-in', `${name}.ec`, '-out', `${name}.key`);
        ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
        ssl(
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          `${org}-ca.pem`,
          '-CAkey',
          `${org}-ca.key`,
          '-CAcreateserial',
          '-days',
          '3650',
          '-extfile',
          'leaf.ext',
          '-out',
          `${name}.pem`,
        );
        const pem = readFileSync(join(dir, `${name}.pem`));
        const sid = new msp.SerializedIdentity();
        sid.setMspid(mspId);
        sid.setIdBytes(pem);
        const key = createPrivateKey(readFileSync(join(dir, `${name}.key`)));
        signers[name] = {
          serialized: sid.serializeBinary(),
          key,
          pem,
          publicKey: createPublicKey(key),
        };
      }
    }
    // A CRL of Org2's CA (revoking nobody), valid for 30 days: what a stale revocation list looks like later.
    writeFileSync(join(dir, 'org2.db'), '');
    writeFileSync(join(dir, 'org2.crlnumber'), '01\n');
    writeFileSync(
      join(dir, 'org2.cnf'),
      '[ca]\ndefault_ca = d\n[d]\ndatabase = org2.db\ncrlnumber = org2.crlnumber\ndefault_md = sha256\n' +
        'default_crl_days = 30\ncrl_extensions = e\n[e]\nauthorityKeyIdentifier = keyid:always\n',
    );
    ssl(
      'ca',
      '-config',
      'org2.cnf',
      '-keyfile',
      'org2-ca.key',
      '-cert',
      'org2-ca.pem',
      '-gencrl',
      '-out',
      'org2.crl',
    );
    org2Crl = readFileSync(join(dir, 'org2.crl'));
    genesisConfig = channelConfig();
    genesis = block(0n, new Uint8Array(), configTransaction(genesisConfig, undefined, undefined), undefined);
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function signaturePolicy(mspId: string, role: 0 | 1): common.Policy {
    const r = new msp.MSPRole();
    r.setMspIdentifier(mspId);
    r.setRole(role === 1 ? msp.MSPRole.MSPRoleType.ADMIN : msp.MSPRole.MSPRoleType.MEMBER);
    const principal = new msp.MSPPrincipal();
    principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
    principal.setPrincipal(r.serializeBinary());
    const signedBy = new common.SignaturePolicy();
    signedBy.setSignedBy(0);
    const n = new common.SignaturePolicy.NOutOf();
    n.setN(1);
    n.setRulesList([signedBy]);
    const rule = new common.SignaturePolicy();
    rule.setNOutOf(n);
    const env = new common.SignaturePolicyEnvelope();
    env.setRule(rule);
    env.setIdentitiesList([principal]);
    const policy = new common.Policy();
    policy.setType(common.Policy.PolicyType.SIGNATURE);
    policy.setValue(env.serializeBinary());
    return policy;
  }

  function metaPolicy(rule: 0 | 1 | 2, sub: string): common.Policy {
    const meta = new common.ImplicitMetaPolicy();
    meta.setSubPolicy(sub);
    meta.setRule(rule);
    const policy = new common.Policy();
    policy.setType(common.Policy.PolicyType.IMPLICIT_META);
    policy.setValue(meta.serializeBinary());
    return policy;
  }

  function setPolicy(group: common.ConfigGroup, name: string, policy: common.Policy): void {
    const cp = new common.ConfigPolicy();
    cp.setPolicy(policy);
    cp.setModPolicy('Admins');
    group.getPoliciesMap().set(name, cp);
  }

  function org(mspId: string, admin: string): common.ConfigGroup {
    const fabric = new msp.FabricMSPConfig();
    fabric.setName(mspId);
    fabric.setRootCertsList([caPem[mspId] ?? new Uint8Array()]);
    fabric.setAdminsList([who(admin).pem]);
    if (mspId === 'Org2MSP') fabric.setRevocationListList(org2Lists);
    const config = new msp.MSPConfig();
    config.setType(0);
    config.setConfig(fabric.serializeBinary());
    const value = new common.ConfigValue();
    value.setValue(config.serializeBinary());
    value.setModPolicy('Admins');
    const group = new common.ConfigGroup();
    group.setModPolicy('Admins');
    group.getValuesMap().set('MSP', value);
    setPolicy(group, 'Admins', signaturePolicy(mspId, 1));
    setPolicy(group, 'Writers', signaturePolicy(mspId, 0));
    return group;
  }

  const ANY = common.ImplicitMetaPolicy.Rule.ANY;
  const MAJORITY = common.ImplicitMetaPolicy.Rule.MAJORITY;

  function channelConfig(): common.Config {
    const orderer = new common.ConfigGroup();
    orderer.setModPolicy('Admins');
    orderer.getGroupsMap().set('OrdererOrg', org('OrdererMSP', 'orderer-admin'));
    setPolicy(orderer, 'BlockValidation', metaPolicy(ANY, 'Writers'));
    setPolicy(orderer, 'Admins', metaPolicy(MAJORITY, 'Admins'));
    const application = new common.ConfigGroup();
    application.setModPolicy('Admins');
    application.getGroupsMap().set('Org1', org('Org1MSP', 'org1-admin'));
    application.getGroupsMap().set('Org2', org('Org2MSP', 'org2-admin'));
    setPolicy(application, 'Admins', metaPolicy(MAJORITY, 'Admins'));
    const channel = new common.ConfigGroup();
    channel.setModPolicy('Admins');
    channel.getGroupsMap().set('Orderer', orderer);
    channel.getGroupsMap().set('Application', application);
    setPolicy(channel, 'Admins', metaPolicy(MAJORITY, 'Admins'));
    const config = new common.Config();
    config.setSequence(0);
    config.setChannelGroup(channel);
    return config;
  }

  function header(type: number, creator: Signer | undefined, at?: number): common.Header {
    const ch = new common.ChannelHeader();
    ch.setType(type);
    ch.setChannelId(CHANNEL);
    // The timestamp (field 3, google.protobuf.Timestamp { seconds = 1 }) appended by hand: field order is free.
    let seconds = at === undefined ? 0 : Math.floor(at / 1000);
    const varint: number[] = [];
    for (; seconds >= 0x80; seconds = Math.floor(seconds / 0x80)) varint.push((seconds % 0x80) | 0x80);
    varint.push(seconds);
    const timestamp = at === undefined ? Buffer.alloc(0) : field(3, Buffer.from([0x08, ...varint]));
    const sh = new common.SignatureHeader();
    if (creator) {
      sh.setCreator(creator.serialized);
      sh.setNonce(randomBytes(24));
    }
    const h = new common.Header();
    h.setChannelHeader(Buffer.concat([ch.serializeBinary(), timestamp]));
    h.setSignatureHeader(sh.serializeBinary());
    return h;
  }

  /** A CONFIG envelope carrying `config` and the update it claims to come from, signed by the orderer. */
  function configTransaction(
    config: common.Config,
    update: common.ConfigUpdate | undefined,
    updateSigners: readonly string[] | undefined,
    at?: number,
  ): Uint8Array {
    const configEnvelope = new common.ConfigEnvelope();
    configEnvelope.setConfig(config);
    if (update) {
      const updateBytes = update.serializeBinary();
      const cue = new common.ConfigUpdateEnvelope();
      cue.setConfigUpdate(updateBytes);
      cue.setSignaturesList(
        (updateSigners ?? []).map((name) => {
          const sh = new common.SignatureHeader();
          sh.setCreator(who(name).serialized);
          sh.setNonce(randomBytes(24));
          const shBytes = sh.serializeBinary();
          const sig = new common.ConfigSignature();
          sig.setSignatureHeader(shBytes);
          sig.setSignature(fabricSign(who(name), Buffer.concat([shBytes, updateBytes])));
          return sig;
        }),
      );
      const payload = new common.Payload();
      payload.setHeader(header(common.HeaderType.CONFIG_UPDATE, undefined));
      payload.setData(cue.serializeBinary());
      const last = new common.Envelope();
      last.setPayload(payload.serializeBinary());
      configEnvelope.setLastUpdate(last);
    }
    const payload = new common.Payload();
    payload.setHeader(header(common.HeaderType.CONFIG, update ? who('orderer') : undefined, at));
    payload.setData(configEnvelope.serializeBinary());
    const payloadBytes = payload.serializeBinary();
    const env = new common.Envelope();
    env.setPayload(payloadBytes);
    if (update) env.setSignature(fabricSign(who('orderer'), payloadBytes));
    return env.serializeBinary();
  }

  /** A block the orderer cut and signed, with the peer's VALID flag. */
  function block(
    number: bigint,
    previousHash: Uint8Array,
    tx: Uint8Array,
    orderer: string | undefined,
  ): RawBlock {
    const data = [tx];
    const unsigned: RawBlock = {
      number,
      previousHash,
      dataHash: blockDataHash(data),
      data,
      metadata: [new Uint8Array(), new Uint8Array(), Uint8Array.from([0]), new Uint8Array()],
    };
    if (!orderer) return unsigned;
    const sh = new common.SignatureHeader();
    sh.setCreator(who(orderer).serialized);
    sh.setNonce(randomBytes(24));
    const shBytes = sh.serializeBinary();
    const signature = fabricSign(who(orderer), Buffer.concat([shBytes, blockHeaderBytes(unsigned)]));
    // common.Metadata { signatures: [MetadataSignature { signature_header, signature }] }, value empty.
    // Encoded by hand: in the whole unit run another copy of fabric-protos (fabric-shim's, without the
    // BFT identifier_header) replaces the MetadataSignature encoder registered in google-protobuf's globals.
    const metadata = field(2, Buffer.concat([field(1, shBytes), field(2, signature)]));
    return { ...unsigned, metadata: [metadata, ...unsigned.metadata.slice(1)] };
  }

  /** The update adding an AnchorPeers value to Org1 (Org1 moves to version 1), and the config it makes. */
  function anchorPeers(host: string, port: number): Uint8Array {
    const anchor = new peer.AnchorPeer();
    anchor.setHost(host);
    anchor.setPort(port);
    const anchors = new peer.AnchorPeers();
    anchors.setAnchorPeersList([anchor]);
    return anchors.serializeBinary();
  }

  function value(bytes: Uint8Array): common.ConfigValue {
    const v = new common.ConfigValue();
    v.setValue(bytes);
    v.setModPolicy('Admins');
    return v;
  }

  function batchSize(messages: number): Uint8Array {
    const b = new ordererProto.BatchSize();
    b.setMaxMessageCount(messages);
    b.setAbsoluteMaxBytes(10 * 1024 * 1024);
    b.setPreferredMaxBytes(2 * 1024 * 1024);
    return b.serializeBinary();
  }

  function capabilities(...names: string[]): Uint8Array {
    const c = new common.Capabilities();
    for (const name of names) c.getCapabilitiesMap().set(name, new common.Capability());
    return c.serializeBinary();
  }

  /** The update adding BatchSize and Capabilities to /Channel/Orderer (one version up), and the config it makes. */
  function ordererUpdate(): { update: common.ConfigUpdate; config: common.Config } {
    const config = channelConfig();
    config.setSequence(1);
    const orderer = config.getChannelGroup()?.getGroupsMap().get('Orderer');
    if (!orderer) throw new Error('Orderer');
    orderer.setVersion(1);
    orderer.getValuesMap().set('BatchSize', value(batchSize(500)));
    orderer.getValuesMap().set('Capabilities', value(capabilities('V2_0')));
    const readOrderer = new common.ConfigGroup();
    readOrderer.getGroupsMap().set('OrdererOrg', new common.ConfigGroup());
    readOrderer.getPoliciesMap().set('BlockValidation', new common.ConfigPolicy());
    readOrderer.getPoliciesMap().set('Admins', new common.ConfigPolicy());
    const read = new common.ConfigGroup();
    read.getGroupsMap().set('Orderer', readOrderer);
    const writeOrderer = new common.ConfigGroup();
    writeOrderer.setVersion(1);
    writeOrderer.setModPolicy('Admins');
    writeOrderer.getGroupsMap().set('OrdererOrg', new common.ConfigGroup());
    writeOrderer.getPoliciesMap().set('BlockValidation', new common.ConfigPolicy());
    writeOrderer.getPoliciesMap().set('Admins', new common.ConfigPolicy());
    writeOrderer.getValuesMap().set('BatchSize', value(batchSize(500)));
    writeOrderer.getValuesMap().set('Capabilities', value(capabilities('V2_0')));
    const write = new common.ConfigGroup();
    write.getGroupsMap().set('Orderer', writeOrderer);
    const update = new common.ConfigUpdate();
    update.setChannelId(CHANNEL);
    update.setReadSet(read);
    update.setWriteSet(write);
    return { update, config };
  }

  function org1Update(): { update: common.ConfigUpdate; config: common.Config } {
    const config = channelConfig();
    config.setSequence(1);
    const org1 = config.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().get('Org1');
    if (!org1) throw new Error('Org1');
    org1.setVersion(1);
    const anchors = new common.ConfigValue();
    anchors.setValue(anchorPeers('peer0.org1', 7051));
    anchors.setModPolicy('Admins');
    org1.getValuesMap().set('AnchorPeers', anchors);
    // Read set: the path down to Org1 and Org1's elements at their current versions; write set: the same
    // path at the same versions, Org1 one version up with its new value.
    const path = (leaf: common.ConfigGroup): common.ConfigGroup => {
      const application = new common.ConfigGroup();
      application.getGroupsMap().set('Org1', leaf);
      const channel = new common.ConfigGroup();
      channel.getGroupsMap().set('Application', application);
      return channel;
    };
    const readOrg1 = new common.ConfigGroup();
    readOrg1.getValuesMap().set('MSP', new common.ConfigValue());
    readOrg1.getPoliciesMap().set('Admins', new common.ConfigPolicy());
    readOrg1.getPoliciesMap().set('Writers', new common.ConfigPolicy());
    const update = new common.ConfigUpdate();
    update.setChannelId(CHANNEL);
    update.setReadSet(path(readOrg1));
    update.setWriteSet(path(org1));
    return { update, config };
  }

  function replay(next: (previousHash: Uint8Array) => RawBlock): {
    auditor: Auditor;
    transactions: AuditedTransaction[];
  } {
    const transactions: AuditedTransaction[] = [];
    const auditor = new Auditor({
      genesisHash: blockHeaderHash(genesis),
      onTransaction: (t) => transactions.push(t),
    });
    auditor.processBlock(genesis);
    auditor.processBlock(next(blockHeaderHash(genesis)));
    return { auditor, transactions };
  }

  it("applies an update signed by the admin of the org it changes (the org group's mod_policy)", function () {
    const { update, config } = org1Update();
    const { auditor, transactions } = replay((prev) =>
      block(1n, prev, configTransaction(config, update, ['org1-admin']), 'orderer'),
    );
    expect(auditor.anomalies.map((a) => `${a.kind}: ${a.detail}`)).to.deep.equal([
      `${ANOMALY.CONFIG_UPDATE}: configuration changed at block 1: /Channel/Application/Org1/AnchorPeers: absent → peer0.org1:7051`,
    ]);
    expect(transactions[1]?.recomputedCode).to.equal('VALID');
    expect(auditor.config?.blockNumber).to.equal(1n);
  });

  for (const [title, signersOf, reason] of [
    [
      'a member of the org, not its admin',
      ['org1-member'],
      /^the mod_policy \/Channel\/Application\/Org1\/Admins of \[Group\] \/Channel\/Application\/Org1 is not satisfied by the update's 1 signature\(s\) \(1 valid\)/,
    ],
    [
      "another org's admin",
      ['org2-admin'],
      /mod_policy \/Channel\/Application\/Org1\/Admins .* not satisfied/,
    ],
    ['nobody', [], /mod_policy \/Channel\/Application\/Org1\/Admins .* 0 signature\(s\)/],
  ] as const)
    it(`refuses an update to Org1 signed by ${title}: an anomaly, INVALID, the configuration unchanged`, function () {
      const { update, config } = org1Update();
      const { auditor, transactions } = replay((prev) =>
        block(1n, prev, configTransaction(config, update, signersOf), 'orderer'),
      );
      const unauthorized = auditor.anomalies.filter((a) => a.kind === ANOMALY.CONFIG_UPDATE_UNAUTHORIZED);
      expect(unauthorized.length).to.equal(1);
      expect(unauthorized[0]?.detail).to.match(reason);
      expect(transactions[1]?.recomputedCode).to.equal('INVALID_CONFIG_TRANSACTION');
      // The peer flagged it VALID: that is reported too.
      expect(auditor.anomalies.map((a) => a.kind)).to.include(ANOMALY.VALIDATION_FLAG_MISMATCH);
      expect(auditor.anomalies.map((a) => a.kind)).not.to.include(ANOMALY.CONFIG_UPDATE);
      expect(auditor.config?.blockNumber).to.equal(0n);
      expect(auditor.state.get(spaceOf(''), 'CHANNEL_CONFIG_ENV_BYTES')?.version.block).to.equal(0n);
    });

  it("refuses a block that carries an authorized update next to a configuration it does not make (another org's admins replaced)", function () {
    const { update, config } = org1Update();
    const org2 = config.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().get('Org2');
    const admins = org2?.getPoliciesMap().get('Admins');
    admins?.setPolicy(signaturePolicy('Org1MSP', 1));
    const { auditor } = replay((prev) =>
      block(1n, prev, configTransaction(config, update, ['org1-admin']), 'orderer'),
    );
    const unauthorized = auditor.anomalies.filter((a) => a.kind === ANOMALY.CONFIG_UPDATE_UNAUTHORIZED);
    expect(unauthorized.map((a) => a.detail)).to.deep.equal([
      "the carried configuration's [Policy] /Channel/Application/Org2/Admins is not what the update makes of it",
    ]);
    expect(auditor.config?.blockNumber).to.equal(0n);
  });

  it('refuses an update whose read set is stale or whose changed element does not move one version up', function () {
    const stale = org1Update();
    stale.update.getReadSet()?.getGroupsMap().get('Application')?.getGroupsMap().get('Org1')?.setVersion(3);
    const a = replay((prev) =>
      block(1n, prev, configTransaction(stale.config, stale.update, ['org1-admin']), 'orderer'),
    );
    expect(a.auditor.anomalies.find((x) => x.kind === ANOMALY.CONFIG_UPDATE_UNAUTHORIZED)?.detail).to.equal(
      '[Group] /Channel/Application/Org1 was read at version 3, it is at 0',
    );
    const jump = org1Update();
    jump.update.getWriteSet()?.getGroupsMap().get('Application')?.getGroupsMap().get('Org1')?.setVersion(2);
    jump.config
      .getChannelGroup()
      ?.getGroupsMap()
      .get('Application')
      ?.getGroupsMap()
      .get('Org1')
      ?.setVersion(2);
    const b = replay((prev) =>
      block(1n, prev, configTransaction(jump.config, jump.update, ['org1-admin']), 'orderer'),
    );
    expect(b.auditor.anomalies.find((x) => x.kind === ANOMALY.CONFIG_UPDATE_UNAUTHORIZED)?.detail).to.equal(
      '[Group] /Channel/Application/Org1 is written at version 2, it is at 0',
    );
  });

  it('needs a majority of the application orgs to add an org (/Channel/Application/Admins)', function () {
    const make = (): { update: common.ConfigUpdate; config: common.Config } => {
      const config = channelConfig();
      config.setSequence(1);
      const application = config.getChannelGroup()?.getGroupsMap().get('Application');
      if (!application) throw new Error('Application');
      application.setVersion(1);
      const org3 = org('Org2MSP', 'org2-admin');
      application.getGroupsMap().set('Org3', org3);
      const readApplication = new common.ConfigGroup();
      readApplication.getGroupsMap().set('Org1', new common.ConfigGroup());
      readApplication.getGroupsMap().set('Org2', new common.ConfigGroup());
      readApplication.getPoliciesMap().set('Admins', new common.ConfigPolicy());
      const read = new common.ConfigGroup();
      read.getGroupsMap().set('Application', readApplication);
      const writeApplication = new common.ConfigGroup();
      writeApplication.setVersion(1);
      writeApplication.setModPolicy('Admins');
      writeApplication.getGroupsMap().set('Org1', new common.ConfigGroup());
      writeApplication.getGroupsMap().set('Org2', new common.ConfigGroup());
      writeApplication.getGroupsMap().set('Org3', org3);
      writeApplication.getPoliciesMap().set('Admins', new common.ConfigPolicy());
      const write = new common.ConfigGroup();
      write.getGroupsMap().set('Application', writeApplication);
      const update = new common.ConfigUpdate();
      update.setChannelId(CHANNEL);
      update.setReadSet(read);
      update.setWriteSet(write);
      return { update, config };
    };
    const one = make();
    const refused = replay((prev) =>
      block(1n, prev, configTransaction(one.config, one.update, ['org1-admin']), 'orderer'),
    );
    expect(
      refused.auditor.anomalies.find((x) => x.kind === ANOMALY.CONFIG_UPDATE_UNAUTHORIZED)?.detail,
    ).to.match(
      /mod_policy \/Channel\/Application\/Admins of \[Group\] \/Channel\/Application .*MAJORITY Admins\) satisfied by 1 of 2 sub-groups, needs 2/,
    );
    expect(refused.auditor.config?.blockNumber).to.equal(0n);
    const both = make();
    const accepted = replay((prev) =>
      block(1n, prev, configTransaction(both.config, both.update, ['org1-admin', 'org2-admin']), 'orderer'),
    );
    expect(accepted.auditor.anomalies.map((a) => a.kind)).to.deep.equal([ANOMALY.CONFIG_UPDATE]);
    expect(accepted.auditor.config?.orgs.map((o) => o.groupName).sort()).to.deep.equal([
      'OrdererOrg',
      'Org1',
      'Org2',
      'Org3',
    ]);
  });

  it('reports an orderer update as what it changed (batch size, capabilities), and a forged one as refused, not as a change', function () {
    const signed = ordererUpdate();
    const accepted = replay((prev) =>
      block(1n, prev, configTransaction(signed.config, signed.update, ['orderer-admin']), 'orderer'),
    );
    expect(accepted.auditor.anomalies.map((a) => `${a.kind}: ${a.detail}`)).to.deep.equal([
      `${ANOMALY.CONFIG_UPDATE}: configuration changed at block 1: ` +
        '/Channel/Orderer/BatchSize: absent → max 500 messages, absolute max 10485760 bytes, preferred max 2097152 bytes; ' +
        '/Channel/Orderer/Capabilities: absent → V2_0',
    ]);
    expect(accepted.auditor.config?.blockNumber).to.equal(1n);
    // The same change signed by an application org's admin: refused, the batch size stays unset.
    const forged = ordererUpdate();
    const refused = replay((prev) =>
      block(1n, prev, configTransaction(forged.config, forged.update, ['org1-admin']), 'orderer'),
    );
    expect(refused.auditor.anomalies.map((a) => a.kind)).to.deep.equal([
      ANOMALY.CONFIG_UPDATE_UNAUTHORIZED,
      ANOMALY.VALIDATION_FLAG_MISMATCH,
    ]);
    expect(refused.auditor.anomalies[0]?.detail).to.match(/mod_policy \/Channel\/Orderer\/Admins/);
    expect(refused.auditor.config?.blockNumber).to.equal(0n);
    expect(
      refused.auditor.config?.config
        .getChannelGroup()
        ?.getGroupsMap()
        .get('Orderer')
        ?.getValuesMap()
        .has('BatchSize'),
    ).to.equal(false);
  });

  it('describes each changed config value by what it holds: addresses, batch size, capabilities, anchor peers, orgs, policies', function () {
    const before = channelConfig();
    const channel = before.getChannelGroup();
    channel?.getValuesMap().set('OrdererAddresses', value(addresses('orderer0:7050')));
    channel
      ?.getGroupsMap()
      .get('Orderer')
      ?.getValuesMap()
      .set('BatchSize', value(batchSize(10)));
    channel?.getValuesMap().set('Capabilities', value(capabilities('V2_0')));
    const after = common.Config.deserializeBinary(before.serializeBinary());
    const next = after.getChannelGroup();
    next?.getValuesMap().set('OrdererAddresses', value(addresses('orderer0:7050', 'evil:7050')));
    next
      ?.getGroupsMap()
      .get('Orderer')
      ?.getValuesMap()
      .set('BatchSize', value(batchSize(5000)));
    next?.getValuesMap().set('Capabilities', value(capabilities('V2_0', 'V3_0')));
    const application = next?.getGroupsMap().get('Application');
    application
      ?.getGroupsMap()
      .get('Org2')
      ?.getValuesMap()
      .set('AnchorPeers', value(Buffer.from('not anchor peers')));
    application?.getGroupsMap().set('Org3', org('Org2MSP', 'org2-admin'));
    application?.getPoliciesMap().get('Admins')?.setPolicy(metaPolicy(ANY, 'Admins'));
    expect(describeConfigChanges(before, after)).to.deep.equal([
      '/Channel/Capabilities: V2_0 → V2_0, V3_0',
      '/Channel/OrdererAddresses: orderer0:7050 → orderer0:7050, evil:7050',
      '/Channel/Application policy Admins: MAJORITY Admins → ANY Admins',
      '/Channel/Application/Org2/AnchorPeers: absent → 16 bytes that do not decode as AnchorPeers',
      '/Channel/Application/Org3 added',
      '/Channel/Application/Org3/MSP: absent → MSP Org2MSP: 1 root, 0 intermediate, 1 admin certificate(s), 0 revocation list(s), node OUs off',
      '/Channel/Application/Org3 policy Admins: absent → a signature policy',
      '/Channel/Application/Org3 policy Writers: absent → a signature policy',
      '/Channel/Orderer/BatchSize: max 10 messages, absolute max 10485760 bytes, preferred max 2097152 bytes → max 5000 messages, absolute max 10485760 bytes, preferred max 2097152 bytes',
    ]);
  });

  function addresses(...list: string[]): Uint8Array {
    const a = new common.OrdererAddresses();
    a.setAddressesList(list);
    return a.serializeBinary();
  }

  it("reports an org's revocation list past its nextUpdate at the first block after it, and keeps using it (not failed closed)", function () {
    org2Lists = [org2Crl];
    try {
      const crlGenesis = block(
        0n,
        new Uint8Array(),
        configTransaction(channelConfig(), undefined, undefined),
        undefined,
      );
      const run = (at: number) => {
        const { update, config } = org1Update();
        const auditor = new Auditor({ genesisHash: blockHeaderHash(crlGenesis) });
        auditor.processBlock(crlGenesis);
        const one = block(
          1n,
          blockHeaderHash(crlGenesis),
          configTransaction(config, update, ['org1-admin'], at),
          'orderer',
        );
        auditor.processBlock(one);
        return auditor;
      };
      const nextUpdate = Date.now() + 30 * DAY;
      const fresh = run(Date.now());
      expect(fresh.anomalies.map((a) => a.kind)).to.deep.equal([ANOMALY.CONFIG_UPDATE]);
      const late = nextUpdate + DAY;
      const stale = run(late);
      expect(stale.anomalies.map((a) => a.kind)).to.deep.equal([
        ANOMALY.REVOCATION_LIST_STALE,
        ANOMALY.CONFIG_UPDATE,
      ]);
      const detail = stale.anomalies[0]?.detail ?? '';
      expect(detail).to.match(
        /^Org2MSP: revocation list 0 was to be replaced by \S+Z \(its nextUpdate\), before the block time \S+Z; identities are still checked against it$/,
      );
      expect(Math.abs(Date.parse(/by (\S+Z)/.exec(detail)?.[1] ?? '') - nextUpdate)).to.be.below(DAY);
      expect(stale.anomalies[0]?.orgs).to.deep.equal(['Org2MSP']);
      expect(stale.anomalies[0]?.block).to.equal(1n);
      // Not failed closed: the update (signed by Org1, orderer-signed) is applied as Fabric applies it.
      expect(stale.config?.blockNumber).to.equal(1n);
    } finally {
      org2Lists = [];
    }
  });
});
