import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseDescription } from './description';
import { readChaincodeBuild } from './chaincode-lifecycle';
import { NetworkError } from './errors';
import { assertPortFree, waitFor } from './health';
import { planNetwork } from './plan';
import { isAlive, startProcess, stopProcesses } from './processes';

async function rejection(p: Promise<unknown>): Promise<NetworkError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(NetworkError);
    return err as NetworkError;
  }
  throw new Error('expected a rejection');
}

describe('readiness and failure reporting', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'health-test-'));
  });
  afterEach(async function () {
    await stopProcesses(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails at once with the last log lines when the awaited node dies', async function () {
    const proc = startProcess({
      name: 'dying-node',
      kind: 'peer',
      command: '/bin/sh',
      args: ['-c', 'echo "panic: cannot open ledger"; exit 3'],
      env: {},
      cwd: dir,
      logsDir: join(dir, 'logs'),
      stateDir: dir,
    });
    const started = Date.now();
    const err = await rejection(
      waitFor(() => Promise.resolve(undefined), {
        what: 'dying-node /healthz',
        timeoutMs: 20_000,
        process: proc,
      }),
    );
    expect(Date.now() - started).to.be.below(5000);
    expect(err.code).to.equal('NODE_UNHEALTHY');
    expect(err.message).to.match(/dying-node exited while waiting for dying-node \/healthz/);
    expect(err.details).to.include('panic: cannot open ledger');
  });

  it('times out naming what it waited for', async function () {
    const err = await rejection(
      waitFor(() => Promise.resolve(undefined), { what: 'a Raft leader', timeoutMs: 300, intervalMs: 50 }),
    );
    expect(err.message).to.equal('NODE_UNHEALTHY: timed out after 0.3 s waiting for a Raft leader');
  });

  it('names the port and its owner when a port is taken', async function () {
    const server: Server = createServer();
    await new Promise<void>((r) =>
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        r();
      }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const err = await rejection(assertPortFree('127.0.0.1', port, 'peer0.oem listen'));
      expect(err.code).to.equal('PORT_IN_USE');
      expect(err.message).to.include(`port 127.0.0.1:${port} (peer0.oem listen) is in use`);
    } finally {
      server.close();
    }
  });

  it('stops a recorded process group, children included', async function () {
    const proc = startProcess({
      name: 'parent',
      kind: 'chaincode',
      command: '/bin/sh',
      args: ['-c', 'sleep 300 & echo $! > child.pid; wait'],
      env: {},
      cwd: dir,
      logsDir: join(dir, 'logs'),
      stateDir: dir,
    });
    const childPid = await waitFor(
      () => {
        try {
          const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
          return Promise.resolve(pid > 0 ? pid : undefined);
        } catch {
          return Promise.resolve(undefined);
        }
      },
      { what: 'child pid', timeoutMs: 5000 },
    );
    await stopProcesses(dir);
    // The parent may linger a moment as our zombie until Node reaps it: isAlive treats zombies as gone.
    expect([proc.pid, childPid].filter(isAlive)).to.deep.equal([]);
  });

  it('refuses to deploy chaincode that is not built, saying how to build it', function () {
    const text = readFileSync(join(__dirname, '..', 'profiles', 'reference.yaml'), 'utf8');
    const plan = planNetwork(parseDescription(text), { stateDir: join(dir, 'state'), repoRoot: dir });
    expect(() => readChaincodeBuild(plan)).to.throw(
      NetworkError,
      /^CHAINCODE_BUILD_FAILED: chaincode is not built .*run `npm run build`$/,
    );
  });
});
