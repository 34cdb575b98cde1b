import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Metadata, status } from '@grpc/grpc-js';
import { GatewayError } from '@hyperledger/fabric-gateway';
import { toLedgerError, TransactionInvalidError } from '@threadseal/ledger-client';
import { LedgerError } from '@threadseal/ledger-model';
import { CliError, type CliCommand } from '../command';
import { main } from '../main';
import { cliFailure } from '../cli-failure';
import { ledgerCommands, MACHINE_KEY_FILES, parseParam, parseUser } from './ledger';

const AS = ['--as', 'operator@manufacturer'];

function command(path: string): CliCommand {
  const found = ledgerCommands.find((c) => c.path.join(' ') === path);
  if (!found) throw new Error(`no command '${path}'`);
  return found;
}

/** Runs a command and returns the CliError it must throw before touching any network. */
async function refusal(path: string, args: readonly string[]): Promise<CliError> {
  try {
    await command(path).run(args);
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    return err as CliError;
  }
  throw new Error(`'${path} ${args.join(' ')}' was accepted`);
}

async function usageError(path: string, args: readonly string[], message: string): Promise<void> {
  const err = await refusal(path, args);
  expect({ message: err.message, exitCode: err.exitCode }).to.deep.equal({ message, exitCode: 2 });
}

