import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'chai';
import { isThreadsealError } from '@threadseal/ledger-model';
import type { Job, TelemetrySample } from '../controller.js';
import { monitorJob } from '../../monitor/runtime-monitor.js';
import { cleanUpStaleInstances, linuxCncAvailability, LinuxCncController } from './linuxcnc-controller.js';

const CORPUS = resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'corpus', 'cnc');
const IDENTITY = {
  make: 'Haas',
  model: 'VF-2SS',
  serial: 'HAAS-3172',
  certifications: ['AS9100D', 'NADCAP-CMSP'],
};

/** Reads a job's telemetry to its end, calling `each` on every sample (it may act on the job). */
async function follow(job: Job, each: (s: TelemetrySample, all: TelemetrySample[]) => void | Promise<void>) {
  const all: TelemetrySample[] = [];
  for await (const s of job.telemetry) {
    all.push(s);
    await each(s, all);
  }
  return all;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The host pids of every process in the PID namespace whose PID 1 is `nsPid` on the host. */
function namespaceMembers(nsPid: number): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${nsPid}/ns/pid`);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === ns) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** The names of processes (their `comm`). */
function names(pids: readonly number[]): string[] {
  return pids.flatMap((p) => {
    try {
      return [readFileSync(`/proc/${p}/comm`, 'utf8').trim()];
    } catch {
      return [];
    }
  });
}

/** Listening TCP sockets of the host's network namespace, as local ports. */
function hostListeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]?.split(':')[1] ?? '0', 16));
    }
  }
  return ports;
}

describe('LinuxCncController: a real LinuxCNC 2.9 sim mill in private namespaces', function () {
  this.timeout(60_000);
  let cnc: LinuxCncController | undefined;

  before(async function () {
    const available = linuxCncAvailability();
    if (!available.ok) {
      console.log(`    skipped: ${available.reason}`);
      this.skip();
    }
    cnc = await LinuxCncController.start({ identity: IDENTITY });
  });

  after(async () => {
    await cnc?.close();
  });

  const controller = (): LinuxCncController => {
    if (cnc === undefined) throw new Error('not started');
    return cnc;
  };

  it('identify reports the configured make, model, serial, certifications and LinuxCNC as firmware', async () => {
    const facts = await controller().identify();
    expect(facts).to.deep.include({
      make: 'Haas',
      model: 'VF-2SS',
      serial: 'HAAS-3172',
      controller: 'linuxcnc',
    });
    expect(facts.certifications).to.deep.equal(['AS9100D', 'NADCAP-CMSP']);
    expect(facts.firmware).to.match(/^LinuxCNC 2\.9\./);
  });

  it('listens on nothing of the host: its NML port 5005 exists only inside its network namespace, which has only lo', () => {
    expect(hostListeningPorts().has(5005)).to.equal(false);
    const inside = spawnSync(
      'nsenter',
      [
        `--target=${controller().namespacePid}`,
        '--net',
        '--',
        'sh',
        '-c',
        'ip -o link | cut -d: -f2; cat /proc/net/tcp',
      ],
      { encoding: 'utf8' },
    );
    const [ifaces, tcp] = [
      inside.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\w+$/.test(l)),
      inside.stdout,
    ];
    expect(ifaces).to.deep.equal(['lo']);
    expect(tcp).to.match(/:138D 00000000:0000 0A/); // 0.0.0.0:5005 LISTEN, inside only
  });

  it('lets no one else drive it: another user cannot reach the bridge socket, and root finds it taken', async () => {
    const socket = controller().bridgeSocket;
    const connect = `import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n  print(type(e).__name__)`;
    const asNobody = spawnSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        '--',
        '/usr/bin/python3',
        '-c',
        connect,
        socket,
      ],
      { encoding: 'utf8' },
    );
    expect(asNobody.stdout.trim()).to.equal('PermissionError');
    const asRoot = spawnSync('/usr/bin/python3', ['-c', connect, socket], { encoding: 'utf8' });
    expect(asRoot.stdout.trim()).to.equal('ConnectionRefusedError');
    expect((await controller().identify()).serial).to.equal('HAAS-3172'); // the agent's connection is untouched
  });

  it('runs a generated program to completion; telemetry at ≥ 10 Hz shows the spindle turning and the executing line advancing', async () => {
    const program = [
      'G21 G90 G17',
      'S2400 M3',
      'G0 X0 Y0 Z5',
      'G1 Z0 F600',
      'G1 X30 F1500',
      'G1 Y30',
      'G1 X0',
      'G1 Y0',
      'G0 Z5',
      'M5',
      'M2',
    ].join('\n');
    const job = await controller().run(Buffer.from(program), { jobId: 'generated1' });
    const samples = await follow(job, () => undefined);
    const outcome = await job.done;
    expect(outcome.status).to.equal('completed');
    const lines = samples.map((s) => s.line).filter((l) => l > 0);
    expect(new Set(lines).size).to.be.at.least(4);
    for (let i = 1; i < lines.length; i++) expect(lines[i]).to.be.at.least(lines[i - 1] ?? 0); // never backwards
    expect(outcome.lastLine).to.be.at.least(8);
    expect(Math.max(...samples.map((s) => s.spindleRpm ?? 0))).to.be.closeTo(2400, 1);
    expect(samples.some((s) => Math.abs((s.feedRateMmMin ?? 0) - 1500) < 1)).to.equal(true); // G1 F1500
    const first = samples[0]?.at ?? 0;
    const last = samples.at(-1)?.at ?? 0;
    expect(samples.length / ((last - first) / 1000)).to.be.at.least(10);
  });

  it('hands a 3 MB program over as raw bytes: its tmpfs file holds exactly the bytes sent (quotes, backslashes, CRLF), and the next job runs', async () => {
    const head = 'G21 G90 G17\r\nG1 X40 F2400\r\n';
    const pad: string[] = [];
    let size = head.length;
    while (size < 3_000_000) {
      // What JSON would escape and base64 would reshape, in comments LinuxCNC skips.
      const line = `(pad "\\" ${randomBytes(24).toString('base64url')} \\n)\r\n`;
      pad.push(line);
      size += line.length;
    }
    const program = Buffer.from(`${head}${pad.join('')}G0 X0\r\nM2\r\n`, 'latin1');
    const expected = createHash('sha256').update(program).digest('hex');
    const job = await controller().run(program, { jobId: 'rawbytes1' });
    const jobFile = `/proc/${controller().namespacePid}/root/tmp/ts/jobs/rawbytes1.ngc`;
    const delivered = readFileSync(jobFile);
    await job.stop('the delivery was checked');
    await follow(job, () => undefined);
    expect((await job.done).status).to.equal('stopped');
    expect(delivered.length).to.equal(program.length);
    expect(createHash('sha256').update(delivered).digest('hex')).to.equal(expected);
    expect(existsSync(jobFile)).to.equal(false);
    // The bridge read exactly the announced bytes: the next request is understood.
    const next = await controller().run(Buffer.from('G21 G90\nG1 X1 F3000\nM2\n'), { jobId: 'rawbytes2' });
    await follow(next, () => undefined);
    expect((await next.done).status).to.equal('completed');
  });

  it('reports a program LinuxCNC rejects as failed, with its error', async () => {
    const job = await controller().run(Buffer.from('G21\nG1 X10 F100 B7\nM2\n'), { jobId: 'rejected1' });
    await follow(job, () => undefined);
    const outcome = await job.done;
    expect(outcome.status).to.equal('failed');
    expect(outcome.reason).to.match(/Bad character 'b' used/);
  });

  it('runs a corpus program (hole-circle.ngc, at 200 % feed override) to completion', async function () {
    const file = join(CORPUS, 'hole-circle.ngc');
    if (!existsSync(file)) {
      console.log(`    skipped: the corpus is absent (${file})`);
      this.skip();
    }
    const job = await controller().run(readFileSync(file), { jobId: 'holecircle' });
    let turned = false;
    const samples = await follow(job, (s) => {
      if (!turned && s.line > 0) {
        turned = true;
        void controller().operatorSets('feedOverride', 200);
      }
    });
    const outcome = await job.done;
    expect(outcome.status).to.equal('completed');
    expect(outcome.lastLine).to.equal(10); // the G81 canned cycle, the last motion line
    expect(samples.some((s) => s.feedOverridePct === 200)).to.equal(true);
  });

  it('sees an operator turn the feed override to 150 % mid-job, and stop() aborts it, confirmed from status', async function () {
    const file = join(CORPUS, 'arcspiral.ngc');
    if (!existsSync(file)) {
      console.log(`    skipped: the corpus is absent (${file})`);
      this.skip();
    }
    const job = await controller().run(readFileSync(file), { jobId: 'arcspiral' });
    let turnedAt = 0;
    let stop: Promise<unknown> | undefined;
    const samples = await follow(job, (s) => {
      if (turnedAt === 0 && s.line >= 8 && (s.spindleRpm ?? 0) > 3000) {
        void controller().operatorSets('feedOverride', 150);
        turnedAt = s.at;
      }
      if (stop === undefined && s.feedOverridePct === 150 && (s.feedRateMmMin ?? 0) > 24 * 25.4 * 1.4)
        stop = job.stop('feed override 150 % is outside the envelope');
    });
    const report = (await stop) as { latencyMs: number; line: number; reason: string };
    const outcome = await job.done;
    expect(turnedAt).to.be.greaterThan(0);
    expect(samples.filter((s) => s.at < turnedAt).every((s) => s.feedOverridePct === 100)).to.equal(true);
    expect(outcome).to.deep.include({
      status: 'stopped',
      reason: 'feed override 150 % is outside the envelope',
    });
    expect(outcome.lastLine).to.be.below(1000); // stopped long before the end of its 1008 lines
    expect(report.latencyMs).to.be.below(1000);
    console.log(
      `    stop request → confirmed stop: ${report.latencyMs.toFixed(1)} ms (at line ${report.line})`,
    );
  });

  it('monitor: an operator turning the feed override to 150 % is an excursion that stops the job, recorded with line and time', async () => {
    const envelope = [{ name: 'feedOverride', unit: '%', kind: 'range', min: 50, max: 120 } as const];
    const job = await controller().run(Buffer.from('G21\nS2000 M3\nG1 X100 F600\nG1 X0\nM5\nM2\n'), {
      jobId: 'excursion1',
    });
    let turned = false;
    const report = await monitorJob(job, envelope, {
      onSample: (s) => {
        if (!turned && s.line >= 3) {
          turned = true;
          void controller().operatorSets('feedOverride', 150);
        }
      },
    });
    expect(report.outcome).to.deep.include({ status: 'stopped' });
    expect(report.excursion).to.deep.include({
      parameter: 'feedOverride',
      expected: 'in [50, 120] %',
      found: 150,
      line: 3,
    });
    expect(report.outcome.reason).to.equal('feedOverride 150 outside in [50, 120] % at line 3');
    expect(report.excursionToStopMs).to.be.below(1000);
    expect(report.telemetryDigest).to.match(/^[0-9a-f]{64}$/);
    console.log(`    excursion reading → confirmed stop: ${(report.excursionToStopMs ?? 0).toFixed(1)} ms`);
  });

  it('refuses a second job while one runs (CONTROLLER_BUSY), and the first runs on', async () => {
    const job = await controller().run(Buffer.from('G21\nG1 X20 F300\nG1 X0\nM2\n'), { jobId: 'busy1' });
    try {
      await controller().run(Buffer.from('M2\n'), { jobId: 'busy2' });
      expect.fail('a second job was accepted');
    } catch (err) {
      expect(isThreadsealError(err, 'CONTROLLER_BUSY')).to.equal(true);
      expect((err as Error).message).to.equal('CONTROLLER_BUSY: job busy1 is still running on this LinuxCNC');
    }
    await job.stop('test over');
    expect((await job.done).status).to.equal('stopped');
  });

  it('refuses an identity that would add INI lines, and stages nothing', async () => {
    const before = readdirSync('/dev/shm').filter((n) => n.startsWith('threadseal-linuxcnc-')).length;
    try {
      await LinuxCncController.start({
        identity: { ...IDENTITY, serial: 'X\n[DISPLAY]\nDISPLAY = /bin/sh' },
      });
      expect.fail('started');
    } catch (err) {
      expect(isThreadsealError(err, 'INVALID_ARGUMENT')).to.equal(true);
      expect((err as Error).message).to.match(/^INVALID_ARGUMENT: machine serial "X\\n\[DISPLAY\]/);
    }
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith('threadseal-linuxcnc-')).length).to.equal(
      before,
    );
  });

  it('a start that fails leaves nothing: no user → CONTROLLER_UNAVAILABLE; not ready in time → killed, dir removed', async () => {
    const ownDir = dirname(dirname(controller().bridgeSocket));
    const others = (): string[] =>
      readdirSync('/dev/shm').filter(
        (n) => n.startsWith('threadseal-linuxcnc-') && join('/dev/shm', n) !== ownDir,
      );
    const before = others();
    try {
      await LinuxCncController.start({ identity: IDENTITY, user: 'threadseal-no-such-user' });
      expect.fail('started');
    } catch (err) {
      expect(isThreadsealError(err, 'CONTROLLER_UNAVAILABLE')).to.equal(true);
      expect((err as Error).message).to.equal(
        'CONTROLLER_UNAVAILABLE: no user threadseal-no-such-user to run LinuxCNC as (scripts/bootstrap.mjs creates it)',
      );
    }
    try {
      await LinuxCncController.start({ identity: IDENTITY, startTimeoutMs: 300 });
      expect.fail('started');
    } catch (err) {
      expect(isThreadsealError(err, 'CONTROLLER_UNAVAILABLE')).to.equal(true);
      expect((err as Error).message).to.match(
        /^CONTROLLER_UNAVAILABLE: LinuxCNC was not ready within 300 ms/,
      );
    }
    expect(others()).to.deep.equal(before);
    // A process left behind refers to an instance folder that no longer exists; the folders of live instances
    // (this suite's own, another run's on the same host) are still in /dev/shm.
    const leftovers = (): number[] => {
      const live = readdirSync('/dev/shm').filter((n) => n.startsWith('threadseal-linuxcnc-'));
      return readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((e) => {
          try {
            const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
            return cmd.includes('threadseal-linuxcnc-') && !live.some((n) => cmd.includes(n));
          } catch {
            return false;
          }
        })
        .map(Number);
    };
    await until('the unready instance to die', () => leftovers().length === 0);
  });

  it('puts no plaintext on persistent storage: the program lives in a 0400 tmpfs file of the controller user, gone at job end', async () => {
    const marker = `threadseal-marker-${randomBytes(12).toString('hex')}`;
    const spindle = `S${randomInt(1000, 9000)}.${randomInt(100, 999)}`;
    const program = `(${marker})\nG21 G90\n${spindle} M3\nG1 X25 F1200\nG1 Y25\nG1 X0 Y0\nM5\nM2\n`;
    // The scanner must be able to find the marker: a control file on the persistent root.
    const control = mkdtempSync(join('/var/tmp', 'threadseal-scan-control-'));
    const stampDir = mkdtempSync(join('/var/tmp', 'threadseal-scan-'));
    const stamp = join(stampDir, 'stamp');
    writeFileSync(stamp, '');
    const mountsBefore = readFileSync('/proc/mounts', 'utf8');
    const job = await controller().run(Buffer.from(program), { jobId: 'marker1' });
    const jobFile = `/proc/${controller().namespacePid}/root/tmp/ts/jobs/marker1.ngc`;
    const st = statSync(jobFile);
    const fsType = spawnSync('stat', ['-f', '-c', '%T', jobFile], { encoding: 'utf8' }).stdout.trim();
    await follow(job, () => undefined);
    expect((await job.done).status).to.equal('completed');
    expect(existsSync(jobFile)).to.equal(false);
    expect(st.mode & 0o777).to.equal(0o400);
    expect(st.uid).to.equal(Number(spawnSync('id', ['-u', 'threadseal-cnc'], { encoding: 'utf8' }).stdout));
    expect(fsType).to.equal('tmpfs');
    writeFileSync(join(control, 'control.txt'), `control ${marker}\n`);
    // Every persistent (non-tmpfs, non-virtual) mount of the host: files changed since the stamp.
    const virtual = new Set(['tmpfs', 'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'mqueue']);
    const mounts = [
      ...new Set(
        mountsBefore
          .split('\n')
          .map((l) => l.split(' '))
          .filter((c) => c.length > 2 && !virtual.has(c[2] ?? ''))
          .map((c) => c[1] ?? ''),
      ),
    ];
    expect(mounts).to.include('/');
    const hits: string[] = [];
    for (const mount of mounts) {
      const grep = spawnSync(
        'sh',
        [
          '-c',
          'find "$1" -xdev -type f -newer "$2" -print0 2>/dev/null | xargs -0 -r grep -l -F -e "$3" -e "$4" 2>/dev/null; true',
          'scan',
          mount,
          stamp,
          marker,
          spindle,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      hits.push(...grep.stdout.split('\n').filter(Boolean));
    }
    rmSync(control, { recursive: true, force: true });
    rmSync(stampDir, { recursive: true, force: true });
    expect(hits).to.deep.equal([join(control, 'control.txt')]);
  });

  it('every file LinuxCNC and the agent open for writing during a job is on a tmpfs (strace -f of both)', async function () {
    if (spawnSync('strace', ['-V']).status !== 0) {
      console.log('    skipped: strace is not installed');
      this.skip();
    }
    const nsPid = controller().namespacePid;
    const members = namespaceMembers(nsPid);
    const tids = (pid: number): number[] => readdirSync(`/proc/${pid}/task`).map(Number);
    const agentTids = new Set(tids(process.pid));
    const fsType = (path: string): string =>
      spawnSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).stdout.trim();
    // Relative names (LinuxCNC renames sim.var.new → sim.var) resolve in each process's cwd.
    for (const pid of members) expect(fsType(`/proc/${pid}/cwd`), `cwd of ${pid}`).to.equal('tmpfs');
    const out = join('/dev/shm', `threadseal-strace-${process.pid}.txt`);
    const syscalls =
      'open,openat,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,mkdir,mkdirat,truncate';
    const tracer = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-y',
        '-e',
        `trace=${syscalls}`,
        '-o',
        out,
        '-p',
        String(process.pid),
        ...members.flatMap((p) => ['-p', String(p)]),
      ],
      { stdio: 'ignore' },
    );
    const traced = (pid: number): boolean =>
      /^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    await until('strace to attach', () => [process.pid, ...members].every(traced));
    const job = await controller().run(
      Buffer.from('(strace)\nG21\nS1200 M3\nG1 X30 F1500\nG1 X0\nM5\nM2\n'),
      {
        jobId: 'traced1',
      },
    );
    await follow(job, () => undefined);
    expect((await job.done).status).to.equal('completed');
    const exited = new Promise((r) => tracer.once('exit', r));
    tracer.kill('SIGINT');
    await exited;
    const lines = readFileSync(out, 'utf8').split('\n');
    rmSync(out, { force: true });
    const writes: string[] = [];
    for (const line of lines) {
      const pid = Number(/^(\d+)\s/.exec(line)?.[1] ?? 0);
      const root = agentTids.has(pid) ? '' : `/proc/${nsPid}/root`;
      const opened = /^\d+\s+(open|openat|creat)\(.*(O_WRONLY|O_RDWR|O_CREAT|O_TRUNC).*= \d+<([^>]+)>/.exec(
        line,
      );
      if (opened?.[3] !== undefined) writes.push(`${root}${opened[3]}`);
      const named =
        /^\d+\s+(rename|renameat2?|link|linkat|symlink|symlinkat|mkdir|mkdirat|truncate)\((.*)\)\s+= 0/.exec(
          line,
        );
      if (named?.[2] !== undefined)
        for (const m of named[2].matchAll(/"([^"]+)"/g)) {
          const path = m[1] ?? '';
          if (path.startsWith('/')) writes.push(`${root}${path}`);
        }
    }
    expect(writes.some((w) => w.endsWith('/tmp/ts/jobs/traced1.ngc'))).to.equal(true);
    const persistent = writes.filter((w) => {
      if (/^(\/proc\/\d+\/root)?\/dev\/(null|pts\/\d+|tty)$/.test(w)) return false; // terminals, not storage
      const dir = w.slice(0, w.lastIndexOf('/')) || '/';
      return fsType(dir) !== 'tmpfs';
    });
    expect(persistent).to.deep.equal([]);
    console.log(
      `    ${writes.length} writing opens/renames traced, all on tmpfs: ${[...new Set(writes.map((w) => w.replace(/^\/proc\/\d+\/root/, '')))].join(', ')}`,
    );
  });

  it('runs two instances at once in separate namespaces, each with its own identity', async () => {
    const second = await LinuxCncController.start({ identity: { ...IDENTITY, serial: 'HAAS-9999' } });
    try {
      expect(second.namespacePid).to.not.equal(controller().namespacePid);
      expect((await second.identify()).serial).to.equal('HAAS-9999');
      expect((await controller().identify()).serial).to.equal('HAAS-3172');
      const program = Buffer.from('G21\nS1000 M3\nG1 X20 F1200\nG1 X0\nM5\nM2\n');
      const [a, b] = await Promise.all([
        controller().run(program, { jobId: 'twinA' }),
        second.run(program, { jobId: 'twinB' }),
      ]);
      await Promise.all([follow(a, () => undefined), follow(b, () => undefined)]);
      expect((await a.done).status).to.equal('completed');
      expect((await b.done).status).to.equal('completed');
    } finally {
      await second.close();
    }
    expect(alive(second.namespacePid)).to.equal(false);
  });

  it('close() leaves no process of the instance behind', async () => {
    const extra = await LinuxCncController.start({ identity: IDENTITY });
    const members = namespaceMembers(extra.namespacePid);
    expect(names(members)).to.include.members(['milltask', 'linuxcncsvr', 'rtapi_app', 'io']);
    await extra.close();
    await until('the instance processes to be reaped', () => members.every((p) => !alive(p)));
    expect(alive(extra.pid)).to.equal(false);
  });

  it('an agent killed mid-job leaves no LinuxCNC process and no program behind; a restarted agent cleans up and runs', async () => {
    const agent = spawn(
      process.execPath,
      [
        '-e',
        `const { LinuxCncController } = require(${JSON.stringify(resolve(__dirname, '..', '..', 'index.js'))});
         LinuxCncController.start({ identity: ${JSON.stringify(IDENTITY)} }).then(async (c) => {
           await c.run(Buffer.from('G21\\nS1500 M3\\nG1 X200 F300\\nM2\\n'), { jobId: 'killed1' });
           process.stdout.write(JSON.stringify({ nsPid: c.namespacePid, pid: c.pid, socket: c.bridgeSocket }) + '\\n');
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const started = await new Promise<{ nsPid: number; pid: number; socket: string }>(
      (resolveStarted, reject) => {
        agent.stdout.once('data', (d: Buffer) => {
          resolveStarted(JSON.parse(d.toString()) as { nsPid: number; pid: number; socket: string });
        });
        agent.once('exit', () => {
          reject(new Error('agent exited before it started a job'));
        });
      },
    );
    const theirs = namespaceMembers(started.nsPid);
    expect(names(theirs)).to.include.members(['milltask', 'linuxcncsvr', 'rtapi_app', 'io']);
    const programFile = `/proc/${started.nsPid}/root/tmp/ts/jobs/killed1.ngc`;
    expect(existsSync(programFile)).to.equal(true);
    agent.kill('SIGKILL');
    await until(
      'the killed agent’s LinuxCNC to die',
      () => theirs.every((p) => !alive(p)) && !alive(started.pid),
    );
    expect(alive(started.nsPid)).to.equal(false);
    expect(existsSync(programFile)).to.equal(false); // its tmpfs went with its namespace
    const staleDir = dirname(dirname(started.socket));
    expect(existsSync(staleDir)).to.equal(true); // what the killed agent left: config and socket, on tmpfs
    const restarted = await LinuxCncController.start({ identity: IDENTITY });
    try {
      expect(existsSync(staleDir)).to.equal(false); // removed by the restarted agent's start
      const job = await restarted.run(Buffer.from('G21\nG1 X5 F600\nM2\n'), { jobId: 'afterrestart' });
      await follow(job, () => undefined);
      expect((await job.done).status).to.equal('completed');
    } finally {
      await restarted.close();
    }
    expect(cleanUpStaleInstances()).to.deep.equal([]);
  });
});
