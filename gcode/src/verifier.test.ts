import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { ParameterBound } from '@threadseal/ledger-model';
import { createVerifier, startBuildParameters, verifyProgram, type ProgramVerdict } from './index.js';

const mill: ParameterBound[] = [
  { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 0, max: 12000 },
  { name: 'feedRate', unit: 'mm/min', kind: 'range', min: 0, max: 2000 },
  { name: 'material', unit: '', kind: 'exact', value: 'Ti-6Al-4V' },
];
const printer: ParameterBound[] = [
  { name: 'nozzleTemperature', unit: '°C', kind: 'range', min: 180, max: 230 },
  { name: 'bedTemperature', unit: '°C', kind: 'range', min: 50, max: 70 },
  { name: 'fanSpeed', unit: '%', kind: 'range', min: 0, max: 100 },
  { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
];

const ngc = (text: string, envelope = mill): Promise<ProgramVerdict> =>
  verifyProgram(Buffer.from(text), { dialect: 'rs274ngc', envelope, preamble: 'G21 G94 G97' });
const fff = (text: string): Promise<ProgramVerdict> =>
  verifyProgram(Buffer.from(text), { dialect: 'fff', envelope: printer });
const sin = (text: string): Promise<ProgramVerdict> =>
  verifyProgram(Buffer.from(text), { dialect: 'sinumerik', envelope: mill, preamble: 'G710 G94 G97' });

async function* chunks(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    await Promise.resolve();
    yield bytes.subarray(i, i + size);
  }
}

