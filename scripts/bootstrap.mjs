#!/usr/bin/env node
// @ts-check
// Brings a fresh clone (or a stale one) to a runnable state, doing only what is out of date:
// npm dependencies, Debian packages the tests and benchmarks use, the Fabric binaries, the TypeScript build.
// Plain Node without dependencies, because it runs before `npm install`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function run(cmd, args, what) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    process.stderr.write(
      `bootstrap: ${what} failed (${cmd} ${args.join(' ')} exited ${r.status ?? r.error?.message})\n`,
    );
    process.exit(1);
  }
  return Date.now() - started;
}

function npmDependencies() {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const files = ['package.json', 'package-lock.json', ...manifest.workspaces.map((w) => `${w}/package.json`)];
  const hash = createHash('sha256');
  for (const f of files) if (existsSync(join(root, f))) hash.update(f).update(readFileSync(join(root, f)));
  const digest = hash.digest('hex');
  const stamp = join(root, 'node_modules', '.threadseal-install');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  const fresh = !existsSync(join(root, 'node_modules'));
  log(fresh ? 'installing npm dependencies (npm ci)' : 'npm dependencies changed: npm install');
  run('npm', [fresh ? 'ci' : 'install', '--no-audit', '--no-fund'], 'npm install');
  writeFileSync(stamp, digest);
}

// Debian packages: SoftHSM2 is the PKCS#11 test token; age is the reference point of the container benchmark;
// linuxcnc-uspace is the real CNC controller and its standalone interpreter `rs274` (the G-code verifier's
// reference); chromium runs the dashboard's browser tests (playwright-core drives it; no browser download).
const debianPackages = [
  { pkg: 'softhsm2', present: () => existsSync('/usr/lib/softhsm/libsofthsm2.so') },
  { pkg: 'age', present: () => spawnSync('age', ['--version']).status === 0 },
  { pkg: 'linuxcnc-uspace', present: () => existsSync('/usr/bin/rs274') && existsSync('/usr/bin/linuxcnc') },
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  // The enforce agent brings up loopback in each LinuxCNC network namespace with `ip`; its tests trace
  // LinuxCNC's file writes with strace (docs/controllers.md).
  { pkg: 'iproute2', present: () => existsSync('/usr/sbin/ip') || existsSync('/sbin/ip') },
  { pkg: 'strace', present: () => existsSync('/usr/bin/strace') },
];

function debian() {
  const missing = debianPackages.filter((p) => !p.present()).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    log(
      `WARNING: missing Debian packages ${missing.join(', ')} and no root apt-get: the tests that need them (PKCS#11, LinuxCNC, Chromium) will skip`,
    );
    return;
  }
  log(`installing Debian packages: ${missing.join(', ')}`);
  run('apt-get', ['update', '-qq'], 'apt-get update');
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], 'apt-get install');
}

// LinuxCNC's rtapi_app refuses to run as root: the enforce agent runs it as this system user, in private
// namespaces (docs/controllers.md). Created only when missing and root can.
const controllerUser = 'threadseal-cnc';

function controllerUserAccount() {
  if (spawnSync('id', ['-u', controllerUser]).status === 0) return;
  if (process.getuid?.() !== 0) {
    log(`WARNING: no user ${controllerUser} and not root: the LinuxCNC tests will skip`);
    return;
  }
  log(`creating system user ${controllerUser} (runs LinuxCNC)`);
  run(
    'useradd',
    [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      controllerUser,
    ],
    'useradd',
  );
}

const started = Date.now();
npmDependencies();
debian();
controllerUserAccount();
run(process.execPath, [join(root, 'scripts', 'install-fabric.mjs')], 'Fabric install');
log('building TypeScript (tsc -b)');
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b'], 'TypeScript build');
log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
