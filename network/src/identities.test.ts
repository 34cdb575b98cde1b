import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { loadDescription } from './description';
import { NetworkError } from './errors';
import { OrgCa } from './identities';
import { planNetwork, type NetworkPlan, type OrgLayout } from './plan';

/**
 * A stand-in for fabric-ca-client that behaves as the real one does around the keystore: it writes the new
 * private key into `-M <dir>/keystore` before it hears from the CA, then fails (mode `fail`, or `fail-tls`
 * for the TLS profile only) or writes the certificate. It records its argv and the secret-bearing variables.
 */
const FAKE_CLIENT = `
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(path.join(__dirname, 'calls.jsonl'), JSON.stringify({
  args,
  url: process.env.FABRIC_CA_CLIENT_URL ?? null,
  idSecret: process.env.FABRIC_CA_CLIENT_ID_SECRET ?? null,
  home: process.env.FABRIC_CA_CLIENT_HOME ?? null,
}) + '\\n');
const mode = fs.readFileSync(path.join(__dirname, 'mode'), 'utf8').trim();
const m = args.indexOf('-M');
if (args[0] === 'enroll' && m >= 0) {
  const dir = args[m + 1];
  const tls = args.includes('--enrollment.profile');
  fs.mkdirSync(path.join(dir, 'keystore'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'keystore', process.hrtime.bigint() + '_sk'), 'PRIVATE KEY');
  if (mode === 'fail' || (mode === 'fail-tls' && tls)) {
    process.stderr.write('Error: Response from server: Error Code: 20 - Authentication failure\\n');
    process.exit(1);
  }
  fs.mkdirSync(path.join(dir, 'signcerts'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'signcerts', 'cert.pem'), 'CERTIFICATE ' + process.hrtime.bigint());
  const ca = tls ? 'tlscacerts' : 'cacerts';
  fs.mkdirSync(path.join(dir, ca), { recursive: true });
  fs.writeFileSync(path.join(dir, ca, '127-0-0-1-7100-ca.pem'), 'ROOT');
}
`;

interface Call {
  readonly args: string[];
  readonly url: string | null;
  readonly idSecret: string | null;
  readonly home: string | null;
}

