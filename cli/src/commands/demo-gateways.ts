import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThreadsealError } from '@threadseal/ledger-model';
import { identityFiles, isAlive, repoRoot, type FabricNetwork } from '@threadseal/network';

/** The identities whose keys each org's demo gateway holds (custodial service identities). */
const CUSTODIAL: Readonly<Record<string, { readonly users: readonly string[]; readonly events?: string }>> = {
  // The OEM's ip-admin keeps its own key (it signs through /v1/transactions); the engineer reads the tree.
  oem: { users: ['engineer'], events: 'engineer' },
  manufacturer: { users: ['license-admin', 'machine-admin', 'operator'], events: 'license-admin' },
  subcontractor: { users: ['license-admin', 'machine-admin', 'operator'], events: 'license-admin' },
};

/** A started demo gateway. */
export interface DemoGateway {
  readonly org: string;
  readonly url: string;
  readonly pid: number;
  readonly log: string;
}

/**
 * Starts (again) each org's REST gateway as a detached process (`gateway/bin/threadseal-gateway.js`) on a free
 * port, with a TLS server certificate from the org's CA, logging to `<state>/gateways/<org>.log`; gateways a
 * previous demo left running are stopped first (by the pid it recorded). Resolves once each announces its URL.
 * @throws ThreadsealError NODE_UNHEALTHY when a gateway does not start within 30 s.
 */
export async function startDemoGateways(network: FabricNetwork): Promise<DemoGateway[]> {
  const dir = join(network.plan.stateDir, 'gateways');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const started: DemoGateway[] = [];
  for (const org of network.plan.orgs) {
    const custodial = CUSTODIAL[org.name] ?? { users: [] };
    const pidFile = join(dir, `${org.name}.pid`);
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) process.kill(pid, 'SIGTERM');
    }
    const serverDir = network.userDir(org.name, 'gateway');
    const server = existsSync(join(serverDir, 'tls'))
      ? identityFiles(serverDir)
      : await network
          .ca(org.name)
          .registerAndEnroll('gateway', 'client', serverDir, {}, ['localhost', '127.0.0.1']);
    if (!server.tls)
      throw new ThreadsealError('IDENTITY_FAILED', `the gateway of ${org.name} has no TLS enrollment`);
    const configFile = join(dir, `${org.name}.json`);
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          org: org.name,
          profileFile: network.connectionFile,
          serverCertFile: server.tls.cert,
          serverKeyFile: server.tls.key,
          custodial: custodial.users
            .filter((user) => org.users.some((u) => u.name === user))
            .map((user) => ({ name: user, mspDir: identityFiles(network.userDir(org.name, user)).mspDir })),
          ...(custodial.events ? { eventsIdentity: custodial.events } : {}),
          // Idempotency records survive a gateway restart (SQLite, request hashes only; decision 0018).
          idempotencyFile: join(dir, `${org.name}-idempotency.sqlite`),
          host: '127.0.0.1',
          port: 0,
        },
        null,
        2,
      ),
    );
    const log = join(dir, `${org.name}.log`);
    const fd = openSync(log, 'w', 0o600);
    const child = spawn(
      process.execPath,
      [join(repoRoot(), 'gateway', 'bin', 'threadseal-gateway.js'), '--config', configFile],
      { detached: true, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    child.unref();
    if (child.pid === undefined)
      throw new ThreadsealError('NODE_UNHEALTHY', `the gateway of ${org.name} did not start`);
    writeFileSync(pidFile, `${child.pid}\n`);
    const url = await listeningUrl(log, org.name);
    started.push({ org: org.name, url, pid: child.pid, log });
  }
  return started;
}

/** Waits for the gateway's `{"event":"listening"}` line in its log. */
async function listeningUrl(log: string, org: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { event?: string; url?: string; message?: string };
      if (entry.event === 'listening' && entry.url) return entry.url;
      if (entry.event === 'failed')
        throw new ThreadsealError('NODE_UNHEALTHY', `the gateway of ${org} failed: ${entry.message ?? ''}`);
    }
    await sleep(100);
  }
  throw new ThreadsealError(
    'NODE_UNHEALTHY',
    `the gateway of ${org} did not announce its URL within 30 s (${log})`,
  );
}
