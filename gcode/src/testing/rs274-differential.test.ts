import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { ObservedValue } from '../dialect.js';
import { verifyProgram } from '../verifier.js';

/*
 * The differential test: LinuxCNC's own interpreter (`rs274 -g`, Debian's linuxcnc-uspace) and ours read
 * every program of the package, of ../shared/corpus/cnc and of our adversarial set. Where rs274 runs a
 * program to its end, ours must either reject it or find exactly the F and S values rs274 prints
 * (SET_FEED_RATE, SET_SPINDLE_SPEED, with the units and modes in force) — never a value it does not.
 */

const RS274 = '/usr/bin/rs274';
const REPO = path.resolve(__dirname, '../../..');
const FOLDERS = [
  '/usr/share/linuxcnc/ncfiles',
  '/usr/share/doc/linuxcnc/examples',
  path.resolve(REPO, '../shared/corpus/cnc'),
  path.resolve(REPO, 'gcode/src/testing/adversarial'),
];
/** rs274's start state, given to ours as the machine's start-up code. */
const PREAMBLE = 'G21 G94 G97';
/** Programs rs274 runs to the end that ours rejects; the gap may shrink, never grow. */
const RECORDED_GAP = 22;

type Kind = 'feed/min' | 'feed/rev' | 'feed/inverse' | 'rpm' | 'css';

function programs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    let info;
    try {
      info = statSync(full);
    } catch {
      continue; // a dangling link of the package
    }
    if (info.isDirectory()) out.push(...programs(full));
    else if (/\.(ngc|nc)$/i.test(entry) && info.size < 4_000_000) out.push(full);
  }
  return out.sort();
}

/** What rs274 printed: accepted (ran to the end, exit 0), and its values by kind, physical units. */
function runRs274(file: string): { accepted: boolean; values: Map<Kind, number[]> } {
  const r = spawnSync(RS274, ['-g', file], {
    encoding: 'latin1',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: path.dirname(file),
  });
  const values = new Map<Kind, number[]>();
  const add = (k: Kind, v: number): void => {
    if (v !== 0) values.set(k, [...(values.get(k) ?? []), v]);
  };
  let inch = false;
  let feed: 'min' | 'rev' | 'inverse' = 'min';
  let css = false;
  for (const line of r.stdout.split('\n')) {
    const call = /^\s*\d+ N[.\d]+\s+([A-Z_0-9]+)\((.*)\)\s*$/.exec(line);
    if (call === null) continue;
    const [, name, args = ''] = call;
    const nums = args.split(/[ ,]+/).map(Number);
    if (name === 'USE_LENGTH_UNITS') inch = args.includes('INCHES');
    else if (name === 'COMMENT' && args.includes('inverse time')) feed = 'inverse';
    else if (name === 'SET_FEED_MODE')
      feed = nums[1] === 1 ? 'rev' : feed === 'inverse' && nums[1] === 0 ? 'inverse' : 'min';
    else if (name === 'COMMENT' && args.includes('units per minute')) feed = 'min';
    else if (name === 'SET_SPINDLE_MODE') css = (nums[1] ?? 0) !== 0;
    else if (name === 'SET_FEED_RATE')
      add(
        feed === 'min' ? 'feed/min' : feed === 'rev' ? 'feed/rev' : 'feed/inverse',
        (nums[0] ?? 0) * (inch && feed !== 'inverse' ? 25.4 : 1),
      );
    else if (name === 'SET_SPINDLE_SPEED') add(css ? 'css' : 'rpm', nums[1] ?? 0);
  }
  return { accepted: r.status === 0, values };
}

function ours(observed: ObservedValue[]): Map<Kind, number[]> {
  const values = new Map<Kind, number[]>();
  for (const o of observed) {
    if (o.value === 0) continue;
    const kind: Kind =
      o.word === 'S'
        ? o.mode === 'css'
          ? 'css'
          : 'rpm'
        : o.mode === 'revolution'
          ? 'feed/rev'
          : o.mode === 'inverse-time'
            ? 'feed/inverse'
            : 'feed/min';
    const v = o.word === 'F' && o.units === 'inch' && kind !== 'feed/inverse' ? o.value * 25.4 : o.value;
    values.set(kind, [...(values.get(kind) ?? []), v]);
  }
  return values;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 6e-5 * 25.4 + 1e-9 * Math.abs(b);

/** The values of one side that the other side does not have. */
function missing(from: Map<Kind, number[]>, against: Map<Kind, number[]>): string[] {
  const out: string[] = [];
  for (const [kind, list] of from) {
    const other = against.get(kind) ?? [];
    for (const v of new Set(list)) if (!other.some((o) => close(v, o))) out.push(`${kind} ${v}`);
  }
  return out;
}

describe('differential test against LinuxCNC rs274', function () {
  // 387 programs through rs274, one process each: ~60 s on an idle machine, over 120 s under load.
  this.timeout(400_000);

  it('never accepts a program whose F or S values differ from what rs274 evaluates', async function () {
    if (!existsSync(RS274)) {
      console.log(`      skipped: ${RS274} is not installed (Debian package linuxcnc-uspace)`);
      this.skip();
    }
    const files = [...new Map(FOLDERS.flatMap(programs).map((f) => [realpathSync(f), f])).values()];
    if (files.length === 0) {
      console.log(`      skipped: none of ${FOLDERS.join(', ')} holds programs`);
      this.skip();
    }
    let rs274Accepts = 0;
    let gap = 0;
    let adversarialGap = 0;
    let adversarialAccepts = 0;
    let bothAccept = 0;
    let oursOnly = 0;
    const oursOnlyFiles: string[] = [];
    const disagreements: string[] = [];
    for (const file of files) {
      const theirs = runRs274(file);
      const observed: ObservedValue[] = [];
      const verdict = await verifyProgram(readFileSync(file), {
        dialect: 'rs274ngc',
        envelope: [],
        preamble: PREAMBLE,
        observe: (o) => observed.push(o),
      });
      if (theirs.accepted) rs274Accepts++;
      if (theirs.accepted && file.includes(`${path.sep}adversarial${path.sep}`)) adversarialAccepts++;
      if (!verdict.accepted) {
        if (theirs.accepted) {
          gap++;
          if (file.includes(`${path.sep}adversarial${path.sep}`)) adversarialGap++;
        }
        continue;
      }
      if (!theirs.accepted) {
        oursOnly++;
        oursOnlyFiles.push(path.relative(REPO, file));
        continue;
      }
      bothAccept++;
      const mine = ours(observed);
      const extra = missing(mine, theirs.values);
      const lacking = missing(theirs.values, mine);
      if (extra.length > 0 || lacking.length > 0)
        disagreements.push(
          `${path.relative(REPO, file)}: ours only [${extra.join(', ')}], rs274 only [${lacking.join(', ')}]`,
        );
    }
    console.log(
      `      rs274 differential: ${files.length} programs; rs274 runs ${rs274Accepts}, both accept ${bothAccept}; ` +
        `capability gap ${gap} of ${rs274Accepts} (rs274 runs them, ours rejects); ` +
        `without our adversarial programs ${gap - adversarialGap} of ${rs274Accepts - adversarialAccepts}; ours accepts ${oursOnly} that rs274 refuses`,
    );
    if (process.env.GCODE_DIFF_VERBOSE) console.log(oursOnlyFiles.join('\n'));
    expect(disagreements).to.deep.equal([]);
    expect(gap).to.be.at.most(RECORDED_GAP);
  });
});
