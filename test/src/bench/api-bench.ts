/**
 * `npm run bench -- api`: the REST gateway on its own network (state .threadseal/bench-api, ports
 * BENCH_BASE_PORT, default 37500):
 * - REST overhead: license:Get through the manufacturer's gateway (GET /v1/licenses/:id, kept-alive mTLS
 *   connection, custodial identity) against the same evaluate through the ledger client directly, as the
 *   same identity, interleaved in the same run; overhead = REST − direct at p50 and p99 (target p50 ≤ 2 ms);
 * - requests/s of that read endpoint before shedding starts: closed loops of growing concurrency until
 *   the gateway answers 503 OVERLOADED, the best rate with no 503 (baseline: the direct client at the same
 *   concurrency);
 * - p99 latency at 80 % of that rate, open loop (baseline: the single-stream p99 through REST).
 * Where the overhead goes, per request: each REST sample is paired with the direct sample taken right after
 * it (overhead_paired = median of REST_i − direct_i), and split with the gateway's own `Server-Timing`
 * header: `handler` (the route handler, i.e. the ledger call) and `gateway` (from the request's first
 * middleware until the response starts to be written); own code = gateway − handler; REST − gateway = the
 * client's and the gateway's HTTP/TLS work, the socket writes and the extra process hop (both directions).
 * The same read with a bearer token (bound to the same certificate) shows what token checks cost; the same
 * read with `X-Threadseal-After-Block` naming a block the peer holds shows what the read-your-writes wait
 * costs once the gateway knows its peer's height (one reused connection, no height query). The per-caller
 * rate limit is off here (`callerRatePerSecond: 0`): the throughput step measures the global in-flight bound.
 * The floor of the extra hop, in the same run: the same kept-alive mTLS GET to `https-hop-server` (no gateway
 * code, no Fabric, a timer as long as the direct call's p50 instead of the ledger call) against the same
 * timer in this process (`api_hop_floor_p50`): what waking another process twice costs on this machine.
 * The REST client is the suite's kept-alive agent (`httpsAgent`, TCP_NODELAY like the gRPC client of the
 * direct calls); the load average is printed with each phase.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConnectionProfile } from '@threadseal/ledger-client';
import { FabricNetwork, identityFiles, repoRoot } from '@threadseal/network';
import { httpsAgent, httpsJson, m400Terms } from '@threadseal/test-support';
import { LedgerSessions } from '@threadseal/test-support/ledger';
import {
  orgCaPem,
  restAs,
  startOrgGateway,
  stopGateways,
  userCredential,
  type RestCall,
} from '../fixtures/gateways';
import { setUpLicensedFleet } from './licensed-fleet';
import { percentile, printResults, progress, result, type BenchResult } from './report';

const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 300);
const STEP_MS = Number(process.env['BENCH_STEP_MS'] ?? 3_000);
const MAX_IN_FLIGHT = Number(process.env['BENCH_MAX_IN_FLIGHT'] ?? 32);

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = now();
  await fn();
  return now() - t;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The `dur` of each metric of a `Server-Timing` header (`handler;dur=1.2, gateway;dur=1.5`). */
function serverTiming(header: string | string[] | undefined): Record<string, number> {
  const timings: Record<string, number> = {};
  for (const part of String(header ?? '').split(',')) {
    const match = /^\s*([a-z-]+);dur=([0-9.]+)\s*$/.exec(part);
    if (match?.[1] !== undefined && match[2] !== undefined) timings[match[1]] = Number(match[2]);
  }
  return timings;
}

/** Runs `concurrency` closed loops of `call` for `ms`; requests/s and how many answers were shed (503). */
async function closedLoop(
  call: () => Promise<number>,
  concurrency: number,
  ms: number,
): Promise<{ rps: number; shed: number; errors: number }> {
  const end = now() + ms;
  let done = 0;
  let shed = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end) {
        const status = await call().catch(() => 0);
        if (status === 200) done++;
        else if (status === 503) shed++;
        else errors++;
      }
    }),
  );
  return { rps: done / (ms / 1000), shed, errors };
}

