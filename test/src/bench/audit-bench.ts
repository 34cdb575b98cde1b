/**
 * `npm run bench -- audit`: the auditor's replay rate over a ledger of at least 10,000 real transactions.
 * The ledger is generated once on the bench's own network (state .threadseal/bench-audit, ports 28300+:
 * a licensed fleet registering parts, Start + Complete) and its block files cached under .bench/audit/;
 * `--regenerate` makes a new one. Measured in the same run:
 * - the machine's ceiling: node:crypto P-256 verifications per second on 2 worker threads;
 * - the full replay (hash chain, orderer, creator and endorser signatures, MSP chains, policies, MVCC,
 *   world state; blocks decoded and their signatures verified on one worker thread per core), the same on
 *   the main thread alone, and the hashes-only replay, in transactions per second;
 * - the full rate as a ratio to the ceiling divided by the signatures per transaction;
 * - the CPU time the full replay used (all threads), against its elapsed time: what the replay would
 *   need of an idle machine, since under load the elapsed time measures the CPU share it got;
 * - the SQLite index (`indexChain`) of the same ledger, against the full replay.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  auditChain,
  genesisHashOfBlockFile,
  indexChain,
  peerBlockStoreDir,
  readBlockStore,
  type RawBlock,
} from '@threadseal/auditor';
import { FabricNetwork, repoRoot } from '@threadseal/network';
import { m400Terms, SCENARIO_PARAMETERS, sha256 } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import { setUpLicensedFleet } from './licensed-fleet';
import { printResults, progress, result, type BenchResult } from './report';

const TARGET_TX = Number(process.env['BENCH_AUDIT_TX'] ?? 10_000);
const MACHINES = Number(process.env['BENCH_MACHINES'] ?? 10);
const cacheDir = join(repoRoot(), '.bench', 'audit');

async function generate(): Promise<void> {
  const network = FabricNetwork.open({
    stateDir: join(repoRoot(), '.threadseal', 'bench-audit'),
    basePort: Number(process.env['BENCH_BASE_PORT'] ?? 28300),
    log: (l) => {
      progress(l);
    },
  });
  process.once('SIGINT', () => void network.reset().finally(() => process.exit(130)));
  const sessions = new LedgerSessions(network.connectionFile);
  try {
    await network.reset();
    await network.up();
    // Each part is two transactions (Start + Complete); the setup adds a few dozen more.
    const perMachine = Math.ceil(TARGET_TX / 2 / MACHINES) + 5;
    const { licenseId, fleet } = await setUpLicensedFleet(sessions, {
      tag: 'audit',
      fleetSize: MACHINES,
      unitsPerMachine: perMachine,
      measurementUnits: 1,
      terms: m400Terms(),
    });
    const operator = sessions.as('manufacturer', 'operator');
    let done = 0;
    await Promise.all(
      fleet.map(async (m) => {
        for (let i = 0; i < perMachine; i++) {
          const started = await operator.builds.startWithMachineKey(
            { licenseId, machineId: m.machineId, parameters: SCENARIO_PARAMETERS },
            m.privateKey,
          );
          await operator.builds.complete({
            buildId: started.value.buildId,
            partId: `A-${m.machineId}-${i}`,
            processRecordDigest: sha256(`${m.machineId} ${i}`),
          });
          done += 2;
          if (done % 1000 === 0) progress(`generated ${done} transactions`);
        }
      }),
    );
    const peer = network.plan.peers[0];
    if (!peer) throw new Error('the network has no peer');
    const channel = network.plan.description.channel.name;
    // Stop first so the copy is of finished files.
    sessions.closeAll();
    await network.down();
    rmSync(cacheDir, { recursive: true, force: true });
    mkdirSync(cacheDir, { recursive: true });
    cpSync(peerBlockStoreDir(join(peer.dir, 'data'), channel), join(cacheDir, 'blocks'), { recursive: true });
    cpSync(join(network.plan.channelDir, `${channel}.block`), join(cacheDir, 'genesis.block'));
    writeFileSync(
      join(cacheDir, 'ledger.json'),
      `${JSON.stringify({ generated: new Date().toISOString(), peer: peer.id })}\n`,
    );
  } finally {
    sessions.closeAll();
    await network.reset();
  }
}

/** node:crypto P-256 verifications per second, summed over `workers` threads verifying for `ms`. */
async function verifyCeiling(workers: number, ms: number): Promise<number> {
  const source = `
    const { generateKeyPairSync, sign, verify } = require('node:crypto');
    const { parentPort, workerData } = require('node:worker_threads');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.alloc(600, 7);
    const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
    const end = Date.now() + workerData.ms;
    let n = 0;
    while (Date.now() < end) { for (let i = 0; i < 50; i++) verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature); n += 50; }
    parentPort.postMessage(n / (workerData.ms / 1000));
  `;
  const rates = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(source, { eval: true, workerData: { ms } });
          w.once('message', (rate: number) => {
            resolve(rate);
          });
          w.once('error', reject);
        }),
    ),
  );
  return rates.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  if (process.argv.includes('--regenerate') || !existsSync(join(cacheDir, 'ledger.json'))) {
    progress(`generating a ledger of ≥ ${TARGET_TX} transactions (cached in .bench/audit/)`);
    await generate();
  }
  const genesisHash = genesisHashOfBlockFile(join(cacheDir, 'genesis.block'));
  const blocks: RawBlock[] = [...readBlockStore(join(cacheDir, 'blocks'))];
  const txCount = blocks.reduce((n, b) => n + b.data.length, 0);
  progress(
    `ledger: ${blocks.length} blocks, ${txCount} transactions (from ${readFileSync(join(cacheDir, 'ledger.json'), 'utf8').trim()})`,
  );
  const results: BenchResult[] = [];

  progress('ceiling: node:crypto P-256 verify on 2 worker threads for 3 s');
  const ceiling = await verifyCeiling(2, 3000);

  progress('replay with hashes only');
  // Each replay keeps only its report (an auditor holds the whole rebuilt state) and starts on a collected
  // heap, as a replay in its own process would: a heap grown by the runs before slows the next one.
  const collect = (): void => {
    (globalThis as { gc?: () => void }).gc?.();
  };
  collect();
  const hashes = { report: (await auditChain(blocks, { genesisHash, mode: 'hashes-only' })).report };
  const hashesTps = hashes.report.transactions / (hashes.report.elapsedMs / 1000);

  progress('replay with full verification, all on the main thread');
  collect();
  const oneThread = { report: (await auditChain(blocks, { genesisHash, workers: 0 })).report };
  const oneThreadTps = oneThread.report.transactions / (oneThread.report.elapsedMs / 1000);

  progress('replay with full verification, blocks decoded and signatures verified on worker threads');
  collect();
  const cpuBefore = process.cpuUsage();
  const full = { report: (await auditChain(blocks, { genesisHash })).report };
  const cpu = process.cpuUsage(cpuBefore);
  const fullCpuS = (cpu.user + cpu.system) / 1e6;
  const fullTps = full.report.transactions / (full.report.elapsedMs / 1000);
  if (full.report.failures.length > 0)
    progress(
      `WARNING: ${full.report.failures.length} audit failures, first: ${full.report.failures[0]?.detail ?? ''}`,
    );
  const sigsPerTx = full.report.signaturesVerified / full.report.transactions;
  const ceilingTps = ceiling / sigsPerTx;
  progress(
    `full: ${full.report.transactions} tx in ${full.report.elapsedMs} ms (main thread alone: ${oneThread.report.elapsedMs} ms), ` +
      `${sigsPerTx.toFixed(2)} signatures per tx, ceiling ${ceilingTps.toFixed(0)} tx/s; ` +
      `hashes-only (decode + hash + state, no crypto) takes ${hashes.report.elapsedMs} ms; ` +
      `same verdicts on one thread: ${oneThread.report.stateDigest === full.report.stateDigest && oneThread.report.failures.length === full.report.failures.length ? 'yes' : 'NO'}`,
  );
  progress('SQLite index of the same ledger (full verification, workers)');
  const indexDir = mkdtempSync(join(tmpdir(), 'bench-audit-index-'));
  let indexMs: number;
  try {
    collect();
    const started = Date.now();
    await indexChain(blocks, join(indexDir, 'audit.sqlite'), { genesisHash });
    indexMs = Date.now() - started;
  } finally {
    rmSync(indexDir, { recursive: true, force: true });
  }
  const indexTps = txCount / (indexMs / 1000);
  results.push(result('p256_verify_per_s_2_workers', ceiling, 'verify/s', ceiling));
  results.push(result('audit_signatures_per_tx', sigsPerTx, 'sig/tx', sigsPerTx));
  results.push(result('audit_replay_full_tx_per_s', fullTps, 'tx/s', 3000));
  results.push(result('audit_replay_full_vs_crypto_ceiling', fullTps, 'tx/s', ceilingTps));
  results.push(result('audit_replay_full_main_thread_only_tx_per_s', oneThreadTps, 'tx/s', fullTps));
  results.push(result('audit_replay_hashes_only_tx_per_s', hashesTps, 'tx/s', fullTps));
  results.push(result('audit_replay_full_cpu_s', fullCpuS, 's', full.report.elapsedMs / 1000));
  results.push(result('audit_replay_full_2core_cpu_bound_tx_per_s', (2 * txCount) / fullCpuS, 'tx/s', 3000));
  results.push(result('audit_index_full_tx_per_s', indexTps, 'tx/s', fullTps));
  results.push(result('audit_transactions_replayed', full.report.transactions, 'tx', TARGET_TX));
  printResults(results);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench audit: ${(err as Error).message}\n`);
  process.exit(1);
});
