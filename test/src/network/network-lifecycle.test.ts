import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FabricNetwork, isAlive, NetworkError, readProcesses, repoRoot } from '@threadseal/network';
import { CausalGroup, openLedgerConnection } from '@threadseal/ledger-client';
import { TEST_BASE_PORT } from '../fixtures/network-fixture';
import { assertPortsFree } from './port-check';

/** Processes still carrying the network's state-directory marker (what `down` must leave at zero). */
function markedProcesses(stateDir: string): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/environ`, 'utf8')
          .split('\0')
          .includes(`THREADSEAL_NETWORK_STATE_DIR=${stateDir}`)
      )
        n++;
    } catch {
      // process gone
    }
  }
  return n;
}

/** The lifecycle network's causal group: a note read back sees every note this file saw committed. */
const causal = new CausalGroup();

async function note(network: FabricNetwork, op: 'put' | 'get', key: string, value = ''): Promise<string> {
  const c = openLedgerConnection(network.connectionFile, { org: 'manufacturer', user: 'admin' }, { causal });
  try {
    if (op === 'put') {
      await c.submit('system:PutNote', [key, value]);
      return value;
    }
    return Buffer.from(await c.evaluate('system:GetNote', [key])).toString('utf8');
  } finally {
    c.close();
  }
}

describe('network lifecycle: up, no-op up, port clash, redeploy, down, restart, reset (a second network)', function () {
  const stateDir = join(repoRoot(), '.threadseal', 'test-lifecycle');
  const basePort = TEST_BASE_PORT + 100;
  const network = FabricNetwork.open({ stateDir, basePort });
  const marker = join(repoRoot(), 'chaincode', 'dist', 'redeploy-marker.js');

  before(async function () {
    await network.reset();
  });

  after(async function () {
    rmSync(marker, { force: true });
    await network.reset();
  });

  it('comes up from nothing with every node healthy and the chaincode committed at sequence 1', async function () {
    const result = await network.up();
    expect(result.fresh).to.equal(true);
    expect(result.chaincode?.sequence).to.equal(1);
    const status = await network.status();
    expect(status).to.have.length(network.expectedProcessCount);
    expect(status.filter((s) => !s.healthy).map((s) => s.name)).to.deep.equal([]);
    expect(status.filter((s) => s.kind === 'orderer')).to.have.length(3);
  });

  it('treats a second up while running as a no-op', async function () {
    const before = readProcesses(stateDir).map((r) => r.pid);
    const result = await network.up();
    expect(result.alreadyRunning).to.equal(true);
    expect(readProcesses(stateDir).map((r) => r.pid)).to.deep.equal(before);
  });

  it('refuses to start another network on ports in use, naming the port, and starts nothing', async function () {
    const otherDir = join(repoRoot(), '.threadseal', 'test-clash');
    const other = FabricNetwork.open({ stateDir: otherDir, basePort });
    try {
      let error: unknown;
      try {
        await other.up();
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(NetworkError);
      expect((error as NetworkError).code).to.equal('PORT_IN_USE');
      expect((error as Error).message).to.match(
        new RegExp(`port 127\\.0\\.0\\.1:${basePort} \\(ca\\.oem listen\\) is in use`),
      );
      expect(markedProcesses(otherDir)).to.equal(0);
    } finally {
      await other.reset();
    }
  });

  it('redeploys changed chaincode as the next sequence and keeps answering', async function () {
    writeFileSync(marker, '// changes the chaincode digest: forces a new package and sequence\n');
    const changed = await network.deployChaincode();
    expect(changed.committed).to.equal(true);
    expect(changed.sequence).to.equal(2);
    expect(changed.restartedServers).to.equal(3);
    const unchanged = await network.deployChaincode();
    expect(unchanged.committed).to.equal(false);
    expect(unchanged.sequence).to.equal(2);
    expect(await note(network, 'put', 'survives-restart', 'written before down')).to.equal(
      'written before down',
    );
  });

  it('commits 40 more blocks before the restart (so Raft restarts from a snapshot plus a WAL tail)', async function () {
    const c = openLedgerConnection(network.connectionFile, { org: 'oem', user: 'admin' }, { causal });
    try {
      for (let i = 0; i < 40; i++) await c.submit('system:PutNote', [`filler-${i}`, String(i)]);
    } finally {
      c.close();
    }
  });

  it('down stops every process it started and frees every port', async function () {
    const pids = readProcesses(stateDir).map((r) => r.pid);
    expect(pids.length).to.equal(network.expectedProcessCount);
    const stopped = await network.down();
    expect(stopped).to.be.at.least(network.expectedProcessCount);
    expect(markedProcesses(stateDir)).to.equal(0);
    expect(pids.filter(isAlive)).to.deep.equal([]);
    await assertPortsFree(network.plan.ports.map((p) => p.port));
  });

  it('restarts on its existing data: ledger and chaincode kept, nothing recommitted', async function () {
    const result = await network.up();
    expect(result.fresh).to.equal(false);
    expect(result.chaincode?.committed).to.equal(false);
    expect(await note(network, 'get', 'survives-restart')).to.equal('written before down');
  });

  it('reset stops the network and removes its state', async function () {
    await network.reset();
    expect(existsSync(stateDir)).to.equal(false);
    expect(markedProcesses(stateDir)).to.equal(0);
  });
});
