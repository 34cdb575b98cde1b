import { expect } from 'chai';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, peer } from '@hyperledger/fabric-protos';
import {
  ANOMALY,
  auditChain,
  auditReportJson,
  compareWithSnapshot,
  blockDataHash,
  blockFiles,
  blockStoreSource,
  encodeBlockFile,
  genesisHashOfBlockFile,
  indexDigest,
  METADATA_INDEX,
  peerBlockSource,
  peerBlockStoreDir,
  readBlockStore,
  readStateSnapshot,
  type AuditedTransaction,
  type AuditReport,
  type RawBlock,
} from '@threadseal/auditor';
import { peerCliEnv, repoRoot } from '@threadseal/network';
import { PROVOKED_INVALID_CODES } from '../fixtures/block-census';
import { closeConnections, connectAs } from '../fixtures/ledger';
import { testNetwork } from '../fixtures/network-fixture';

// Runs after every other integration file (scripts/run-tests.mjs orders `*.after-suite.test.js` last): it
// audits every block the suite wrote, trusting only the genesis block's hash, then plays the attacker on
// copies of a peer's block files.
describe('audit: every block of the integration suite, trusting only the genesis hash', function () {
  let work: string;
  let genesisHash: Buffer;
  const copies: Record<string, string> = {};
  let blocks: RawBlock[];
  let transactions: AuditedTransaction[];
  let report: AuditReport;

  before(async function () {
    const network = testNetwork();
    const channel = network.plan.description.channel.name;
    genesisHash = genesisHashOfBlockFile(join(network.plan.channelDir, `${channel}.block`));
    work = mkdtempSync(join(tmpdir(), 'threadseal-audit-'));
    // Copies, so the peers' live files are never touched; the suite has stopped writing by now.
    const height = await connectAs({ org: 'oem', user: 'ip-admin' }).peerHeight();
    for (const p of network.plan.peers) {
      const dir = join(work, p.org);
      cpSync(peerBlockStoreDir(join(p.dir, 'data'), channel), dir, { recursive: true });
      copies[p.org] = dir;
    }
    blocks = [...readBlockStore(copies['oem'] ?? '')].filter((b) => b.number < height);
    transactions = [];
    ({ report } = await auditChain(blocks, { genesisHash, onTransaction: (tx) => transactions.push(tx) }));
  });

  after(function () {
    closeConnections();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds no failure: every peer flag equals the recomputed verdict, signatures and hash chain hold', function () {
    expect(report.blocks, 'blocks audited').to.be.greaterThan(50);
    expect(report.transactions).to.be.greaterThan(100);
    expect(report.failures.map((f) => `${f.kind} ${f.block}:${f.txIndex}: ${f.detail}`)).to.deep.equal([]);
    expect(report.signaturesVerified).to.be.greaterThan(report.transactions);
  });

  it("recomputes the suite's deliberate INVALID transactions with Fabric's reason and the endorsing org", function () {
    const invalid = transactions.filter((t) => t.recomputedCode !== 'VALID');
    expect(invalid.length, 'the suite provokes invalid transactions').to.be.greaterThan(0);
    for (const t of invalid) {
      expect(PROVOKED_INVALID_CODES).to.include(t.recomputedCode);
      expect(t.peerCode).to.equal(t.recomputedCode);
      expect(t.reason, `${t.txId} has a reason`).to.be.a('string').and.not.equal('');
      expect(t.endorserMspIds.length).to.be.greaterThan(0);
    }
    const policyFailures = invalid.filter((t) => t.recomputedCode === 'ENDORSEMENT_POLICY_FAILURE');
    expect(policyFailures.length, 'ENDORSEMENT_POLICY_FAILURE recomputed').to.be.greaterThan(0);
    expect(Object.keys(report.invalidByEndorsingOrg).length).to.be.greaterThan(0);
  });

  it('shows the forged transactions of the rogue-peer suite as INVALID, recomputed, attributed to the rogue orgs', function () {
    // test/src/ledger/rogue-peer.test.ts: write sets endorsed only by the attackers' rogue chaincode.
    const forged = transactions.filter(
      (t) =>
        t.recomputedCode === 'ENDORSEMENT_POLICY_FAILURE' &&
        t.endorserMspIds.length > 0 &&
        !t.endorserMspIds.includes('OemMSP'),
    );
    const colluding = forged.filter(
      (t) => [...t.endorserMspIds].sort().join(',') === 'ManufacturerMSP,SubcontractorMSP',
    );
    expect(colluding.length, 'forged by the manufacturer and the subcontractor together').to.be.at.least(8);
    expect(forged.filter((t) => t.endorserMspIds.join(',') === 'ManufacturerMSP').length).to.be.at.least(13);
    for (const t of forged) {
      expect(t.peerCode, t.txId).to.equal('ENDORSEMENT_POLICY_FAILURE');
      expect(t.reason, t.txId).to.be.a('string').and.not.equal('');
      expect(t.writes, `${t.txId} changed no state`).to.deep.equal([]);
    }
    expect(report.invalidByEndorsingOrg['SubcontractorMSP']?.['ENDORSEMENT_POLICY_FAILURE']).to.be.at.least(
      8,
    );
  });

  it('reads the same chain from a peer through qscc as from its block files', async function () {
    const connection = connectAs({ org: 'oem', user: 'ip-admin' });
    const height = BigInt(blocks.length);
    const { report: fromPeer } = await auditChain(
      peerBlockSource((n) => connection.block(n), height),
      {
        genesisHash,
      },
    );
    expect(auditReportJson(fromPeer)).to.equal(auditReportJson(report));
  });

  it('gives the same report, byte for byte, with signatures verified on worker threads or on the main thread alone', async function () {
    const { report: oneThread } = await auditChain(blocks, { genesisHash, workers: 0 });
    expect(auditReportJson(oneThread)).to.equal(auditReportJson(report));
    // And on a chain where one endorsement signature was changed: the same refusal either way.
    const target = transactions.find((t) => t.block > 10n && t.type === 'ENDORSER_TRANSACTION');
    if (!target) throw new Error('no endorser transaction');
    const forged = blocks.map((b) => {
      if (b.number !== target.block) return b;
      const envelope = Buffer.from(b.data[target.txIndex] ?? []);
      envelope[envelope.length - 90] = (envelope[envelope.length - 90] ?? 0) ^ 0x01;
      return { ...b, data: b.data.map((d, i) => (i === target.txIndex ? envelope : d)) };
    });
    const { report: parallel } = await auditChain(forged, { genesisHash });
    const { report: sequential } = await auditChain(forged, { genesisHash, workers: 0 });
    expect(parallel.failures.length).to.be.greaterThan(0);
    expect(auditReportJson(parallel)).to.equal(auditReportJson(sequential));
  });

  it("gives the same report from two peers' block stores", async function () {
    const other = [...readBlockStore(copies['subcontractor'] ?? '')].slice(0, blocks.length);
    const { report: second } = await auditChain(other, { genesisHash });
    expect(second.stateDigest).to.equal(report.stateDigest);
    expect(auditReportJson(second)).to.equal(auditReportJson(report));
  });

  it("rebuilds every peer's world state key for key (value, version, key-level policy), private data hashes too", async function () {
    const network = testNetwork();
    const channel = network.plan.description.channel.name;
    for (const p of network.plan.peers) {
      const completed = join(p.dir, 'data', 'snapshots', 'completed', channel);
      const env = peerCliEnv(network.plan, p);
      await promisify(execFile)(
        join(network.plan.binDir, 'peer'),
        [
          'snapshot',
          'submitrequest',
          '-c',
          channel,
          '-b',
          '0',
          '--peerAddress',
          env['CORE_PEER_ADDRESS'] ?? '',
          '--tlsRootCertFile',
          env['CORE_PEER_TLS_ROOTCERT_FILE'] ?? '',
        ],
        { env: { ...process.env, ...env } },
      );
      const deadline = Date.now() + 60_000;
      while (!existsSync(completed) || readdirSync(completed).length === 0) {
        if (Date.now() > deadline) throw new Error(`no snapshot of ${p.id} after 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const lastBlock = BigInt(
        readdirSync(completed)
          .map(Number)
          .sort((a, b) => b - a)[0] ?? 0,
      );
      const snapshot = readStateSnapshot(join(completed, lastBlock.toString()));
      const { auditor } = await auditChain(blocks, { genesisHash, toBlock: lastBlock });
      expect(auditor.nextBlock, `blocks up to the snapshot of ${p.id}`).to.equal(lastBlock + 1n);
      expect(snapshot.length, `${p.id} keys`).to.be.greaterThan(100);
      expect(
        compareWithSnapshot(auditor.state, snapshot, lastBlock).map((a) => a.detail),
        p.id,
      ).to.deep.equal([]);
      // The same comparison catches a peer that lies about one value.
      const lie = snapshot.map((e, i) => (i === 5 ? { ...e, value: Buffer.from('forged') } : e));
      expect(compareWithSnapshot(auditor.state, lie, lastBlock).map((a) => a.kind)).to.deep.equal([
        ANOMALY.STATE_MISMATCH,
      ]);
    }
  });

  it('refuses a chain whose genesis block is not the pinned one', async function () {
    const wrong = Buffer.alloc(32, 7);
    const { report: r } = await auditChain(blocks, { genesisHash: wrong });
    expect(r.failures.map((f) => f.kind)).to.deep.equal([ANOMALY.GENESIS_MISMATCH]);
  });

  describe('threadseal audit: SQLite index and part passports (CLI)', function () {
    const bin = join(repoRoot(), 'cli', 'bin', 'threadseal.js');
    const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, [bin, ...args, '--quiet'], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    it('gives an identical index after kills at random points and resumes: no gap, no duplicate', async function () {
      this.timeout(600_000);
      const store = copies['oem'] ?? '';
      const straight = join(work, 'straight.sqlite');
      const run = cli(
        'audit',
        'replay',
        '--genesis',
        genesisHash.toString('hex'),
        '--block-store',
        store,
        '--index',
        straight,
      );
      expect(run.status, run.stderr).to.equal(0);
      const expected = indexDigest(straight);
      const resumed = join(work, 'resumed.sqlite');
      const resumePoints: number[] = [];
      for (let kill = 0; kill < 4; kill++) {
        const child = spawn(
          process.execPath,
          [
            bin,
            'audit',
            'replay',
            '--genesis',
            genesisHash.toString('hex'),
            '--block-store',
            store,
            '--index',
            resumed,
            '--quiet',
          ],
          { stdio: 'ignore' },
        );
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const delay = 400 + Math.floor(Math.random() * 2500);
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        await exited;
        clearTimeout(timer);
        resumePoints.push(delay);
      }
      const last = cli(
        'audit',
        'replay',
        '--genesis',
        genesisHash.toString('hex'),
        '--block-store',
        store,
        '--index',
        resumed,
      );
      expect(last.status, last.stderr).to.equal(0);
      expect(JSON.parse(last.stdout) as { nextBlock: string }).to.include({
        nextBlock: blocks.length.toString(),
      });
      expect(indexDigest(resumed), `killed after ${resumePoints.join(', ')} ms`).to.equal(expected);
      // The index refuses to continue for another genesis: nothing is appended.
      const other = cli(
        'audit',
        'replay',
        '--genesis',
        'ab'.repeat(32),
        '--block-store',
        store,
        '--index',
        resumed,
      );
      expect(other.status).to.equal(1);
      expect(other.stderr).to.contain('INPUT_ERROR: the index');
      expect(indexDigest(resumed)).to.equal(expected);
    });

    it('reports per DSI, licence tree, machine and part from the rebuilt state, units recomputed', function () {
      const r = cli(
        'audit',
        'report',
        '--genesis',
        genesisHash.toString('hex'),
        '--block-store',
        copies['oem'] ?? '',
        '--json',
      );
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout) as {
        ledger: {
          dsis: {
            licenses: {
              granted: number;
              sublicensed: number;
              allocated: number;
              remaining: number;
              consumed: number;
              credited: number;
            }[];
          }[];
          parts: unknown[];
          anomalies: { kind: string }[];
        };
      };
      const partKeys = new Set(
        transactions
          .filter((t) => t.recomputedCode === 'VALID')
          .flatMap((t) => t.writes.filter((w) => w.key.startsWith('\u0000part\u0000')).map((w) => w.key)),
      );
      expect(out.ledger.parts.length).to.equal(partKeys.size);
      const nodes = out.ledger.dsis.flatMap((d) => d.licenses);
      expect(nodes.length).to.be.greaterThan(0);
      for (const n of nodes) {
        expect(n.remaining).to.equal(n.granted - n.sublicensed - n.allocated);
        expect(n.consumed).to.be.at.most(n.allocated + n.credited);
      }
      const kinds = new Set(out.ledger.anomalies.map((a) => a.kind));
      for (const never of [
        'PARTS_OVER_LICENSED',
        'ALLOCATION_OVERCONSUMED',
        'PARAMETER_VIOLATION',
        'LEDGER_FAILURE',
      ])
        expect(kinds.has(never), never).to.equal(false);
    });

    it('writes a passport that verifies offline, and refuses it with any byte changed, naming what failed', function () {
      const partKey = transactions
        .filter((t) => t.recomputedCode === 'VALID')
        .flatMap((t) => t.writes)
        .find((w) => w.key.startsWith('\u0000part\u0000'));
      const partId = partKey?.key.split('\u0000')[2];
      expect(partId, 'the suite produced a part').to.be.a('string');
      const file = join(work, 'passport.json');
      const made = cli(
        'audit',
        'passport',
        partId ?? '',
        '--genesis',
        genesisHash.toString('hex'),
        '--block-store',
        copies['oem'] ?? '',
        '--out',
        file,
      );
      expect(made.status, made.stderr).to.equal(0);
      const ok = cli('audit', 'verify-passport', file, '--genesis', genesisHash.toString('hex'));
      expect(ok.status, ok.stderr).to.equal(0);
      expect((JSON.parse(ok.stdout) as { ok: boolean }).ok).to.equal(true);
      const wrongGenesis = cli('audit', 'verify-passport', file, '--genesis', 'cd'.repeat(32));
      expect(wrongGenesis.status).to.equal(1);
      expect(wrongGenesis.stderr).to.contain('header 0 does not hash to the pinned genesis hash');
      const bytes = readFileSync(file);
      for (let i = 0; i < 25; i++) {
        const tampered = Buffer.from(bytes);
        const at = Math.floor(Math.random() * tampered.length);
        tampered[at] = (tampered[at] ?? 0) ^ (1 << (i % 7));
        const f = join(work, `passport-${i}.json`);
        writeFileSync(f, tampered);
        const r = cli('audit', 'verify-passport', f, '--genesis', genesisHash.toString('hex'));
        expect(r.status, `byte ${at} changed`).to.equal(1);
        expect(
          (JSON.parse(r.stdout) as { failures: string[] }).failures.length,
          `byte ${at}`,
        ).to.be.greaterThan(0);
      }
    });
  });

  describe('tampered copies of the block files', function () {
    function tamperedStore(name: string, edit: (blocks: RawBlock[]) => RawBlock[]): string {
      const dir = join(work, name);
      cpSync(copies['oem'] ?? '', dir, { recursive: true });
      for (const f of blockFiles(dir)) rmSync(f);
      writeFileSync(join(dir, 'blockfile_000000'), encodeBlockFile(edit(blocks.map((b) => ({ ...b })))));
      return dir;
    }
    async function audit(dir: string): Promise<AuditReport> {
      return (await auditChain(blockStoreSource(dir), { genesisHash })).report;
    }
    const multiTxBlock = (): RawBlock => {
      const b = blocks.find((x) => x.number > 10n && x.data.length >= 2);
      if (!b) throw new Error('no block with two transactions');
      return b;
    };
    const validEndorserTx = (): AuditedTransaction => {
      const t = transactions.find(
        (x) => x.block > 10n && x.recomputedCode === 'VALID' && x.type === 'ENDORSER_TRANSACTION',
      );
      if (!t) throw new Error('no valid endorser transaction');
      return t;
    };

    it('reports a flipped byte in a copied block file as a data hash mismatch at that block', async function () {
      const target = validEndorserTx();
      const dir = join(work, 'flipped');
      cpSync(copies['oem'] ?? '', dir, { recursive: true });
      const file = blockFiles(dir)[0] ?? '';
      const bytes = readFileSync(file);
      const envelope = Buffer.from(blocks[Number(target.block)]?.data[target.txIndex] ?? []);
      const at = bytes.indexOf(envelope);
      expect(at).to.be.greaterThan(0);
      const offset = at + envelope.length - 10; // inside the creator's signature
      bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
      writeFileSync(file, bytes);
      const r = await audit(dir);
      const kinds = r.failures.filter((f) => f.block === target.block).map((f) => f.kind);
      expect(kinds).to.include(ANOMALY.DATA_HASH_MISMATCH);
      expect(kinds).to.include(ANOMALY.VALIDATION_FLAG_MISMATCH);
      expect(r.failures[0]?.block, 'nothing before the tampered block is blamed').to.equal(target.block);
      expect(readFileSync(join(copies['oem'] ?? '', 'blockfile_000000')).equals(bytes)).to.equal(false);
    });

    it('reports a removed block as a gap and a broken hash chain', async function () {
      const removed = 20n;
      const dir = tamperedStore('removed', (bs) => bs.filter((b) => b.number !== removed));
      const r = await audit(dir);
      const at = r.failures.filter((f) => f.block === removed + 1n).map((f) => f.kind);
      expect(at).to.include.members([ANOMALY.BLOCK_NUMBER_GAP, ANOMALY.HASH_CHAIN_BROKEN]);
    });

    it('reports reordered transactions as a data hash mismatch', async function () {
      const target = multiTxBlock();
      const dir = tamperedStore('reordered', (bs) =>
        bs.map((b) =>
          b.number === target.number
            ? {
                ...b,
                data: [b.data[1] ?? new Uint8Array(), b.data[0] ?? new Uint8Array(), ...b.data.slice(2)],
              }
            : b,
        ),
      );
      const r = await audit(dir);
      expect(r.failures.filter((f) => f.block === target.number).map((f) => f.kind)).to.include(
        ANOMALY.DATA_HASH_MISMATCH,
      );
    });

    it('reports a removed transaction as a data hash mismatch and malformed flags', async function () {
      const target = multiTxBlock();
      const dir = tamperedStore('tx-removed', (bs) =>
        bs.map((b) => (b.number === target.number ? { ...b, data: b.data.slice(1) } : b)),
      );
      const kinds = (await audit(dir)).failures.filter((f) => f.block === target.number).map((f) => f.kind);
      expect(kinds).to.include.members([ANOMALY.DATA_HASH_MISMATCH, ANOMALY.VALIDATION_FLAGS_MALFORMED]);
    });

    it('reports a forged endorsement signature, even with the data hash recomputed to match', async function () {
      const target = validEndorserTx();
      const dir = tamperedStore('forged-endorsement', (bs) =>
        bs.map((b) => {
          if (b.number !== target.block) return b;
          const data = [...b.data];
          data[target.txIndex] = forgeEndorsement(data[target.txIndex] ?? new Uint8Array());
          return { ...b, data, dataHash: blockDataHash(data) };
        }),
      );
      const r = await audit(dir);
      const here = r.failures.filter((f) => f.block === target.block);
      expect(here.map((f) => f.kind)).to.include.members([
        ANOMALY.ENDORSEMENT_SIGNATURE_INVALID,
        ANOMALY.ORDERER_SIGNATURES_INVALID,
        ANOMALY.VALIDATION_FLAG_MISMATCH,
      ]);
      const forged = here.find((f) => f.kind === ANOMALY.ENDORSEMENT_SIGNATURE_INVALID);
      expect(forged?.txIndex).to.equal(target.txIndex);
      expect(forged?.detail).to.match(/signature of .* identity does not verify/);
      expect(
        r.failures.some((f) => f.block === target.block + 1n && f.kind === ANOMALY.HASH_CHAIN_BROKEN),
      ).to.equal(true);
    });

    it('reports a validation flag changed from INVALID to VALID, with the recomputed reason', async function () {
      const target = transactions.find((t) => t.recomputedCode !== 'VALID' && t.block > 0n);
      if (!target) throw new Error('the suite wrote no INVALID transaction');
      const dir = tamperedStore('flag', (bs) =>
        bs.map((b) => {
          if (b.number !== target.block) return b;
          const metadata = [...b.metadata];
          const flags = Uint8Array.from(metadata[METADATA_INDEX.TRANSACTIONS_FILTER] ?? []);
          flags[target.txIndex] = peer.TxValidationCode.VALID;
          metadata[METADATA_INDEX.TRANSACTIONS_FILTER] = flags;
          return { ...b, metadata };
        }),
      );
      const r = await audit(dir);
      // The flags are outside the header hash and the orderers' signatures: only the recomputation sees it.
      expect(r.failures.map((f) => [f.kind, f.block, f.txIndex])).to.deep.equal([
        [ANOMALY.VALIDATION_FLAG_MISMATCH, target.block, target.txIndex],
      ]);
      expect(r.failures[0]?.detail).to.contain(
        `the peer flagged VALID, the recomputed verdict is ${target.recomputedCode}`,
      );
    });
  });
});

/** Flips a bit in the first endorsement's signature of an envelope, re-encoding every layer. */
function forgeEndorsement(envelopeBytes: Uint8Array): Uint8Array {
  const envelope = common.Envelope.deserializeBinary(envelopeBytes);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const action = tx.getActionsList()[0];
  if (!action) throw new Error('no action');
  const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const endorsement = cap.getAction()?.getEndorsementsList()[0];
  if (!endorsement) throw new Error('no endorsement');
  const sig = Uint8Array.from(endorsement.getSignature_asU8());
  sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0x01;
  endorsement.setSignature(sig);
  action.setPayload(cap.serializeBinary());
  payload.setData(tx.serializeBinary());
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}