describe('rs274ngc verification', () => {
  it('extracts S and F with units (F before G20 on its line, as LinuxCNC orders them), expressions and G95 × rpm', async () => {
    const v = await ngc(
      'S8000 M3\nG1 X1 F500\n#1=20\nG20 F[#1/2]\nG1 X2\nF10\nG21\nG95 F0.1\nG1 X3\nM2\nS99999\n',
    );
    expect(v).to.deep.equal({
      accepted: true,
      parameters: {
        spindleSpeed: { min: 8000, max: 8000, count: 1, firstLine: 1 },
        feedRate: { min: 10, max: 800, count: 4, firstLine: 2 },
      },
      lines: 10,
      bytes: 77,
    });
  });

  it('reads numbers as strtod does, long or short, and checks an axis word it does not evaluate just as strictly', async () => {
    // 17 and 20 significant digits: past the exact fast path, parsed like LinuxCNC (and rounded by strtod).
    const long = await ngc('S1000 M3\nG1 X1 F1234.5678901234567\nF0001999.99999999999999999\nM2\n');
    expect(long.accepted && long.parameters['feedRate']).to.deep.include({
      min: 1234.5678901234567,
      max: 2000,
    });
    const spaced = await ngc('S1000 M3\nF 1 2 3 . 5 G1 X1\nM2\n');
    expect(spaced.accepted && spaced.parameters['feedRate']).to.deep.include({ min: 123.5, max: 123.5 });
    const axis = (word: string) => ngc(`S1000 M3\nF100\nG1 ${word}\nM2\n`);
    expect(await axis('X1.2.3')).to.deep.include({
      accepted: false,
      line: 3,
      code: 'SYNTAX_ERROR',
      reason: "bad number format '1.2.3'",
    });
    expect(await axis('X.')).to.deep.include({
      accepted: false,
      code: 'SYNTAX_ERROR',
      reason: "bad number format '.'",
    });
    expect(await axis(`X${'9'.repeat(260)}`)).to.deep.include({
      accepted: false,
      line: 3,
      code: 'LINE_TOO_LONG',
    });
    expect(await axis(`X${'9'.repeat(240)}`)).to.deep.include({ accepted: true });
    expect(await axis('X1 X2')).to.deep.include({ accepted: false, reason: 'multiple X words on one line' });
    expect(await axis('X-0012.500 Y+.5 Z 3')).to.deep.include({ accepted: true });
  });

  it('rejects a value outside the envelope with its line and the bound', async () => {
    expect(await ngc('S1000 M3\nF100 G1 X1\n(S99999 in a comment)\nS[6000*2+1]\nM2\n')).to.deep.equal({
      accepted: false,
      line: 4,
      code: 'OUT_OF_ENVELOPE',
      reason: 'spindleSpeed 12001 rpm is outside the envelope (spindleSpeed in [0, 12000] rpm)',
    });
  });

  it('uses the value a parameter had before the line that sets it (LinuxCNC reads, then sets)', async () => {
    const v = await ngc('#1=100\n#1=3000 F#1\nG1 X1\nM2\n');
    expect(v.accepted && v.parameters['feedRate']).to.deep.equal({
      min: 100,
      max: 100,
      count: 1,
      firstLine: 2,
    });
  });

  it('rejects what it cannot determine: unset parameters, o-words, G96 without D, G93, unknown start state', async () => {
    const cases: [string, string, number][] = [
      ['S1000 M3\nF#5 G1 X1\n', 'UNDETERMINABLE_VALUE', 2],
      ['o100 call\n', 'UNSUPPORTED_WORD', 1],
      ['o100 while [#<_x> LT 3]\nS1\no100 endwhile\nM2\n', 'UNDETERMINABLE_VALUE', 1],
      ['S1000\n', 'SYNTAX_ERROR', 1],
      ['G96 S200 M3\n', 'UNDETERMINABLE_VALUE', 1],
      ['G93 G1 X1 F2\n', 'UNDETERMINABLE_VALUE', 1],
      ['M3\n', 'UNDETERMINABLE_VALUE', 1],
      ['G1 X1\n', 'INVALID_VALUE', 1],
      ['S1000 S2000\n', 'SYNTAX_ERROR', 1],
      ['S1000\u0000 S9000\n', 'SYNTAX_ERROR', 1],
      ['/S30000 M3\n', 'UNSUPPORTED_WORD', 1],
      ['M70\nG95 F0.1\nM72\n', 'UNSUPPORTED_WORD', 3],
      ['M72\n', 'SYNTAX_ERROR', 1],
      [`(${'x'.repeat(300)})\n`, 'LINE_TOO_LONG', 1],
    ];
    for (const [program, code, line] of cases) {
      const v = await ngc(program);
      expect({
        program,
        code: v.accepted ? 'accepted' : v.code,
        line: v.accepted ? 0 : v.line,
      }).to.deep.equal({ program, code, line });
    }
    const strict = await verifyProgram(Buffer.from('F100 G1 X1\n'), { dialect: 'rs274ngc', envelope: mill });
    expect(strict).to.deep.include({ accepted: false, code: 'UNDETERMINABLE_VALUE', line: 1 });
  });

  it('evaluates subroutines, loops and conditionals as LinuxCNC does, each value on its own line', async () => {
    const program = [
      'o<spin> sub', // 1
      '  S[#1 * 2]', // 2: #1 is the call's first argument
      '  o<spin> return [#1 + 1]', // 3
      'o<spin> endsub', // 4
      '#1 = 7', // 5: the caller's #1, restored after the call
      'o<spin> call [3000]', // 6
      'F[#<_value> / 10] G1 X1', // 7: 300.1
      'o10 repeat [3]', // 8
      '  #2 = [#2 + 1]', // 9: #2 is not set... so it stays undetermined (fine: not constrained)
      'o10 endrepeat', // 10
      '#3 = 0', // 11
      'o20 while [#3 LT 4]', // 12
      '  #3 = [#3 + 1]', // 13
      '  o30 if [#3 EQ 2]', // 14
      '    o20 continue', // 15
      '  o30 elseif [#3 EQ 4]', // 16
      '    S11000', // 17
      '  o30 else', // 18
      '    F[#3 * 100]', // 19: 100, 300
      '  o30 endif', // 20
      'o20 endwhile', // 21
      'F#1', // 22: 7
      'M2',
    ].join('\n');
    const v = await ngc(`${program}\n`);
    expect(v.accepted && v.parameters).to.deep.equal({
      spindleSpeed: { min: 6000, max: 11000, count: 2, firstLine: 2 },
      feedRate: { min: 7, max: 300.1, count: 4, firstLine: 7 },
    });
    const outside = await ngc(program.replace('S11000', 'S13000'));
    expect(outside).to.deep.equal({
      accepted: false,
      line: 17,
      code: 'OUT_OF_ENVELOPE',
      reason: 'spindleSpeed 13000 rpm is outside the envelope (spindleSpeed in [0, 12000] rpm)',
    });
  });

  it('rejects a loop that does not end within the limit', async () => {
    const v = await verifyProgram(Buffer.from('o1 while [1]\nG0 X1\no1 endwhile\nM2\n'), {
      dialect: 'rs274ngc',
      envelope: mill,
      preamble: 'G21 G94 G97',
      maxExecutedLines: 1000,
    });
    expect(v).to.deep.equal({
      accepted: false,
      line: 1,
      code: 'UNDETERMINABLE_VALUE',
      reason: 'the program does not end within 1000 lines run in loops and calls',
    });
  });

  it('bounds G96 by its D limit, and refuses it when the envelope has a lower rpm bound', async () => {
    const v = await ngc('G96 D2500 S200 M3\nG95 F0.2\nG1 X1\nM2\n');
    expect(v.accepted && v.parameters).to.deep.equal({
      spindleSpeed: { min: 2500, max: 2500, count: 2, firstLine: 1 },
      feedRate: { min: 500, max: 500, count: 1, firstLine: 3 },
    });
    const floor: ParameterBound[] = [
      { name: 'spindleSpeed', unit: 'rpm', kind: 'range', min: 1000, max: 3000 },
    ];
    expect(await ngc('G96 D2500 S200 M3\n', floor)).to.deep.include({
      accepted: false,
      code: 'UNDETERMINABLE_VALUE',
      line: 1,
    });
  });

  it('reads a program streamed in 7-byte chunks exactly as the whole buffer', async () => {
    const text = 'S8000 M3\r\nG1 X1 F500 ; S9\r\n(MSG, F99999)\r\nG1 X2 F1500\r\nM2\r\n';
    const whole = await ngc(text);
    const streamed = await verifyProgram(chunks(text, 7), {
      dialect: 'rs274ngc',
      envelope: mill,
      preamble: 'G21 G94 G97',
    });
    expect(streamed).to.deep.equal(whole);
    expect(whole.accepted && whole.parameters['feedRate']?.max).to.equal(1500);
  });

  it('lets the agent verify line by line and declare the maxima in StartBuild', () => {
    const verifier = createVerifier({ dialect: 'rs274ngc', envelope: mill, preamble: 'G21 G94 G97' });
    for (const line of ['S6000 M3', 'G1 X1 F300', 'S9000', 'M2'])
      expect(verifier.line(line)).to.equal(undefined);
    const verdict = verifier.end();
    if (!verdict.accepted) throw new Error('expected acceptance');
    expect(startBuildParameters(verdict, mill)).to.deep.equal({ spindleSpeed: 9000, feedRate: 300 });
  });

  it('refuses an envelope whose unit is not the vocabulary unit', () => {
    expect(() =>
      createVerifier({
        dialect: 'rs274ngc',
        envelope: [{ name: 'feedRate', unit: 'in/min', kind: 'range', min: 0, max: 1 }],
      }),
    ).to.throw('INVALID_ARGUMENT: envelope feedRate is in "in/min"; the verifier measures it in mm/min');
  });
});

