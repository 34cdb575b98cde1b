import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CliError, type CliCommand } from '../command';
import { gcodeCommands } from './gcode';

const check = gcodeCommands.find((c) => c.path.join(' ') === 'gcode check') as CliCommand;

/** Runs the command with stdout and stderr captured; resolves to its exit code or what it threw. */
async function run(args: string[]): Promise<{ result: unknown; stdout: string; stderr: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = (chunk: string | Uint8Array) => ((stdout += String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => ((stderr += String(chunk)), true);
  try {
    const result = await check.run(args).then(
      (v) => v,
      (e: unknown) => e,
    );
    return { result, stdout, stderr };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('threadseal gcode check', () => {
  let dir: string;
  let envelope: string;
  let good: string;
  let hot: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'threadseal-gcode-cli-'));
    envelope = path.join(dir, 'envelope.json');
    writeFileSync(
      envelope,
      JSON.stringify([
        { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 12000 },
        { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 2000 },
      ]),
    );
    good = path.join(dir, 'good.ngc');
    writeFileSync(good, 'G21 G94 G97\nS8000 M3\nG1 X10 F1200\nM2\n');
    hot = path.join(dir, 'hot.ngc');
    writeFileSync(hot, 'G21 G94 G97\nS8000 M3\n#1=20000\nS#1\nM2\n');
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and prints the extracted summary for an accepted program', async () => {
    const r = await run(['--dialect', 'rs274ngc', '--envelope', envelope, good]);
    expect(r.result).to.equal(0);
    expect(r.stdout).to.equal(
      `accepted: ${good} (4 lines, 37 bytes)\n` +
        '  spindleSpeed: 8000..8000 rpm, set 1×, first on line 2\n' +
        '  feedRate: 1200..1200 mm/min, set 1×, first on line 3\n',
    );
  });

  it('exits 1 with <program>:<line>: reason on stderr for a value outside the envelope', async () => {
    const r = await run(['--dialect', 'rs274ngc', '--envelope', envelope, hot]);
    expect(r.result).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      `${hot}:4: OUT_OF_ENVELOPE: spindleSpeed 20000 rpm is outside the envelope (spindleSpeed in [0, 12000] rpm)\n`,
    );
  });

  it('exits 1 for a program whose units are unknown without a preamble, 0 with one', async () => {
    const unitless = path.join(dir, 'unitless.ngc');
    writeFileSync(unitless, 'S8000 M3\nM2\n');
    const without = await run(['--dialect', 'rs274ngc', '--envelope', envelope, unitless]);
    expect(without.result).to.equal(1);
    expect(without.stderr).to.equal(
      `${unitless}:1:1: UNDETERMINABLE_VALUE: S before the program sets the spindle mode (G96/G97)\n`,
    );
    const withPreamble = await run([
      '--dialect',
      'rs274ngc',
      '--envelope',
      envelope,
      '--preamble',
      'G97',
      unitless,
    ]);
    expect(withPreamble.result).to.equal(0);
  });

  const usage: [string, () => string[], () => string][] = [
    [
      'an unknown dialect',
      () => ['--dialect', 'heidenhain', '--envelope', envelope, good],
      () => '--dialect must be one of rs274ngc, fff, sinumerik',
    ],
    ['a missing --envelope', () => ['--dialect', 'fff', good], () => 'missing --envelope <envelope.json>'],
    [
      'a missing program',
      () => ['--dialect', 'fff', '--envelope', envelope, path.join(dir, 'nope.gcode')],
      () => `program ${path.join(dir, 'nope.gcode')} is not a readable file`,
    ],
    ['no program', () => ['--dialect', 'fff', '--envelope', envelope], () => 'give exactly one <program>'],
  ];
  for (const [what, args, message] of usage) {
    it(`exits 2 for ${what}`, async () => {
      const r = await run(args());
      expect(r.result).to.be.instanceOf(CliError);
      expect({
        message: (r.result as CliError).message,
        exitCode: (r.result as CliError).exitCode,
      }).to.deep.equal({ message: message(), exitCode: 2 });
    });
  }

  it('exits 2 for an envelope that is not JSON or not ParameterBound entries', async () => {
    const notJson = path.join(dir, 'bad.json');
    writeFileSync(notJson, '[{"name":');
    const r1 = await run(['--dialect', 'rs274ngc', '--envelope', notJson, good]);
    expect((r1.result as CliError).exitCode).to.equal(2);
    expect((r1.result as CliError).message).to.match(/^envelope .*bad\.json is not JSON: /);
    const inverted = path.join(dir, 'inverted.json');
    writeFileSync(
      inverted,
      JSON.stringify([{ name: 'feedRate', unit: 'mm/min', kind: 'range', min: 10, max: 1 }]),
    );
    const r2 = await run(['--dialect', 'rs274ngc', '--envelope', inverted, good]);
    expect({
      message: (r2.result as CliError).message,
      exitCode: (r2.result as CliError).exitCode,
    }).to.deep.equal({
      message: `envelope ${inverted}: INVALID_ARGUMENT: envelope[0].max: expected a number >= min 10, got 1`,
      exitCode: 2,
    });
  });

  it('rejects a bad flag through parseArgs (exit 2 via cliFailure)', async () => {
    const r = await run(['--dialect', 'fff', '--envelope', envelope, '--turbo', good]);
    expect((r.result as Error & { code?: string }).code).to.equal('ERR_PARSE_ARGS_UNKNOWN_OPTION');
  });
});
