/**
 * `npm run bench -- network`: time to chaincode-ready (fresh and restart), chaincode redeploy, peak RSS
 * per process kind, and submit→commit latency of the smoke transaction over sequential submits.
 * Runs its own network (state .threadseal/bench, ports 37100+) and always removes it.
 * Baselines: for figures with a target in the foundation issue, the target (ratio ≤ 1 meets it);
 * the evaluate latency line is the same-run reference for the commit latency.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLedgerConnection } from '@threadseal/ledger-client';
import { FabricNetwork, peakRssKiB, readProcesses, repoRoot } from '@threadseal/network';
import { percentile, printResults, progress, result, type BenchResult } from './report';

const SUBMITS = Number(process.env['BENCH_SUBMITS'] ?? 200);

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  const network = FabricNetwork.open({
    stateDir: join(repoRoot(), '.threadseal', 'bench'),
    basePort: Number(process.env['BENCH_BASE_PORT'] ?? 37100),
    log: (l) => {
      progress(l);
    },
  });
  const marker = join(repoRoot(), 'chaincode', 'dist', 'redeploy-marker.js');
  let keep = false;
  const stop = (): void => {
    void network.reset().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await network.reset();
    const fresh = await network.up();
    const deployStage = fresh.stages.find((s) => s.stage === 'deploying chaincode')?.ms ?? 0;
    progress(`fresh up ${fresh.totalMs} ms`);
    results.push(result('network_up_fresh_to_chaincode_ready', fresh.totalMs / 1000, 's', 45));

    const rssIdle = rssByKind(network);
    const conn = openLedgerConnection(network.connectionFile, { org: 'oem', user: 'ip-admin' });
    const commitMs: number[] = [];
    const evalMs: number[] = [];
    try {
      for (let i = 0; i < 5; i++) await conn.submit('system:PutNote', [`warmup-${i}`, 'x']);
      for (let i = 0; i < SUBMITS; i++) {
        const t = process.hrtime.bigint();
        await conn.submit('system:PutNote', [`bench-${i}`, `value ${i}`]);
        commitMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        const e = process.hrtime.bigint();
        await conn.evaluate('system:GetNote', [`bench-${i}`]);
        evalMs.push(Number(process.hrtime.bigint() - e) / 1e6);
      }
    } finally {
      conn.close();
    }
    commitMs.sort((a, b) => a - b);
    evalMs.sort((a, b) => a - b);
    progress(`${SUBMITS} sequential submits: p50 ${percentile(commitMs, 50).toFixed(1)} ms`);
    results.push(result('smoke_submit_to_commit_p50', percentile(commitMs, 50), 'ms', 300));
    results.push(result('smoke_submit_to_commit_p99', percentile(commitMs, 99), 'ms', 300));
    results.push(result('smoke_evaluate_p50', percentile(evalMs, 50), 'ms', percentile(commitMs, 50)));

    const rssLoaded = rssByKind(network);
    for (const [kind, kib] of Object.entries(rssLoaded)) {
      results.push(result(`peak_rss_${kind}`, kib / 1024, 'MiB', (rssIdle[kind] ?? kib) / 1024));
    }

    writeFileSync(marker, '// bench: changes the chaincode digest\n');
    const t = Date.now();
    const redeploy = await network.deployChaincode();
    if (!redeploy.committed) throw new Error('redeploy did not commit a new sequence');
    results.push(result('chaincode_redeploy_to_ready', (Date.now() - t) / 1000, 's', deployStage / 1000));
    // The marker stays until the end: the restart below must find the committed code unchanged.

    await network.down();
    const restart = await network.up();
    progress(`restart up ${restart.totalMs} ms`);
    results.push(result('network_up_restart_to_chaincode_ready', restart.totalMs / 1000, 's', 45));
  } catch (err) {
    keep = Boolean(process.env['BENCH_KEEP_ON_FAILURE']);
    throw err;
  } finally {
    rmSync(marker, { force: true });
    if (keep) {
      await network.down();
      progress(`kept ${network.plan.stateDir} for inspection`);
    } else {
      await network.reset();
    }
  }
  printResults(results);
}

/** Peak RSS (VmHWM) per process kind, the largest process of each kind, in KiB. */
function rssByKind(network: FabricNetwork): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of readProcesses(network.plan.stateDir)) {
    // The chaincode record is its supervisor; the server is its child (same process group).
    const pids = r.kind === 'chaincode' ? childPids(r.pid) : [r.pid];
    for (const pid of pids) {
      const kib = peakRssKiB(pid);
      if (kib !== undefined) out[r.kind] = Math.max(out[r.kind] ?? 0, kib);
    }
  }
  return out;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench network: ${(err as Error).message}\n`);
  process.exit(1);
});
