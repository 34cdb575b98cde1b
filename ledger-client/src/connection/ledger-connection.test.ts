import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GatewayError, signers, type HSMSignerFactory } from '@hyperledger/fabric-gateway';
import { LedgerError } from '@threadseal/ledger-model';
import { expect } from 'chai';
import { loadMspCredentials } from '../profile/msp-identity';
import { startFakeGateway, type FakeGateway } from '../testing/fake-gateway';
import { CausalGroup } from './causal-group';
import { DEFAULT_DEADLINES, LedgerConnection, type LedgerConnectionOptions } from './ledger-connection';
import { LedgerUnavailableError } from './ledger-errors';

const MSP_DIR = join(__dirname, '..', '..', 'test-msp');
const credentials = loadMspCredentials(MSP_DIR, 'TestOrgMSP');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('LedgerConnection against a fake gateway', function () {
  let fake: FakeGateway;
  let grpcClient: grpc.Client;
  const opened: LedgerConnection[] = [];

  const connectTo = (options: Partial<LedgerConnectionOptions> = {}): LedgerConnection => {
    const c = LedgerConnection.connect({
      client: grpcClient,
      identity: credentials.identity,
      signer: signers.newPrivateKeySigner(credentials.privateKey),
      channel: 'thread',
      chaincode: 'threadseal',
      ...options,
    });
    opened.push(c);
    return c;
  };

  before(async function () {
    fake = await startFakeGateway('thread');
    grpcClient = fake.newClient();
  });

  after(async function () {
    grpcClient.close();
    await fake.stop();
  });

  beforeEach(function () {
    fake.script = {};
    fake.calls.length = 0;
  });

  afterEach(function () {
    for (const c of opened.splice(0)) c.close();
  });

  const calls = (): string[] => fake.calls.map((c) => `${c.method} ${c.call?.name ?? ''}`.trim());

  describe('causal group', function () {
    it('makes a connection wait until its peer holds the newest block another connection of the group saw committed', async function () {
      const causal = new CausalGroup();
      const writer = connectTo({ causal });
      const reader = connectTo({ causal });
      fake.script.commitStatus = () => ({ code: 0, blockNumber: 7n });
      await writer.submit('system:PutNote', ['k', 'v']);
      expect(causal.newestCommittedBlock).to.equal(7n);
      // The reader's peer is behind: heights 6, 7, then 8 (block 7 committed).
      const heights = [6n, 7n, 8n];
      fake.script.height = () => heights.shift() ?? 8n;
      fake.calls.length = 0;

      await reader.evaluate('system:GetNote', ['k']);

      expect(calls()).to.deep.equal([
        'Evaluate GetChainInfo',
        'Evaluate GetChainInfo',
        'Evaluate GetChainInfo',
        'Evaluate system:GetNote',
      ]);
    });

    it('asks no height once its peer is known to hold the mark, and never without a group', async function () {
      const causal = new CausalGroup();
      const writer = connectTo({ causal });
      fake.script.commitStatus = () => ({ code: 0, blockNumber: 3n });
      await writer.submit('system:PutNote', ['k', 'v']);
      const loner = connectTo();
      fake.calls.length = 0;

      await writer.evaluate('system:GetNote', ['k']);
      await loner.evaluate('system:GetNote', ['k']);

      expect(calls()).to.deep.equal(['Evaluate system:GetNote', 'Evaluate system:GetNote']);
    });

    it('goes ahead after catchUpMs when the peer never catches up', async function () {
      const causal = new CausalGroup();
      causal.observeCommit(50n);
      fake.script.height = () => 10n;
      const started = Date.now();

      await connectTo({ causal, deadlines: { catchUpMs: 60 } }).evaluate('system:GetNote', ['k']);

      expect(Date.now() - started).to.be.within(60, 2_000);
      expect(calls().at(-1)).to.equal('Evaluate system:GetNote');
    });

    it('keeps the newest block it was told about', function () {
      const causal = new CausalGroup();
      causal.observeCommit(5n);
      causal.observeCommit(3n);
      expect(causal.newestCommittedBlock).to.equal(5n);
    });
  });

  describe('deadlines', function () {
    it('are taken from the options: a slow evaluate fails with DEADLINE_EXCEEDED', async function () {
      fake.script.evaluate = () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve({ result: '{}' });
          }, 300),
        );

      const err = await rejection(
        connectTo({ deadlines: { evaluateMs: 30 } }).evaluate('system:GetNote', ['k']),
      );

      expect(err).to.be.instanceOf(LedgerUnavailableError);
      expect(err).to.include({ code: 'LEDGER_UNAVAILABLE', grpcCode: grpc.status.DEADLINE_EXCEEDED });
    });

    it('default to documented values', function () {
      expect(DEFAULT_DEADLINES).to.deep.equal({
        evaluateMs: 10_000,
        endorseMs: 30_000,
        submitMs: 10_000,
        commitStatusMs: 60_000,
        catchUpMs: 10_000,
      });
    });

    it('must be positive', function () {
      let err: unknown;
      try {
        connectTo({ deadlines: { endorseMs: 0 } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(LedgerError);
      expect(err).to.include({
        code: 'CONNECTION_FAILED',
        message: 'CONNECTION_FAILED: deadline endorseMs must be a positive number of ms, got 0',
      });
    });
  });

  describe('the gRPC client', function () {
    it('is shared by connections of different identities and left open when they close', async function () {
      const first = connectTo();
      await first.evaluate('system:Ping');
      first.close();
      first.close(); // idempotent

      const second = connectTo();
      expect(Buffer.from(await second.evaluate('system:Ping')).toString()).to.equal('{}');
      expect(grpcClient.getChannel().getConnectivityState(false)).to.not.equal(
        grpc.connectivityState.SHUTDOWN,
      );
    });

    it("carries signatures the fake checks: a key that is not the certificate's is refused", async function () {
      const wrongKey = createPrivateKey(readFileSync(join(MSP_DIR, 'keystore', '0-old_sk')));
      const c = connectTo({ signer: signers.newPrivateKeySigner(wrongKey) });

      const err = await rejection(c.evaluate('system:Ping'));

      expect(err).to.be.instanceOf(LedgerUnavailableError);
      expect((err as Error).cause).to.be.instanceOf(GatewayError);
      expect((err as LedgerUnavailableError).message).to.match(/is not signed by the key of its creator$/);
    });

    it('is handed to onClose once, when the connection that owns it closes', function () {
      let closed = 0;
      const c = connectTo({ onClose: () => closed++ });
      c.close();
      c.close();
      expect(closed).to.equal(1);
    });
  });

  describe('a PKCS#11 signer (SoftHSM2)', function () {
    const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
    let dir = '';
    let factory: HSMSignerFactory | undefined;
    const previousConf = process.env['SOFTHSM2_CONF'];

    before(function () {
      if (!existsSync(LIBRARY)) {
        console.log(`      (skipped: ${LIBRARY} is absent — apt-get install softhsm2)`);
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'ledger-client-softhsm-'));
      const conf = join(dir, 'softhsm2.conf');
      writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      process.env['SOFTHSM2_CONF'] = conf;
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', 'ledger-client-test', '--so-pin', '5678', '--pin', '1234'],
        {
          stdio: 'ignore',
        },
      );
      // The certificate's key goes into the token; the connection then signs there and never sees it.
      execFileSync(
        'softhsm2-util',
        [
          '--import',
          credentials.privateKeyFile,
          '--token',
          'ledger-client-test',
          '--label',
          'user',
          '--id',
          '75736572',
          '--pin',
          '1234',
        ],
        { stdio: 'ignore' },
      );
      factory = signers.newHSMSignerFactory(LIBRARY);
    });

    after(function () {
      factory?.dispose();
      if (previousConf === undefined) delete process.env['SOFTHSM2_CONF'];
      else process.env['SOFTHSM2_CONF'] = previousConf;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('signs proposals that verify against the certificate', async function () {
      const hsm = (factory as HSMSignerFactory).newSigner({
        label: 'ledger-client-test',
        pin: '1234',
        identifier: 'user', // CKA_ID 0x75736572
      });
      try {
        fake.script.commitStatus = () => ({ code: 0, blockNumber: 2n });
        const committed = await connectTo({ signer: hsm.signer }).submit('system:PutNote', ['k', 'v']);
        // The fake refuses any proposal whose signature does not verify with the creator's certificate.
        expect(committed.blockNumber).to.equal(2n);
        expect(calls()).to.deep.equal(['Endorse system:PutNote', 'Submit', 'CommitStatus']);
      } finally {
        hsm.close();
      }
    });
  });
});
