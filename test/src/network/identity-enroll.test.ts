import { spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { loadMspCredentials } from '@threadseal/ledger-client';
import { repoRoot } from '@threadseal/network';
import { closeConnections, connectAs, text } from '../fixtures/ledger';
import { TEST_BASE_PORT, testNetwork } from '../fixtures/network-fixture';

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `threadseal identity enroll` against the test network (or the ports given), as a shell user would. */
function enroll(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; basePort?: number } = {},
): Promise<CliRun> {
  const bin = join(repoRoot(), 'cli', 'bin', 'threadseal.js');
  const child = spawn(
    process.execPath,
    [
      bin,
      'identity',
      'enroll',
      ...args,
      '--state-dir',
      testNetwork().plan.stateDir,
      '--base-port',
      String(options.basePort ?? TEST_BASE_PORT),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => {
    child.once('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Every file under `dir` with its bytes' digest and mode: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string): void => {
    if (!existsSync(at)) return;
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      const st = statSync(path);
      if (st.isDirectory()) {
        out[`${relative(dir, path)}/`] = st.mode.toString(8);
        walk(path);
      } else {
        out[relative(dir, path)] =
          `${st.mode.toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('identity enroll: the secret never on a command line, nothing left behind when it fails', function () {
  const run = randomBytes(3).toString('hex');
  const name = `late-${run}`;
  const secret = randomBytes(18).toString('base64url');
  let dir: string;
  let secretFile: string;
  let wrongFile: string;
  let userDir: string;
  let usersDir: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-enroll-'));
    secretFile = join(dir, 'secret');
    wrongFile = join(dir, 'wrong');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    writeFileSync(wrongFile, 'not-the-secret\n', { mode: 0o600 });
    await testNetwork().ca('subcontractor').register(name, secret, 'client', { role: 'am-operator' });
    userDir = testNetwork().userDir('subcontractor', name);
    usersDir = dirname(userDir);
  });

  after(function () {
    closeConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses --secret on the command line and writes nothing', async function () {
    const before = snapshot(usersDir);
    const r = await enroll(['--org', 'subcontractor', '--name', name, '--secret', secret]);
    expect({ code: r.code, stderr: r.stderr.trim() }).to.deep.equal({
      code: 2,
      stderr:
        'threadseal identity enroll: --secret is not accepted: a secret on the command line is visible to every local user; use --secret-file <file|-> or THREADSEAL_ENROLLMENT_SECRET',
    });
    expect(snapshot(usersDir)).to.deep.equal(before);
  });

  for (const [what, args, basePort] of [
    ['a wrong secret', ['--name', name, '--secret-file', 'WRONG'], undefined],
    ['an unknown user', ['--name', `nobody-${run}`, '--secret-file', 'RIGHT'], undefined],
    // Nothing listens there: the plan of those ports puts the org CA where no server is.
    ['a CA that does not answer', ['--name', name, '--secret-file', 'RIGHT'], TEST_BASE_PORT + 60],
  ] as const) {
    it(`fails on ${what} (exit 1, one line) and leaves the users folder byte-identical`, async function () {
      const before = snapshot(usersDir);
      const resolved = args.map((a) => (a === 'WRONG' ? wrongFile : a === 'RIGHT' ? secretFile : a));
      const r = await enroll(['--org', 'subcontractor', ...resolved], basePort ? { basePort } : {});
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/COMMAND_FAILED: enroll .* \(CA ca-subcontractor\) failed/);
      expect(r.stderr).not.to.include(secret);
      expect(snapshot(usersDir)).to.deep.equal(before);
      expect(existsSync(userDir)).to.equal(false);
    });
  }

  it('enrolls with the secret on stdin, and the identity transacts', async function () {
    const r = await enroll(['--org', 'subcontractor', '--name', name, '--secret-file', '-'], {
      stdin: `${secret}\n`,
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      `enrolled ${name}: certificate ${join(userDir, 'msp', 'signcerts', 'cert.pem')}\n`,
    );
    expect(readdirSync(join(userDir, 'msp', 'keystore'))).to.have.length(1);
    expect(readdirSync(usersDir).filter((f) => f.startsWith('.'))).to.deep.equal([]);
    const committed = await connectAs({ org: 'subcontractor', user: name }).submit('system:WhoAmI');
    expect((JSON.parse(text(committed.result)) as { id: string }).id).to.include(`CN=${name}`);
  });

  it('keeps an enrolled identity byte-identical when a re-enrollment fails, and a later one replaces it', async function () {
    const before = snapshot(usersDir);
    const oldCert = readFileSync(join(userDir, 'msp', 'signcerts', 'cert.pem'), 'utf8');
    const failed = await enroll(['--org', 'subcontractor', '--name', name, '--secret-file', wrongFile]);
    expect(failed.code, failed.stderr).to.equal(1);
    expect(snapshot(usersDir)).to.deep.equal(before);
    expect(loadMspCredentials(join(userDir, 'msp'), 'SubcontractorMSP').certificateFile).to.equal(
      join(userDir, 'msp', 'signcerts', 'cert.pem'),
    );

    const again = await enroll(['--org', 'subcontractor', '--name', name], {
      env: { THREADSEAL_ENROLLMENT_SECRET: secret },
    });
    expect(again.code, again.stderr).to.equal(0);
    const newCert = readFileSync(join(userDir, 'msp', 'signcerts', 'cert.pem'), 'utf8');
    expect(newCert).not.to.equal(oldCert);
    expect(new X509Certificate(newCert).subject).to.include(`CN=${name}`);
    // One key, the new certificate's: the replaced folder is gone, not merged.
    const credentials = loadMspCredentials(join(userDir, 'msp'), 'SubcontractorMSP');
    expect(readdirSync(join(userDir, 'msp', 'keystore'))).to.deep.equal([
      relative(join(userDir, 'msp', 'keystore'), credentials.privateKeyFile),
    ]);
    expect(readdirSync(usersDir).filter((f) => f.startsWith('.'))).to.deep.equal([]);
    const committed = await connectAs({ org: 'subcontractor', user: name }).submit('system:WhoAmI');
    const record = await connectAs({ org: 'subcontractor', user: name }).transactionRecord(
      committed.transactionId,
    );
    expect(record.validationCode).to.equal('VALID');
  });
});