describe('streaming and the verdict', () => {
  it('keeps the first rejection: later input changes nothing', () => {
    const verifier = createVerifier({ dialect: 'rs274ngc', envelope: mill, preamble: 'G21 G94 G97' });
    const first = verifier.write(Buffer.from('S1000 M3\nS13000\n'));
    expect(first).to.deep.equal({
      accepted: false,
      line: 2,
      code: 'OUT_OF_ENVELOPE',
      reason: 'spindleSpeed 13000 rpm is outside the envelope (spindleSpeed in [0, 12000] rpm)',
    });
    expect(verifier.write(Buffer.from('M2\n'))).to.equal(first);
    expect(verifier.line('S1000')).to.equal(first);
    expect(verifier.end()).to.equal(first);
    expect(verifier.end()).to.equal(first);
  });

  it('splits lines across chunks of every size, and refuses a line longer than the limit without buffering it', async () => {
    const text = 'M140 S60\nM104 S215\nG1 X1 F1200 ; a comment\nM106 S255\n';
    const whole = await fff(text);
    for (const size of [1, 2, 3, 5, 8, 13])
      expect(await verifyProgram(chunks(text, size), { dialect: 'fff', envelope: printer })).to.deep.equal(
        whole,
      );
    const long = `M104 S200\n;${'x'.repeat(70 * 1024)}\nM104 S999\n`;
    expect(await verifyProgram(chunks(long, 4096), { dialect: 'fff', envelope: printer })).to.deep.equal({
      accepted: false,
      line: 2,
      code: 'LINE_TOO_LONG',
      reason: 'line longer than 65536 bytes',
    });
  });

  it('stops reading at the first rejection of a stream', async () => {
    let pulled = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      yield Buffer.from('G21 G94 G97\nS99999 M3\n');
      for (;;) {
        pulled++;
        await Promise.resolve();
        yield Buffer.from('G1 X1 F100\n');
      }
    }
    const v = await verifyProgram(endless(), { dialect: 'rs274ngc', envelope: mill });
    expect(v).to.deep.include({ accepted: false, line: 2, code: 'OUT_OF_ENVELOPE' });
    expect(pulled).to.equal(0);
  });
});

