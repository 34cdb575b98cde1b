import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import type { ParameterBound } from '@threadseal/ledger-model';
import { monitorJob } from '../../monitor/runtime-monitor.js';
import { MarlinPrinterSimulator } from '../../simulators/marlin-printer.js';
import type { TelemetrySample } from '../controller.js';
import { MarlinController, numberedLine, programCommands } from './marlin-controller.js';

const CORPUS = resolve(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  '..',
  'shared',
  'corpus',
  'additive',
  'hook_plate_1.gcode',
);
const POLLS = new Set(['M105', 'M220', 'M221']);

const PROGRAM = Buffer.from(
  [
    '; a generated print',
    'M140 S60',
    'M104 S210',
    'M190 S60',
    'M109 S210',
    'G28',
    'G1 Z0.2 F3000',
    ...Array.from(
      { length: 150 },
      (_, i) => `G1 X${i} Y${i % 7} E${(i * 0.05).toFixed(2)} F1800 ; move ${i}`,
    ),
    'M104 S0',
    'M140 S0',
    'M84',
  ].join('\n'),
);

describe('MarlinController against the threadseal printer simulator on a pty', function () {
  this.timeout(60_000);
  let sim: MarlinPrinterSimulator | undefined;
  let printer: MarlinController | undefined;

  before(function () {
    if (!existsSync('/usr/bin/python3')) {
      console.log('    skipped: no /usr/bin/python3 to make the pseudo-terminal');
      this.skip();
    }
  });

  beforeEach(async () => {
    sim = await MarlinPrinterSimulator.start({ model: 'FFF-SIM 300', serial: 'SIM-4411', moveMs: 5 });
    printer = await MarlinController.open(sim.path);
  });

  afterEach(async () => {
    await printer?.close();
    await sim?.close();
  });

  const both = (): { sim: MarlinPrinterSimulator; printer: MarlinController } => {
    if (sim === undefined || printer === undefined) throw new Error('not started');
    return { sim, printer };
  };

  it('numbers and checksums lines as Marlin expects', () => {
    expect(numberedLine(1, 'M105')).to.equal('N1 M105*38');
    expect(programCommands(Buffer.from('; c\n\nG1 X1 ; move\nM105\n'))).to.deep.equal([
      { line: 3, command: 'G1 X1' },
      { line: 4, command: 'M105' },
    ]);
  });

  it('opens a pty at a set baud rate, and refuses what is no serial line (CONTROLLER_UNAVAILABLE)', async () => {
    await both().printer.close();
    printer = await MarlinController.open(both().sim.path, { baudRate: 115200 });
    expect((await printer.identify()).serial).to.equal('SIM-4411');
    for (const [path, message] of [
      ['/nonexistent/ttyUSB9', /^CONTROLLER_UNAVAILABLE: cannot open serial line \/nonexistent\/ttyUSB9: /],
      ['/dev/null', /^CONTROLLER_UNAVAILABLE: \/dev\/null is not a serial line \(not a terminal\)$/],
    ] as const)
      try {
        await MarlinController.open(path);
        expect.fail(`opened ${path}`);
      } catch (err) {
        expect((err as Error).message).to.match(message);
      }
  });

  it('identify reports what the printer says in M115: a simulator, with its model and serial', async () => {
    const facts = await both().printer.identify();
    expect(facts.firmware).to.match(/^threadseal-printer-simulator 0\.1 \(a simulator, not a printer/);
    expect(facts).to.deep.include({
      model: 'FFF-SIM 300',
      serial: 'SIM-4411',
      make: 'threadseal',
      controller: 'marlin',
    });
    expect(facts.certifications).to.deep.equal([]);
  });

  it('streams a whole program through injected checksum errors: every line accepted once, in order', async () => {
    const { sim: s, printer: p } = both();
    s.corruptNextLines(1);
    const job = await p.run(PROGRAM, { jobId: 'print1' });
    let corrupted = false;
    const samples: TelemetrySample[] = [];
    for await (const sample of job.telemetry) {
      samples.push(sample);
      if (!corrupted && sample.line > 10) {
        s.corruptNextLines(3);
        corrupted = true;
      }
    }
    const outcome = await job.done;
    expect(outcome).to.deep.equal({ status: 'completed', lastLine: 160 });
    expect(s.resends).to.be.at.least(4);
    expect(p.resends).to.equal(s.resends);
    expect(s.accepted.filter((c) => !POLLS.has(c))).to.deep.equal(
      programCommands(PROGRAM).map((c) => c.command),
    );
    const nozzle = samples.map((x) => x.nozzleC ?? 0);
    expect(Math.max(...nozzle)).to.be.within(209, 211); // heated to M109 S210
    expect(samples.some((x) => x.nozzleTargetC === 210 && x.bedTargetC === 60)).to.equal(true);
  });

  it('a nozzle running away past the envelope is an excursion: the monitor stops the printer (M112)', async () => {
    const { sim: s, printer: p } = both();
    const envelope: ParameterBound[] = [
      { name: 'nozzleTemperature', unit: 'degC', kind: 'range', min: 190, max: 230 },
    ];
    const job = await p.run(PROGRAM, { jobId: 'runaway1' });
    let ranAway = false;
    const report = await monitorJob(job, envelope, {
      lowSettleMs: 60_000,
      onSample: (x) => {
        if (!ranAway && x.line > 20) {
          s.runaway(280);
          ranAway = true;
        }
      },
    });
    expect(report.outcome.status).to.equal('stopped');
    expect(report.excursion?.parameter).to.equal('nozzleTemperature');
    expect(report.excursion?.found).to.be.above(230);
    expect(s.halted).to.equal(true);
    expect(s.temperatures.nozzleTarget).to.equal(0);
    const accepted = s.accepted.filter((c) => !POLLS.has(c)).length;
    expect(accepted).to.be.below(programCommands(PROGRAM).length);
    console.log(`    nozzle excursion → printer halted: ${(report.excursionToStopMs ?? 0).toFixed(1)} ms`);
  });

  it('an operator turning the feed knob to 150 % is seen through M220 and stops the job', async () => {
    const { sim: s, printer: p } = both();
    const envelope: ParameterBound[] = [
      { name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 },
    ];
    const job = await p.run(PROGRAM, { jobId: 'feed150' });
    let turned = false;
    const report = await monitorJob(job, envelope, {
      onSample: (x) => {
        if (!turned && x.line > 15) {
          s.operatorSetsFeed(150);
          turned = true;
        }
      },
    });
    expect(report.excursion).to.deep.include({ parameter: 'feedOverride', found: 150 });
    expect(report.outcome.status).to.equal('stopped');
  });

  it('stop() halts the printer and no line is accepted after it', async () => {
    const { sim: s, printer: p } = both();
    const job = await p.run(PROGRAM, { jobId: 'stop1' });
    let report: Awaited<ReturnType<typeof job.stop>> | undefined;
    for await (const x of job.telemetry)
      if (report === undefined && x.line > 12) report = await job.stop('operator stop');
    const outcome = await job.done;
    const acceptedAtStop = s.accepted.length;
    expect(outcome.status).to.equal('stopped');
    expect(report?.latencyMs).to.be.below(1000);
    expect(s.halted).to.equal(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.accepted.length).to.equal(acceptedAtStop);
  });

  it('streams the corpus print (hook_plate_1.gcode) to completion', async function () {
    if (!existsSync(CORPUS)) {
      console.log(`    skipped: the corpus is absent (${CORPUS})`);
      this.skip();
    }
    await both().printer.close();
    await both().sim.close();
    sim = await MarlinPrinterSimulator.start({ moveMs: 0, heatRate: 0.6 });
    printer = await MarlinController.open(sim.path);
    const program = readFileSync(CORPUS);
    const job = await printer.run(program, { jobId: 'hookplate' });
    let samples = 0;
    for await (const sample of job.telemetry) if (sample.line >= 0) samples++;
    const outcome = await job.done;
    expect(outcome.status).to.equal('completed');
    expect(sim.accepted.filter((c) => !POLLS.has(c)).length).to.equal(programCommands(program).length);
    expect(samples).to.be.above(10);
  });
});
