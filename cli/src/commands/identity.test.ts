import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CliError } from '../command';
import { SECRET_ENV, secretOf } from './identity';

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

const noStdin = (): string => {
  throw new Error('stdin must not be read');
};

describe('the enrollment secret of `threadseal identity` (never on the command line)', function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'threadseal-secret-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the first line of --secret-file, and of stdin for '-'", function () {
    const file = join(dir, 'secret');
    writeFileSync(file, 's3cret-from-file\nignored\n');

    expect(secretOf({ 'secret-file': file }, {}, noStdin)).to.equal('s3cret-from-file');
    expect(secretOf({ 'secret-file': '-' }, {}, () => 's3cret-from-stdin\r\n')).to.equal('s3cret-from-stdin');
  });

  it(`falls back to ${SECRET_ENV}, and is undefined when nothing is given`, function () {
    expect(secretOf({}, { [SECRET_ENV]: 'from-env' }, noStdin)).to.equal('from-env');
    expect(secretOf({}, {}, noStdin)).to.equal(undefined);
  });

  it('prefers --secret-file over the environment', function () {
    const file = join(dir, 'preferred');
    writeFileSync(file, 'from-file');

    expect(secretOf({ 'secret-file': file }, { [SECRET_ENV]: 'from-env' }, noStdin)).to.equal('from-file');
  });

  it('refuses --secret, naming the safe ways, with exit code 2', function () {
    const err = refusal(() => secretOf({ secret: 'on-the-command-line' }, { [SECRET_ENV]: 'x' }, noStdin));

    expect({ message: err.message, exitCode: err.exitCode, code: err.code }).to.deep.equal({
      message: `--secret is not accepted: a secret on the command line is visible to every local user; use --secret-file <file|-> or ${SECRET_ENV}`,
      exitCode: 2,
      code: 'USAGE',
    });
  });

  it('refuses an empty secret and an unreadable file, naming where it looked', function () {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');

    expect(refusal(() => secretOf({ 'secret-file': empty }, {}, noStdin)).message).to.equal(
      `the secret from ${empty} is empty`,
    );
    expect(refusal(() => secretOf({}, { [SECRET_ENV]: '' }, noStdin)).message).to.equal(
      `the secret from ${SECRET_ENV} is empty`,
    );
    const missing = join(dir, 'absent');
    expect(refusal(() => secretOf({ 'secret-file': missing }, {}, noStdin)).message).to.match(
      new RegExp(`^cannot read the secret from ${missing}: ENOENT`),
    );
  });
});
