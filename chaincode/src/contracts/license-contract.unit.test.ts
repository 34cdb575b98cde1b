import '@threadseal/test-support/quiet-logs';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import {
  canonicalJson,
  EVENT,
  TX,
  withDigestKey,
  type Dsi,
  type LicenseTermsView,
  type LicenseView,
  type Build,
  type Machine,
} from '@threadseal/ledger-model';
import { expect } from 'chai';
import { canonicalDigest, termsHash } from '@threadseal/rules';
import { termsCollection } from '../ledger/collections.js';
import {
  CM,
  DSI,
  expectLedgerError,
  GOOD_PARAMETERS,
  newMachineKey,
  OEM,
  OEM_IP_ADMIN,
  ROOT_GRANT,
  ROOT_TERMS,
  sha256,
  START,
  SUB,
  SUB_GRANT,
  SUB_TERMS,
  unitTestDsi,
  USERS,
} from '@threadseal/test-support';
import { licensedShops, UnitTestMachine, UnitTestNetwork } from '@threadseal/test-support/chaincode';
import { contracts } from '../index.js';

describe('DsiContract, MachineContract and LicenseContract (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);

  it('lets only an ip-admin register a DSI and only the owner supersede or revoke it', async () => {
    const net = new UnitTestNetwork(contracts, START);
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.dsi.register, DSI),
      'FORBIDDEN',
      'registering a DSI requires role ip-admin, ManufacturerMSP client has license-admin',
    );
    await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.register, DSI),
      'ALREADY_EXISTS',
      `DSI ${DSI.dsiId} already exists`,
    );
    const successor = unitTestDsi({ revision: 'D' }).signedBy(OEM_IP_ADMIN);
    const cmIpAdmin = { ...USERS.cmAdmin, attributes: { role: 'ip-admin' } };
    await expectLedgerError(
      net.submit(cmIpAdmin, TX.dsi.supersede, { dsiId: DSI.dsiId, successor }),
      'FORBIDDEN',
      `changing DSI ${DSI.dsiId} is reserved to OemMSP, submitter is ManufacturerMSP`,
    );
    const next = await net.submit<Dsi>(USERS.oemAdmin, TX.dsi.supersede, { dsiId: DSI.dsiId, successor });
    expect(next).to.include({ supersedes: DSI.dsiId, revision: 'D', status: 'active' });
    const old = await net.evaluate<Dsi>(USERS.cmAdmin, TX.dsi.get, { dsiId: DSI.dsiId });
    expect(old).to.include({ status: 'superseded', supersededBy: successor.dsiId });
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.license.issue, {
        licenseId: 'L-OLD',
        dsiId: DSI.dsiId,
        holderMsp: CM,
        grant: ROOT_GRANT,
        confidential: false,
        terms: ROOT_TERMS,
      }),
      'DSI_NOT_ACTIVE',
      `DSI ${DSI.dsiId} is superseded; licenses can only be issued for an active DSI`,
    );
    expect(net.ledger.events.map((event) => event.name)).to.deep.equal([
      EVENT.dsiRegistered,
      EVENT.dsiSuperseded,
    ]);
  });

  it('refuses a machine key that is not P-256', async () => {
    const net = new UnitTestNetwork(contracts, START);
    await expectLedgerError(
      net.submit(USERS.cmMachineAdmin, TX.machine.register, {
        machineId: 'm1',
        make: 'EOS',
        model: 'M400',
        serial: 'S',
        firmware: '1',
        certifications: [],
        publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        recipientPublicKeyPem: newMachineKey('m1').recipientPublicKeyPem,
      }),
      'INVALID_ARGUMENT',
      'machine m1: publicKeyPem must be a P-256 public key in SPKI PEM',
    );
  });

  it('refuses a private key given as publicKeyPem and never publishes it', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const machine = newMachineKey('m-private');
    const pkcs8 = machine.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const sec1 = machine.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    for (const publicKeyPem of [pkcs8, sec1, `${machine.publicKeyPem}${pkcs8}`, rsa.toString()]) {
      await expectLedgerError(
        net.submit(USERS.cmMachineAdmin, TX.machine.register, {
          machineId: 'm-private',
          make: 'EOS',
          model: 'M400',
          serial: 'S',
          firmware: '1',
          certifications: [],
          publicKeyPem,
          recipientPublicKeyPem: machine.recipientPublicKeyPem,
        }),
        'INVALID_ARGUMENT',
        'machine m-private: publicKeyPem must be a P-256 public key in SPKI PEM',
      );
    }
    expect(net.ledger.keys()).to.deep.equal([]);
    expect(net.ledger.events).to.deep.equal([]);
    // The SPKI public key of the same pair is accepted.
    const registered = await net.submit<Machine>(USERS.cmMachineAdmin, TX.machine.register, {
      machineId: 'm-private',
      make: 'EOS',
      model: 'M400',
      serial: 'S',
      firmware: '1',
      certifications: [],
      publicKeyPem: machine.publicKeyPem,
      recipientPublicKeyPem: machine.recipientPublicKeyPem,
    });
    expect(registered.publicKeyPem).to.equal(machine.publicKeyPem);
  });

  it('lets only the holder split or allocate and only the grantor revoke', async () => {
    const { net } = await licensedShops(contracts);
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.split, {
        parentId: 'L-ROOT',
        licenseId: 'L-X',
        holderMsp: SUB,
        grant: { ...SUB_GRANT, quantity: 1 },
        terms: SUB_TERMS,
      }),
      'FORBIDDEN',
      'spending license L-ROOT is reserved to ManufacturerMSP, submitter is SubcontractorMSP',
    );
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.revoke, { licenseId: 'L-SUB', reason: 'x' }),
      'FORBIDDEN',
      'revoking license L-SUB is reserved to ManufacturerMSP, submitter is SubcontractorMSP',
    );
    await net.submit(USERS.cmAdmin, TX.license.revoke, { licenseId: 'L-SUB', reason: 'contract ended' });
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.revoke, { licenseId: 'L-SUB', reason: 'again' }),
      'LICENSE_REVOKED',
      /license L-SUB was already revoked at /,
    );
  });

  it('refuses a sub-license that widens its parent, listing every violation', async () => {
    const { net } = await licensedShops(contracts);
    const wider = {
      ...SUB_TERMS,
      machines: { ...SUB_TERMS.machines, makes: [], requiredCertifications: [] },
      envelope: [{ name: 'laserPower', unit: 'W', kind: 'range', min: 100, max: 350 }],
    };
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.split, {
        parentId: 'L-ROOT',
        licenseId: 'L-W',
        holderMsp: SUB,
        grant: { ...SUB_GRANT, quantity: 1, validUntil: '2027-06-01T00:00:00.000Z', scrapAllowance: 5 },
        terms: wider,
      }),
      'NARROWING_VIOLATION',
      'sub-license L-W widens parent L-ROOT: validUntil 2027-06-01T00:00:00.000Z is after parent validUntil 2027-01-01T00:00:00.000Z; scrapAllowance 5 exceeds parent scrapAllowance 2; ' +
        'machine makes must be a non-empty subset of [EOS, SLM], got any; required certifications must include [nadcap-am]; parameter laserPower range [100, 350] not within parent range [200, 400]; ' +
        'parameter bedTemperature is missing; parameter material is missing',
    );
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.split, {
        parentId: 'L-SUB',
        licenseId: 'L-S2',
        holderMsp: SUB,
        grant: { ...SUB_GRANT, quantity: 1 },
        terms: SUB_TERMS,
      }),
      'SUBLICENSE_NOT_ALLOWED',
      'license L-SUB does not allow sub-licensing',
    );
  });

  it('allocates only to eligible machines of the holder and only under manufacturing licenses', async () => {
    const { net } = await licensedShops(contracts);
    const m400 = new UnitTestMachine('sub-eos-m400-9');
    await net.submit(USERS.subMachineAdmin, TX.machine.register, {
      machineId: m400.machineId,
      make: 'EOS',
      model: 'M400',
      serial: 'S9',
      firmware: '1',
      certifications: ['nadcap-am', 'as9100'],
      publicKeyPem: m400.publicKeyPem,
      recipientPublicKeyPem: m400.recipientPublicKeyPem,
    });
    await expectLedgerError(
      net.submit(USERS.subAdmin, TX.license.allocate, {
        licenseId: 'L-SUB',
        machineId: m400.machineId,
        quantity: 1,
        scrapAllowance: 0,
      }),
      'MACHINE_NOT_ELIGIBLE',
      'machine sub-eos-m400-9 does not satisfy license L-SUB: model M400 not in [M290]',
    );
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.allocate, {
        licenseId: 'L-ROOT',
        machineId: 'sub-eos-m290-1',
        quantity: 1,
        scrapAllowance: 0,
      }),
      'MACHINE_NOT_ELIGIBLE',
      'machine sub-eos-m290-1 belongs to SubcontractorMSP, license L-ROOT is held by ManufacturerMSP',
    );
    await net.submit(USERS.cmAdmin, TX.license.split, {
      parentId: 'L-ROOT',
      licenseId: 'L-ENG',
      holderMsp: CM,
      grant: { ...ROOT_GRANT, quantity: 1, mode: 'engineering', maySublicense: false, scrapAllowance: 0 },
      terms: ROOT_TERMS,
    });
    await expectLedgerError(
      net.submit(USERS.cmAdmin, TX.license.allocate, {
        licenseId: 'L-ENG',
        machineId: 'cm-eos-m400-1',
        quantity: 1,
        scrapAllowance: 0,
      }),
      'MODE_NOT_PERMITTED',
      'license L-ENG has mode engineering; only manufacturing licenses allocate units to machines',
    );
  });

  describe('confidential terms', () => {
    // Confidential terms as a client sends them: with their digest key (confidentialTransport adds one).
    const ROOT_CONF = withDigestKey(ROOT_TERMS);
    const SUB_CONF = withDigestKey(SUB_TERMS);
    const hmac = (keyHex: string, value: unknown): string =>
      createHmac('sha256', Buffer.from(keyHex, 'hex')).update(canonicalJson(value), 'utf8').digest('hex');
    async function confidentialTree(): Promise<{ net: UnitTestNetwork; machine: UnitTestMachine }> {
      const net = new UnitTestNetwork(contracts, START);
      const machine = new UnitTestMachine('sub-eos-m290-1');
      await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
      await net.submit(
        USERS.oemAdmin,
        TX.license.issue,
        { licenseId: 'L-ROOT', dsiId: DSI.dsiId, holderMsp: CM, grant: ROOT_GRANT, confidential: true },
        { transient: { terms: ROOT_CONF } },
      );
      await net.submit(USERS.subMachineAdmin, TX.machine.register, {
        machineId: machine.machineId,
        make: 'EOS',
        model: 'M290',
        serial: 'SUB-1',
        firmware: '3.9.0',
        certifications: ['nadcap-am', 'as9100'],
        publicKeyPem: machine.publicKeyPem,
        recipientPublicKeyPem: machine.recipientPublicKeyPem,
      });
      return { net, machine };
    }

    it('keeps the terms off the channel: the license holds only their hash and the event never carries them', async () => {
      const { net } = await confidentialTree();
      const view = await net.evaluate<LicenseView>(USERS.subAdmin, TX.license.get, { licenseId: 'L-ROOT' });
      expect(view.license.terms).to.equal(null);
      expect(view.license.termsHash).to.equal(termsHash(ROOT_CONF));
      // Keyed: HMAC under the terms' digest key, not the SHA-256 anyone could recompute from guessed terms.
      expect(view.license.termsHash).to.equal(hmac(ROOT_CONF.digestKey ?? '', ROOT_TERMS));
      expect(view.license.termsHash).to.not.equal(canonicalDigest(ROOT_TERMS));
      expect(JSON.stringify(net.ledger.events)).not.to.contain(ROOT_CONF.digestKey ?? '-');
      expect(view.license.confidential).to.deep.equal({ collection: termsCollection(OEM, CM) });
      expect(JSON.stringify(net.ledger.events)).not.to.contain('laserPower');
      expect(
        JSON.stringify(net.ledger.keys().map((key) => Buffer.from(net.ledger.get(key)).toString('utf8'))),
      ).not.to.contain('laserPower');
    });

    it('lets grantor and holder read the terms from their collection, nobody else', async () => {
      const { net } = await confidentialTree();
      const seen = await net.evaluate<LicenseTermsView>(USERS.cmAdmin, TX.license.getTerms, {
        licenseId: 'L-ROOT',
      });
      expect(seen.terms).to.deep.equal(ROOT_CONF);
      await expectLedgerError(
        net.evaluate(USERS.subAdmin, TX.license.getTerms, { licenseId: 'L-ROOT' }),
        'FORBIDDEN',
        'terms of license L-ROOT are readable by OemMSP and ManufacturerMSP, submitter is SubcontractorMSP',
      );
      await expectLedgerError(
        net.evaluate(
          USERS.cmAdmin,
          TX.license.getTerms,
          { licenseId: 'L-ROOT' },
          { peerCollections: new Set() },
        ),
        'CONFIDENTIAL_TERMS_UNAVAILABLE',
        'terms of license L-ROOT cannot be read from terms-ManufacturerMSP-OemMSP here: peer of ManufacturerMSP is not a member of collection terms-ManufacturerMSP-OemMSP',
      );
    });

    it('splits with the new terms in transient and the parent terms checked against their hash', async () => {
      const { net, machine } = await confidentialTree();
      const split = { parentId: 'L-ROOT', licenseId: 'L-SUB', holderMsp: SUB, grant: SUB_GRANT };
      await expectLedgerError(
        net.submit(USERS.cmAdmin, TX.license.split, split, { transient: { terms: SUB_CONF } }),
        'CONFIDENTIAL_TERMS_UNAVAILABLE',
        'terms of license L-ROOT are confidential; pass them in the transient field terms.L-ROOT',
      );
      await expectLedgerError(
        net.submit(USERS.cmAdmin, TX.license.split, split, {
          transient: { terms: SUB_CONF, 'terms.L-ROOT': { ...ROOT_CONF, workstations: ['forged'] } },
        }),
        'INVALID_ARGUMENT',
        /transient terms\.L-ROOT hashes to [0-9a-f]{64}, license L-ROOT commits to [0-9a-f]{64}$/,
      );
      await expectLedgerError(
        net.submit(
          USERS.cmAdmin,
          TX.license.split,
          { ...split, terms: SUB_CONF },
          { transient: { 'terms.L-ROOT': ROOT_CONF } },
        ),
        'INVALID_ARGUMENT',
        /input\.terms: license L-SUB is confidential/,
      );
      const child = await net.submit<LicenseView>(USERS.cmAdmin, TX.license.split, split, {
        transient: { terms: SUB_CONF, 'terms.L-ROOT': ROOT_CONF },
      });
      // The terms collection of the licence's guards: the DSI owner endorses its changes, so it reads them.
      expect(child.license.confidential).to.deep.equal({ collection: termsCollection(OEM, CM, SUB) });
      const own = await net.evaluate<LicenseTermsView>(USERS.subAdmin, TX.license.getTerms, {
        licenseId: 'L-SUB',
      });
      expect(own.terms).to.deep.equal(SUB_CONF);

      await net.submit(
        USERS.subAdmin,
        TX.license.allocate,
        { licenseId: 'L-SUB', machineId: machine.machineId, quantity: 1, scrapAllowance: 0 },
        { transient: { 'terms.L-SUB': SUB_CONF } },
      );
      net.advance(60_000);
      const signed = machine.startBuild(USERS.subOperator, 'L-SUB', net.now, GOOD_PARAMETERS);
      await expectLedgerError(
        net.submit(USERS.subOperator, TX.build.start, {}, { transient: { startBuild: signed } }),
        'CONFIDENTIAL_TERMS_UNAVAILABLE',
        'terms of license L-SUB are confidential; pass them in the transient field terms.L-SUB',
      );
      await expectLedgerError(
        net.submit(USERS.subOperator, TX.build.start, signed, { transient: { 'terms.L-SUB': SUB_CONF } }),
        'INVALID_ARGUMENT',
        'license L-SUB is confidential: send the StartBuild input in the transient field startBuild, not in the argument that reaches the block',
      );
      // The subcontractor cannot read L-ROOT's terms; its own narrower terms are enough (narrowing was checked at split).
      const build = await net.submit<Build>(
        USERS.subOperator,
        TX.build.start,
        {},
        { transient: { startBuild: signed, 'terms.L-SUB': SUB_CONF } },
      );
      expect(build.status).to.equal('running');
      expect(build.parameters).to.equal(null);
      expect(build.parametersDigest).to.equal(hmac(SUB_CONF.digestKey ?? '', GOOD_PARAMETERS));
      expect(JSON.stringify(net.ledger.events)).not.to.contain('laserPower');
      // The attack of issue 7 (8): guess the hidden parameters from the public digest. Without the key, every
      // candidate of the envelope's neighbourhood misses; the key is only in the collection.
      const guesses: string[] = [];
      for (let laserPower = 0; laserPower <= 1000; laserPower += 1)
        for (const bedTemperature of [150, 160, 170, 180, 190, 200])
          guesses.push(canonicalDigest({ ...GOOD_PARAMETERS, laserPower, bedTemperature }));
      expect(guesses).to.include(canonicalDigest(GOOD_PARAMETERS));
      expect(guesses).to.not.include(build.parametersDigest);
      const onChannel = net.ledger.keys().map((key) => Buffer.from(net.ledger.get(key)).toString('utf8'));
      expect(JSON.stringify(onChannel)).not.to.contain(SUB_CONF.digestKey ?? '-');
    });

    it('refuses confidential terms without a digest key, and public terms with one, writing nothing', async () => {
      const { net } = await confidentialTree();
      const keysBefore = net.ledger.keys();
      await expectLedgerError(
        net.submit(
          USERS.oemAdmin,
          TX.license.issue,
          { licenseId: 'L-NOKEY', dsiId: DSI.dsiId, holderMsp: CM, grant: ROOT_GRANT, confidential: true },
          { transient: { terms: ROOT_TERMS } },
        ),
        'INVALID_ARGUMENT',
        'license L-NOKEY: confidential terms need a digestKey (32 random bytes as hex; the client adds one) so that their hash cannot be guessed',
      );
      await expectLedgerError(
        net.submit(USERS.oemAdmin, TX.license.issue, {
          licenseId: 'L-PUBKEY',
          dsiId: DSI.dsiId,
          holderMsp: CM,
          grant: ROOT_GRANT,
          confidential: false,
          terms: ROOT_CONF,
        }),
        'INVALID_ARGUMENT',
        'license L-PUBKEY: public terms carry no digestKey (it would be published with them)',
      );
      await expectLedgerError(
        net.submit(
          USERS.oemAdmin,
          TX.license.issue,
          { licenseId: 'L-BADKEY', dsiId: DSI.dsiId, holderMsp: CM, grant: ROOT_GRANT, confidential: true },
          { transient: { terms: { ...ROOT_TERMS, digestKey: 'not-hex' } } },
        ),
        'INVALID_ARGUMENT',
        /transient\.terms\.digestKey: expected 64 lower-case hex characters/,
      );
      expect(net.ledger.keys()).to.deep.equal(keysBefore);
    });
  });
});