/** Every file under `dir` with its mode and digest: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string): void => {
    if (!existsSync(at)) return;
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      const st = statSync(path);
      out[relative(dir, path)] = st.isDirectory()
        ? `dir ${st.mode.toString(8)}`
        : `${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
      if (st.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}

describe('OrgCa enrollment (with a stand-in fabric-ca-client)', function () {
  let root: string;
  let bin: string;
  let plan: NetworkPlan;
  let org: OrgLayout;
  let ca: OrgCa;
  const secret = 'pa$$:word/with@signs';

  const mode = (m: 'ok' | 'fail' | 'fail-tls'): void => {
    writeFileSync(join(bin, 'mode'), m);
  };
  const calls = (): Call[] =>
    existsSync(join(bin, 'calls.jsonl'))
      ? readFileSync(join(bin, 'calls.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Call)
      : [];
  const failure = async (p: Promise<unknown>): Promise<NetworkError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(NetworkError);
    return err as NetworkError;
  };

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), 'threadseal-orgca-'));
    bin = join(root, '.fabric', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'fabric-ca-client'), `#!${process.execPath}\n${FAKE_CLIENT}`);
    chmodSync(join(bin, 'fabric-ca-client'), 0o755);
    const description = loadDescription(join(__dirname, '..', 'profiles', 'reference.yaml'));
    plan = planNetwork(description, { stateDir: join(root, 'state'), repoRoot: root, basePort: 41000 });
    const oem = plan.orgs.find((o) => o.name === 'oem');
    if (!oem) throw new Error('no oem org');
    org = oem;
    ca = new OrgCa(plan, org);
  });

  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it('writes nothing when the CA refuses a first enrollment, though the client had written a key', async function () {
    mode('fail');
    const dir = join(org.usersDir, 'late');

    const err = await failure(ca.enroll('late', secret, dir));

    expect(err.code).to.equal('COMMAND_FAILED');
    expect(err.message).to.equal(
      'COMMAND_FAILED: enroll late (CA ca-oem) failed: Error: Response from server: Error Code: 20 - Authentication failure',
    );
    expect(existsSync(dir)).to.equal(false);
    expect(readdirSync(org.usersDir)).to.deep.equal([]);
    expect(calls()).to.have.length(1);
  });

  it('keeps an enrolled identity byte-identical when the TLS half of a re-enrollment fails', async function () {
    mode('ok');
    const dir = join(org.usersDir, 'gateway');
    await ca.enroll('gateway', secret, dir, { secret: 'tls-secret', hosts: ['localhost'] });
    const before = snapshot(org.usersDir);
    mode('fail-tls');

    const err = await failure(
      ca.enroll('gateway', secret, dir, { secret: 'tls-secret', hosts: ['localhost'] }),
    );

    expect(err.message).to.match(/^COMMAND_FAILED: enroll TLS gateway \(CA tlsca-oem\) failed: /);
    expect(snapshot(org.usersDir)).to.deep.equal(before);
  });

  it('replaces an identity whole on re-enrollment: one key per folder, keys mode 600, NodeOU config', async function () {
    mode('ok');
    const dir = join(org.usersDir, 'op');
    await ca.enroll('op', secret, dir, { secret: 'tls-secret', hosts: ['localhost', '127.0.0.1'] });
    const first = readFileSync(join(dir, 'msp', 'signcerts', 'cert.pem'), 'utf8');

    const files = await ca.enroll('op', secret, dir, {
      secret: 'tls-secret',
      hosts: ['localhost', '127.0.0.1'],
    });

    expect(readFileSync(files.cert, 'utf8')).not.to.equal(first);
    for (const sub of ['msp', 'tls']) {
      const keys = readdirSync(join(dir, sub, 'keystore'));
      expect(keys, sub).to.have.length(1);
      expect(statSync(join(dir, sub, 'keystore', keys[0] ?? '')).mode & 0o777, sub).to.equal(0o600);
    }
    expect(files.tls?.ca).to.equal(join(dir, 'tls', 'tlscacerts', '127-0-0-1-7100-ca.pem'));
    expect(readFileSync(join(dir, 'msp', 'config.yaml'), 'utf8')).to.include(
      'Certificate: cacerts/127-0-0-1-7100-ca.pem',
    );
    expect(readdirSync(org.usersDir)).to.deep.equal(['op']);
  });

  it('hands secrets to fabric-ca-client through its environment only, the enrollment and TLS CAs by name', async function () {
    mode('ok');
    await ca.registerAndEnroll('peer-x', 'peer', join(org.usersDir, 'peer-x'), { role: 'r' }, ['localhost']);
    await ca.enroll('late', secret, join(org.usersDir, 'late'));

    const seen = calls();
    const secrets = [
      secret,
      encodeURIComponent(secret),
      ...seen.map((c) => c.idSecret).filter((s): s is string => s !== null),
    ];
    for (const call of seen)
      for (const s of secrets) expect(call.args.join(' '), call.args[0]).not.to.include(s);
    expect(
      seen.map((c) => ({
        verb: c.args[0],
        caname: c.args[c.args.indexOf('--caname') + 1],
        secretIn: c.url ? 'FABRIC_CA_CLIENT_URL' : c.idSecret ? 'FABRIC_CA_CLIENT_ID_SECRET' : 'none',
      })),
    ).to.deep.equal([
      { verb: 'register', caname: 'ca-oem', secretIn: 'FABRIC_CA_CLIENT_ID_SECRET' },
      { verb: 'register', caname: 'tlsca-oem', secretIn: 'FABRIC_CA_CLIENT_ID_SECRET' },
      { verb: 'enroll', caname: 'ca-oem', secretIn: 'FABRIC_CA_CLIENT_URL' },
      { verb: 'enroll', caname: 'tlsca-oem', secretIn: 'FABRIC_CA_CLIENT_URL' },
      { verb: 'enroll', caname: 'ca-oem', secretIn: 'FABRIC_CA_CLIENT_URL' },
    ]);
    const last = seen[seen.length - 1];
    expect(last?.url).to.equal(`https://late:${encodeURIComponent(secret)}@127.0.0.1:41000`);
    // Its config file goes to a staging folder that is removed, never to the user's $HOME.
    expect(last?.home?.startsWith(join(org.usersDir, '.enroll-late-'))).to.equal(true);
    expect(existsSync(last?.home ?? '/')).to.equal(false);
  });
});