describe('fff verification', () => {
  it('extracts temperatures, fan %, feed and override; S0 is off', async () => {
    const v = await fff(
      'M140 S60\nM104 S215 T0\nM190 S60\nM109 S215\nG28\nG1 X10 Y10 F3000 E1\nM106 S127.5\nM220 S110\nM104 S0\nM140 S0\nM107\n',
    );
    expect(v).to.deep.equal({
      accepted: true,
      parameters: {
        feedRate: { min: 3000, max: 3000, count: 1, firstLine: 6 },
        feedOverride: { min: 110, max: 110, count: 1, firstLine: 8 },
        nozzleTemperature: { min: 215, max: 215, count: 2, firstLine: 2 },
        bedTemperature: { min: 60, max: 60, count: 2, firstLine: 1 },
        fanSpeed: { min: 50, max: 50, count: 1, firstLine: 7 },
      },
      lines: 11,
      bytes: 108,
    });
  });

  it('rejects hot ends, macros, exponents and moves at an unknown feed', async () => {
    const cases: [string, string][] = [
      ['M104 S260\n', 'OUT_OF_ENVELOPE'],
      ['SET_HEATER_TEMPERATURE HEATER=extruder TARGET=300\n', 'UNSUPPORTED_WORD'],
      ['M104 S2e2\n', 'SYNTAX_ERROR'],
      ['G1 X10\n', 'UNDETERMINABLE_VALUE'],
      ['M104 S200 B260 F1\n', 'UNSUPPORTED_WORD'],
      ['M999\n', 'UNSUPPORTED_WORD'],
      ['M104 S200 S250\n', 'SYNTAX_ERROR'],
      ['M104 I1\n', 'UNSUPPORTED_WORD'],
      ['M220 R\n', 'UNSUPPORTED_WORD'],
    ];
    for (const [program, code] of cases) {
      const v = await fff(program);
      expect({ program, code: v.accepted ? 'accepted' : v.code }).to.deep.equal({ program, code });
    }
  });
});

describe('fff verification of the shared corpus', () => {
  const HOOK_PLATE = path.resolve(__dirname, '../../../shared/corpus/additive/hook_plate_1.gcode');

  it('accepts the Bambu Lab hook plate and reports its temperatures, fan, feed and overrides', async function () {
    if (!existsSync(HOOK_PLATE)) {
      console.log(`      skipped: ${HOOK_PLATE} is absent (../shared/corpus)`);
      this.skip();
    }
    const v = await verifyProgram(createReadStream(HOOK_PLATE), { dialect: 'fff', envelope: [] });
    expect(v).to.deep.equal({
      accepted: true,
      parameters: {
        feedRate: { min: 30, max: 42000, count: 2577, firstLine: 406 },
        feedOverride: { min: 100, max: 100, count: 2, firstLine: 422 },
        flowRate: { min: 100, max: 100, count: 1, firstLine: 423 },
        nozzleTemperature: { min: 25, max: 300, count: 20, firstLine: 376 },
        bedTemperature: { min: 65, max: 65, count: 2, firstLine: 377 },
        fanSpeed: { min: 67, max: 100, count: 21, firstLine: 499 },
      },
      lines: 20791,
      bytes: 586184,
    });
    const tight: ParameterBound[] = [
      { name: 'nozzleTemperature', unit: '°C', kind: 'range', min: 20, max: 250 },
    ];
    const refused = await verifyProgram(createReadStream(HOOK_PLATE), { dialect: 'fff', envelope: tight });
    expect(refused).to.deep.equal({
      accepted: false,
      line: 495,
      code: 'OUT_OF_ENVELOPE',
      reason: 'nozzleTemperature 300 °C is outside the envelope (nozzleTemperature in [20, 250] °C)',
    });
  });

  it('does not read commands inside comments', async () => {
    expect(await fff('M104 S200 ; M104 S999\n; M140 S999\nM140 S60;S999\n')).to.deep.include({
      accepted: true,
    });
  });
});

describe('sinumerik verification', () => {
  it('evaluates R-parameters, S1=, G96 with LIMS and G95', async () => {
    const v = await sin(
      'N10 R1=4000 R2=2\nN20 S1=R1*R2 M3\nN30 G1 X10 F=R1/10\nN40 G96 S180 LIMS=3000\nN50 G95 F0.1 X20\nM30\n',
    );
    expect(v.accepted && v.parameters).to.deep.equal({
      spindleSpeed: { min: 3000, max: 8000, count: 3, firstLine: 2 },
      feedRate: { min: 300, max: 400, count: 2, firstLine: 3 },
    });
  });

  it('rejects control flow, unset R-parameters, G96 without LIMS and F under G70', async () => {
    const cases: [string, string][] = [
      ['GOTOF END\n', 'UNSUPPORTED_WORD'],
      ['H1\n', 'UNSUPPORTED_WORD'],
      ['S=R7 M3\n', 'UNDETERMINABLE_VALUE'],
      ['G96 S200 M3\n', 'UNDETERMINABLE_VALUE'],
      ['G70 F10\n', 'UNDETERMINABLE_VALUE'],
      ['S20000 M3\n', 'OUT_OF_ENVELOPE'],
      ['R1=5 S=R1\n', 'UNDETERMINABLE_VALUE'],
    ];
    for (const [program, code] of cases) {
      const v = await sin(program);
      expect({ program, code: v.accepted ? 'accepted' : v.code }).to.deep.equal({ program, code });
    }
  });
});