/**
 * The floor of the extra process hop, in this run: `https-hop-server` (mutual TLS with the gateway's own
 * certificate and client CA, the licence's response body, a timer of `waitMs` instead of the ledger call)
 * against the same timer in this process, interleaved, `samples` of each, over a kept-alive connection
 * presenting the same caller's certificate.
 */
async function hopFloor(
  network: FabricNetwork,
  body: string,
  waitMs: number,
  samples: number,
): Promise<{ rest: number[]; timer: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'threadseal-hop-floor-'));
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, body);
  const tls = identityFiles(network.userDir('manufacturer', 'gateway-bench')).tls;
  const org = loadConnectionProfile(network.connectionFile).orgs['manufacturer'];
  if (!tls || !org) throw new Error('the bench gateway has no TLS enrollment');
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'https-hop-server.js'),
      ...['--wait-ms', String(waitMs), '--body-file', bodyFile],
      ...['--cert-file', tls.cert, '--key-file', tls.key, '--client-ca-file', org.enrollmentCaCert],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const agent = httpsAgent({
    ...userCredential('manufacturer', 'license-admin', network),
    ca: orgCaPem('manufacturer', network),
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => {
        resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('exit', (code) => {
        reject(new Error(`https-hop-server exited with ${code}`));
      });
    });
    const url = `https://127.0.0.1:${port}`;
    const get = async (): Promise<void> => {
      const res = await httpsJson(agent, url, 'GET', '/');
      if (res.status !== 200) throw new Error(`https-hop-server answered ${res.status}`);
    };
    const timer = (): Promise<void> => new Promise((r) => setTimeout(r, waitMs));
    for (let i = 0; i < 30; i++) await get();
    const rest: number[] = [];
    const local: number[] = [];
    for (let i = 0; i < samples; i++) {
      rest.push(await timed(get));
      local.push(await timed(timer));
    }
    return { rest: rest.sort((a, b) => a - b), timer: local.sort((a, b) => a - b) };
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  const network = FabricNetwork.open({
    stateDir: join(repoRoot(), '.threadseal', 'bench-api'),
    basePort: Number(process.env['BENCH_BASE_PORT'] ?? 37500),
    log: (l) => {
      progress(l);
    },
  });
  process.once(
    'SIGINT',
    () => void stopGateways().finally(() => void network.reset().finally(() => process.exit(130))),
  );
  const sessions = new LedgerSessions(network.connectionFile);
  try {
    await network.reset();
    await network.up();
    progress('setup: DSI and licenses');
    const { licenseId } = await setUpLicensedFleet(sessions, {
      tag: 'api',
      fleetSize: 1,
      unitsPerMachine: 1,
      measurementUnits: 1,
      terms: m400Terms(),
    });
    const direct = sessions.as('manufacturer', 'license-admin');
    const gateway = await startOrgGateway(
      'manufacturer',
      'bench',
      ['license-admin'],
      undefined,
      { maxInFlight: MAX_IN_FLIGHT, callerRatePerSecond: 0 },
      network,
    );
    const rest: RestCall = restAs(gateway, 'manufacturer', 'license-admin');
    const path = `/v1/licenses/${licenseId}`;
    const restGet = async (): Promise<number> => (await rest('GET', path)).status;
    const directGet = async (): Promise<number> => {
      await direct.licenses.get(licenseId);
      return 200;
    };
    const issued = await rest('POST', '/v1/tokens', {});
    if (issued.status !== 201) throw new Error(`token issue answered ${issued.status}: ${issued.text}`);
    const bearer = { authorization: `Bearer ${(issued.body as { token: string }).token}` };
    const bearerGet = async (): Promise<number> => (await rest('GET', path, undefined, bearer)).status;
    // A block the peer holds (the licence's own commits are in earlier ones).
    const licenseBody = (await rest('GET', path)).text;
    const heldBlock = {
      'x-threadseal-after-block': String((await direct.client.connection.peerHeight()) - 1n),
    };
    const afterBlockGet = async (): Promise<number> => (await rest('GET', path, undefined, heldBlock)).status;
    for (let i = 0; i < 30; i++) {
      await restGet();
      await bearerGet();
      await afterBlockGet();
      await directGet();
    }

    progress(`overhead: ${SAMPLES} interleaved samples of license:Get, REST and direct (load ${load()})`);
    const restMs: number[] = [];
    const bearerMs: number[] = [];
    const afterBlockMs: number[] = [];
    const directMs: number[] = [];
    const pairedMs: number[] = [];
    const handlerMs: number[] = [];
    const ownMs: number[] = [];
    const outsideMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = now();
      const res = await rest('GET', path);
      const total = now() - t;
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.text}`);
      const timing = serverTiming(res.headers['server-timing']);
      const handler = timing['handler'] ?? NaN;
      const inGateway = timing['gateway'] ?? NaN;
      restMs.push(total);
      handlerMs.push(handler);
      ownMs.push(inGateway - handler);
      outsideMs.push(total - inGateway);
      bearerMs.push(await timed(bearerGet));
      afterBlockMs.push(await timed(afterBlockGet));
      const d = await timed(directGet);
      directMs.push(d);
      pairedMs.push(total - d);
    }
    progress(`  load after the overhead samples: ${load()}`);
    for (const list of [restMs, bearerMs, afterBlockMs, directMs, pairedMs, handlerMs, ownMs, outsideMs])
      list.sort((a, b) => a - b);
    const [r50, r99, d50, d99] = [
      percentile(restMs, 50),
      percentile(restMs, 99),
      percentile(directMs, 50),
      percentile(directMs, 99),
    ];
    results.push(result('api_license_get_rest_p50', r50, 'ms', d50));
    results.push(result('api_license_get_rest_p99', r99, 'ms', d99));
    results.push(result('api_overhead_p50', r50 - d50, 'ms', 2));
    results.push(result('api_overhead_p99', r99 - d99, 'ms', 2));
    results.push(result('api_overhead_paired_p50', percentile(pairedMs, 50), 'ms', 2));
    results.push(result('api_license_get_gateway_handler_p50', percentile(handlerMs, 50), 'ms', d50));
    results.push(result('api_gateway_own_code_p50', percentile(ownMs, 50), 'ms', 2));
    results.push(result('api_outside_gateway_p50', percentile(outsideMs, 50), 'ms', r50 - d50));
    results.push(result('api_license_get_rest_bearer_p50', percentile(bearerMs, 50), 'ms', r50));
    results.push(result('api_license_get_rest_after_block_p50', percentile(afterBlockMs, 50), 'ms', r50));

    const waitMs = Math.max(1, Math.round(d50));
    progress(
      `hop floor: HTTPS to a process that answers after ${waitMs} ms, against the same timer here (load ${load()})`,
    );
    const floor = await hopFloor(network, licenseBody, waitMs, SAMPLES);
    results.push(
      result('api_hop_floor_p50', percentile(floor.rest, 50) - percentile(floor.timer, 50), 'ms', r50 - d50),
    );

    progress('read throughput until the gateway sheds load');
    let best = { concurrency: 1, rps: 0 };
    for (const concurrency of [1, 2, 4, 8, 16, 32, 64, 128]) {
      const step = await closedLoop(restGet, concurrency, STEP_MS);
      progress(
        `  concurrency ${concurrency}: ${step.rps.toFixed(0)} req/s, ${step.shed} shed, ${step.errors} errors (load ${load()})`,
      );
      if (step.shed > 0) break;
      if (step.rps > best.rps) best = { concurrency, rps: step.rps };
    }
    const directStep = await closedLoop(directGet, best.concurrency, STEP_MS);
    results.push(result('api_read_rps_before_shedding', best.rps, 'req/s', directStep.rps));

    const rate = best.rps * 0.8;
    progress(`open loop at ${rate.toFixed(0)} req/s (80 %) for ${STEP_MS} ms`);
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const start = now();
    let shedAt80 = 0;
    for (let i = 0; now() - start < STEP_MS; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        (async () => {
          const t = now();
          const status = await restGet().catch(() => 0);
          if (status === 503) shedAt80++;
          latencies.push(now() - t);
        })(),
      );
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    progress(`  ${latencies.length} requests, ${shedAt80} shed (load ${load()})`);
    results.push(result('api_read_p99_at_80pct', percentile(latencies, 99), 'ms', r99));
  } finally {
    await stopGateways();
    sessions.closeAll();
    await network.reset();
  }
  printResults(results);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
