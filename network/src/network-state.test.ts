import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { NetworkError } from './errors';
import { FabricNetwork, repoRoot } from './network';

describe('up on a state directory from before the TLS CAs were separated', function () {
  let stateDir: string;

  beforeEach(function () {
    if (!existsSync(join(repoRoot(), '.fabric', 'bin', 'fabric-ca-server'))) {
      process.stdout.write(
        '      (skipped: the Fabric binaries are not installed; run `npm run bootstrap`)\n',
      );
      this.skip();
    }
    stateDir = mkdtempSync(join(tmpdir(), 'threadseal-old-state-'));
  });

  afterEach(function () {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('refuses it with IDENTITY_FAILED, naming the orgs and the way out, and starts nothing', async function () {
    const network = FabricNetwork.open({ stateDir, basePort: 41500 });
    mkdirSync(join(stateDir, 'channel'), { recursive: true });
    for (const org of [...network.plan.orgs, network.plan.ordererOrg]) {
      mkdirSync(dirname(org.caCert), { recursive: true });
      writeFileSync(org.caCert, 'an enrollment root that also issued TLS certificates');
    }
    const before = readdirSync(stateDir).sort();

    const err = await network.up().then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).to.be.instanceOf(NetworkError);
    expect({ code: (err as NetworkError).code, message: (err as NetworkError).message }).to.deep.equal({
      code: 'IDENTITY_FAILED',
      message: `IDENTITY_FAILED: ${stateDir} was created with one CA per org for identities and TLS (no TLS CA for oem, manufacturer, subcontractor, ordering): its certificates and channel cannot be reused; run \`threadseal network reset\``,
    });
    expect(readdirSync(stateDir).sort()).to.deep.equal(before);
    expect(existsSync(join(stateDir, 'pids.json'))).to.equal(false);
  });
});