describe('queries and remaining edge cases (unit test over the in-memory ChaincodeStub)', function () {
  this.timeout(20_000);

  it('answers Get queries and part history', async () => {
    const { net, subMachine } = await licensedShops(contracts);
    const view = await net.evaluate<LicenseView>(USERS.subAdmin, TX.license.get, { licenseId: 'L-SUB' });
    expect(view).to.deep.include({ remaining: 5 });
    expect(view.balance).to.deep.equal({
      licenseId: 'L-SUB',
      sublicensed: 0,
      allocated: 3,
      scrapAllowanceAllocated: 1,
    });
    const machine = await net.evaluate<{ ownerMsp: string }>(USERS.oemAdmin, TX.machine.get, {
      machineId: subMachine.machineId,
    });
    expect(machine.ownerMsp).to.equal(SUB);
    const started = await net.submit<Build>(
      USERS.subOperator,
      TX.build.start,
      subMachine.startBuild(USERS.subOperator, 'L-SUB', net.now, GOOD_PARAMETERS),
    );
    await net.submit(USERS.subOperator, TX.build.complete, {
      buildId: started.buildId,
      partId: 'SN-9',
      processRecordDigest: sha256('x'),
    });
    const build = await net.evaluate<Build>(USERS.oemAdmin, TX.build.get, { buildId: started.buildId });
    expect(build).to.include({ status: 'completed', partId: 'SN-9' });
    const history = await net.evaluate<{ part: unknown[]; build: { value: Build }[] }>(
      USERS.oemAdmin,
      TX.trace.getPartHistory,
      { partId: 'SN-9' },
    );
    expect(history.part).to.have.length(1);
    expect(history.build.map((entry) => entry.value.status)).to.deep.equal(['completed', 'running']);
    await expectLedgerError(
      net.evaluate(USERS.oemAdmin, TX.trace.getPart, { partId: 'SN-404' }),
      'NOT_FOUND',
      'part SN-404 does not exist',
    );
  });

  it('refuses a distribution license without sub-licensing, a successor of another part, and transient terms that are not JSON', async () => {
    const net = new UnitTestNetwork(contracts, START);
    const otherPart = unitTestDsi({ partNumber: 'OTHER-1' });
    await net.submit(USERS.oemAdmin, TX.dsi.register, DSI);
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.license.issue, {
        licenseId: 'L-D',
        dsiId: DSI.dsiId,
        holderMsp: CM,
        grant: { ...ROOT_GRANT, mode: 'distribution', maySublicense: false },
        confidential: false,
        terms: ROOT_TERMS,
      }),
      'INVALID_ARGUMENT',
      'license L-D: a distribution license must allow sub-licensing',
    );
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.supersede, {
        dsiId: DSI.dsiId,
        successor: otherPart.signedBy(OEM_IP_ADMIN),
      }),
      'INVALID_ARGUMENT',
      `successor ${otherPart.dsiId} has part number OTHER-1, expected BRKT-7731`,
    );
    const issueConfidential = {
      licenseId: 'L-C',
      dsiId: DSI.dsiId,
      holderMsp: CM,
      grant: ROOT_GRANT,
      confidential: true,
    };
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.license.issue, issueConfidential),
      'INVALID_ARGUMENT',
      'transient.terms: expected the confidential terms of license L-C, got nothing',
    );
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.license.issue, issueConfidential, {
        transient: { terms: Buffer.from('{not json') },
      }),
      'INVALID_ARGUMENT',
      'transient field terms: argument must be one JSON object, got "{not json"',
    );
    await net.submit(USERS.oemAdmin, TX.dsi.revoke, { dsiId: DSI.dsiId, reason: 'recall' });
    await expectLedgerError(
      net.submit(USERS.oemAdmin, TX.dsi.revoke, { dsiId: DSI.dsiId, reason: 'again' }),
      'DSI_NOT_ACTIVE',
      `DSI ${DSI.dsiId} is already revoked`,
    );
  });
});