/** Captures what `fn` writes to stdout and stderr. */
async function captured(
  fn: () => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array): boolean => out.push(String(chunk)) > 0;
  process.stderr.write = (chunk: string | Uint8Array): boolean => err.push(String(chunk)) > 0;
  try {
    const code = await fn();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} parses`);
}

describe('threadseal ledger verbs: arguments (no network)', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-ledger-cli-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers a verb for every ledger operation, each with usage naming --as', function () {
    expect(ledgerCommands.map((c) => c.path.join(' '))).to.deep.equal([
      'dsi register',
      'dsi supersede',
      'dsi revoke',
      'dsi get',
      'license issue',
      'license split',
      'license allocate',
      'license revoke',
      'license get',
      'license terms',
      'machine register',
      'machine get',
      'machine keygen',
      'build start',
      'build complete',
      'build abort',
      'build scrap',
      'build get',
      'trace tree',
      'trace part',
      'trace part-history',
      'trace license-history',
      'trace allocation-history',
    ]);
    for (const c of ledgerCommands.filter((x) => x.path.join(' ') !== 'machine keygen')) {
      expect(c.usage, c.path.join(' ')).to.contain(`usage: threadseal ${c.path.join(' ')} --as <user>@<org>`);
      const mutating = !['get', 'terms'].includes(c.path[1] ?? '') && c.path[0] !== 'trace';
      expect(c.usage.includes('--endorse <MSP id>'), c.path.join(' ')).to.equal(mutating);
    }
  });

  describe('--as', function () {
    it('is required', async function () {
      await usageError('license get', ['--license', 'L1'], '--as <user>@<org> is required');
    });

    it('must be user@org', async function () {
      await usageError(
        'license get',
        ['--as', 'operator', '--license', 'L1'],
        "--as must be <user>@<org>, e.g. operator@manufacturer, got 'operator'",
      );
      expect(() => parseUser('a@b@c')).to.throw(
        CliError,
        "--as must be <user>@<org>, e.g. operator@manufacturer, got 'a@b@c'",
      );
      expect(parseUser('license-admin@manufacturer')).to.deep.equal({
        user: 'license-admin',
        org: 'manufacturer',
      });
    });
  });

  describe('flags', function () {
    it('names the first missing flag', async function () {
      await usageError('license get', AS, '--license is required');
      await usageError(
        'license allocate',
        [...AS, '--license', 'L1', '--quantity', '2'],
        '--machine is required',
      );
      await usageError('dsi revoke', [...AS, '--dsi', 'd1'], '--reason is required');
      await usageError('trace allocation-history', [...AS, '--license', 'L1'], '--machine is required');
      await usageError(
        'build start',
        [...AS, '--license', 'L1', '--machine', 'm1'],
        '--machine-key is required',
      );
      await usageError(
        'machine register',
        [...AS, '--id', 'm1', '--make', 'EOS', '--model', 'M400', '--serial', 's', '--firmware', '1'],
        '--public-key is required',
      );
    });

    it('accepts only whole quantities', async function () {
      const base = [...AS, '--license', 'L1', '--machine', 'm1'];
      await usageError(
        'license allocate',
        [...base, '--quantity', 'four'],
        "--quantity must be an integer ≥ 1, got 'four'",
      );
      await usageError(
        'license allocate',
        [...base, '--quantity', '0'],
        "--quantity must be an integer ≥ 1, got '0'",
      );
      await usageError(
        'license allocate',
        [...base, '--quantity', '2.5'],
        "--quantity must be an integer ≥ 1, got '2.5'",
      );
      await usageError(
        'license allocate',
        [...base, '--quantity', '2', '--scrap-allowance=-1'],
        "--scrap-allowance must be an integer ≥ 0, got '-1'",
      );
    });

    it('asks for one of --digest and --process-record', async function () {
      await usageError('build complete', [...AS, '--build', 'b1', '--part', 'p1'], '--digest is required');
      await usageError(
        'build complete',
        [...AS, '--build', 'b1', '--part', 'p1', '--digest', 'ab', '--process-record', 'r'],
        'give --digest or --process-record, not both',
      );
    });

    it('names an unreadable machine key', async function () {
      const file = join(dir, 'not-a-key.pem');
      writeFileSync(file, 'hello');
      let cryptoMessage = '';
      try {
        createPrivateKey('hello');
      } catch (err) {
        cryptoMessage = (err as Error).message;
      }
      await usageError(
        'build start',
        [...AS, '--license', 'L1', '--machine', 'm1', '--machine-key', file],
        `--machine-key ${file}: not a private key: ${cryptoMessage}`,
      );
    });
  });

  describe('--param', function () {
    it('turns values written as JSON numbers into numbers and keeps everything else a string', function () {
      expect(parseParam('laserPower=300')).to.deep.equal(['laserPower', 300]);
      expect(parseParam('layer=0.03')).to.deep.equal(['layer', 0.03]);
      expect(parseParam('offset=-2e3')).to.deep.equal(['offset', -2000]);
      expect(parseParam('material=Ti-6Al-4V')).to.deep.equal(['material', 'Ti-6Al-4V']);
      expect(parseParam('batch=007')).to.deep.equal(['batch', '007']);
      expect(parseParam('note=a=b')).to.deep.equal(['note', 'a=b']);
    });

    it('refuses malformed and repeated parameters', async function () {
      expect(() => parseParam('laserPower')).to.throw(
        CliError,
        "--param must be name=value, got 'laserPower'",
      );
      expect(() => parseParam('laserPower=')).to.throw(
        CliError,
        "--param must be name=value, got 'laserPower='",
      );
      const key = join(dir, 'unused.key.pem');
      await usageError(
        'build start',
        [
          ...AS,
          '--license',
          'L1',
          '--machine',
          'm1',
          '--machine-key',
          key,
          '--param',
          'a=1',
          '--param',
          'a=2',
        ],
        '--param a is given twice',
      );
    });
  });

  describe('the input DTO', function () {
    it('is required where there are no field flags', async function () {
      await usageError('dsi register', AS, "give the input as --input <file.json> or --json '<json>'");
      await usageError('license issue', AS, "give the input as --input <file.json> or --json '<json>'");
    });

    it('must be JSON', async function () {
      await usageError(
        'license issue',
        [...AS, '--json', '{licenseId: L1}'],
        `--json is not valid JSON: ${jsonParseMessage('{licenseId: L1}')}`,
      );
      const file = join(dir, 'broken.json');
      writeFileSync(file, '{"licenseId": ');
      await usageError(
        'license issue',
        [...AS, '--input', file],
        `--input ${file} is not valid JSON: ${jsonParseMessage('{"licenseId": ')}`,
      );
    });

    it('must be a JSON object', async function () {
      await usageError(
        'dsi register',
        [...AS, '--json', '[1]'],
        '--json must be a JSON object, got an array',
      );
      await usageError('dsi register', [...AS, '--json', 'null'], '--json must be a JSON object, got null');
      await usageError('dsi register', [...AS, '--json', '"x"'], '--json must be a JSON object, got string');
    });

    it('names a file it cannot read', async function () {
      const file = join(dir, 'missing.json');
      await usageError(
        'dsi register',
        [...AS, '--input', file],
        `--input ${file}: cannot read: ENOENT: no such file or directory, open '${file}'`,
      );
    });

    it('comes from one place: --input or --json, never mixed with field flags', async function () {
      await usageError(
        'dsi register',
        [...AS, '--input', 'a.json', '--json', '{}'],
        'give the input as --input <file> or as --json <text>, not both',
      );
      await usageError(
        'license allocate',
        [...AS, '--json', '{}', '--license', 'L1'],
        '--license cannot be combined with --json',
      );
      await usageError(
        'build start',
        [...AS, '--input', 'a.json', '--param', 'a=1'],
        '--param cannot be combined with --input',
      );
    });
  });

  describe('failures of ledger calls', function () {
    it('print a chaincode refusal exactly as the chaincode wrote it, with exit code 1', function () {
      const err = cliFailure(
        new LedgerError(
          'ALLOCATION_EXHAUSTED',
          'allocation of license L1 to machine m1 has 0 of 2 units left',
        ),
      );
      expect(err).to.be.instanceOf(CliError);
      expect({ message: err.message, exitCode: err.exitCode }).to.deep.equal({
        message: 'ALLOCATION_EXHAUSTED: allocation of license L1 to machine m1 has 0 of 2 units left',
        exitCode: 1,
      });
    });

    it('lead an invalid commit with its validation code', function () {
      const err = cliFailure(new TransactionInvalidError('tx1', 'ENDORSEMENT_POLICY_FAILURE', 7n));
      expect({ message: err.message, exitCode: err.exitCode }).to.deep.equal({
        message: 'ENDORSEMENT_POLICY_FAILURE: transaction tx1 committed INVALID in block 7',
        exitCode: 1,
      });
    });

    it('report a peer failure without a ledger code as LEDGER_UNAVAILABLE, on one line', function () {
      const gateway = new GatewayError({
        code: status.ABORTED,
        message: '10 ABORTED: failed to endorse\ntransaction',
        details: [{ mspId: 'OemMSP', address: 'peer0:7051', message: 'peer0: boom' }],
        cause: Object.assign(new Error('aborted'), {
          code: status.ABORTED,
          details: '',
          metadata: new Metadata(),
        }),
      });
      const err = cliFailure(toLedgerError(gateway));
      expect({ message: err.message, exitCode: err.exitCode, code: err.code }).to.deep.equal({
        message: 'LEDGER_UNAVAILABLE: 10 ABORTED: failed to endorse transaction; peer0: boom',
        exitCode: 1,
        code: 'LEDGER_UNAVAILABLE',
      });
    });

    it('keep anything else on one line, as INTERNAL', function () {
      const err = cliFailure(new Error('unexpected\nstate'));
      expect({ message: err.message, exitCode: err.exitCode, code: err.code }).to.deep.equal({
        message: 'INTERNAL: unexpected state',
        exitCode: 1,
        code: 'INTERNAL',
      });
    });
  });

  describe('connecting', function () {
    it('says the network is not up when the state dir has no connection profile', async function () {
      const err = await refusal('license get', [...AS, '--license', 'L1', '--state-dir', dir]);
      expect({ message: err.message, exitCode: err.exitCode }).to.deep.equal({
        message: `CONNECTION_FAILED: no connection profile ${join(dir, 'connection.json')}: is the network up? (threadseal network up, same options)`,
        exitCode: 1,
      });
    });
  });

  describe('through main', function () {
    it('reports a usage error as one line with exit code 2', async function () {
      const r = await captured(() => main(['license', 'allocate', '--as', 'operator', '--license', 'L1']));
      expect(r).to.deep.equal({
        code: 2,
        stdout: '',
        stderr:
          "threadseal license allocate: --as must be <user>@<org>, e.g. operator@manufacturer, got 'operator'\n",
      });
    });

    it('checks a DTO with the chaincode decoder before connecting: a malformed one never reaches the network', async function () {
      // The state dir holds no network: had the CLI tried to connect, it would say CONNECTION_FAILED.
      const r = await captured(() =>
        main([
          'license',
          'allocate',
          ...AS,
          '--json',
          '{"licenseId":"L1","machineId":"m1","quantity":0,"scrapAllowance":0}',
          '--state-dir',
          dir,
        ]),
      );
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(/^threadseal license allocate: INVALID_ARGUMENT: input\.quantity: /);
    });

    it('refuses unknown flags with exit code 2', async function () {
      const r = await captured(() => main(['license', 'get', ...AS, '--licence', 'L1']));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^threadseal license get: Unknown option '--licence'/);
    });
  });

  describe('machine keygen', function () {
    it('writes a P-256 pair: PKCS#8 private key with mode 600 and SPKI public key that verify each other', async function () {
      const out = join(dir, 'machine-a');
      const r = await captured(() => command('machine keygen').run(['--out', out]));
      const privateFile = join(out, MACHINE_KEY_FILES.privateKey);
      const publicFile = join(out, MACHINE_KEY_FILES.publicKey);
      expect(r.code).to.equal(0);
      const printed = JSON.parse(r.stdout) as {
        privateKeyFile: string;
        publicKeyFile: string;
        publicKeyPem: string;
      };
      expect(printed.privateKeyFile).to.equal(privateFile);
      expect(printed.publicKeyFile).to.equal(publicFile);
      expect(printed.publicKeyPem).to.equal(readFileSync(publicFile, 'utf8'));
      expect(statSync(privateFile).mode & 0o777).to.equal(0o600);
      expect(readFileSync(privateFile, 'utf8')).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(readFileSync(publicFile, 'utf8')).to.match(/^-----BEGIN PUBLIC KEY-----\n/);
      const privateKey = createPrivateKey(readFileSync(privateFile));
      const publicKey = createPublicKey(readFileSync(publicFile));
      expect(privateKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
      const signature = sign('sha256', Buffer.from('start'), privateKey);
      expect(verify('sha256', Buffer.from('start'), publicKey, signature)).to.equal(true);
    });

    it('never overwrites an existing machine key', async function () {
      const out = join(dir, 'machine-b');
      await captured(() => command('machine keygen').run(['--out', out]));
      const before = readFileSync(join(out, MACHINE_KEY_FILES.privateKey), 'utf8');
      const err = await refusal('machine keygen', ['--out', out]);
      expect({ message: err.message, exitCode: err.exitCode }).to.deep.equal({
        message: `${join(out, MACHINE_KEY_FILES.privateKey)} already exists: not overwriting a machine key`,
        exitCode: 1,
      });
      expect(readFileSync(join(out, MACHINE_KEY_FILES.privateKey), 'utf8')).to.equal(before);
    });

    it('needs --out', async function () {
      await usageError('machine keygen', [], '--out is required');
    });
  });
});
